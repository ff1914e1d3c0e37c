"""Demo field work: the 县底镇 emergency harvest of the seed article (临汾市尧都区), played through the
real services with the clock moved to each step.

After a week of rain the flooded millet must come in before wheat can be sown. The town opens one
operation ten days before ``now``; about thirty tasks across its villages (harvest, drainage,
sowing, road repair, power) are registered, a few from citizens' tickets of the town; machines
lent by enterprises, co-operatives and farmers and about forty volunteers are sent; progress is
reported; finished tasks release their machines; some tasks are late. Deterministic for a seed.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.accounts.models import User
from hotline.demo.caseload import GIVEN, SURNAMES
from hotline.directory import reference
from hotline.fieldwork import queries, service
from hotline.fieldwork.access import SYSTEM
from hotline.fieldwork.models import FieldTask, Operation
from hotline.fieldwork.states import OperationState, TaskState
from hotline.kit import clock
from hotline.tickets.models import Ticket

TOWNSHIP = "141002103"  # 临汾市尧都区县底镇
NAME = "县底镇秋季抢收抢种"
COORDINATOR = "yaodu-xiandi-1"
TASKS = 30
FIELD_CATEGORY = "1204"  # 抢收抢种: the demo's requests for help with flooded fields
# (work kind, weight, crop, area range in 亩, plots)
WORK = (
    ("harvest", 0.5, "谷子", (4, 45), ("村东洼地谷子田", "村南河滩谷子地", "村北坡下谷子田", "老井边谷子地", "西渠旁谷子田")),
    ("drainage", 0.18, "谷子", (10, 80), ("村西低洼片", "南干渠下游积水片", "村东排碱沟两侧")),
    ("sowing", 0.17, "小麦", (15, 90), ("村南大田", "村东机耕片", "北塬台地")),
    ("road", 0.08, None, None, ("通往田间的机耕路", "村南生产路", "过渠便桥引道")),
    ("power", 0.07, None, None, ("排灌站供电线路", "烘干点临时用电", "机井变压器")),
)
MACHINES = (
    ("harvester", "雷沃谷神 GE80", "县底镇农机专业合作社", "cooperative"),
    ("harvester", "久保田 4LZ-4", "县底镇农机专业合作社", "cooperative"),
    ("harvester", "沃得锐龙 4LZ-6", "尧都区丰收农机服务队", "enterprise"),
    ("harvester", "中联谷王 TB60", "山西晋农粮贸有限公司", "enterprise"),
    ("harvester", "星光至尊 4LZ-5", None, "person"),
    ("harvester", "雷沃谷神 RG50", None, "person"),
    ("pump", "QW 150 潜水泵 1 号", "尧都区水利局抗旱服务队", "enterprise"),
    ("pump", "QW 150 潜水泵 2 号", "尧都区水利局抗旱服务队", "enterprise"),
    ("generator", "50kW 柴油发电机组", "国网临汾市尧都区供电公司", "enterprise"),
    ("tractor", "东方红 LX904", "县底镇农机专业合作社", "cooperative"),
    ("tractor", "约翰迪尔 554", None, "person"),
    ("seeder", "2BXF-12 小麦播种机", "县底镇农机专业合作社", "cooperative"),
    ("seeder", "2BMF-10 免耕播种机", "尧都区丰收农机服务队", "enterprise"),
    ("dryer", "5HXG-30 粮食烘干机", "山西晋农粮贸有限公司", "enterprise"),
    ("truck", "晋L·6F2 运粮车", None, "person"),
)
BUYERS = (
    ("山西晋农粮贸有限公司", "谷子、玉米", "谷子 2.6 元/斤（湿粮烘干后结算）", 120),
    ("尧都区县底粮食购销站", "谷子、小麦", "谷子 2.5 元/斤", 60),
    ("临汾市金谷小米加工厂", "谷子", "优质谷子 2.8 元/斤", 30),
    ("县底镇益农合作社", "谷子、玉米", "随行就市，上门收购", 20),
)
SKILLS = ("驾驶收割机", "装卸搬运", "排水清淤", "驾驶拖拉机", "晾晒翻粮", "电工", "开运输车", None)
TARGETS = ((TaskState.done, 0.34), (TaskState.working, 0.26), (TaskState.scheduled, 0.13),
           (TaskState.pending, 0.2), (TaskState.cancelled, 0.07))


def _phone(rng: random.Random) -> str:
    return rng.choice(("138", "139", "150", "151", "135", "137", "187", "182")) + f"{rng.randrange(10**8):08d}"


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def _pick(rng: random.Random, weighted: tuple[tuple[Any, float], ...]) -> Any:
    return rng.choices([w[0] for w in weighted], [w[1] for w in weighted])[0]


def generate_fieldwork(session: Session, *, seed: int, now: datetime) -> dict[str, Any]:
    """Create the demo operation; return its figures. Nothing is made if the town is not loaded."""
    snap = reference.snapshot(session)
    if TOWNSHIP not in snap.regions:
        return {}
    rng = random.Random(f"fieldwork:{seed}")
    villages = sorted(c for c, (_, level, parent) in snap.regions.items() if level == 5 and parent == TOWNSHIP)
    actor = session.scalar(select(User).where(User.username == COORDINATOR))
    start = now - timedelta(days=10)
    today = clock.local(now).date()
    if session.scalar(select(Operation.id).where(Operation.township_code == TOWNSHIP, Operation.name == NAME,
                                                 Operation.state == OperationState.open)) is not None:
        return {}  # a second demo run on the same data: the town's operation and registers are there
    with clock.frozen(start):
        op = service.create_operation(
            session, actor=actor, name=NAME, township_code=TOWNSHIP, crops="谷子、玉米、小麦",
            start_date=clock.local(start).date(), target_date=today + timedelta(days=8),
            note="连续一周降雨，部分谷子田被淹。镇里统筹电力、土地和劳力，企业和志愿者出借农机，抢修田间道路，"
                 "联系收购商烘干收购，确保秋粮颗粒归仓、小麦应种尽种。")
        _registers(session, rng, actor, villages)
    taken = select(FieldTask.ticket_id).where(FieldTask.ticket_id.is_not(None))  # a second demo run on the same data
    tickets = list(session.scalars(select(Ticket).where(Ticket.region_code.in_(villages), Ticket.kind == "help",
                                                        Ticket.category_code.startswith(FIELD_CATEGORY),
                                                        Ticket.id.not_in(taken))
                                   .order_by(Ticket.received_at, Ticket.id).limit(3)))
    plans = sorted(((_pick(rng, TARGETS), i) for i in range(TASKS)), key=lambda p: (p[0] != TaskState.done, p[1]))
    for n, (target, i) in enumerate(plans):
        at = start + timedelta(hours=2 + n * 5 + rng.random() * 3)
        _play(session, rng, op, actor, villages, target, at, now, today, tickets.pop(0) if tickets and i % 7 == 0 else None)
    session.flush()
    board = queries.dashboard(session, SYSTEM, op)
    return {"operation": op.name, "tasks": board["tasks"], "by_state": {s["state"]: s["count"] for s in board["states"]},
            "area": round(board["area"], 1), "area_done": round(board["area_done"], 1), "overdue": board["overdue"],
            "machines": board["machines"], "volunteers": board["volunteers"]}


def _registers(session: Session, rng: random.Random, actor: User | None, villages: list[str]) -> None:
    for kind, label, owner, owner_kind in MACHINES:
        service.register_machine(session, actor=actor, township_code=TOWNSHIP, kind=kind, label=label,
                                 owner=owner or _name(rng), owner_kind=owner_kind, phone=_phone(rng),
                                 village_code=rng.choice(villages))
    for _ in range(40):
        service.register_volunteer(session, actor=actor, township_code=TOWNSHIP, name=_name(rng), phone=_phone(rng),
                                   village_code=rng.choice(villages), skills=rng.choice(SKILLS))
    for name, crops, price, tons in BUYERS:
        service.add_buyer(session, actor=actor, township_code=TOWNSHIP, name=name, crops=crops, price=price,
                          contact=_name(rng), phone=_phone(rng), daily_tons=tons)


def _play(session: Session, rng: random.Random, op: Any, actor: User | None, villages: list[str],
          target: TaskState, at: datetime, now: datetime, today: date, ticket: Ticket | None) -> None:
    """One task's life up to ``target``, each step at its own moment (none after ``now``)."""
    kind, _, crop, areas, plots = _pick(rng, tuple((w, w[1]) for w in WORK))
    area = round(rng.uniform(*areas) * 2) / 2 if areas else None
    due = min(clock.local(at).date() + timedelta(days=rng.randint(4, 12)), op.target_date)  # within the operation
    fields = dict(plot=rng.choice(plots), work_kind=kind, area=area, crop=crop, priority=rng.choice((1, 1, 2, 2, 3)),
                  due_date=due)
    with clock.frozen(min(at, now)):
        if ticket is not None:
            task = service.task_from_ticket(session, actor=None, operation=op, ticket_key=ticket.number,
                                            **{**fields, "work_kind": "harvest", "area": area or 8.0, "crop": "谷子"})
        else:
            task = service.create_task(session, actor=actor, operation=op, village_code=rng.choice(villages),
                                       farmer_name=_name(rng), farmer_phone=_phone(rng), **fields)
    if target == TaskState.pending:
        return
    at = min(at + timedelta(hours=rng.uniform(1, 6)), now)
    if target == TaskState.cancelled:
        with clock.frozen(at):
            service.cancel(session, task, actor=actor, reason=rng.choice(("农户已自行收割", "地块积水已自然退去", "与其他任务合并")))
        return
    with clock.frozen(at):
        _assign(session, rng, task, actor)
    if target == TaskState.scheduled or task.state == TaskState.pending:  # nobody free: it waits
        return
    _progress(session, rng, task, actor, at, now, full=target == TaskState.done)
    if target == TaskState.done:
        with clock.frozen(min(at + timedelta(hours=rng.uniform(20, 40)), now)):
            service.complete(session, task, actor=actor, note="验收完毕")


def _assign(session: Session, rng: random.Random, task: FieldTask, actor: User | None) -> None:
    machine = next(iter(queries.suggest_machines(session, task, limit=1)), None)
    if machine is None and task.work_kind.value in ("harvest", "sowing", "road"):
        machine = next(iter(queries.suggest_machines(session, task, kind="tractor", limit=1)), None)
    if machine is not None:
        service.assign_machine(session, task, machine, actor=actor)
    for person in queries.free_volunteers(session, task, limit=rng.randint(1, 3)):
        service.assign_volunteer(session, task, person, actor=actor)


def _progress(session: Session, rng: random.Random, task: FieldTask, actor: User | None, at: datetime,
              now: datetime, *, full: bool) -> None:
    notes = ("上午作业", "下午抢收", "连夜作业", "排水后进地", "已晾晒入仓")
    if task.area is None:
        with clock.frozen(min(at + timedelta(hours=3), now)):
            words = ("已清理塌方", "已垫石子 200 米", "便桥已加固") if task.work_kind.value == "road" else \
                ("已架设临时线路", "排灌站已恢复供电", "变压器已更换")
            service.report_progress(session, task, actor=actor, note=rng.choice(words))
        return
    steps = rng.randint(2, 3)
    for k in range(steps):
        left = round(task.area - task.area_done, 1)
        if left <= 0:
            break
        part = left if (full and k == steps - 1) else round(left * rng.uniform(0.25, 0.5), 1) or left
        with clock.frozen(min(at + timedelta(hours=4 + 6 * k), now)):
            service.report_progress(session, task, actor=actor, area=part, note=rng.choice(notes))

