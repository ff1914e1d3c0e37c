"""Demo employment work in 黎城县 (the seed article's county): village service stations with their
labour ledgers, jobs (village workshops paying by the piece among them), six-ones activities,
assistance records and placements.

Deterministic for a seed and ``now``. A few villages meet the full-employment standard (enough
people in work and all six activities held this year); most do not yet, each for its own reasons.
The ledger rows are written in bulk (one flush); recommendations, placements and activities with
attendees go through ``employment.service`` so their rules hold in the demo as in use.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.accounts.models import User
from hotline.directory.models import Region
from hotline.employment import queries, service
from hotline.employment.fields import id_checksum
from hotline.employment.models import (
    EDUCATION,
    SEEKING,
    Activity,
    ActivityKind,
    Assistance,
    AssistanceKind,
    EmploymentStatus,
    Gender,
    Station,
    Worker,
    WorkPlace,
)
from hotline.employment.scope import EVERYWHERE
from hotline.kit import clock

COUNTY = "140426"  # 黎城县
XINSHE = "140426106213"  # 信社村: 张麦环's village in the article
STATIONS = 18
MEETING = 4  # villages set up to meet the standard
SURNAMES = "王李张刘陈杨赵黄郭申宋牛史李王张靳魏郝路段秦冯常"
MEN = ("建国", "建军", "志刚", "晓东", "俊峰", "文杰", "海军", "国强", "永红", "麦环", "红旗", "保平", "二虎", "小军",
       "卫东", "金龙", "永胜", "鹏飞", "浩然", "宇航")
WOMEN = ("秀英", "桂兰", "玉梅", "海燕", "丽娟", "小红", "红梅", "翠花", "改英", "爱琴", "春花", "丽霞", "晓燕", "佳琪",
         "雨萱", "慧敏")
SKILLS = ("电焊", "瓦工", "木工", "驾驶（B2）", "缝纫", "家政", "育婴", "厨师", "电工", "手工编织", "种植", "养殖", "挖掘机",
          "美容美发", "电商", "")
INTENTIONS = ("就近务工", "车间计件", "家政服务", "建筑工地", "驾驶员", "保洁", "餐饮", "电商客服", "物流分拣", "技能培训后就业")
EMPLOYERS_IN = ("黎城县经济技术开发区某铸造厂", "黎城县某农业合作社", "黎城县城区某超市", "黎城县某建筑公司",
                "黎城县某物流公司", "黎城县某酒店")
EMPLOYERS_OUT = ("长治市某机械厂", "太原市某物业公司", "晋中市某食品厂")
EMPLOYERS_FAR = ("北京市某家政公司", "天津市某电子厂", "河北邯郸某钢厂", "江苏苏州某电子厂")
WORKSHOPS = (("手工编织", "计件（约 2000–3000 元/月）"), ("服装加工", "计件"), ("香菇分拣包装", "计件"),
             ("手工布鞋", "计件"), ("小米包装", "计件，另有全勤奖"))
JOBS = (("黎城县某物流公司", "分拣员", "3500元/月", "50 岁以下，能上夜班"), ("黎城县某建筑公司", "钢筋工", "日结 260 元", "有经验者优先"),
        ("黎城县城区某超市", "理货员", "2800元/月", "女性优先"), ("黎城县某酒店", "保洁员", "2600元/月", "60 岁以下"),
        ("长治市某机械厂", "操作工", "4500元/月", "包吃住，45 岁以下"), ("黎城县某农业合作社", "大棚管护", "3000元/月", "会种植"))


def _id(rng: random.Random, year: int, gender: Gender) -> str:
    birthday = date(year, 1, 1) + timedelta(days=rng.randrange(365))
    seq = rng.randrange(0, 99) * 10 + (rng.choice((1, 3, 5, 7, 9)) if gender == Gender.male else rng.choice((0, 2, 4, 6, 8)))
    first = f"{COUNTY}{birthday:%Y%m%d}{seq:03d}"
    return first + id_checksum(first)


def _status_mix(rng: random.Random, n: int, meets: bool) -> list[EmploymentStatus]:
    """A plausible village: about a sixth unable or unwilling; of the rest, the unemployed share
    under 10 % in villages that meet the standard and 12–30 % in the others."""
    out_of_force = round(n * rng.uniform(0.10, 0.20))
    force = n - out_of_force
    idle = rng.randint(0, max(0, int(force * 0.09))) if meets else round(force * rng.uniform(0.12, 0.30))
    working = force - idle
    stable = round(working * rng.uniform(0.45, 0.65))
    seasonal = round((working - stable) * rng.uniform(0.3, 0.6))
    statuses = ([EmploymentStatus.stable] * stable + [EmploymentStatus.seasonal] * seasonal
                + [EmploymentStatus.flexible] * (working - stable - seasonal) + [EmploymentStatus.unemployed] * idle)
    unable = rng.randint(0, out_of_force)
    statuses += [EmploymentStatus.unable] * unable + [EmploymentStatus.unwilling] * (out_of_force - unable)
    rng.shuffle(statuses)
    return statuses


def _worker(rng: random.Random, village: str, status: EmploymentStatus, today: date, now: datetime,
            taken: set[str]) -> Worker:
    gender = rng.choice((Gender.male, Gender.female))
    old = status in (EmploymentStatus.unable, EmploymentStatus.unwilling)
    year = today.year - (rng.randint(55, 68) if old else rng.randint(18, 58))
    number = _id(rng, year, gender) if rng.random() < 0.85 else None
    if number in taken:
        number = None
    taken.add(number or "")
    working = status in (EmploymentStatus.stable, EmploymentStatus.flexible, EmploymentStatus.seasonal)
    place = rng.choices((WorkPlace.in_county, WorkPlace.out_county, WorkPlace.out_province), (6, 2, 2))[0]
    employer = rng.choice({WorkPlace.in_county: EMPLOYERS_IN, WorkPlace.out_county: EMPLOYERS_OUT,
                           WorkPlace.out_province: EMPLOYERS_FAR}[place])
    if status == EmploymentStatus.flexible:
        employer = rng.choice(("打零工", "跑运输", "网店经营", employer))
    seeking = status in SEEKING
    return Worker(
        village_code=village, name=rng.choice(SURNAMES) + rng.choice(MEN if gender == Gender.male else WOMEN),
        gender=gender, birth_year=year, phone=f"1{rng.choice('3589')}{rng.randrange(10**9):09d}" if rng.random() < 0.9 else None,
        id_number=number, education=rng.choices(EDUCATION, (3, 6, 3, 1, 1))[0], skills=rng.choice(SKILLS) or None,
        employment_status=status, work_place=place if working else None, employer=employer if working else None,
        job_intention=rng.choice(INTENTIONS) if seeking and rng.random() < 0.85 else None,
        needs_help=status == EmploymentStatus.unemployed or (seeking and rng.random() < 0.4),
        note=None, created_at=now, updated_at=now)


def _days(rng: random.Random, first: date, last: date, k: int) -> list[date]:
    span = max(0, (last - first).days)
    return sorted(first + timedelta(days=rng.randint(0, span)) for _ in range(k))


ACTIVITY_TITLES = {
    ActivityKind.troupe: ("文艺宣传队送政策下乡演出", "就业政策文艺宣传"),
    ActivityKind.ledger: ("劳动力帮扶台账入户核对", "帮扶台账季度更新"),
    ActivityKind.venue: ("劳动保障服务站活动室挂牌", "就业服务活动室开放日"),
    ActivityKind.guidance: ("返乡人员职业指导", "未就业人员一对一职业指导"),
    ActivityKind.training: ("家政服务技能培训", "电焊工技能培训", "手工编织技能培训", "电商直播培训"),
    ActivityKind.job_fair: ("春风行动专场招聘会", "家门口招聘会"),
}


def _activities(session: Session, rng: random.Random, village: str, meets: bool, workers: list[Worker],
                today: date, actor: User | None) -> int:
    """This year's six ones: all of them where the village meets the standard, some elsewhere;
    a training or job fair lists some of the village's job seekers, who get assistance records."""
    kinds = list(ActivityKind)
    held = kinds if meets else rng.sample(kinds, rng.randint(2, 5))
    seekers = [w for w in workers if w.employment_status in SEEKING]
    count = 0
    for kind in held:
        for day in _days(rng, date(today.year, 1, 1), today, rng.randint(1, 2)):
            attend = [w.id for w in rng.sample(seekers, min(len(seekers), rng.randint(2, 6)))] \
                if kind in (ActivityKind.training, ActivityKind.job_fair) and seekers else []
            service.add_activity(session, EVERYWHERE, actor=actor, village_code=village, kind=kind,
                                 title=rng.choice(ACTIVITY_TITLES[kind]), on_day=day,
                                 participants=rng.randint(12, 60), worker_ids=attend)
            count += 1
    # Last year's, for the history.
    last_year = rng.choice(kinds)  # its title says the same kind
    session.add(Activity(village_code=village, kind=last_year, on_day=date(today.year - 1, rng.randint(3, 11), 15),
                         title="（上年度）" + rng.choice(ACTIVITY_TITLES[last_year]), participants=rng.randint(10, 40),
                         recorded_by_id=actor.id if actor else None, recorded_at=clock.now()))
    return count + 1


def _assistance(session: Session, rng: random.Random, workers: list[Worker], today: date,
                actor: User | None) -> int:
    notes = {AssistanceKind.guidance: ("上门了解就业意向，介绍县内用工信息", "讲解求职技巧，建议参加技能培训"),
             AssistanceKind.policy: ("宣讲稳岗补贴和技能提升补贴政策", "发放就业政策明白卡"),
             AssistanceKind.other: ("电话回访就业情况", "协助办理就业创业证")}
    count = 0
    for w in workers:
        times = 2 if w.needs_help else rng.choice((0, 0, 1))
        for day in _days(rng, today - timedelta(days=300), today - timedelta(days=1), times):
            kind = rng.choice(list(notes))
            session.add(Assistance(worker_id=w.id, kind=kind, on_day=day, note=rng.choice(notes[kind]),
                                   recorded_by_id=actor.id if actor else None, recorded_at=clock.now()))
            count += 1
    return count


def _villages(session: Session, rng: random.Random) -> list[str]:
    codes = list(session.scalars(select(Region.code).where(Region.level == 5, Region.code.startswith(COUNTY))
                                 .order_by(Region.code)))
    if XINSHE not in codes:
        return rng.sample(codes, min(STATIONS, len(codes)))
    return sorted([XINSHE, *rng.sample([c for c in codes if c != XINSHE], min(STATIONS, len(codes)) - 1)])


def _jobs(session: Session, rng: random.Random, stations: list[str], actor: User | None) -> list[Any]:
    names = dict(session.execute(select(Region.code, Region.short_name).where(Region.code.in_(stations))).all())
    jobs = []
    for village in [XINSHE, *rng.sample(stations, 4)][:5]:
        product, pay = WORKSHOPS[len(jobs) % len(WORKSHOPS)]
        jobs.append(service.add_job(session, EVERYWHERE, actor=actor, employer=f"{names.get(village, '')}扶贫车间（{product}）",
                                    workshop=True, region_code=village, title=f"{product}工", openings=rng.randint(8, 30),
                                    pay=pay, requirements="家门口上班，时间灵活，不误农活"))
    for employer, title, pay, needs in JOBS:
        place = COUNTY + "400" if "开发区" in employer else COUNTY
        if employer.startswith("长治"):
            place = "1404"
        jobs.append(service.add_job(session, EVERYWHERE, actor=actor, employer=employer, region_code=place, title=title,
                                    openings=rng.randint(3, 20), pay=pay, requirements=needs))
    return jobs


def _placements(session: Session, rng: random.Random, jobs: list[Any], actor: User | None, now: datetime) -> Counter:
    """Recommend some nearby candidates to each job; about half are hired (placed), some refused,
    the rest still waiting."""
    outcomes: Counter[str] = Counter()
    for job in jobs:
        for worker, _distance in queries.candidates(session, EVERYWHERE, job, limit=rng.randint(2, 6)):
            with clock.frozen(now - timedelta(days=rng.randint(10, 60))):
                referral = service.recommend(session, EVERYWHERE, job, worker, actor=actor)
            roll = rng.random()
            if roll < 0.5:
                with clock.frozen(now - timedelta(days=rng.randint(1, 9))):
                    service.decide(session, EVERYWHERE, referral, actor=actor, hired=True)
                outcomes["hired"] += 1
            elif roll < 0.7:
                with clock.frozen(now - timedelta(days=rng.randint(1, 9))):
                    service.decide(session, EVERYWHERE, referral, actor=actor, hired=False,
                                   note=rng.choice(("年龄不符", "本人放弃", "技能不符")))
                outcomes["not_hired"] += 1
            else:
                outcomes["waiting"] += 1
    return outcomes


def generate_employment(session: Session, *, seed: int = 12345, now: datetime | None = None) -> dict[str, Any]:
    """Create the demo's stations, ledgers, jobs, activities and assistance (nothing when stations
    exist already); the caller commits. Returns a summary."""
    if session.scalar(select(Station.village_code).limit(1)) is not None:
        return {"stations": 0, "skipped": "已有就业服务站"}
    rng = random.Random(seed * 7 + 1)
    now = clock.aware(now) if now is not None else clock.now()
    today = clock.local(now).date()
    actor = session.scalar(select(User).where(User.username == "licheng-hrss-1"))
    stations = _villages(session, rng)
    meeting = set(rng.sample(stations, MEETING))
    workers: dict[str, list[Worker]] = {}
    taken: set[str] = set()
    names = dict(session.execute(select(Region.code, Region.short_name).where(Region.code.in_(stations))).all())
    for village in stations:
        session.add(Station(village_code=village, name=f"{names.get(village, '')}劳动保障服务站", phone=None,
                            opened_on=date(2021, 3, 1), created_at=now))
        statuses = _status_mix(rng, rng.randint(30, 80), village in meeting)
        workers[village] = [_worker(rng, village, s, today, now, taken) for s in statuses]
    session.flush()
    session.add_all([w for ws in workers.values() for w in ws])
    session.flush()
    with clock.frozen(now):
        activities = sum(_activities(session, rng, v, v in meeting, workers[v], today, actor) for v in stations)
        records = _assistance(session, rng, [w for ws in workers.values() for w in ws], today, actor)
        jobs = _jobs(session, rng, stations, actor)
        outcomes = _placements(session, rng, jobs, actor, now)
    session.flush()
    statuses = Counter(w.employment_status.value for ws in workers.values() for w in ws)
    return {"stations": len(stations), "workers": sum(len(ws) for ws in workers.values()), "by_status": dict(statuses),
            "jobs": len(jobs), "activities": activities, "assistance_records": records, **outcomes}
