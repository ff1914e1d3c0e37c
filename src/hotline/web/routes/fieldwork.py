"""Emergency field work (抢收抢种) pages: operations and their dashboards, field tasks with
assignment and progress, the machine, volunteer and buyer registers, and turning a ticket into a
task. Who sees and does what is ``fieldwork.access``; this module only shows and forwards."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from hotline.directory import reference
from hotline.fieldwork import queries, service
from hotline.fieldwork.access import SYSTEM, FieldScope, field_scope
from hotline.fieldwork.errors import invalid
from hotline.fieldwork.models import Buyer, FieldTask, Machine, Operation, Volunteer
from hotline.fieldwork.states import (
    EVENT_LABELS,
    MACHINE_KIND_LABELS,
    MACHINE_STATE_LABELS,
    OPERATION_STATE_LABELS,
    OWNER_KIND_LABELS,
    PRIORITY_LABELS,
    TASK_STATE_LABELS,
    UNFINISHED,
    WORK_KIND_LABELS,
    OperationState,
)
from hotline.kit import clock
from hotline.kit.errors import DomainError, NotFound
from hotline.tickets import queries as ticket_queries
from hotline.tickets.states import FINAL, STATUS_LABELS
from hotline.tickets.validation import display_phone
from hotline.web.render import page
from hotline.web.session import PageContext, page_work

router = APIRouter(include_in_schema=False)
LABELS = {"states": TASK_STATE_LABELS, "kinds": WORK_KIND_LABELS, "machine_kinds": MACHINE_KIND_LABELS,
          "machine_states": MACHINE_STATE_LABELS, "owner_kinds": OWNER_KIND_LABELS, "priorities": PRIORITY_LABELS,
          "op_states": OPERATION_STATE_LABELS, "events": EVENT_LABELS}
NOT_FIELD = "您所在单位不负责抢收抢种工作。抢收抢种由乡镇（街道）和村委会的承办人、督办员和管理员使用。"


def refused(request: Request, message: str) -> Response:
    # Not unit.refused: the ticket page imports this module, and unit imports the ticket page.
    return page(request, "error.html", status_code=403, title="无权访问", message=message)


def _fs(ctx: PageContext) -> FieldScope:
    return field_scope(ctx.session, ctx.user)


def _page(request: Request, template: str, status_code: int = 200, fs: FieldScope | None = None,
          **context: Any) -> Response:
    """A field-work page; ``fs`` decides whether the register links show; ``today`` (local) bounds
    the date inputs as the service does."""
    context.setdefault("today", clock.local().date())
    return page(request, template, status_code=status_code, L=LABELS, phone=display_phone,
                registers=bool(fs and fs.coordinates_any), **context)


def _place(snap: reference.Snapshot, code: str | None) -> str:
    return snap.regions[code][0] if code and code in snap.regions else (code or "")


def task_view(snap: reference.Snapshot, task: FieldTask, today: Any) -> dict[str, Any]:
    return {"id": task.id, "operation_id": task.operation_id, "village": _place(snap, task.village_code),
            "village_code": task.village_code, "plot": task.plot, "farmer": task.farmer_name,
            "phone": display_phone(task.farmer_phone), "crop": task.crop, "kind": task.work_kind.value,
            "area": task.area, "area_done": task.area_done, "priority": task.priority, "due": task.due_date,
            "state": task.state.value, "overdue": task.state in UNFINISHED and task.due_date < today,
            "cancel_reason": task.cancel_reason, "unfinished": task.state in UNFINISHED}


# ---------------------------------------------------------------- operations


def _operations_page(request: Request, ctx: PageContext, fs: FieldScope, *, status_code: int = 200,
                     error: str | None = None, typed: dict[str, Any] | None = None) -> Response:
    snap = reference.snapshot(ctx.session)
    rows = [{**r, "township": reference.region_label(snap, r["operation"].township_code)}
            for r in queries.operations(ctx.session, fs)]
    townships = sorted(fs.townships) if not fs.everything else sorted(
        c for c, (_, level, _) in snap.regions.items() if level == 4)
    return _page(request, "fieldwork/operations.html", status_code=status_code, fs=fs, rows=rows, error=error,
                 typed=typed or {}, may_create=fs.coordinates_any,
                 townships=[(c, reference.region_label(snap, c)) for c in townships], title="抢收抢种")


@router.get("/fieldwork")
def operations_page(request: Request) -> Response:
    with page_work(request, write=False) as ctx:
        fs = _fs(ctx)
        if not fs.any:
            return refused(request, NOT_FIELD)
        return _operations_page(request, ctx, fs)


@router.post("/fieldwork/operations")
def create_operation(request: Request, csrf: str = Form(""), name: str = Form(""), township_code: str = Form(""),
                     crops: str = Form(""), start_date: str = Form(""), target_date: str = Form(""),
                     note: str = Form("")) -> Response:
    typed = {"name": name, "township_code": township_code, "crops": crops, "start_date": start_date,
             "target_date": target_date, "note": note}
    with page_work(request, write=True, posted_csrf=csrf) as ctx:
        try:
            op = service.create_operation(ctx.session, actor=ctx.user, **typed)
        except DomainError as err:
            ctx.session.rollback()
            fs = _fs(ctx)
            if not fs.any:
                return refused(request, err.message)
            return _operations_page(request, ctx, fs, status_code=err.http_status, error=err.message, typed=typed)
        return RedirectResponse(f"/fieldwork/operations/{op.id}", status_code=303)


def _operation_page(request: Request, ctx: PageContext, op: Operation, *, status_code: int = 200,
                    error: str | None = None, typed: dict[str, Any] | None = None,
                    notice: str | None = None) -> Response:
    fs, snap, today = _fs(ctx), reference.snapshot(ctx.session), queries.today()
    board = queries.dashboard(ctx.session, fs, op)
    overdue = [task_view(snap, t, today) for t in queries.overdue_tasks(ctx.session, fs, op)]
    villages = sorted(((c, n) for c, (n, level, parent) in snap.regions.items()
                       if level == 5 and parent == op.township_code), key=lambda x: x[0])
    return _page(request, "fieldwork/operation.html", status_code=status_code, fs=fs, op=op, board=board, overdue=overdue,
                 buyers=queries.buyers(ctx.session, township_code=op.township_code),
                 township=reference.region_label(snap, op.township_code), villages=villages,
                 coordinator=fs.coordinates(op.township_code), error=error, typed=typed or {}, notice=notice,
                 title=op.name)


@router.get("/fieldwork/operations/{operation_id}")
def operation_page(request: Request, operation_id: int, closed: str = "", target: str = "") -> Response:
    with page_work(request, write=False) as ctx:
        try:
            op = queries.get_operation(ctx.session, _fs(ctx), operation_id)
        except NotFound as missing:
            return _page(request, "error.html", status_code=404, title="行动不存在", message=missing.message)
        notice = ("行动已结束。" if closed else
                  f"目标完成日期已改为 {op.target_date:%Y-%m-%d}。" if target else None)
        return _operation_page(request, ctx, op, notice=notice)


@router.post("/fieldwork/operations/{operation_id}/tasks")
def create_task(request: Request, operation_id: int, csrf: str = Form(""), village_code: str = Form(""),
                plot: str = Form(""), work_kind: str = Form("harvest"), area: str = Form(""), crop: str = Form(""),
                farmer_name: str = Form(""), farmer_phone: str = Form(""), priority: str = Form("1"),
                due_date: str = Form(""), note: str = Form("")) -> Response:
    typed = {"village_code": village_code, "plot": plot, "work_kind": work_kind, "area": area, "crop": crop,
             "farmer_name": farmer_name, "farmer_phone": farmer_phone, "priority": priority, "due_date": due_date,
             "note": note}
    return _on_operation(request, operation_id, csrf, typed,
                         lambda ctx, op: service.create_task(ctx.session, actor=ctx.user, operation=op, **typed),
                         lambda op, task: f"/fieldwork/tasks/{task.id}?created=1")


@router.post("/fieldwork/operations/{operation_id}/close")
def close_operation(request: Request, operation_id: int, csrf: str = Form("")) -> Response:
    return _on_operation(request, operation_id, csrf, {},
                         lambda ctx, op: service.close_operation(ctx.session, op, actor=ctx.user),
                         lambda op, _: f"/fieldwork/operations/{op.id}?closed=1")


@router.post("/fieldwork/operations/{operation_id}/target")
def set_target(request: Request, operation_id: int, csrf: str = Form(""), target_date: str = Form("")) -> Response:
    return _on_operation(request, operation_id, csrf, {"target_date": target_date},
                         lambda ctx, op: service.set_target(ctx.session, op, actor=ctx.user, target_date=target_date),
                         lambda op, _: f"/fieldwork/operations/{op.id}?target=1")


def _on_operation(request: Request, operation_id: int, csrf: str, typed: dict[str, Any],
                  act: Callable[[PageContext, Operation], Any], target: Callable[[Operation, Any], str]) -> Response:
    with page_work(request, write=True, posted_csrf=csrf) as ctx:
        try:
            op = queries.get_operation(ctx.session, _fs(ctx), operation_id)
        except NotFound as missing:
            return _page(request, "error.html", status_code=404, title="行动不存在", message=missing.message)
        try:
            result = act(ctx, op)
        except DomainError as err:
            ctx.session.rollback()
            return _operation_page(request, ctx, op, status_code=err.http_status, error=err.message, typed=typed)
        return RedirectResponse(target(op, result), status_code=303)


# ---------------------------------------------------------------- tasks


@router.get("/fieldwork/tasks")
def tasks_page(request: Request, operation: str = "", village: str = "", state: str = "", kind: str = "",
               overdue: str = "", machine: str = "", volunteer: str = "") -> Response:
    with page_work(request, write=False) as ctx:
        fs = _fs(ctx)
        if not fs.any:
            return refused(request, NOT_FIELD)
        snap, today = reference.snapshot(ctx.session), queries.today()
        try:
            f = queries.TaskFilter(
                operation_id=_number(operation, "operation", "行动") if operation else None,
                village_code=village or None, state=state or None, work_kind=kind or None, overdue=bool(overdue),
                machine_id=_number(machine, "machine", "农机") if machine else None,
                volunteer_id=_number(volunteer, "volunteer", "志愿者") if volunteer else None)
            total = queries.count_tasks(ctx.session, fs, f)
            rows = [task_view(snap, t, today) for t in queries.list_tasks(ctx.session, fs, f, limit=500)]
        except DomainError as err:
            return _page(request, "error.html", status_code=err.http_status, title="筛选条件无效", message=err.message)
        ops = [r["operation"] for r in queries.operations(ctx.session, fs)]
        # The villages this person may filter by: every village of the townships they coordinate,
        # their own villages, and the one a dashboard link chose (so the filter always shows).
        towns = {o.township_code for o in ops if fs.coordinates(o.township_code)}
        villages = sorted((c, n) for c, (n, level, parent) in snap.regions.items()
                          if level == 5 and (parent in towns or c in fs.villages or c == village))
        return _page(request, "fieldwork/tasks.html", fs=fs, rows=rows, total=total, ops=ops, villages=villages,
                     f={"operation": operation, "village": village, "state": state, "kind": kind, "overdue": overdue,
                        "machine": machine, "volunteer": volunteer}, title="作业任务")


def _int(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None


def _number(text: str, field: str, noun: str) -> int:
    """A filter's row number as typed in the address: what is not one is named as typed."""
    number = _int(text.strip())
    if number is None:
        raise invalid(f"{noun}编号「{text[:30]}」无效", field, "invalid_id")
    return number


def _task_page(request: Request, ctx: PageContext, task: FieldTask, *, status_code: int = 200,
               error: str | None = None, notice: str | None = None, typed: dict[str, Any] | None = None) -> Response:
    fs, snap, today = _fs(ctx), reference.snapshot(ctx.session), queries.today()
    op = ctx.session.get(Operation, task.operation_id)
    coordinator = fs.coordinates(op.township_code)
    machines, people = queries.on_task(ctx.session, task)
    unfinished = task.state in UNFINISHED
    return _page(
        request, "fieldwork/task.html", status_code=status_code, fs=fs, t=task_view(snap, task, today), op=op, task=task,
        township=reference.region_label(snap, op.township_code), ticket=queries.ticket_number(ctx.session, task),
        machines=machines, people=people, events=queries.events(ctx.session, task),
        reports=queries.progress(ctx.session, task), coordinator=coordinator,
        suggestions=queries.suggest_machines(ctx.session, task) if coordinator and unfinished else [],
        other_machines=queries.suggest_machines(ctx.session, task, any_kind=True, limit=30)
        if coordinator and unfinished else [],
        free_people=queries.free_volunteers(ctx.session, task) if coordinator and unfinished else [],
        place=lambda code: _place(snap, code), error=error, notice=notice, typed=typed or {},
        title=f"作业任务 #{task.id}")


@router.get("/fieldwork/tasks/{task_id}")
def task_page(request: Request, task_id: int, created: str = "", done: str = "") -> Response:
    with page_work(request, write=False) as ctx:
        try:
            task = queries.get_task(ctx.session, _fs(ctx), task_id)
        except NotFound as missing:
            return _page(request, "error.html", status_code=404, title="任务不存在", message=missing.message)
        notice = "任务已登记。" if created else (DONE_NOTICES.get(done) if done else None)
        return _task_page(request, ctx, task, notice=notice)


DONE_NOTICES = {"assign": "已调派。", "release": "已撤回。", "start": "已开始作业。", "progress": "进度已上报。",
                "complete": "任务已完成，农机和人员已释放。", "cancel": "任务已取消，农机和人员已释放。",
                "edit": "任务已修改。"}


def _on_task(request: Request, task_id: int, csrf: str, done: str, act: Callable[[PageContext, FieldTask], Any],
             typed: dict[str, Any] | None = None) -> Response:
    with page_work(request, write=True, posted_csrf=csrf) as ctx:
        try:
            task = queries.get_task(ctx.session, _fs(ctx), task_id)
        except NotFound as missing:
            return _page(request, "error.html", status_code=404, title="任务不存在", message=missing.message)
        try:
            act(ctx, task)
        except DomainError as err:
            ctx.session.rollback()
            task = queries.get_task(ctx.session, _fs(ctx), task_id)
            return _task_page(request, ctx, task, status_code=err.http_status, error=err.message, typed=typed)
        return RedirectResponse(f"/fieldwork/tasks/{task_id}?done={done}", status_code=303)


def _register_row(ctx: PageContext, model: type, raw: str, label: str) -> Any:
    row_id = _int(raw)
    if row_id is None:
        raise invalid(f"请选择{label}", label)
    return queries.get_row(ctx.session, model, row_id, _fs(ctx), label)


@router.post("/fieldwork/tasks/{task_id}/assign")
def assign(request: Request, task_id: int, csrf: str = Form(""), machine_id: str = Form(""),
           volunteer_id: str = Form(""), what: str = Form("")) -> Response:
    def act(ctx: PageContext, task: FieldTask) -> Any:
        # ``what``: which form was posted, so an empty choice is asked for by its own name.
        if machine_id or what == "machine":
            return service.assign_machine(ctx.session, task, _register_row(ctx, Machine, machine_id, "农机"),
                                          actor=ctx.user)
        if volunteer_id or what == "volunteer":
            return service.assign_volunteer(ctx.session, task, _register_row(ctx, Volunteer, volunteer_id, "志愿者"),
                                            actor=ctx.user)
        raise invalid("请选择要调派的农机或志愿者", "machine_id")
    return _on_task(request, task_id, csrf, "assign", act)


@router.post("/fieldwork/tasks/{task_id}/release")
def release(request: Request, task_id: int, csrf: str = Form(""), machine_id: str = Form(""),
            volunteer_id: str = Form("")) -> Response:
    def act(ctx: PageContext, task: FieldTask) -> Any:
        machine = _register_row(ctx, Machine, machine_id, "农机") if machine_id else None
        person = _register_row(ctx, Volunteer, volunteer_id, "志愿者") if volunteer_id else None
        return service.release(ctx.session, task, actor=ctx.user, machine=machine, volunteer=person)
    return _on_task(request, task_id, csrf, "release", act)


@router.post("/fieldwork/tasks/{task_id}/start")
def start(request: Request, task_id: int, csrf: str = Form("")) -> Response:
    return _on_task(request, task_id, csrf, "start", lambda ctx, t: service.start(ctx.session, t, actor=ctx.user))


@router.post("/fieldwork/tasks/{task_id}/progress")
def progress(request: Request, task_id: int, csrf: str = Form(""), area: str = Form(""),
             note: str = Form("")) -> Response:
    return _on_task(request, task_id, csrf, "progress",
                    lambda ctx, t: service.report_progress(ctx.session, t, actor=ctx.user, area=area, note=note),
                    typed={"area": area, "note": note, "form": "progress"})


@router.post("/fieldwork/tasks/{task_id}/complete")
def complete(request: Request, task_id: int, csrf: str = Form(""), note: str = Form("")) -> Response:
    return _on_task(request, task_id, csrf, "complete",
                    lambda ctx, t: service.complete(ctx.session, t, actor=ctx.user, note=note))


@router.post("/fieldwork/tasks/{task_id}/cancel")
def cancel(request: Request, task_id: int, csrf: str = Form(""), reason: str = Form("")) -> Response:
    return _on_task(request, task_id, csrf, "cancel",
                    lambda ctx, t: service.cancel(ctx.session, t, actor=ctx.user, reason=reason),
                    typed={"reason": reason, "form": "cancel"})


TASK_FORM = ("village_code", "plot", "work_kind", "area", "crop", "farmer_name", "farmer_phone", "priority",
             "due_date", "note")


def _task_edit_page(request: Request, ctx: PageContext, task: FieldTask, *, status_code: int = 200,
                    error: str | None = None, typed: dict[str, Any] | None = None) -> Response:
    fs, snap = _fs(ctx), reference.snapshot(ctx.session)
    op = ctx.session.get(Operation, task.operation_id)
    if not fs.coordinates(op.township_code):
        return refused(request, "只有任务所在乡镇负责抢收抢种的工作人员、督办员和管理员可以修改任务")
    if task.state not in UNFINISHED:
        return _page(request, "error.html", status_code=409, title="任务已结束",
                     message=f"任务 #{task.id} {TASK_STATE_LABELS[task.state]}，不能再修改")
    villages = sorted(((c, n) for c, (n, level, parent) in snap.regions.items()
                       if level == 5 and parent == op.township_code), key=lambda x: x[0])
    stored = {"village_code": task.village_code, "plot": task.plot, "work_kind": task.work_kind.value,
              "area": f"{task.area:g}" if task.area is not None else "", "crop": task.crop or "",
              "farmer_name": task.farmer_name or "", "farmer_phone": display_phone(task.farmer_phone) or "",
              "priority": str(task.priority), "due_date": task.due_date.isoformat(), "note": task.note or ""}
    today = clock.local().date()
    # The earliest day the form offers: today (a new due day cannot be past), or the task's own day
    # when it is already overdue and only something else is being corrected.
    earliest = min(task.due_date, max(op.start_date, today))
    return _page(request, "fieldwork/task_edit.html", status_code=status_code, fs=fs, op=op, task=task,
                 t=task_view(snap, task, today), villages=villages, typed=typed or stored, earliest=earliest,
                 error=error, title=f"修改作业任务 #{task.id}")


@router.get("/fieldwork/tasks/{task_id}/edit")
def task_edit_form(request: Request, task_id: int) -> Response:
    with page_work(request, write=False) as ctx:
        try:
            task = queries.get_task(ctx.session, _fs(ctx), task_id)
        except NotFound as missing:
            return _page(request, "error.html", status_code=404, title="任务不存在", message=missing.message)
        return _task_edit_page(request, ctx, task)


@router.post("/fieldwork/tasks/{task_id}/edit")
def task_edit(request: Request, task_id: int, csrf: str = Form(""), village_code: str = Form(""),
              plot: str = Form(""), work_kind: str = Form(""), area: str = Form(""), crop: str = Form(""),
              farmer_name: str = Form(""), farmer_phone: str = Form(""), priority: str = Form("1"),
              due_date: str = Form(""), note: str = Form("")) -> Response:
    typed = {"village_code": village_code, "plot": plot, "work_kind": work_kind, "area": area, "crop": crop,
             "farmer_name": farmer_name, "farmer_phone": farmer_phone, "priority": priority, "due_date": due_date,
             "note": note}
    with page_work(request, write=True, posted_csrf=csrf) as ctx:
        try:
            task = queries.get_task(ctx.session, _fs(ctx), task_id)
        except NotFound as missing:
            return _page(request, "error.html", status_code=404, title="任务不存在", message=missing.message)
        try:
            service.update_task(ctx.session, task, actor=ctx.user, **typed)
        except DomainError as err:
            ctx.session.rollback()
            task = queries.get_task(ctx.session, _fs(ctx), task_id)
            return _task_edit_page(request, ctx, task, status_code=err.http_status, error=err.message, typed=typed)
        return RedirectResponse(f"/fieldwork/tasks/{task_id}?done=edit", status_code=303)


# ---------------------------------------------------------------- from a ticket


def ticket_panel(ctx: PageContext, ticket: Any) -> dict[str, Any] | None:
    """What the ticket page shows of field work: tasks made from the ticket, and whether this
    person may turn it into one (they coordinate the ticket's township and it has an open operation)."""
    fs = _fs(ctx)
    if not fs.any:
        return None
    tasks = queries.tasks_of_ticket(ctx.session, ticket.id)
    snap = reference.snapshot(ctx.session)
    township = snap.regions.get(ticket.region_code, (None, 0, None))[2]
    busy = any(t.state in UNFINISHED for t in tasks)  # one unfinished task per ticket
    may_convert = bool(not busy and ticket.status not in FINAL and township and fs.coordinates(township) and _open_operations(ctx, township))
    if not tasks and not may_convert:
        return None
    return {"tasks": [{"id": t.id, "state": TASK_STATE_LABELS[t.state], "kind": WORK_KIND_LABELS[t.work_kind]}
                      for t in tasks], "may_convert": may_convert}


def _open_operations(ctx: PageContext, township: str) -> list[Operation]:
    """The township's open operations a new task can still join: not those whose target day is
    past (a task's due day may not be past, nor after its operation's target)."""
    today = clock.local().date()
    return [r["operation"] for r in queries.operations(ctx.session, SYSTEM, state=OperationState.open.value)
            if r["operation"].township_code == township and r["operation"].target_date >= today]



def _from_ticket_page(request: Request, ctx: PageContext, number: str, *, status_code: int = 200,
                      error: str | None = None, typed: dict[str, Any] | None = None) -> Response:
    try:
        ticket = ticket_queries.get_ticket(ctx.session, ctx.scope, number)
    except NotFound as missing:
        return _page(request, "error.html", status_code=404, title="工单不存在", message=missing.message)
    snap = reference.snapshot(ctx.session)
    township = snap.regions.get(ticket.region_code, (None, 0, None))[2] or ""
    fs = _fs(ctx)
    if not fs.coordinates(township):
        return refused(request, "只有工单所在乡镇负责抢收抢种的工作人员、督办员和管理员可以转为抢收任务")
    ops = _open_operations(ctx, township)
    today = clock.local().date()
    # A ticket no longer being handled is not offered a form that would be refused.
    closed = STATUS_LABELS[ticket.status] if ticket.status in FINAL else None
    # One unfinished task per ticket: said up front, with the task, instead of a form refused on submit.
    open_task = next((t for t in queries.tasks_of_ticket(ctx.session, ticket.id) if t.state in UNFINISHED), None)
    return _page(request, "fieldwork/from_ticket.html", status_code=status_code, fs=fs, ticket=ticket, ops=ops,
                 open_task=open_task, place=reference.region_label(snap, ticket.region_code), error=error,
                 typed=typed or {}, closed=closed,
                 earliest=max(today, min(o.start_date for o in ops)) if ops else today,
                 today=today, title=f"工单 {ticket.number} 转为抢收任务")


@router.get("/fieldwork/from-ticket/{number}")
def from_ticket_form(request: Request, number: str) -> Response:
    with page_work(request, write=False) as ctx:
        return _from_ticket_page(request, ctx, number)


@router.post("/fieldwork/from-ticket/{number}")
def from_ticket(request: Request, number: str, csrf: str = Form(""), operation_id: str = Form(""),
                work_kind: str = Form("harvest"), area: str = Form(""), crop: str = Form(""),
                plot: str = Form(""), priority: str = Form("2"), due_date: str = Form("")) -> Response:
    typed = {"operation_id": operation_id, "work_kind": work_kind, "area": area, "crop": crop, "plot": plot,
             "priority": priority, "due_date": due_date}
    with page_work(request, write=True, posted_csrf=csrf) as ctx:
        try:
            op = queries.get_operation(ctx.session, _fs(ctx), _int(operation_id) or 0)
            task = service.task_from_ticket(ctx.session, actor=ctx.user, operation=op, ticket_key=number,
                                            work_kind=work_kind, area=area, crop=crop or None, plot=plot,
                                            priority=priority, due_date=due_date)
        except DomainError as err:
            ctx.session.rollback()
            return _from_ticket_page(request, ctx, number, status_code=err.http_status, error=err.message, typed=typed)
        return RedirectResponse(f"/fieldwork/tasks/{task.id}?created=1", status_code=303)


# ---------------------------------------------------------------- registers


REGISTER_NOTICES = {"added": "已登记，见下表。", "changed": "已更新。"}
# Each register list's own filters: a change made on a filtered list comes back to the same list.
REGISTER_FILTERS = {"machines": ("kind", "state", "township", "operation"),
                    "volunteers": ("on_task", "available", "township", "operation"),
                    "buyers": ()}


def _filter_query(which: str, filters: dict[str, str]) -> str:
    """The list's filters as a query string: only its own names, only short plain values (what
    the form posts back is not trusted; the path is fixed, so this is never a redirect elsewhere)."""
    kept = {k: filters[k] for k in REGISTER_FILTERS[which]
            if filters.get(k) and len(filters[k]) <= 20 and filters[k].isascii() and filters[k].isalnum()}
    return urlencode(kept)


def _posted_filters(which: str, back: str) -> dict[str, str]:
    """The filters a state-change form carried from its list (``back``, a query string)."""
    pairs = parse_qsl(back[:500], keep_blank_values=False)
    return {k: v for k, v in pairs if k in REGISTER_FILTERS[which]}


def _register_page(request: Request, ctx: PageContext, which: str, *, status_code: int = 200,
                   error: str | None = None, typed: dict[str, Any] | None = None, done: str = "",
                   **filters: str) -> Response:
    fs = _fs(ctx)
    if not fs.coordinates_any:
        return refused(request, "登记表由乡镇负责抢收抢种的工作人员、督办员和管理员管理")
    snap = reference.snapshot(ctx.session)
    townships = sorted(fs.townships | {o["operation"].township_code for o in queries.operations(ctx.session, fs)
                                       if fs.coordinates(o["operation"].township_code)})
    if not townships:  # supervisors and admins before any operation: every township
        townships = sorted(c for c, (_, level, _) in snap.regions.items() if level == 4)
    operation = None
    try:
        if filters.get("operation"):  # a dashboard's 「本行动」 count: what works on its tasks now
            operation = queries.get_operation(ctx.session, fs, _number(filters["operation"], "operation", "行动"))
        op_id = operation.id if operation else None
        if which == "machines":
            rows: list[Any] = queries.machines(ctx.session, fs, township_code=filters.get("township") or None,
                                               kind=filters.get("kind") or None, state=filters.get("state") or None,
                                               operation_id=op_id)
        elif which == "volunteers":
            flag = {"1": True, "0": False}
            rows = queries.volunteers(ctx.session, fs, township_code=filters.get("township") or None,
                                      on_task=flag.get(filters.get("on_task") or ""),
                                      available=flag.get(filters.get("available") or ""), operation_id=op_id)
        else:
            rows = queries.buyers(ctx.session, scope=fs, active_only=False)
    except DomainError as err:
        return _page(request, "error.html", status_code=err.http_status, title="筛选条件无效", message=err.message)
    villages = sorted(((c, n) for c, (n, level, parent) in snap.regions.items() if level == 5 and parent in townships))
    return _page(request, f"fieldwork/{which}.html", status_code=status_code, fs=fs, rows=rows, filters=filters,
                 back=_filter_query(which, filters), operation=operation,
                 township_label=reference.region_label(snap, filters["township"])
                 if filters.get("township") in snap.regions else None,
                 townships=[(c, reference.region_label(snap, c)) for c in townships], villages=villages,
                 place=lambda code: _place(snap, code), error=error, typed=typed or {},
                 notice=REGISTER_NOTICES.get(done), title={"machines": "农机登记", "volunteers": "志愿者登记", "buyers": "粮食收购"}[which])


@router.get("/fieldwork/machines")
def machines_page(request: Request, kind: str = "", state: str = "", township: str = "", operation: str = "",
                  done: str = "") -> Response:
    with page_work(request, write=False) as ctx:
        return _register_page(request, ctx, "machines", done=done, kind=kind, state=state, township=township,
                              operation=operation)


@router.get("/fieldwork/volunteers")
def volunteers_page(request: Request, on_task: str = "", available: str = "", township: str = "",
                    operation: str = "", done: str = "") -> Response:
    with page_work(request, write=False) as ctx:
        return _register_page(request, ctx, "volunteers", done=done, on_task=on_task, available=available,
                              township=township, operation=operation)


@router.get("/fieldwork/buyers")
def buyers_page(request: Request, done: str = "") -> Response:
    with page_work(request, write=False) as ctx:
        return _register_page(request, ctx, "buyers", done=done)


def _on_register(request: Request, csrf: str, which: str, typed: dict[str, Any],
                 act: Callable[[PageContext], Any], back: str = "") -> Response:
    """A registration, or a change of state made on the list (``back``: the list's filters, kept)."""
    filters = _posted_filters(which, back)
    with page_work(request, write=True, posted_csrf=csrf) as ctx:
        try:
            act(ctx)
        except DomainError as err:
            ctx.session.rollback()
            return _register_page(request, ctx, which, status_code=err.http_status, error=err.message, typed=typed,
                                  **filters)
        # Registering says so (the page looked the same as before); a change of state too.
        query = _filter_query(which, filters)
        done = "added" if typed else "changed"
        return RedirectResponse(f"/fieldwork/{which}?{query + '&' if query else ''}done={done}", status_code=303)


@router.post("/fieldwork/machines")
def add_machine(request: Request, csrf: str = Form(""), township_code: str = Form(""), kind: str = Form(""),
                label: str = Form(""), owner: str = Form(""), owner_kind: str = Form("person"), phone: str = Form(""),
                village_code: str = Form("")) -> Response:
    typed = {"township_code": township_code, "kind": kind, "label": label, "owner": owner, "owner_kind": owner_kind,
             "phone": phone, "village_code": village_code}
    return _on_register(request, csrf, "machines", typed, lambda ctx: service.register_machine(
        ctx.session, actor=ctx.user, **{**typed, "village_code": village_code or None}))


@router.post("/fieldwork/machines/{machine_id}/state")
def machine_state(request: Request, machine_id: int, csrf: str = Form(""), state: str = Form(""),
                  back: str = Form("")) -> Response:
    return _on_register(request, csrf, "machines", {}, lambda ctx: service.set_machine_state(
        ctx.session, queries.get_row(ctx.session, Machine, machine_id, _fs(ctx), "农机"), actor=ctx.user, state=state),
        back=back)


def _row_edit_page(request: Request, ctx: PageContext, which: str, row: Any, *, status_code: int = 200,
                   error: str | None = None, typed: dict[str, Any] | None = None) -> Response:
    """The form correcting one register row (a machine or a volunteer), as typed or as stored."""
    fs, snap = _fs(ctx), reference.snapshot(ctx.session)
    if not fs.coordinates(row.township_code):
        return refused(request, "登记表由乡镇负责抢收抢种的工作人员、督办员和管理员管理")
    villages = sorted((c, n) for c, (n, level, parent) in snap.regions.items()
                      if level == 5 and parent == row.township_code)
    if which == "machines":
        stored = {"kind": row.kind.value, "label": row.label, "owner": row.owner, "owner_kind": row.owner_kind.value,
                  "phone": display_phone(row.phone) or "", "village_code": row.village_code or ""}
        title = f"修改农机 #{row.id}"
    else:
        stored = {"name": row.name, "phone": display_phone(row.phone) or "", "village_code": row.village_code or "",
                  "skills": row.skills or ""}
        title = f"修改志愿者 #{row.id}"
    return _page(request, f"fieldwork/{which[:-1]}_edit.html", status_code=status_code, fs=fs, row=row,
                 township=reference.region_label(snap, row.township_code), villages=villages,
                 typed=typed or stored, error=error, title=title)


def _edit_row(request: Request, which: str, row_id: int, csrf: str | None, typed: dict[str, Any] | None,
              act: Callable[[PageContext, Any], Any] | None) -> Response:
    """GET (``act`` None) shows the form; POST changes the row and goes back to the register."""
    model, noun = (Machine, "农机") if which == "machines" else (Volunteer, "志愿者")
    with page_work(request, write=act is not None, posted_csrf=csrf) as ctx:
        try:
            row = queries.get_row(ctx.session, model, row_id, _fs(ctx), noun)
        except NotFound as missing:
            return _page(request, "error.html", status_code=404, title=f"{noun}不存在", message=missing.message)
        if act is None:
            return _row_edit_page(request, ctx, which, row)
        try:
            act(ctx, row)
        except DomainError as err:
            ctx.session.rollback()
            row = queries.get_row(ctx.session, model, row_id, _fs(ctx), noun)
            return _row_edit_page(request, ctx, which, row, status_code=err.http_status, error=err.message,
                                  typed=typed)
        return RedirectResponse(f"/fieldwork/{which}?township={row.township_code}&done=changed", status_code=303)


@router.get("/fieldwork/machines/{machine_id}/edit")
def machine_edit_form(request: Request, machine_id: int) -> Response:
    return _edit_row(request, "machines", machine_id, None, None, None)


@router.post("/fieldwork/machines/{machine_id}/edit")
def machine_edit(request: Request, machine_id: int, csrf: str = Form(""), kind: str = Form(""),
                 label: str = Form(""), owner: str = Form(""), owner_kind: str = Form("person"),
                 phone: str = Form(""), village_code: str = Form("")) -> Response:
    typed = {"kind": kind, "label": label, "owner": owner, "owner_kind": owner_kind, "phone": phone,
             "village_code": village_code}
    return _edit_row(request, "machines", machine_id, csrf, typed, lambda ctx, row: service.update_machine(
        ctx.session, row, actor=ctx.user, **{**typed, "village_code": village_code or None}))


@router.get("/fieldwork/volunteers/{volunteer_id}/edit")
def volunteer_edit_form(request: Request, volunteer_id: int) -> Response:
    return _edit_row(request, "volunteers", volunteer_id, None, None, None)


@router.post("/fieldwork/volunteers/{volunteer_id}/edit")
def volunteer_edit(request: Request, volunteer_id: int, csrf: str = Form(""), name: str = Form(""),
                   phone: str = Form(""), village_code: str = Form(""), skills: str = Form("")) -> Response:
    typed = {"name": name, "phone": phone, "village_code": village_code, "skills": skills}
    return _edit_row(request, "volunteers", volunteer_id, csrf, typed, lambda ctx, row: service.update_volunteer(
        ctx.session, row, actor=ctx.user, **{**typed, "village_code": village_code or None}))


@router.post("/fieldwork/volunteers")
def add_volunteer(request: Request, csrf: str = Form(""), township_code: str = Form(""), name: str = Form(""),
                  phone: str = Form(""), village_code: str = Form(""), skills: str = Form("")) -> Response:
    typed = {"township_code": township_code, "name": name, "phone": phone, "village_code": village_code,
             "skills": skills}
    return _on_register(request, csrf, "volunteers", typed, lambda ctx: service.register_volunteer(
        ctx.session, actor=ctx.user, **{**typed, "village_code": village_code or None}))


@router.post("/fieldwork/volunteers/{volunteer_id}/available")
def volunteer_available(request: Request, volunteer_id: int, csrf: str = Form(""), available: str = Form(""),
                        back: str = Form("")) -> Response:
    return _on_register(request, csrf, "volunteers", {}, lambda ctx: service.set_volunteer_available(
        ctx.session, queries.get_row(ctx.session, Volunteer, volunteer_id, _fs(ctx), "志愿者"), actor=ctx.user,
        available=available == "1"), back=back)


@router.post("/fieldwork/buyers")
def add_buyer(request: Request, csrf: str = Form(""), township_code: str = Form(""), name: str = Form(""),
              contact: str = Form(""), phone: str = Form(""), crops: str = Form(""), price: str = Form(""),
              daily_tons: str = Form("")) -> Response:
    typed = {"township_code": township_code, "name": name, "contact": contact, "phone": phone, "crops": crops,
             "price": price, "daily_tons": daily_tons}
    return _on_register(request, csrf, "buyers", typed,
                        lambda ctx: service.add_buyer(ctx.session, actor=ctx.user, **typed))


@router.post("/fieldwork/buyers/{buyer_id}/active")
def buyer_active(request: Request, buyer_id: int, csrf: str = Form(""), active: str = Form(""),
                 back: str = Form("")) -> Response:
    return _on_register(request, csrf, "buyers", {}, lambda ctx: service.set_buyer_active(
        ctx.session, queries.get_row(ctx.session, Buyer, buyer_id, _fs(ctx), "收购商"), actor=ctx.user,
        active=active == "1"), back=back)
