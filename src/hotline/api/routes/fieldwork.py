"""Emergency field work (抢收抢种) endpoints: operations and their dashboard, field tasks with
assignment, progress and completion, the machine, volunteer and buyer registers. Who may see and do
what is ``fieldwork.access``, the same rule the pages follow."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field

from hotline.api import paging
from hotline.api.edge import Context, unit_of_work
from hotline.api.schemas import Body, Day, Number, Out, Timestamp, own_words
from hotline.directory import reference
from hotline.fieldwork import queries, service
from hotline.fieldwork.access import field_scope, require_any, require_coordinator, require_registers
from hotline.fieldwork.errors import invalid
from hotline.fieldwork.models import Buyer, FieldTask, Machine, Operation, Volunteer
from hotline.fieldwork.states import (
    UNFINISHED,
    MachineKind,
    MachineState,
    OperationState,
    OwnerKind,
    TaskState,
    WorkKind,
)
from hotline.tickets import views

router = APIRouter(prefix="/fieldwork", tags=["fieldwork"])
MAX_ID = 2**31 - 1


class OperationIn(Body):
    name: str = Field(max_length=100, description="e.g. 县底镇秋季抢收抢种")
    township_code: str = Field(max_length=12, description="9-digit township region code")
    crops: str = Field(max_length=100)
    start_date: date
    target_date: date
    note: str | None = Field(default=None, max_length=2000)


class TaskIn(Body):
    village_code: str | None = Field(default=None, max_length=12, description="12-digit village code (from the ticket if omitted)")
    plot: str | None = Field(default=None, max_length=200)
    work_kind: Literal["harvest", "drainage", "sowing", "road", "power"] = "harvest"
    area: float | None = Field(default=None, description="亩; required for harvest, drainage and sowing")
    crop: str | None = Field(default=None, max_length=40)
    farmer_name: str | None = Field(default=None, max_length=60)
    farmer_phone: str | None = Field(default=None, max_length=20)
    priority: Annotated[int, Field(ge=1, le=3), own_words("优先级须为 1（一般）、2（紧急）或 3（特急）", "invalid_priority")] \
        = Field(default=1, description="1 一般, 2 紧急, 3 特急")
    due_date: date | None = Field(default=None, description="required, except for a task made from a ticket (then the operation's target day)")
    note: str | None = Field(default=None, max_length=2000)
    ticket: str | None = Field(default=None, max_length=20, description="ticket number or id to make the task from")


class TaskChange(Body):
    """What a PATCH of a task changes: only the fields sent; the others stay as they are."""

    village_code: str | None = Field(default=None, max_length=12)
    plot: str | None = Field(default=None, max_length=200)
    work_kind: Literal["harvest", "drainage", "sowing", "road", "power"] | None = None
    area: float | None = Field(default=None, description="亩; null for road and power work")
    crop: str | None = Field(default=None, max_length=40)
    farmer_name: str | None = Field(default=None, max_length=60)
    farmer_phone: str | None = Field(default=None, max_length=20)
    priority: Annotated[int | None, Field(ge=1, le=3), own_words("优先级须为 1（一般）、2（紧急）或 3（特急）", "invalid_priority")] \
        = None
    due_date: date | None = Field(default=None, description="within the operation; a new day not before today")
    note: str | None = Field(default=None, max_length=2000)


class AssignIn(Body):
    machine_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    volunteer_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class ProgressIn(Body):
    area: float | None = Field(default=None, description="亩 done since the last report (none for road and power work)")
    note: str | None = Field(default=None, max_length=500)


class NoteIn(Body):
    note: str | None = Field(default=None, max_length=500)


class CancelIn(Body):
    reason: str = Field(max_length=500)


class MachineIn(Body):
    township_code: str = Field(max_length=12)
    kind: Literal["harvester", "tractor", "pump", "seeder", "dryer", "truck", "generator", "other"]
    label: str = Field(max_length=80)
    owner: str = Field(max_length=100)
    owner_kind: Literal["enterprise", "cooperative", "person"] = "person"
    phone: str | None = Field(default=None, max_length=20)
    village_code: str | None = Field(default=None, max_length=12)


class MachineChange(Body):
    """What a PATCH of a machine changes: only the fields sent."""

    kind: Literal["harvester", "tractor", "pump", "seeder", "dryer", "truck", "generator", "other"] | None = None
    label: str | None = Field(default=None, max_length=80)
    owner: str | None = Field(default=None, max_length=100)
    owner_kind: Literal["enterprise", "cooperative", "person"] | None = None
    phone: str | None = Field(default=None, max_length=20)
    village_code: str | None = Field(default=None, max_length=12)


class MachineStateIn(Body):
    state: Literal["available", "repair"]


class VolunteerIn(Body):
    township_code: str = Field(max_length=12)
    name: str = Field(max_length=60)
    phone: str | None = Field(default=None, max_length=20)
    village_code: str | None = Field(default=None, max_length=12)
    skills: str | None = Field(default=None, max_length=200)


class VolunteerChange(Body):
    """What a PATCH of a volunteer changes: only the fields sent."""

    name: str | None = Field(default=None, max_length=60)
    phone: str | None = Field(default=None, max_length=20)
    village_code: str | None = Field(default=None, max_length=12)
    skills: str | None = Field(default=None, max_length=200)


class AvailabilityIn(Body):
    available: bool


class BuyerIn(Body):
    township_code: str = Field(max_length=12)
    name: str = Field(max_length=100)
    crops: str = Field(max_length=100)
    contact: str | None = Field(default=None, max_length=60)
    phone: str | None = Field(default=None, max_length=20)
    price: str | None = Field(default=None, max_length=60)
    daily_tons: float | None = None


# ---------------------------------------------------------------- responses


class Place(Out):
    code: str
    name: str


class OperationOut(Out):
    id: int
    name: str
    township: Place | None
    crops: str
    start_date: Day
    target_date: Day
    state: OperationState
    note: str | None
    created_at: Timestamp
    closed_at: Timestamp | None


class OperationRow(OperationOut):
    tasks: int = Field(description="tasks you see, cancelled ones included")
    unfinished: int
    area: Number = Field(description="亩 of the tasks not cancelled")
    area_done: Number


class VillageProgress(Out):
    code: str
    name: str
    tasks: int
    area: Number
    area_done: Number
    share: Number | None = Field(description="area_done / area; null without area")
    unfinished: int
    overdue: int


class StateCount(Out):
    state: TaskState
    label: str
    count: int


class KindCount(Out):
    kind: WorkKind
    label: str
    count: int


class MachineCounts(Out):
    working: int = Field(description="on this operation's tasks")
    available: int = Field(description="the township's free machines")
    repair: int


class VolunteerCounts(Out):
    on_task: int
    free: int


class TownshipRegisters(Out):
    machines: dict[str, int] = Field(description="the township's machines by state")
    volunteers: VolunteerCounts


class FieldDashboard(Out):
    villages: list[VillageProgress] = Field(description="most area left first")
    states: list[StateCount]
    kinds: list[KindCount] = Field(description="unfinished tasks by kind of work")
    overdue: int
    tasks: int
    area: Number
    area_done: Number
    share: Number | None
    machines: MachineCounts
    volunteers: VolunteerCounts = Field(description="on_task: on this operation's tasks; free: the township's")
    township: TownshipRegisters = Field(description="the whole township's registers, every operation together")
    shows_registers: bool = Field(description="whether you coordinate the township (see its registers)")


class MachineOut(Out):
    id: int
    township: Place | None
    village: Place | None
    kind: MachineKind
    label: str
    owner: str
    owner_kind: OwnerKind
    phone: str | None
    state: MachineState
    task_id: int | None


class VolunteerOut(Out):
    id: int
    township: Place | None
    village: Place | None
    name: str
    phone: str | None
    skills: str | None
    available: bool
    task_id: int | None


class BuyerOut(Out):
    id: int
    township: Place | None
    name: str
    contact: str | None
    phone: str | None
    crops: str
    price: str | None
    daily_tons: Number | None
    active: bool


class OperationDetail(OperationOut):
    dashboard: FieldDashboard
    buyers: list[BuyerOut] = Field(description="the township's grain buyers")


class TaskOut(Out):
    id: int
    operation_id: int
    village: Place | None
    plot: str | None
    farmer_name: str | None
    farmer_phone: str | None
    crop: str | None
    work_kind: WorkKind
    area: Number | None = Field(description="亩; null for road and power work")
    area_done: Number
    priority: int = Field(description="1 一般, 2 紧急, 3 特急")
    due_date: Day
    state: TaskState
    overdue: bool
    cancel_reason: str | None
    ticket_id: int | None
    note: str | None
    created_at: Timestamp
    started_at: Timestamp | None
    finished_at: Timestamp | None


class ProgressOut(Out):
    area: Number | None
    note: str | None
    by: str = Field(description="who reported it, by name")
    at: Timestamp


class TaskEventOut(Out):
    action: str
    from_state: str | None
    to_state: str | None
    by: str
    at: Timestamp
    note: str | None
    details: dict[str, Any]


class TaskDetail(TaskOut):
    ticket_number: str | None
    machines: list[MachineOut]
    volunteers: list[VolunteerOut]
    progress: list[ProgressOut]
    events: list[TaskEventOut]


class TaskPage(Out):
    total: int = Field(description="tasks matching the filters")
    items: list[TaskOut] = Field(description="this page of them (limit, offset)")


class SuggestionsOut(Out):
    machines: list[MachineOut] = Field(description="free machines of the kind needed, nearest first")
    volunteers: list[VolunteerOut]


# ---------------------------------------------------------------- views


def _region(snap: reference.Snapshot, code: str | None) -> dict[str, Any] | None:
    return {"code": code, "name": snap.regions[code][0] if code in snap.regions else code} if code else None


def operation_view(snap: reference.Snapshot, op: Operation) -> dict[str, Any]:
    return {"id": op.id, "name": op.name, "township": _region(snap, op.township_code), "crops": op.crops,
            "start_date": op.start_date.isoformat(), "target_date": op.target_date.isoformat(), "state": op.state.value,
            "note": op.note, "created_at": views.iso(op.created_at), "closed_at": views.iso(op.closed_at)}


def task_view(snap: reference.Snapshot, task: FieldTask, today: date) -> dict[str, Any]:
    return {"id": task.id, "operation_id": task.operation_id, "village": _region(snap, task.village_code),
            "plot": task.plot, "farmer_name": task.farmer_name, "farmer_phone": task.farmer_phone, "crop": task.crop,
            "work_kind": task.work_kind.value, "area": task.area, "area_done": task.area_done,
            "priority": task.priority, "due_date": task.due_date.isoformat(), "state": task.state.value,
            "overdue": task.state in UNFINISHED and task.due_date < today, "cancel_reason": task.cancel_reason,
            "ticket_id": task.ticket_id, "note": task.note, "created_at": views.iso(task.created_at),
            "started_at": views.iso(task.started_at), "finished_at": views.iso(task.finished_at)}


def machine_view(snap: reference.Snapshot, m: Machine) -> dict[str, Any]:
    return {"id": m.id, "township": _region(snap, m.township_code), "village": _region(snap, m.village_code),
            "kind": m.kind.value, "label": m.label, "owner": m.owner, "owner_kind": m.owner_kind.value,
            "phone": m.phone, "state": m.state.value, "task_id": m.task_id}


def volunteer_view(snap: reference.Snapshot, p: Volunteer) -> dict[str, Any]:
    return {"id": p.id, "township": _region(snap, p.township_code), "village": _region(snap, p.village_code),
            "name": p.name, "phone": p.phone, "skills": p.skills, "available": p.available, "task_id": p.task_id}


def buyer_view(snap: reference.Snapshot, b: Buyer) -> dict[str, Any]:
    return {"id": b.id, "township": _region(snap, b.township_code), "name": b.name, "contact": b.contact,
            "phone": b.phone, "crops": b.crops, "price": b.price, "daily_tons": b.daily_tons, "active": b.active}


def _task_detail(ctx: Context, task: FieldTask) -> dict[str, Any]:
    snap = reference.snapshot(ctx.session)
    machines, people = queries.on_task(ctx.session, task)
    return {**task_view(snap, task, queries.today()), "ticket_number": queries.ticket_number(ctx.session, task),
            "machines": [machine_view(snap, m) for m in machines],
            "volunteers": [volunteer_view(snap, p) for p in people],
            "progress": [{"area": r.area, "note": r.note, "by": who, "at": views.iso(r.at)}
                         for r, who in queries.progress(ctx.session, task)],
            "events": [{"action": e.action, "from_state": e.from_state, "to_state": e.to_state, "by": who,
                        "at": views.iso(e.at), "note": e.note, "details": e.details}
                       for e, who in queries.events(ctx.session, task)]}


def _task(ctx: Context, task_id: int) -> FieldTask:
    return queries.get_task(ctx.session, field_scope(ctx.session, ctx.user), task_id)


def _op(ctx: Context, operation_id: int) -> Operation:
    return queries.get_operation(ctx.session, field_scope(ctx.session, ctx.user), operation_id)


# ---------------------------------------------------------------- operations


@router.get("/operations", response_model=list[OperationRow], summary="Operations the caller sees, open first, with task counts and areas")
def list_operations(request: Request) -> list[dict[str, Any]]:
    with unit_of_work(request, write=False) as ctx:
        fs = field_scope(ctx.session, ctx.user)
        require_any(fs)
        snap = reference.snapshot(ctx.session)
        return [{**operation_view(snap, r["operation"]), "tasks": r["tasks"], "unfinished": r["unfinished"],
                 "area": r["area"], "area_done": r["area_done"]} for r in queries.operations(ctx.session, fs)]


@router.post("/operations", response_model=OperationOut, status_code=201, summary="Open an operation in a township the caller coordinates")
def create_operation(body: OperationIn, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=True) as ctx:
        op = service.create_operation(ctx.session, actor=ctx.user, **body.model_dump())
        return operation_view(reference.snapshot(ctx.session), op)


@router.get("/operations/{operation_id}", response_model=OperationDetail, summary="One operation with its dashboard and buyers")
def get_operation(operation_id: int, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=False) as ctx:
        op = _op(ctx, operation_id)
        snap = reference.snapshot(ctx.session)
        board = queries.dashboard(ctx.session, field_scope(ctx.session, ctx.user), op)
        return {**operation_view(snap, op), "dashboard": board,
                "buyers": [buyer_view(snap, b) for b in queries.buyers(ctx.session, township_code=op.township_code)]}


@router.post("/operations/{operation_id}/close", response_model=OperationOut, summary="Close an operation whose tasks are all finished")
def close_operation(operation_id: int, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=True) as ctx:
        op = service.close_operation(ctx.session, _op(ctx, operation_id), actor=ctx.user)
        return operation_view(reference.snapshot(ctx.session), op)


class TargetIn(Body):
    target_date: date = Field(title="目标完成日期", description="within a year of the start; not before the due day "
                                                             "of an unfinished task")


@router.post("/operations/{operation_id}/target", response_model=OperationOut, summary="Move an open operation's target day")
def set_target(operation_id: int, body: TargetIn, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=True) as ctx:
        op = service.set_target(ctx.session, _op(ctx, operation_id), actor=ctx.user, target_date=body.target_date)
        return operation_view(reference.snapshot(ctx.session), op)


@router.post("/operations/{operation_id}/tasks", response_model=TaskDetail, status_code=201,
             summary="Register a field task, or make one from a ticket (`ticket`)")
def create_task(operation_id: int, body: TaskIn, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=True) as ctx:
        op = _op(ctx, operation_id)
        fields = body.model_dump(exclude={"ticket"})
        if body.ticket:
            fields = {k: v for k, v in fields.items() if v is not None}
            task = service.task_from_ticket(ctx.session, actor=ctx.user, operation=op, ticket_key=body.ticket, **fields)
        else:
            if not body.village_code:
                raise invalid("请选择村（village_code）", "village_code", "village_required")
            task = service.create_task(ctx.session, actor=ctx.user, operation=op, **fields)
        return _task_detail(ctx, task)


# ---------------------------------------------------------------- tasks


@router.get("/tasks", response_model=TaskPage, summary="Field tasks the caller sees, unfinished and most urgent first")
def list_tasks(request: Request,
               window: Annotated[paging.Window, Depends(paging.rows(default=100, most=500))],
               operation_id: int | None = Query(default=None, ge=1, le=MAX_ID),
               village_code: str | None = Query(default=None, max_length=12),
               state: str | None = Query(default=None, description="pending, scheduled, working, done, cancelled or unfinished"),
               work_kind: str | None = Query(default=None), overdue: bool = False) -> dict[str, Any]:
    limit, offset = window.limit, window.offset
    with unit_of_work(request, write=False) as ctx:
        fs = field_scope(ctx.session, ctx.user)
        require_any(fs)
        f = queries.TaskFilter(operation_id=operation_id, village_code=village_code, state=state, work_kind=work_kind,
                               overdue=overdue)
        snap, today = reference.snapshot(ctx.session), queries.today()
        return {"total": queries.count_tasks(ctx.session, fs, f),
                "items": [task_view(snap, t, today) for t in queries.list_tasks(ctx.session, fs, f, limit=limit,
                                                                                offset=offset)]}


@router.get("/tasks/{task_id}", response_model=TaskDetail, summary="One task with its machines, volunteers, progress reports and history")
def get_task(task_id: int, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=False) as ctx:
        return _task_detail(ctx, _task(ctx, task_id))


@router.patch("/tasks/{task_id}", response_model=TaskDetail, summary="Correct an unfinished task: only the fields sent (the same checks as creating it)")
def update_task(task_id: int, body: TaskChange, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=True) as ctx:
        task = _task(ctx, task_id)
        stored = {"village_code": task.village_code, "plot": task.plot, "work_kind": task.work_kind.value,
                  "area": task.area, "crop": task.crop, "farmer_name": task.farmer_name,
                  "farmer_phone": task.farmer_phone, "priority": task.priority, "due_date": task.due_date,
                  "note": task.note}
        service.update_task(ctx.session, task, actor=ctx.user, **{**stored, **body.model_dump(exclude_unset=True)})
        return _task_detail(ctx, task)


@router.get("/tasks/{task_id}/suggestions", response_model=SuggestionsOut, summary="Free machines of the needed kind (nearest first) and free volunteers")
def suggestions(task_id: int, request: Request, kind: str | None = None) -> dict[str, Any]:
    with unit_of_work(request, write=False) as ctx:
        task = _task(ctx, task_id)
        op = ctx.session.get(Operation, task.operation_id)
        require_coordinator(field_scope(ctx.session, ctx.user), op.township_code)
        snap = reference.snapshot(ctx.session)
        return {"machines": [machine_view(snap, m) for m in queries.suggest_machines(ctx.session, task, kind=kind)],
                "volunteers": [volunteer_view(snap, p) for p in queries.free_volunteers(ctx.session, task)]}


def _resource(ctx: Context, body: AssignIn) -> tuple[Machine | None, Volunteer | None]:
    if (body.machine_id is None) == (body.volunteer_id is None):
        raise invalid("请指定一台农机（machine_id）或一名志愿者（volunteer_id）", "machine_id", "assign_what")
    fs = field_scope(ctx.session, ctx.user)
    if body.machine_id is not None:
        return queries.get_row(ctx.session, Machine, body.machine_id, fs, "农机"), None
    return None, queries.get_row(ctx.session, Volunteer, body.volunteer_id, fs, "志愿者")  # type: ignore[arg-type]


@router.post("/tasks/{task_id}/assign", response_model=TaskDetail, summary="Put a machine or a volunteer on the task (409 if busy)")
def assign(task_id: int, body: AssignIn, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=True) as ctx:
        task = _task(ctx, task_id)
        machine, person = _resource(ctx, body)
        if machine is not None:
            service.assign_machine(ctx.session, task, machine, actor=ctx.user)
        else:
            service.assign_volunteer(ctx.session, task, person, actor=ctx.user)  # type: ignore[arg-type]
        return _task_detail(ctx, task)


@router.post("/tasks/{task_id}/release", response_model=TaskDetail, summary="Take a machine or a volunteer off the task")
def release(task_id: int, body: AssignIn, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=True) as ctx:
        task = _task(ctx, task_id)
        machine, person = _resource(ctx, body)
        service.release(ctx.session, task, actor=ctx.user, machine=machine, volunteer=person)
        return _task_detail(ctx, task)


@router.post("/tasks/{task_id}/start", response_model=TaskDetail, summary="Scheduled → working")
def start(task_id: int, body: NoteIn, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=True) as ctx:
        task = service.start(ctx.session, _task(ctx, task_id), actor=ctx.user, note=body.note)
        return _task_detail(ctx, task)


@router.post("/tasks/{task_id}/progress", response_model=TaskDetail, summary="Report area done (never past the task's area)")
def progress(task_id: int, body: ProgressIn, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=True) as ctx:
        task = _task(ctx, task_id)
        service.report_progress(ctx.session, task, actor=ctx.user, area=body.area, note=body.note)
        return _task_detail(ctx, task)


@router.post("/tasks/{task_id}/complete", response_model=TaskDetail, summary="Complete the task (an area task at its area); releases its resources")
def complete(task_id: int, body: NoteIn, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=True) as ctx:
        task = service.complete(ctx.session, _task(ctx, task_id), actor=ctx.user, note=body.note)
        return _task_detail(ctx, task)


@router.post("/tasks/{task_id}/cancel", response_model=TaskDetail, summary="Cancel the task with a reason; releases its resources")
def cancel(task_id: int, body: CancelIn, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=True) as ctx:
        task = service.cancel(ctx.session, _task(ctx, task_id), actor=ctx.user, reason=body.reason)
        return _task_detail(ctx, task)


# ---------------------------------------------------------------- registers


def _coordinating(ctx: Context) -> Any:
    fs = field_scope(ctx.session, ctx.user)
    require_registers(fs)
    return fs


@router.get("/machines", response_model=list[MachineOut], summary="The machine registers the caller coordinates")
def list_machines(request: Request, kind: str | None = None, state: str | None = None) -> list[dict[str, Any]]:
    with unit_of_work(request, write=False) as ctx:
        fs = _coordinating(ctx)
        snap = reference.snapshot(ctx.session)
        return [machine_view(snap, m) for m in queries.machines(ctx.session, fs, kind=kind, state=state)]


@router.post("/machines", response_model=MachineOut, status_code=201, summary="Register a machine (收割机, 抽水泵, 烘干机, ...)")
def add_machine(body: MachineIn, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=True) as ctx:
        m = service.register_machine(ctx.session, actor=ctx.user, **body.model_dump())
        return machine_view(reference.snapshot(ctx.session), m)


@router.patch("/machines/{machine_id}", response_model=MachineOut, summary="Correct a machine's register row: only the fields sent (409 if it "
              "becomes a machine already registered)")
def update_machine(machine_id: int, body: MachineChange, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=True) as ctx:
        m = queries.get_row(ctx.session, Machine, machine_id, field_scope(ctx.session, ctx.user), "农机")
        stored = {"kind": m.kind.value, "label": m.label, "owner": m.owner, "owner_kind": m.owner_kind.value,
                  "phone": m.phone, "village_code": m.village_code}
        service.update_machine(ctx.session, m, actor=ctx.user, **{**stored, **body.model_dump(exclude_unset=True)})
        return machine_view(reference.snapshot(ctx.session), m)


@router.post("/machines/{machine_id}/state", response_model=MachineOut, summary="Mark a machine available or under repair")
def machine_state(machine_id: int, body: MachineStateIn, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=True) as ctx:
        m = queries.get_row(ctx.session, Machine, machine_id, field_scope(ctx.session, ctx.user), "农机")
        service.set_machine_state(ctx.session, m, actor=ctx.user, state=body.state)
        return machine_view(reference.snapshot(ctx.session), m)


@router.get("/volunteers", response_model=list[VolunteerOut], summary="The volunteer registers the caller coordinates")
def list_volunteers(request: Request, on_task: bool | None = None) -> list[dict[str, Any]]:
    with unit_of_work(request, write=False) as ctx:
        fs = _coordinating(ctx)
        snap = reference.snapshot(ctx.session)
        return [volunteer_view(snap, p) for p in queries.volunteers(ctx.session, fs, on_task=on_task)]


@router.post("/volunteers", response_model=VolunteerOut, status_code=201, summary="Register a volunteer")
def add_volunteer(body: VolunteerIn, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=True) as ctx:
        p = service.register_volunteer(ctx.session, actor=ctx.user, **body.model_dump())
        return volunteer_view(reference.snapshot(ctx.session), p)


@router.patch("/volunteers/{volunteer_id}", response_model=VolunteerOut, summary="Correct a volunteer's register row: only the fields sent (409 if "
              "it becomes a person already registered)")
def update_volunteer(volunteer_id: int, body: VolunteerChange, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=True) as ctx:
        p = queries.get_row(ctx.session, Volunteer, volunteer_id, field_scope(ctx.session, ctx.user), "志愿者")
        stored = {"name": p.name, "phone": p.phone, "village_code": p.village_code, "skills": p.skills}
        service.update_volunteer(ctx.session, p, actor=ctx.user, **{**stored, **body.model_dump(exclude_unset=True)})
        return volunteer_view(reference.snapshot(ctx.session), p)


@router.post("/volunteers/{volunteer_id}/availability", response_model=VolunteerOut, summary="Mark a volunteer available or not")
def volunteer_availability(volunteer_id: int, body: AvailabilityIn, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=True) as ctx:
        p = queries.get_row(ctx.session, Volunteer, volunteer_id, field_scope(ctx.session, ctx.user), "志愿者")
        service.set_volunteer_available(ctx.session, p, actor=ctx.user, available=body.available)
        return volunteer_view(reference.snapshot(ctx.session), p)


@router.get("/buyers", response_model=list[BuyerOut], summary="Grain buyers of the townships whose operations the caller sees")
def list_buyers(request: Request, township_code: str | None = None) -> list[dict[str, Any]]:
    with unit_of_work(request, write=False) as ctx:
        fs = field_scope(ctx.session, ctx.user)
        require_any(fs)
        snap = reference.snapshot(ctx.session)
        seen = {r["operation"].township_code for r in queries.operations(ctx.session, fs)} | set(fs.townships)
        rows = queries.buyers(ctx.session, township_code=township_code)
        return [buyer_view(snap, b) for b in rows if fs.everything or b.township_code in seen]


@router.post("/buyers", response_model=BuyerOut, status_code=201, summary="Register a grain buyer the town connects")
def add_buyer(body: BuyerIn, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=True) as ctx:
        b = service.add_buyer(ctx.session, actor=ctx.user, **body.model_dump())
        return buyer_view(reference.snapshot(ctx.session), b)
