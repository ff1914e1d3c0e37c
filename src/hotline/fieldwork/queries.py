"""Reads of field work, every one through the reader's ``FieldScope`` (``access``): lists with
filters, one task with its history, suggestions of free machines and people, the dashboard."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, case, false, func, select, true
from sqlalchemy.orm import Session

from hotline.accounts.models import User
from hotline.directory import reference
from hotline.fieldwork.access import FieldScope
from hotline.fieldwork.errors import NotFound, invalid
from hotline.fieldwork.models import (
    Buyer,
    FieldTask,
    Machine,
    Operation,
    ProgressReport,
    TaskEvent,
    Volunteer,
)
from hotline.fieldwork.states import (
    NEEDED_MACHINE,
    TASK_STATE_LABELS,
    UNFINISHED,
    WORK_KIND_LABELS,
    MachineKind,
    MachineState,
    OperationState,
    TaskState,
    WorkKind,
)
from hotline.kit import clock
from hotline.tickets.models import Ticket


def today() -> date:
    return clock.local().date()


def _village_townships(session: Session, scope: FieldScope) -> set[str]:
    regions = reference.snapshot(session).regions
    return {regions[c][2] for c in scope.villages if c in regions and regions[c][2]}


def operation_clause(session: Session, scope: FieldScope) -> Any:
    """Operations a person sees: those they coordinate, and those of their villages' townships."""
    if scope.everything:
        return true()
    codes = set(scope.townships) | _village_townships(session, scope)
    return Operation.township_code.in_(codes) if codes else false()


# ---------------------------------------------------------------- operations


def operations(session: Session, scope: FieldScope, *, state: str | None = None) -> list[dict[str, Any]]:
    """Operations with their task counts and area totals (what this person sees of them), open first.
    The count is of every task, cancelled ones included, as on the dashboard and in the task list it
    links to; the areas leave cancelled tasks out, as the dashboard's do."""
    query = select(Operation).where(operation_clause(session, scope))
    if state:
        query = query.where(Operation.state == _state(OperationState, state, "state"))
    ops = list(session.scalars(query.order_by(Operation.state.desc(), Operation.start_date.desc(), Operation.id.desc())))
    if not ops:
        return []
    visible = _task_scope(scope)
    live = FieldTask.state != TaskState.cancelled
    rows = session.execute(
        select(FieldTask.operation_id, func.count(), func.sum(case((FieldTask.state.in_(UNFINISHED), 1), else_=0)),
               func.coalesce(func.sum(case((live, FieldTask.area), else_=0.0)), 0.0),
               func.coalesce(func.sum(case((live, FieldTask.area_done), else_=0.0)), 0.0))
        .join(Operation, Operation.id == FieldTask.operation_id)
        .where(FieldTask.operation_id.in_([o.id for o in ops]), visible)
        .group_by(FieldTask.operation_id)).all()
    counts = {r[0]: r[1:] for r in rows}
    out = []
    for o in ops:
        n, unfinished, area, done = counts.get(o.id, (0, 0, 0.0, 0.0))
        out.append({"operation": o, "tasks": n, "unfinished": int(unfinished or 0), "area": float(area),
                    "area_done": float(done)})
    return out


MAX_ID = 2**31 - 1  # ids are 32-bit on PostgreSQL: a larger one is simply not found


def get_operation(session: Session, scope: FieldScope, operation_id: int) -> Operation:
    operation = None if not 0 < operation_id <= MAX_ID else session.scalar(select(Operation).where(Operation.id == operation_id, operation_clause(session, scope)))
    if operation is None:
        raise NotFound(f"行动 {operation_id} 不存在或不在您的范围内", code="operation_not_found")
    return operation


# ---------------------------------------------------------------- tasks


def _task_scope(scope: FieldScope) -> Any:
    return scope.task_clause(Operation.township_code, FieldTask.village_code)


def _state(enum_cls: type, value: str, field: str) -> Any:
    try:
        return enum_cls(value)
    except ValueError:
        raise invalid(f"未知的筛选值「{value}」", field, "invalid_filter") from None


@dataclass
class TaskFilter:
    operation_id: int | None = None
    village_code: str | None = None
    state: str | None = None  # a TaskState, or "unfinished"
    work_kind: str | None = None
    overdue: bool = False
    machine_id: int | None = None  # tasks the machine is on now
    volunteer_id: int | None = None


def _filtered(scope: FieldScope, f: TaskFilter) -> Any:
    query = select(FieldTask).join(Operation, Operation.id == FieldTask.operation_id).where(_task_scope(scope))
    if f.operation_id is not None:
        query = query.where(FieldTask.operation_id == f.operation_id)
    if f.village_code:
        query = query.where(FieldTask.village_code == f.village_code)
    if f.state == "unfinished":
        query = query.where(FieldTask.state.in_(UNFINISHED))
    elif f.state:
        query = query.where(FieldTask.state == _state(TaskState, f.state, "state"))
    if f.work_kind:
        query = query.where(FieldTask.work_kind == _state(WorkKind, f.work_kind, "work_kind"))
    if f.overdue:
        query = query.where(FieldTask.state.in_(UNFINISHED), FieldTask.due_date < today())
    if f.machine_id is not None:
        query = query.where(FieldTask.id.in_(select(Machine.task_id).where(Machine.id == f.machine_id)))
    if f.volunteer_id is not None:
        query = query.where(FieldTask.id.in_(select(Volunteer.task_id).where(Volunteer.id == f.volunteer_id)))
    return query


def list_tasks(session: Session, scope: FieldScope, f: TaskFilter, *, limit: int = 200,
               offset: int = 0) -> list[FieldTask]:
    """Unfinished first, then by priority (highest first), due day and id."""
    order = case((FieldTask.state.in_(UNFINISHED), 0), else_=1)
    query = _filtered(scope, f).order_by(order, FieldTask.priority.desc(), FieldTask.due_date, FieldTask.id)
    return list(session.scalars(query.limit(limit).offset(offset)))


def count_tasks(session: Session, scope: FieldScope, f: TaskFilter) -> int:
    return int(session.scalar(select(func.count()).select_from(_filtered(scope, f).subquery())) or 0)


def get_task(session: Session, scope: FieldScope, task_id: int) -> FieldTask:
    task = None if not 0 < task_id <= MAX_ID else session.scalar(select(FieldTask).join(Operation, Operation.id == FieldTask.operation_id)
                          .where(FieldTask.id == task_id, _task_scope(scope)))
    if task is None:
        raise NotFound(f"任务 #{task_id} 不存在或不在您的范围内", code="task_not_found")
    return task


def events(session: Session, task: FieldTask) -> list[tuple[TaskEvent, str]]:
    """The task's history, oldest first, with the name of whoever acted (系统 for the platform)."""
    rows = session.execute(select(TaskEvent, User.display_name).outerjoin(User, User.id == TaskEvent.actor_id)
                           .where(TaskEvent.task_id == task.id).order_by(TaskEvent.at, TaskEvent.id)).all()
    return [(e, name or "系统") for e, name in rows]


def progress(session: Session, task: FieldTask) -> list[tuple[ProgressReport, str]]:
    rows = session.execute(select(ProgressReport, User.display_name)
                           .outerjoin(User, User.id == ProgressReport.reporter_id)
                           .where(ProgressReport.task_id == task.id).order_by(ProgressReport.at, ProgressReport.id)).all()
    return [(p, name or "系统") for p, name in rows]


def on_task(session: Session, task: FieldTask) -> tuple[list[Machine], list[Volunteer]]:
    machines = list(session.scalars(select(Machine).where(Machine.task_id == task.id).order_by(Machine.id)))
    people = list(session.scalars(select(Volunteer).where(Volunteer.task_id == task.id).order_by(Volunteer.id)))
    return machines, people


def ticket_number(session: Session, task: FieldTask) -> str | None:
    return session.scalar(select(Ticket.number).where(Ticket.id == task.ticket_id)) if task.ticket_id else None


def tasks_of_ticket(session: Session, ticket_id: int) -> list[FieldTask]:
    return list(session.scalars(select(FieldTask).where(FieldTask.ticket_id == ticket_id).order_by(FieldTask.id)))


def suggest_machines(session: Session, task: FieldTask, *, kind: str | None = None, any_kind: bool = False,
                     limit: int = 10) -> list[Machine]:
    """Free machines of the kind the work needs (or ``kind``, or of every kind), nearest first: the
    task's own village, then the rest of the township's register."""
    township = session.scalar(select(Operation.township_code).where(Operation.id == task.operation_id))
    wanted = None if any_kind else kind or NEEDED_MACHINE.get(task.work_kind)
    query = select(Machine).where(Machine.township_code == township, Machine.state == MachineState.available,
                                  Machine.task_id.is_(None))
    if wanted:
        query = query.where(Machine.kind == _state(MachineKind, wanted, "kind"))
    near = case((Machine.village_code == task.village_code, 0), else_=1)
    return list(session.scalars(query.order_by(near, Machine.id).limit(limit)))


def free_volunteers(session: Session, task: FieldTask, *, limit: int = 20) -> list[Volunteer]:
    """Available volunteers on no task, the task's village first."""
    township = session.scalar(select(Operation.township_code).where(Operation.id == task.operation_id))
    near = case((Volunteer.village_code == task.village_code, 0), else_=1)
    return list(session.scalars(select(Volunteer).where(
        Volunteer.township_code == township, Volunteer.available.is_(True), Volunteer.task_id.is_(None))
        .order_by(near, Volunteer.id).limit(limit)))


# ---------------------------------------------------------------- registers


def _tasks_of(operation_id: int) -> Any:
    """Ids of an operation's tasks: machines and volunteers whose current task is one of them are
    that operation's (a machine or person is on one task at a time, so on one operation)."""
    return select(FieldTask.id).where(FieldTask.operation_id == operation_id)


def machines(session: Session, scope: FieldScope, *, township_code: str | None = None, kind: str | None = None,
             state: str | None = None, operation_id: int | None = None) -> list[Machine]:
    """The register; ``operation_id`` keeps the machines working on that operation's tasks now."""
    query = select(Machine).where(scope.township_clause(Machine.township_code))
    if township_code:
        query = query.where(Machine.township_code == township_code)
    if operation_id is not None:
        query = query.where(Machine.task_id.in_(_tasks_of(operation_id)))
    if kind:
        query = query.where(Machine.kind == _state(MachineKind, kind, "kind"))
    if state:
        query = query.where(Machine.state == _state(MachineState, state, "state"))
    return list(session.scalars(query.order_by(Machine.township_code, Machine.kind, Machine.id)))


def volunteers(session: Session, scope: FieldScope, *, township_code: str | None = None,
               on_task: bool | None = None, available: bool | None = None,
               operation_id: int | None = None) -> list[Volunteer]:
    """The register; ``operation_id`` keeps the people on that operation's tasks now."""
    query = select(Volunteer).where(scope.township_clause(Volunteer.township_code))
    if township_code:
        query = query.where(Volunteer.township_code == township_code)
    if operation_id is not None:
        query = query.where(Volunteer.task_id.in_(_tasks_of(operation_id)))
    if on_task is not None:
        query = query.where(Volunteer.task_id.is_not(None) if on_task else Volunteer.task_id.is_(None))
    if available is not None:
        query = query.where(Volunteer.available.is_(available))
    return list(session.scalars(query.order_by(Volunteer.township_code, Volunteer.village_code, Volunteer.id)))


def buyers(session: Session, *, township_code: str | None = None, active_only: bool = True,
           scope: FieldScope | None = None) -> list[Buyer]:
    """Buyers for farmers: anyone who sees an operation sees its township's buyers."""
    query = select(Buyer)
    if scope is not None:
        query = query.where(scope.township_clause(Buyer.township_code))
    if township_code:
        query = query.where(Buyer.township_code == township_code)
    if active_only:
        query = query.where(Buyer.active.is_(True))
    return list(session.scalars(query.order_by(Buyer.name, Buyer.id)))


def get_row(session: Session, model: type, row_id: int, township_ok: FieldScope, label: str) -> Any:
    """A register row (machine, volunteer, buyer) the person coordinates, or NotFound."""
    row = session.get(model, row_id) if 0 < row_id <= MAX_ID else None
    if row is None or not township_ok.coordinates(row.township_code):
        raise NotFound(f"{label} {row_id} 不存在或不在您的范围内", code="not_found")
    return row


# ---------------------------------------------------------------- dashboard


def dashboard(session: Session, scope: FieldScope, operation: Operation) -> dict[str, Any]:
    """Per village: area total, done and share; tasks by state; overdue tasks; machines and
    volunteers on this operation's tasks, and the township's free ones (shared by every operation
    open in the township). Task counts are of what this person sees."""
    base = and_(FieldTask.operation_id == operation.id, _task_scope(scope))
    snap = reference.snapshot(session)
    live = FieldTask.state != TaskState.cancelled
    village_rows = session.execute(
        select(FieldTask.village_code, func.count(), func.coalesce(func.sum(case((live, FieldTask.area), else_=0.0)), 0.0),
               func.coalesce(func.sum(case((live, FieldTask.area_done), else_=0.0)), 0.0),
               func.sum(case((FieldTask.state.in_(UNFINISHED), 1), else_=0)),
               func.sum(case((and_(FieldTask.state.in_(UNFINISHED), FieldTask.due_date < today()), 1), else_=0)))
        .join(Operation, Operation.id == FieldTask.operation_id).where(base)
        .group_by(FieldTask.village_code)).all()
    villages = []
    for code, n, area, done, unfinished, overdue in village_rows:
        area, done = float(area or 0), float(done or 0)
        villages.append({"code": code, "name": snap.regions.get(code, (code,))[0], "tasks": n, "area": area,
                         "area_done": done, "share": (done / area) if area else None,
                         "unfinished": int(unfinished or 0), "overdue": int(overdue or 0)})
    villages.sort(key=lambda r: (-(r["area"] - r["area_done"]), r["code"]))
    by_state = dict(session.execute(select(FieldTask.state, func.count())
                                    .join(Operation, Operation.id == FieldTask.operation_id)
                                    .where(base).group_by(FieldTask.state)).all())
    states = [{"state": s.value, "label": TASK_STATE_LABELS[s], "count": by_state.get(s, 0)} for s in TaskState]
    by_kind = dict(session.execute(select(FieldTask.work_kind, func.count())
                                   .join(Operation, Operation.id == FieldTask.operation_id)
                                   .where(base, FieldTask.state.in_(UNFINISHED)).group_by(FieldTask.work_kind)).all())
    kinds = [{"kind": k.value, "label": WORK_KIND_LABELS[k], "count": by_kind.get(k, 0)} for k in WorkKind]
    township = operation.township_code
    # The township's registers serve every operation open in it at once: what works on this
    # operation's tasks is this operation's; what is free or under repair is the township's pool.
    machine_counts = dict(session.execute(select(Machine.state, func.count())
                                          .where(Machine.township_code == township).group_by(Machine.state)).all())
    own_tasks = select(FieldTask.id).join(Operation, Operation.id == FieldTask.operation_id).where(base)
    machines_on = int(session.scalar(select(func.count()).select_from(Machine).where(
        Machine.township_code == township, Machine.task_id.in_(own_tasks))) or 0)
    people_on = int(session.scalar(select(func.count()).select_from(Volunteer).where(
        Volunteer.township_code == township, Volunteer.task_id.in_(own_tasks))) or 0)
    town_on = int(session.scalar(select(func.count()).select_from(Volunteer).where(
        Volunteer.township_code == township, Volunteer.task_id.is_not(None))) or 0)
    free = int(session.scalar(select(func.count()).select_from(Volunteer).where(
        Volunteer.township_code == township, Volunteer.task_id.is_(None), Volunteer.available.is_(True))) or 0)
    area = sum(r["area"] for r in villages)
    done = sum(r["area_done"] for r in villages)
    return {
        "villages": villages, "states": states, "kinds": kinds,
        "overdue": sum(r["overdue"] for r in villages), "tasks": sum(r["tasks"] for r in villages),
        "area": area, "area_done": done, "share": (done / area) if area else None,
        # working / on_task: on this operation's tasks; available, repair, free: the township's pool.
        "machines": {"working": machines_on, "available": machine_counts.get(MachineState.available, 0),
                     "repair": machine_counts.get(MachineState.repair, 0)},
        "volunteers": {"on_task": people_on, "free": free},
        # The whole township's registers, every operation together.
        "township": {"machines": {s.value: machine_counts.get(s, 0) for s in MachineState},
                     "volunteers": {"on_task": town_on, "free": free}},
        "shows_registers": scope.coordinates(township),
    }


def overdue_tasks(session: Session, scope: FieldScope, operation: Operation, *, limit: int = 20) -> list[FieldTask]:
    return list_tasks(session, scope, TaskFilter(operation_id=operation.id, overdue=True), limit=limit)

