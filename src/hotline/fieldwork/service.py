"""What coordinators and villages do in field work, one function per change.

Every function checks who may act (``access``), validates what was typed, writes, appends a
``TaskEvent`` where a task is concerned, and flushes; the edge (page, API, CLI) commits. A refusal
raises before anything is written, so nothing is half-saved.

Invariants kept here:
- a task's state moves only along ``states.TRANSITIONS``;
- a machine or a volunteer is on at most one unfinished task (claimed by a conditional UPDATE, so
  two coordinators assigning the same machine at once cannot both win);
- finishing or cancelling a task releases its machines and volunteers;
- ``area_done`` only rises and never passes ``area``; an area task completes only at its area;
- a township has one open operation of a name, one register row per machine (migration 0020) and
  one per volunteer (name and phone, migration 0021): checked before the insert or change, and held
  by unique indexes, so a submit of the same instant that the check could not see is refused by the
  index in the check's words (``_insert_unless_twin``, ``_unless_twin``);
- a task's due day is within its operation and not past when set; an operation's target day is not
  past when set.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hotline.accounts.models import User
from hotline.accounts.scope import scope_for
from hotline.directory import reference
from hotline.fieldwork import validate as v
from hotline.fieldwork.access import field_scope, require_coordinator
from hotline.fieldwork.errors import (
    Busy,
    Duplicate,
    Invalid,
    NotFound,
    OperationClosed,
    TransitionNotAllowed,
    invalid,
)
from hotline.fieldwork.models import (
    Assignment,
    Buyer,
    FieldTask,
    Machine,
    Operation,
    ProgressReport,
    TaskEvent,
    Volunteer,
)
from hotline.fieldwork.states import (
    AREA_WORK,
    MACHINE_KIND_LABELS,
    MACHINE_STATE_LABELS,
    OWNER_KIND_LABELS,
    PRIORITY_LABELS,
    TASK_STATE_LABELS,
    TRANSITIONS,
    UNFINISHED,
    WORK_KIND_LABELS,
    MachineKind,
    MachineState,
    OperationState,
    OwnerKind,
    Priority,
    TaskState,
    WorkKind,
)
from hotline.kit import clock
from hotline.tickets import queries as ticket_queries
from hotline.tickets.models import Ticket
from hotline.tickets.states import FINAL, STATUS_LABELS
from hotline.tickets.validation import display_phone

EPS = 1e-6


# ---------------------------------------------------------------- helpers


def _event(session: Session, task: FieldTask, action: str, actor: User | None, *, note: str | None = None,
           from_state: TaskState | None = None, to_state: TaskState | None = None,
           details: dict[str, Any] | None = None) -> TaskEvent:
    event = TaskEvent(task_id=task.id, action=action, actor_id=actor.id if actor else None, at=clock.now(),
                      from_state=from_state.value if from_state else None,
                      to_state=to_state.value if to_state else None, note=note, details=details or {})
    session.add(event)
    return event


def _move(session: Session, task: FieldTask, to: TaskState, action: str, actor: User | None, *,
          note: str | None = None, details: dict[str, Any] | None = None) -> None:
    """The only state write: checked against TRANSITIONS, stamped, recorded."""
    before = task.state
    if to not in TRANSITIONS[before]:
        raise TransitionNotAllowed(
            f"任务 #{task.id} 当前为「{TASK_STATE_LABELS[before]}」，不能改为「{TASK_STATE_LABELS[to]}」",
            code="task_transition", details={"state": before.value, "to": to.value})
    now = clock.now()
    task.state, task.updated_at = to, now
    if to == TaskState.working and task.started_at is None:
        task.started_at = now
    if to in (TaskState.done, TaskState.cancelled):
        task.finished_at = now
    _event(session, task, action, actor, note=note, from_state=before, to_state=to, details=details)


def _operation_of(session: Session, task: FieldTask) -> Operation:
    return session.get(Operation, task.operation_id)  # type: ignore[return-value]


def _open(operation: Operation) -> None:
    if operation.state != OperationState.open:
        raise OperationClosed(f"行动「{operation.name}」已结束，不能再登记或调派")


def _coordinator(session: Session, actor: User | None, township_code: str) -> None:
    require_coordinator(field_scope(session, actor), township_code)


def _task_coordinator(session: Session, actor: User | None, task: FieldTask) -> Operation:
    operation = _operation_of(session, task)
    _coordinator(session, actor, operation.township_code)
    return operation


def _unfinished(task: FieldTask, action: str) -> None:
    if task.state not in UNFINISHED:
        raise TransitionNotAllowed(f"任务 #{task.id} 已{TASK_STATE_LABELS[task.state].removeprefix('已')}，不能{action}",
                                   code="task_finished", details={"state": task.state.value})


# ---------------------------------------------------------------- operations


def create_operation(session: Session, *, actor: User | None, name: str, township_code: str, crops: str,
                     start_date: date | str, target_date: date | str, note: str | None = None) -> Operation:
    """A new open operation in a township the actor coordinates."""
    snap = reference.snapshot(session)
    township = v.township(snap, (township_code or "").strip())
    _coordinator(session, actor, township)
    # Every field is checked before one is refused: an empty form is told all it lacks at once.
    title, crop_names, start, target, remark = v.all_of([
        ("name", "行动名称", lambda: " ".join((v.text(name, "name", "行动名称", max_chars=100) or "").split())),
        ("crops", "作物", lambda: v.text(crops, "crops", "作物", max_chars=100)),
        ("start_date", "开始日期", lambda: v.day(start_date, "start_date", "开始日期")),
        ("target_date", "目标完成日期", lambda: v.day(target_date, "target_date", "目标完成日期")),
        ("note", "说明", lambda: v.text(note, "note", "说明", max_chars=2000, required=False))])
    v.operation_days(start, target, clock.local().date())
    same = _open_named(session, township, title)
    if same is not None:  # two open 「秋季抢收抢种」 in one town: tasks would be split between them
        raise _operation_exists(snap, township, same)
    operation = Operation(name=title,
                          township_code=township, crops=crop_names,
                          start_date=start, target_date=target, state=OperationState.open,
                          note=remark,
                          created_by_id=actor.id if actor else None, created_at=clock.now())
    same = _insert_unless_twin(session, operation, lambda: _open_named(session, township, title))
    if same is not None:  # another submit opened it after the check above; the index refused this one
        raise _operation_exists(snap, township, same)
    return operation


def _open_named(session: Session, township: str, title: str) -> Operation | None:
    """The township's open operation of this name, letter case aside: what the unique index
    ``uq_fieldwork_operations_open_name`` compares (lower(name) in the database, on both sides)."""
    return session.scalar(select(Operation).where(
        Operation.township_code == township, Operation.state == OperationState.open,
        func.lower(Operation.name) == func.lower(title)).order_by(Operation.id).limit(1))


def _operation_exists(snap: reference.Snapshot, township: str, same: Operation) -> Duplicate:
    return Duplicate(f"{snap.regions[township][0]}已有进行中的行动「{same.name}」（#{same.id}，"
                     f"{same.start_date:%Y-%m-%d} 至 {same.target_date:%Y-%m-%d}），请在该行动中登记任务，"
                     f"或换一个名称（如加上作物或季节）", code="operation_exists", details={"operation_id": same.id})


def _insert_unless_twin(session: Session, row: Any, twin: Callable[[], Any]) -> Any:
    """Insert ``row``; ``None`` if saved, else the row it clashes with by a unique index.

    The check before an insert cannot see what another submit of the same instant has not yet
    committed (two tabs, two processes). The database's unique index then refuses the second row:
    the insert runs in a savepoint, so the transaction survives the refusal (PostgreSQL would
    refuse every later statement) and ``twin()`` can find the row that won, for the same words as
    the check. Any other integrity error is raised as it came."""
    return _unless_twin(session, lambda: session.add(row), twin)


def _unless_twin(session: Session, write: Callable[[], Any], twin: Callable[[], Any]) -> Any:
    """``write`` (an insert, or a change of a row), as ``_insert_unless_twin``: ``None`` if saved,
    else the row a unique index says it repeats."""
    session.flush()  # what came before is not the savepoint's to undo
    try:
        with session.begin_nested():
            write()
    except IntegrityError:
        with session.no_autoflush:
            found = twin()
        if found is None:
            raise
        return found
    return None


def close_operation(session: Session, operation: Operation, *, actor: User | None) -> Operation:
    """Open → closed, once no task is left unfinished."""
    _coordinator(session, actor, operation.township_code)
    _open(operation)
    left = session.scalar(select(func.count()).select_from(FieldTask).where(
        FieldTask.operation_id == operation.id, FieldTask.state.in_(UNFINISHED))) or 0
    if left:
        raise TransitionNotAllowed(f"行动内还有 {left} 项任务未完成或未取消，不能结束", code="operation_unfinished",
                                   details={"unfinished": left})
    operation.state, operation.closed_at = OperationState.closed, clock.now()
    session.flush()
    return operation


def set_target(session: Session, operation: Operation, *, actor: User | None, target_date: date | str) -> Operation:
    """Move an open operation's target day (rain held the harvest back, or it went faster): the
    same limits as at creation, and not before the due day of a task still to do, which would put
    that task outside its operation."""
    _coordinator(session, actor, operation.township_code)
    _open(operation)
    target = v.day(target_date, "target_date", "目标完成日期")
    v.operation_days(operation.start_date, target, clock.local().date())
    latest_due = session.scalar(select(func.max(FieldTask.due_date)).where(
        FieldTask.operation_id == operation.id, FieldTask.state.in_(UNFINISHED)))
    if latest_due is not None and target < latest_due:
        raise invalid(f"目标完成日期不能早于未完成任务的要求完成日期 {latest_due:%Y-%m-%d}：请先调整或完成这些任务",
                        "target_date", "invalid_date")
    operation.target_date = target
    session.flush()
    return operation


# ---------------------------------------------------------------- tasks


def create_task(session: Session, *, actor: User | None, operation: Operation, village_code: str, plot: str,
                work_kind: str, due_date: date | str, area: Any = None, crop: str | None = None,
                farmer_name: str | None = None, farmer_phone: str | None = None, priority: Any = 1,
                note: str | None = None, ticket: Ticket | None = None) -> FieldTask:
    """A pending task in one of the operation's villages. Harvest, drainage and sowing need an area
    in 亩; road repair and power need none. Its due day is within the operation and not past."""
    _coordinator(session, actor, operation.township_code)
    _open(operation)
    snap = reference.snapshot(session)
    fields = _task_fields(snap, operation, village_code=village_code, plot=plot, work_kind=work_kind,
                          due_date=due_date, area=area, crop=crop, farmer_name=farmer_name,
                          farmer_phone=farmer_phone, priority=priority, note=note)
    now = clock.now()
    task = FieldTask(operation_id=operation.id, **fields, area_done=0.0, state=TaskState.pending,
                     ticket_id=ticket.id if ticket else None, created_by_id=actor.id if actor else None,
                     created_at=now, updated_at=now)
    session.add(task)
    session.flush()
    kind, size = task.work_kind, task.area
    words = f"{WORK_KIND_LABELS[kind]} {snap.regions[task.village_code][0]} {task.plot}" + (f" {size:g} 亩" if size else "")
    if ticket is not None:
        _event(session, task, "from_ticket", actor, note=f"由工单 {ticket.number} 转入：{words}",
               to_state=TaskState.pending, details={"ticket_number": ticket.number})
    else:
        _event(session, task, "create", actor, note=words, to_state=TaskState.pending)
    session.flush()
    return task


def _task_fields(snap: reference.Snapshot, operation: Operation, *, village_code: str, plot: str, work_kind: str,
                 due_date: date | str, area: Any, crop: str | None, farmer_name: str | None,
                 farmer_phone: str | None, priority: Any, note: str | None,
                 task: FieldTask | None = None) -> dict[str, Any]:
    """What a coordinator typed for a task (new, or ``task`` changed), checked: the columns to write."""
    village = v.village_of(snap, (village_code or "").strip(), operation.township_code)
    kind = v.choice(WorkKind, work_kind, "work_kind", WORK_KIND_LABELS)
    if kind in AREA_WORK:
        size: float | None = v.area(area, "area", "面积")
    elif area is None or str(area).strip() in ("", "0", "0.0"):
        size = None
    else:  # kept, it would ask for 亩 in every report and hold completion back; dropped, it misleads
        raise invalid(f"{WORK_KIND_LABELS[kind]}任务不按亩计，面积请留空（道路长度、线路等可写在说明里）",
                      "area", "area_not_measured")
    if task is not None and task.area_done > EPS:  # progress reported stays true
        if size is None:
            raise invalid(f"任务已上报完成 {task.area_done:g} 亩，不能改为不按亩计的{WORK_KIND_LABELS[kind]}",
                          "work_kind", "area_below_done")
        if size + EPS < task.area_done:
            raise invalid(f"面积不能小于已上报完成的 {task.area_done:g} 亩", "area", "area_below_done")
    by_label = {label: key for key, label in PRIORITY_LABELS.items()}  # 紧急 as well as 2
    try:
        level = by_label.get(priority.strip()) if isinstance(priority, str) and priority.strip() in by_label \
            else Priority(int(priority))
    except (TypeError, ValueError):
        level = None
    if level is None:
        raise invalid("优先级须为 1（一般）、2（紧急）或 3（特急）", "priority", "invalid_priority")
    due = v.day(due_date, "due_date", "要求完成日期")
    if task is None or due != task.due_date:  # an overdue task keeps its day while other things are corrected
        v.due_day(due, operation.start_date, operation.target_date, clock.local().date())
    return dict(village_code=village, plot=v.text(plot, "plot", "地块", max_chars=200),
                farmer_name=v.text(farmer_name, "farmer_name", "联系人", max_chars=60, required=False),
                farmer_phone=v.phone(farmer_phone, "farmer_phone"),
                crop=v.text(crop, "crop", "作物", max_chars=40, required=False), work_kind=kind, area=size,
                priority=int(level), due_date=due, note=v.text(note, "note", "说明", max_chars=2000, required=False))


# What a change of a task names, in the form's order: (column, label).
TASK_FIELD_LABELS = (("village_code", "村"), ("plot", "地块"), ("work_kind", "作业"), ("area", "面积"),
                     ("crop", "作物"), ("farmer_name", "农户/联系人"), ("farmer_phone", "电话"),
                     ("priority", "优先级"), ("due_date", "要求完成日期"), ("note", "说明"))


def update_task(session: Session, task: FieldTask, *, actor: User | None, village_code: str, plot: str,
                work_kind: str, due_date: date | str, area: Any = None, crop: str | None = None,
                farmer_name: str | None = None, farmer_phone: str | None = None, priority: Any = 1,
                note: str | None = None) -> FieldTask:
    """Correct an unfinished task (an area typed 100000 for 100, the wrong village): the same checks
    as registering it, and the area not below what is reported done. The change is recorded."""
    operation = _task_coordinator(session, actor, task)
    _open(operation)
    _unfinished(task, "修改")
    snap = reference.snapshot(session)
    fields = _task_fields(snap, operation, village_code=village_code, plot=plot, work_kind=work_kind,
                          due_date=due_date, area=area, crop=crop, farmer_name=farmer_name,
                          farmer_phone=farmer_phone, priority=priority, note=note, task=task)

    def shown(column: str, value: Any) -> str:
        if value is None or value == "":
            return "（空）"
        if column == "village_code":
            return snap.regions.get(value, (value,))[0]
        if column == "work_kind":
            return WORK_KIND_LABELS[value]
        if column == "priority":
            return priority_label(value)
        if column == "area":
            return f"{value:g} 亩"
        if column == "farmer_phone":
            return display_phone(value) or value
        if column == "due_date":
            return f"{value:%Y-%m-%d}"
        return str(value)

    changes = []
    for column, label in TASK_FIELD_LABELS:
        before, after = getattr(task, column), fields[column]
        if before != after:
            changes.append(f"{label}：{shown(column, before)} → {shown(column, after)}" if column != "note"
                           else "说明已修改")
            setattr(task, column, after)
    if changes:
        task.updated_at = clock.now()
        _event(session, task, "edit", actor, note="；".join(changes))
    session.flush()
    return task


def task_from_ticket(session: Session, *, actor: User | None, operation: Operation, ticket_key: str,
                     **fields: Any) -> FieldTask:
    """A task made from a citizen's ticket (e.g. a 求助 about flooded millet): the ticket must be one
    the actor may see, in the operation's township, and not already behind an unfinished task.
    Village, contact and plot default to the ticket's place and caller (a confidential caller's
    name and phone are not copied), the due day to the operation's target day."""
    ticket = ticket_queries.get_ticket(session, scope_for(actor), ticket_key)
    closed_ticket(ticket)
    existing = session.scalar(select(FieldTask.id).where(FieldTask.ticket_id == ticket.id,
                                                         FieldTask.state.in_(UNFINISHED)))
    if existing is not None:
        raise Busy(f"工单 {ticket.number} 已转为任务 #{existing}，尚未完成", code="ticket_has_task",
                   details={"task_id": existing})
    fields.setdefault("village_code", ticket.region_code)
    if not fields.get("plot"):
        fields["plot"] = ticket.address or "见工单描述"
    if not ticket.caller_confidential:
        fields["farmer_name"] = fields.get("farmer_name") or ticket.caller_name
        fields["farmer_phone"] = fields.get("farmer_phone") or ticket.caller_phone
    fields.setdefault("note", ticket.content[:2000])
    fields.setdefault("work_kind", WorkKind.harvest.value)
    if fields.get("due_date") is None or str(fields["due_date"]).strip() == "":
        fields["due_date"] = operation.target_date  # a citizen's call names no day: the operation's
    return create_task(session, actor=actor, operation=operation, ticket=ticket, **fields)


def closed_ticket(ticket: Ticket) -> None:
    """Only a ticket still being handled becomes a task: a closed, archived or merged one (a sewage
    complaint settled last month) is not field work waiting to be done."""
    if ticket.status in FINAL:
        raise TransitionNotAllowed(f"工单 {ticket.number}「{STATUS_LABELS[ticket.status]}」，已不在办理中，不能转为抢收任务；"
                                   f"如地里仍需作业，请在行动页直接登记任务", code="ticket_not_open",
                                   details={"status": ticket.status.value})


def start(session: Session, task: FieldTask, *, actor: User | None, note: str | None = None) -> FieldTask:
    """已安排 → 作业中: the machines and people are in the field."""
    _task_coordinator(session, actor, task)
    _move(session, task, TaskState.working, "start", actor,
          note=v.text(note, "note", "说明", max_chars=500, required=False))
    session.flush()
    return task


def report_progress(session: Session, task: FieldTask, *, actor: User | None, area: Any = None,
                    note: str | None = None) -> ProgressReport:
    """进度上报 by the township or the task's village: the area done since the last report is added;
    the total never passes the task's area; a note alone (no area) is a report too. A report on a
    scheduled task means work has begun."""
    operation = _operation_of(session, task)
    scope = field_scope(session, actor)
    if not scope.sees_task(operation.township_code, task.village_code):
        raise NotFound(f"任务 #{task.id} 不存在或不在您的范围内", code="task_not_found")
    _unfinished(task, "上报进度")
    if task.state == TaskState.pending:
        raise TransitionNotAllowed(f"任务 #{task.id} 尚未安排农机或人员，不能上报进度", code="task_not_scheduled")
    text = v.text(note, "note", "进度说明", max_chars=500, required=task.area is None)
    if task.area is None:
        done = 0.0
        if area not in (None, "", 0, "0"):
            raise invalid(f"{WORK_KIND_LABELS[task.work_kind]}任务不按亩计，请只填写进度说明", "area")
    elif text and (area is None or str(area).strip() in ("", "0")):
        done = 0.0  # a note alone (雨停了明早继续, 已全部收完待验收): no area this time
    else:
        done = v.area(area, "area", "本次完成面积")
        left = round(task.area - task.area_done, 1)
        if done > left + EPS:
            raise invalid(f"本次完成 {done:g} 亩超过剩余面积：任务共 {task.area:g} 亩，已完成 {task.area_done:g} 亩，"
                          f"尚余 {left:g} 亩", "area", "area_exceeded")
    if task.state == TaskState.scheduled:
        _move(session, task, TaskState.working, "start", actor, note="上报进度，开始作业")
    now = clock.now()
    report = ProgressReport(task_id=task.id, area=done, note=text, reporter_id=actor.id if actor else None, at=now)
    session.add(report)
    task.area_done = round(task.area_done + done, 1)
    task.updated_at = now
    if task.area is None:
        words = text
    else:
        words = (f"完成 {done:g} 亩，累计 {task.area_done:g}/{task.area:g} 亩" + (f"。{text}" if text else "")
                 if done else f"{text}（累计 {task.area_done:g}/{task.area:g} 亩）")
    _event(session, task, "progress", actor, note=words, details={"area": done})
    session.flush()
    return report


def complete(session: Session, task: FieldTask, *, actor: User | None, note: str | None = None) -> FieldTask:
    """→ 已完成, once an area task has reached its area; its machines and volunteers are released."""
    _task_coordinator(session, actor, task)
    _unfinished(task, "完成")
    if task.area is not None and task.area_done + EPS < task.area:
        left = round(task.area - task.area_done, 1)
        raise TransitionNotAllowed(f"任务 #{task.id} 已完成 {task.area_done:g} 亩，尚余 {left:g} 亩；请先上报进度再完成",
                                   code="area_not_reached", details={"left": left})
    _move(session, task, TaskState.done, "complete", actor,
          note=v.text(note, "note", "说明", max_chars=500, required=False))
    _release_all(session, task, actor)
    session.flush()
    return task


def cancel(session: Session, task: FieldTask, *, actor: User | None, reason: str) -> FieldTask:
    """→ 取消, with the reason; its machines and volunteers are released."""
    _task_coordinator(session, actor, task)
    text = v.text(reason, "reason", "取消原因", max_chars=500)
    _unfinished(task, "取消")
    task.cancel_reason = text
    _move(session, task, TaskState.cancelled, "cancel", actor, note=text)
    _release_all(session, task, actor)
    session.flush()
    return task


# ---------------------------------------------------------------- assignment


def assign_machine(session: Session, task: FieldTask, machine: Machine, *, actor: User | None) -> Assignment:
    """Put a machine on a task. It must be in the township's register, available, and on no other
    unfinished task: the claim is one conditional UPDATE, so of two coordinators one wins."""
    operation = _task_coordinator(session, actor, task)
    _open(operation)
    _unfinished(task, "调派")
    if machine.township_code != operation.township_code:
        raise invalid(f"农机「{machine.label}」不在本镇农机登记表中", "machine_id", "machine_elsewhere")
    won = session.execute(
        update(Machine).where(Machine.id == machine.id, Machine.state == MachineState.available,
                              Machine.task_id.is_(None))
        .values(state=MachineState.working, task_id=task.id)
        .execution_options(synchronize_session=False)).rowcount
    session.refresh(machine)
    if not won:
        raise _busy_machine(session, machine, task)
    return _assigned(session, task, actor, machine=machine)


def _busy_machine(session: Session, machine: Machine, task: FieldTask) -> Busy:
    name = f"{MACHINE_KIND_LABELS[machine.kind]}「{machine.label}」（{machine.owner}）"
    if machine.task_id == task.id:  # sent twice (a second click, a resent form)
        return Busy(f"{name}已在本任务作业，无须再次调派", details={"machine_id": machine.id, "task_id": task.id})
    if machine.state == MachineState.repair:
        return Busy(f"{name}正在维修，不能调派", details={"machine_id": machine.id})
    other = session.get(FieldTask, machine.task_id) if machine.task_id else None
    where = _task_words(session, other) if other else "另一项任务"
    return Busy(f"{name}正在{where}作业，须该任务完成或撤回后才能调派",
                details={"machine_id": machine.id, "task_id": machine.task_id})


def assign_volunteer(session: Session, task: FieldTask, volunteer: Volunteer, *,
                     actor: User | None) -> Assignment:
    """Put a volunteer on a task: available, in the township's register, on no other unfinished task."""
    operation = _task_coordinator(session, actor, task)
    _open(operation)
    _unfinished(task, "调派")
    if volunteer.township_code != operation.township_code:
        raise invalid(f"志愿者「{volunteer.name}」不在本镇登记表中", "volunteer_id", "volunteer_elsewhere")
    won = session.execute(
        update(Volunteer).where(Volunteer.id == volunteer.id, Volunteer.available.is_(True),
                                Volunteer.task_id.is_(None))
        .values(task_id=task.id).execution_options(synchronize_session=False)).rowcount
    session.refresh(volunteer)
    if not won:
        if volunteer.task_id == task.id:
            raise Busy(f"志愿者「{volunteer.name}」已在本任务，无须再次调派",
                       details={"volunteer_id": volunteer.id, "task_id": task.id})
        if not volunteer.available:
            raise Busy(f"志愿者「{volunteer.name}」已登记为暂不可用，不能调派", details={"volunteer_id": volunteer.id})
        other = session.get(FieldTask, volunteer.task_id) if volunteer.task_id else None
        where = _task_words(session, other) if other else "另一项任务"
        raise Busy(f"志愿者「{volunteer.name}」正在{where}，须该任务完成或撤回后才能调派",
                   details={"volunteer_id": volunteer.id, "task_id": volunteer.task_id})
    return _assigned(session, task, actor, volunteer=volunteer)


def _task_words(session: Session, task: FieldTask) -> str:
    snap = reference.snapshot(session)
    village = snap.regions.get(task.village_code, (task.village_code,))[0]
    return f"任务 #{task.id}（{village} {WORK_KIND_LABELS[task.work_kind]}）"


def _assigned(session: Session, task: FieldTask, actor: User | None, *, machine: Machine | None = None,
              volunteer: Volunteer | None = None) -> Assignment:
    row = Assignment(task_id=task.id, machine_id=machine.id if machine else None,
                     volunteer_id=volunteer.id if volunteer else None, assigned_by_id=actor.id if actor else None,
                     assigned_at=clock.now())
    session.add(row)
    what = (f"{MACHINE_KIND_LABELS[machine.kind]}「{machine.label}」（{machine.owner}）" if machine
            else f"志愿者 {volunteer.name}")  # type: ignore[union-attr]
    details = {"machine_id": machine.id} if machine else {"volunteer_id": volunteer.id}  # type: ignore[union-attr]
    if task.state == TaskState.pending:
        _move(session, task, TaskState.scheduled, "assign", actor, note=f"调派{what}", details=details)
    else:
        task.updated_at = clock.now()
        _event(session, task, "assign", actor, note=f"调派{what}", details=details)
    session.flush()
    return row


def release(session: Session, task: FieldTask, *, actor: User | None, machine: Machine | None = None,
            volunteer: Volunteer | None = None, note: str | None = None) -> None:
    """Take one machine or volunteer off an unfinished task (it becomes free again)."""
    _task_coordinator(session, actor, task)
    if (machine is None) == (volunteer is None):
        raise Invalid("请指定要撤回的一台农机或一名志愿者", code="release_what")
    _unfinished(task, "撤回")
    on_task = (machine.task_id if machine else volunteer.task_id) == task.id  # type: ignore[union-attr]
    if not on_task:
        raise TransitionNotAllowed("该农机或志愿者不在此任务上", code="not_on_task")
    _free(session, task, machine=machine, volunteer=volunteer)
    what = (f"{MACHINE_KIND_LABELS[machine.kind]}「{machine.label}」" if machine
            else f"志愿者 {volunteer.name}")  # type: ignore[union-attr]
    _event(session, task, "release", actor, note=f"撤回{what}" + (f"：{note}" if note else ""))
    task.updated_at = clock.now()
    _unstaffed(session, task, actor)
    session.flush()


def _unstaffed(session: Session, task: FieldTask, actor: User | None) -> None:
    """A scheduled task with no machine and no volunteer left on it is 待安排 again."""
    if task.state != TaskState.scheduled:
        return
    session.flush()
    if session.scalar(select(Machine.id).where(Machine.task_id == task.id).limit(1)) is None and \
            session.scalar(select(Volunteer.id).where(Volunteer.task_id == task.id).limit(1)) is None:
        _move(session, task, TaskState.pending, "unstaffed", actor, note="已无农机和人员在此任务上，退回待安排")


def _free(session: Session, task: FieldTask, *, machine: Machine | None = None,
          volunteer: Volunteer | None = None) -> None:
    now = clock.now()
    if machine is not None:
        if machine.state == MachineState.working:
            machine.state = MachineState.available
        machine.task_id = None
        column, key = Assignment.machine_id, machine.id
    else:
        volunteer.task_id = None  # type: ignore[union-attr]
        column, key = Assignment.volunteer_id, volunteer.id  # type: ignore[union-attr]
    session.execute(update(Assignment).where(Assignment.task_id == task.id, column == key,
                                             Assignment.released_at.is_(None))
                    .values(released_at=now).execution_options(synchronize_session=False))


def _release_all(session: Session, task: FieldTask, actor: User | None) -> None:
    machines = list(session.scalars(select(Machine).where(Machine.task_id == task.id)))
    volunteers = list(session.scalars(select(Volunteer).where(Volunteer.task_id == task.id)))
    for machine in machines:
        _free(session, task, machine=machine)
    for volunteer in volunteers:
        _free(session, task, volunteer=volunteer)
    if machines or volunteers:
        _event(session, task, "release", actor, note=f"释放农机 {len(machines)} 台、人员 {len(volunteers)} 人",
               details={"machines": [m.id for m in machines], "volunteers": [p.id for p in volunteers]})


# ---------------------------------------------------------------- registers


def register_machine(session: Session, *, actor: User | None, township_code: str, kind: str, label: str,
                     owner: str, owner_kind: str = "person", phone: str | None = None,
                     village_code: str | None = None) -> Machine:
    snap = reference.snapshot(session)
    township = v.township(snap, (township_code or "").strip())
    _coordinator(session, actor, township)
    fields = _machine_fields(snap, township, kind=kind, label=label, owner=owner, owner_kind=owner_kind,
                             phone=phone, village_code=village_code)
    key = (township, fields["kind"], fields["label"], fields["owner"], fields["phone"])
    same = _same_machine(session, *key)
    if same is not None:  # a second click, or the same machine typed twice: one row to dispatch
        raise _machine_exists(snap, same)
    machine = Machine(township_code=township, **fields, state=MachineState.available, created_at=clock.now())
    same = _insert_unless_twin(session, machine, lambda: _indexed_machine(session, *key))
    if same is not None:  # the same machine registered by another submit after the check above
        raise _machine_exists(snap, same)
    return machine


def _machine_fields(snap: reference.Snapshot, township: str, *, kind: str, label: str, owner: str,
                    owner_kind: str, phone: str | None, village_code: str | None) -> dict[str, Any]:
    """A machine's register row as typed, checked (model and owner with their spaces collapsed)."""
    return dict(kind=v.choice(MachineKind, kind, "kind", MACHINE_KIND_LABELS),
                label=" ".join((v.text(label, "label", "型号或车牌", max_chars=80) or "").split()),
                owner=" ".join((v.text(owner, "owner", "所有者", max_chars=100) or "").split()),
                owner_kind=v.choice(OwnerKind, owner_kind, "owner_kind", OWNER_KIND_LABELS), phone=v.phone(phone),
                village_code=v.village_of(snap, village_code, township) if village_code else None)


def update_machine(session: Session, machine: Machine, *, actor: User | None, kind: str, label: str, owner: str,
                   owner_kind: str = "person", phone: str | None = None,
                   village_code: str | None = None) -> Machine:
    """Correct a machine's register row (a wrong phone, a misspelt owner): the same checks as
    registering it, and it may not become a machine already registered (the same words)."""
    _coordinator(session, actor, machine.township_code)
    snap = reference.snapshot(session)
    township = machine.township_code
    fields = _machine_fields(snap, township, kind=kind, label=label, owner=owner, owner_kind=owner_kind,
                             phone=phone, village_code=village_code)
    key = (township, fields["kind"], fields["label"], fields["owner"], fields["phone"])
    same = _same_machine(session, *key, other_than=machine.id)
    if same is not None:
        raise _machine_exists(snap, same)

    def write() -> None:
        for column, value in fields.items():
            setattr(machine, column, value)

    same = _unless_twin(session, write, lambda: _indexed_machine(session, *key, other_than=machine.id))
    if same is not None:
        raise _machine_exists(snap, same)
    return machine


def _machine_exists(snap: reference.Snapshot, same: Machine) -> Duplicate:
    where = snap.regions.get(same.village_code or "", (None,))[0]
    return Duplicate(f"本镇已登记这台农机：#{same.id} {MACHINE_KIND_LABELS[same.kind]}「{same.label}」{same.owner}"
                     f"（{'，'.join(filter(None, (where, MACHINE_STATE_LABELS[same.state])))}），无须重复登记",
                     code="machine_exists", details={"machine_id": same.id})


def _same_machine(session: Session, township: str, kind: MachineKind, label: str, owner: str,
                  phone: str | None, *, other_than: int | None = None) -> Machine | None:
    """The township's machine of this kind, model, owner and phone, if it is registered already
    (spaces and letter case aside: 「测试收割机 X1」 and 「测试收割机  x1」 are one machine). The unique
    index ``uq_fieldwork_machines_same`` holds the same rule on the stored (space-collapsed) text."""
    def key(text: str | None) -> str:
        return " ".join((text or "").split()).casefold()

    for row in session.scalars(select(Machine).where(Machine.township_code == township, Machine.kind == kind)
                               .order_by(Machine.id)):
        if row.id != other_than and (key(row.label), key(row.owner), row.phone) == (key(label), key(owner), phone):
            return row
    return None


def _indexed_machine(session: Session, township: str, kind: MachineKind, label: str, owner: str,
                     phone: str | None, *, other_than: int | None = None) -> Machine | None:
    """The machine ``uq_fieldwork_machines_same`` says this one repeats, compared as the index does."""
    return session.scalar(select(Machine).where(
        Machine.id != (other_than or 0), Machine.township_code == township, Machine.kind == kind, func.lower(Machine.label) == func.lower(label),
        func.lower(Machine.owner) == func.lower(owner), func.coalesce(Machine.phone, "") == (phone or ""))
        .order_by(Machine.id).limit(1))


def set_machine_state(session: Session, machine: Machine, *, actor: User | None, state: str) -> Machine:
    """可调派 ↔ 维修. A machine reported broken while working is taken off its task first."""
    _coordinator(session, actor, machine.township_code)
    target = v.choice(MachineState, state, "state", MACHINE_STATE_LABELS)
    if target == MachineState.working:
        raise invalid("作业中由调派自动设置，请在任务页调派农机", "state", "invalid_choice")
    if machine.task_id is not None:
        task = session.get(FieldTask, machine.task_id)
        if task is not None:
            _free(session, task, machine=machine)
            _event(session, task, "release", actor,
                   note=f"{MACHINE_KIND_LABELS[machine.kind]}「{machine.label}」报{MACHINE_STATE_LABELS[target]}，撤离本任务")
            _unstaffed(session, task, actor)
    machine.state = target
    session.flush()
    return machine


def register_volunteer(session: Session, *, actor: User | None, township_code: str, name: str,
                       phone: str | None = None, village_code: str | None = None,
                       skills: str | None = None) -> Volunteer:
    """A person on the township's register, once: the same name and phone again is refused naming
    the row there (two rows of one person could be sent to two tasks at once and count twice)."""
    snap = reference.snapshot(session)
    township = v.township(snap, (township_code or "").strip())
    _coordinator(session, actor, township)
    fields = _volunteer_fields(snap, township, name=name, phone=phone, village_code=village_code, skills=skills)
    key = (township, fields["name"], fields["phone"])
    same = _same_volunteer(session, *key)
    if same is not None:
        raise _volunteer_exists(snap, same)
    person = Volunteer(township_code=township, **fields, available=True, created_at=clock.now())
    same = _insert_unless_twin(session, person, lambda: _indexed_volunteer(session, *key))
    if same is not None:  # registered by another submit after the check above
        raise _volunteer_exists(snap, same)
    return person


def _volunteer_fields(snap: reference.Snapshot, township: str, *, name: str, phone: str | None,
                      village_code: str | None, skills: str | None) -> dict[str, Any]:
    return dict(name=" ".join((v.text(name, "name", "姓名", max_chars=60) or "").split()), phone=v.phone(phone),
                village_code=v.village_of(snap, village_code, township) if village_code else None,
                skills=v.text(skills, "skills", "技能", max_chars=200, required=False))


def update_volunteer(session: Session, volunteer: Volunteer, *, actor: User | None, name: str,
                     phone: str | None = None, village_code: str | None = None,
                     skills: str | None = None) -> Volunteer:
    """Correct a volunteer's register row (a misspelt name, a wrong phone): the same checks as
    registering them, and not into a person already registered."""
    _coordinator(session, actor, volunteer.township_code)
    snap = reference.snapshot(session)
    township = volunteer.township_code
    fields = _volunteer_fields(snap, township, name=name, phone=phone, village_code=village_code, skills=skills)
    key = (township, fields["name"], fields["phone"])
    same = _same_volunteer(session, *key, other_than=volunteer.id)
    if same is not None:
        raise _volunteer_exists(snap, same)

    def write() -> None:
        for column, value in fields.items():
            setattr(volunteer, column, value)

    same = _unless_twin(session, write, lambda: _indexed_volunteer(session, *key, other_than=volunteer.id))
    if same is not None:
        raise _volunteer_exists(snap, same)
    return volunteer


def _volunteer_exists(snap: reference.Snapshot, same: Volunteer) -> Duplicate:
    where = snap.regions.get(same.village_code or "", (None,))[0]
    state = f"在任务 #{same.task_id} 上" if same.task_id else ("待命" if same.available else "暂不可用")
    hint = "" if same.phone else "；如是同名的另一人，请填写其电话以区分"
    return Duplicate(f"本镇已登记这位志愿者：#{same.id} {same.name}"
                     f"{' ' + (display_phone(same.phone) or '') if same.phone else '（未留电话）'}"
                     f"（{'，'.join(filter(None, (where, state)))}），无须重复登记{hint}",
                     code="volunteer_exists", details={"volunteer_id": same.id})


def _same_volunteer(session: Session, township: str, name: str, phone: str | None, *,
                    other_than: int | None = None) -> Volunteer | None:
    """The township's volunteer of this name and phone (spaces and letter case aside), if registered
    already. The unique index ``uq_fieldwork_volunteers_same`` (migration 0021) holds the same rule;
    two rows without a phone and of one name clash too (nobody could tell them apart when sending)."""
    def key(text: str | None) -> str:
        return " ".join((text or "").split()).casefold()

    for row in session.scalars(select(Volunteer).where(Volunteer.township_code == township).order_by(Volunteer.id)):
        if row.id != other_than and (key(row.name), row.phone) == (key(name), phone):
            return row
    return None


def _indexed_volunteer(session: Session, township: str, name: str, phone: str | None, *,
                       other_than: int | None = None) -> Volunteer | None:
    """The volunteer ``uq_fieldwork_volunteers_same`` says this one repeats, compared as the index does."""
    return session.scalar(select(Volunteer).where(
        Volunteer.id != (other_than or 0), Volunteer.township_code == township,
        func.lower(Volunteer.name) == func.lower(name), func.coalesce(Volunteer.phone, "") == (phone or ""))
        .order_by(Volunteer.id).limit(1))


def set_volunteer_available(session: Session, volunteer: Volunteer, *, actor: User | None,
                            available: bool) -> Volunteer:
    """Marking someone unavailable is refused while they are on a task (release them first)."""
    _coordinator(session, actor, volunteer.township_code)
    if not available and volunteer.task_id is not None:
        raise Busy(f"志愿者「{volunteer.name}」正在任务 #{volunteer.task_id} 上，请先从该任务撤回",
                   details={"task_id": volunteer.task_id})
    volunteer.available = bool(available)
    session.flush()
    return volunteer


def add_buyer(session: Session, *, actor: User | None, township_code: str, name: str, crops: str,
              phone: str | None = None, contact: str | None = None, price: str | None = None,
              daily_tons: Any = None) -> Buyer:
    snap = reference.snapshot(session)
    township = v.township(snap, (township_code or "").strip())
    _coordinator(session, actor, township)
    tons = None
    if daily_tons not in (None, ""):
        try:
            tons = round(float(daily_tons), 1)
        except (TypeError, ValueError):
            tons = -1.0
        if not 0 < tons <= 100_000:
            raise invalid("日收购能力须为大于 0 的吨数", "daily_tons", "invalid_capacity")
    buyer = Buyer(township_code=township, name=v.text(name, "name", "收购商名称", max_chars=100),
                  contact=v.text(contact, "contact", "联系人", max_chars=60, required=False), phone=v.phone(phone),
                  crops=v.text(crops, "crops", "收购品种", max_chars=100),
                  price=v.text(price, "price", "收购价格", max_chars=60, required=False), daily_tons=tons,
                  active=True, created_at=clock.now())
    session.add(buyer)
    session.flush()
    return buyer


def set_buyer_active(session: Session, buyer: Buyer, *, actor: User | None, active: bool) -> Buyer:
    _coordinator(session, actor, buyer.township_code)
    buyer.active = bool(active)
    session.flush()
    return buyer


def priority_label(value: int) -> str:
    return PRIORITY_LABELS.get(Priority(value), str(value)) if value in (1, 2, 3) else str(value)

