"""Bursts of calls about one event, and the incidents the detection makes of them, for the demo.

Without them a supervisor opening 突发事件 in a fresh demo finds nothing: normal traffic raises no
alarm (that is the point of the detection). So ``hotline demo`` adds four scenarios to the caseload,
each a few callers from several villages of one township within two hours, told as agents record
them (phone) or in the callers' own words (web, mobile), played through the ordinary lifecycle like
every other demo ticket (later callers from one village are merged into the first one's ticket):

* **now**: 裴介镇's water supply fails; nine calls from four villages ending half an hour ago (or,
  at night, yesterday evening). The detection proposes it; nobody has decided yet.
* **about 12% of the demo's days ago**: a power cut in 瑶峰镇's town quarters, proposed and
  **confirmed** by a supervisor, its tickets linked and handled.
* **yesterday morning**: the road from 水头镇洛沱湾村 to the town collapses; calls from three villages,
  **confirmed**, and a public notice published (绕行) that is still up, so ``/portal`` shows one.
* **about 30% of the days ago**: a run of consultations about paying the rural medical insurance in
  庙前镇, proposed and **dismissed** (a deadline, not an incident).

The proposals are made by :func:`hotline.incidents.detect.detect` at the moment after each
burst's last call, as the worker would; the decisions by :mod:`hotline.incidents.service`. The call
texts are shared with ``bench/incidents.py``, which injects the same kinds of scenario into generated
traffic to measure the detection.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.accounts.models import Role, User
from hotline.demo import texts
from hotline.demo.caseload import GIVEN, MOBILE_PREFIXES, SURNAMES, Caller, Case, World
from hotline.incidents import public_notice
from hotline.incidents import service as incidents
from hotline.incidents.detect import detect
from hotline.incidents.models import Incident, IncidentTicket
from hotline.kit import clock

# Callers' own words ({v}: village, {t}: township). bench/incidents.py uses these too.
WATER = ["{v}从早上开始停水了，到现在还没来水，家里做饭都没水用，请尽快恢复供水。",
         "我是{t}{v}的村民，村里自来水停了好几个小时，老人孩子没水喝，什么时候能来水？",
         "{v}全村没水了，水龙头一点水都不出，是不是供水站出问题了，请帮忙问一下。",
         "反映{t}{v}停水，已经断水半天了，也没有提前通知，请供水单位尽快抢修。",
         "{v}自来水不来水了，打供水站电话没人接，请12345帮忙联系供水站恢复供水。",
         "{t}好几个村都停水了，我们{v}也没水，牲口都没水喝，请尽快处理。"]
POWER = ["{v}突然停电了，全村都没电，也没有通知，请供电所尽快抢修恢复供电。",
         "我是{t}{v}的，家里停电一个多小时了，冰箱里的东西都要坏了，什么时候来电？",
         "{v}这边停电了，附近几个村也都没电，是不是线路出故障了，请尽快恢复供电。",
         "反映{t}{v}停电，大面积断电，请电力部门尽快派人抢修。"]
ROAD = ["{v}村口的道路塌陷了一个大坑，车辆无法通行，很危险，请尽快派人处理。",
        "{t}{v}附近的公路路面塌陷，已经有车陷进去了，请交通部门尽快设置警示并抢修。",
        "{v}通往镇上的路塌了，塌陷的坑很深，晚上看不见容易出事，请尽快处理。"]
# As an agent records a call.
WATER_AGENT = ["来电人反映{t}{v}自今日{p}起全村停水，水龙头不出水，至今未恢复供水，请供水站尽快查明原因。",
               "来电人称{t}{v}全村停水，附近几个村也没水，事先未接到停水通知，请供水站尽快恢复供水。",
               "来电人反映{t}{v}自来水停供已数小时，村里供水站联系不上，请相关部门协调尽快恢复供水。"]
POWER_AGENT = ["来电人反映{t}{v}今日{p}突然停电，未见停电通知，请供电部门尽快抢修恢复供电。",
               "来电人称{t}{v}一带大面积停电，家中有老人需用电取暖，请尽快恢复供电。",
               "来电人反映{t}{v}停电已一个多小时，小区电梯停运，请供电公司尽快处理。"]
ROAD_AGENT = ["来电人反映{t}{v}通往镇上的公路路面塌陷，坑深约一米，车辆无法通行，请交通部门尽快设置警示并抢修。",
              "来电人称{t}{v}村外公路{p}发生路面塌陷，已有车辆陷入，请尽快派人处理。",
              "来电人反映{v}附近公路塌陷，夜间无照明易发生事故，请相关部门尽快处理。"]
INSURANCE = ["来电人咨询{t}{v}城乡居民医疗保险今年的缴费标准和缴费截止时间。",
             "来电人咨询城乡居民医保缴费，{v}村委会通知本月底截止，能否通过手机缴纳，逾期未缴有何影响。",
             "{v}村民来电咨询城乡居民医保个人缴费金额，家中老人是否有缴费减免。",
             "来电人咨询在外务工人员如何补缴{t}{v}的城乡居民医保，截止时间是哪天。"]


TICK = timedelta(minutes=5)  # how often the worker runs the detection
DECISION_AFTER = timedelta(minutes=25)  # from the proposal to the supervisor's decision
NOTICE_AFTER = timedelta(minutes=15)  # from the confirmation to the public notice


@dataclass(frozen=True)
class Scenario:
    key: str  # water | power | insurance
    township: str  # region code
    villages: tuple[str, ...]  # region codes of the villages that call
    calls: int
    span: timedelta  # from the first call to the last
    category_code: str
    kind: str  # the request kind (help, consultation)
    decision: str  # proposed | confirmed | dismissed
    note: str = ""  # the supervisor's note (confirmed) or reason (dismissed)
    days_ago: float = 0.0  # share of the demo's days before now (0: now)
    last_call: time = time(20, 30)  # local time of the last call, for an earlier scenario
    notice: str = ""  # the public notice the supervisor publishes after confirming ({t}: township)
    days_back: int = 0  # instead of days_ago: whole days before now (1: yesterday), to keep it recent


SCENARIOS = (
    Scenario("water", "140828102", ("140828102207", "140828102201", "140828102200", "140828102205"), 9,
             timedelta(hours=2), "0101", "help", "proposed"),
    Scenario("power", "140828100", ("140828100001", "140828100002", "140828100003", "140828100200",
                                    "140828100201"), 8, timedelta(minutes=90), "0201", "help", "confirmed",
             "供电公司核实：城区10千伏线路故障，已于当日抢修恢复供电，相关来电统一答复。", 0.12, time(15, 40)),
    Scenario("road", "140828103", ("140828103202", "140828103201", "140828103203"), 7, timedelta(minutes=100),
             "0701", "help", "confirmed", "交通运输局核实：洛沱湾村至镇区公路K3处路基被雨水掏空塌陷，已封闭抢修。",
             days_back=1, last_call=time(9, 40),
             notice="{t}洛沱湾村至镇区公路发生路面塌陷，塌陷路段已封闭并设置警示标志，交通运输部门正在抢修，"
                    "预计三天内恢复通行，请过往车辆和行人绕行。"),
    Scenario("insurance", "140828101", (), 7, timedelta(hours=2), "0802", "consultation", "dismissed",
             "城乡居民医保集中缴费期的政策咨询，坐席已直接答复，不是突发事件。", 0.30, time(10, 50)),
)


@dataclass
class Planned:
    scenario: Scenario
    end: datetime  # the last call
    cases: list[Case] = field(default_factory=list)


def _part_of_day(at: datetime) -> str:
    hour = clock.local(at).hour
    return "凌晨" if hour < 6 else "早上" if hour < 9 else "上午" if hour < 12 else "中午" if hour < 14 \
        else "下午" if hour < 18 else "晚上"


def _end(now: datetime, days_ago: float, at: time) -> datetime:
    """When a scenario's last call comes: for the current one (``days_ago`` 0) 25 minutes before
    ``now``, or at 20:30 the evening before when that is at night; for an earlier one at local time
    ``at`` of the day ``days_ago`` days back."""
    if days_ago:
        day = clock.local(now - timedelta(days=days_ago)).date()
        return datetime.combine(day, at, tzinfo=clock.tz()).astimezone(now.tzinfo)
    end = now - timedelta(minutes=25)
    local = clock.local(end)
    if local.hour >= 21:
        end = datetime.combine(local.date(), time(20, 30), tzinfo=local.tzinfo)
    elif local.hour < 9:
        end = datetime.combine(local.date() - timedelta(days=1), time(20, 30), tzinfo=local.tzinfo)
    return end.astimezone(now.tzinfo)


def _villages(w: World, s: Scenario, rng: random.Random) -> list[Any]:
    if s.villages:
        return [w.by_code[c] for c in s.villages if c in w.by_code]
    towns = [p for p in w.places if p.township_code == s.township and p.code != s.township]
    return rng.sample(towns, min(5, len(towns)))


def plan(w: World, seed: int) -> list[Planned]:
    """The scenarios' cases (own random stream: the rest of the caseload is planned as without them).
    A scenario whose places the reference data lacks, or that would start before the demo's first
    day, is left out."""
    rng = random.Random(seed * 7919 + 11)
    out: list[Planned] = []
    for s in SCENARIOS:
        places = _villages(w, s, rng)
        end = _end(w.now, s.days_back or s.days_ago * w.days, s.last_call)
        if len(places) < 3 or end - s.span < w.now - timedelta(days=w.days) or end > w.now:
            continue
        p = Planned(s, end)
        offsets = sorted([0.0, 1.0] + [rng.random() for _ in range(s.calls - 2)])
        first_in: dict[str, Case] = {}
        for i, off in enumerate(offsets):
            where = places[i % len(places)] if i < len(places) else rng.choice(places)
            received = end - s.span * (1 - off)
            channel = "phone" if rng.random() < 0.75 else rng.choice(("web", "mobile"))
            case = Case(received, where, channel, _caller(rng), _text(rng, s, where, channel, received))
            if s.kind == "consultation":
                case.mode = "direct"
            master = first_in.get(where.code)
            if master is not None and s.kind != "consultation":  # merged into the village's first ticket
                case.mode, case.master = "dup", master
                master.dups.append(case)
                continue
            first_in[where.code] = case
            p.cases.append(case)
        out.append(p)
    return out


def _caller(rng: random.Random) -> Caller:
    return Caller(rng.choice(SURNAMES) + rng.choice(GIVEN), rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10 ** 8):08d}")


def _text(rng: random.Random, s: Scenario, where: Any, channel: str, at: datetime) -> texts.RequestText:
    village, town = where.place.village or "", where.place.township or ""
    if s.key == "insurance":
        body, title = rng.choice(INSURANCE), "咨询城乡居民医保缴费"
    elif s.key == "road":
        body = rng.choice(ROAD_AGENT if channel == "phone" else ROAD)
        title = f"{town}{village}公路塌陷"
    elif s.key == "water":
        body = rng.choice(WATER_AGENT if channel == "phone" else WATER)
        title = f"{town}{village}停水"
    else:
        body = rng.choice(POWER_AGENT if channel == "phone" else POWER)
        title = f"{town}{village}停电"
    content = body.format(t=town, v=village, p=_part_of_day(at))
    return texts.RequestText(s.category_code, s.kind, "normal", title, content)


def decide(session: Session, planned: list[Planned], now: datetime) -> dict[str, Any]:
    """Run the detection every 5 minutes from each scenario's first call until just after its last
    (as the worker does), and record the supervisor's decision 25 minutes after the proposal (later
    calls then join the confirmed incident as the worker finds them). Returns, per scenario, the
    incident, its state and its ticket count (None when nothing was proposed)."""
    supervisor = session.scalars(select(User).where(User.role == Role.supervisor, User.active.is_(True))
                                 .order_by(User.id)).first()
    out: dict[str, Any] = {}
    try:
        for p in sorted(planned, key=lambda p: p.end):
            s = p.scenario
            ids = {c.ticket.id for case in p.cases for c in (case, *case.dups) if c.ticket is not None}
            start = min(c.received for c in p.cases)
            stop = min(p.end + TICK, now)
            at, incident, decide_at = start + TICK, None, None
            while at <= stop or (decide_at is not None and incident.state.value == "proposed" and at <= now):
                clock.freeze(at)
                if at <= stop:
                    detect(session, now=at)
                if incident is None:
                    incident = session.scalars(
                        select(Incident).join(IncidentTicket, IncidentTicket.incident_id == Incident.id)
                        .where(IncidentTicket.ticket_id.in_(ids)).order_by(Incident.id)).first()
                    if incident is not None and supervisor is not None and s.decision != "proposed":
                        decide_at = at + DECISION_AFTER
                if decide_at is not None and at >= decide_at and incident.state.value == "proposed":
                    if s.decision == "confirmed":
                        incidents.confirm(session, incident, actor=supervisor, note=s.note, now=at)
                        if s.notice:  # what citizens are told, a few minutes later
                            town = p.cases[0].where.place.township or ""
                            public_notice.publish(session, incident, actor=supervisor, now=at + NOTICE_AFTER,
                                                  text=s.notice.format(t=town))
                    else:
                        incidents.dismiss(session, incident, actor=supervisor, reason=s.note, now=at)
                at += TICK
            out[s.key] = None if incident is None else {
                "incident": incident.id, "state": incident.state.value, "tickets": incident.ticket_count}
    finally:
        clock.freeze(None)
    return out
