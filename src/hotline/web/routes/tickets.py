"""The home address, the ticket list (search within one's scope) and the ticket page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.background import BackgroundTask
from starlette.datastructures import UploadFile as StarletteUpload

from hotline.accounts.models import Role, User
from hotline.accounts.signin import current
from hotline.analytics import exclusions
from hotline.assist import duplicates
from hotline.directory import reference
from hotline.importing import tickets as importing
from hotline.importing.tickets import ImportResult
from hotline.kit import clock
from hotline.kit.errors import DomainError, Invalid, NotFound
from hotline.supervision import orders
from hotline.supervision.models import ORDER_LEVEL_LABELS, OrderState, SupervisionOrder
from hotline.tickets import export, lifecycle, queries, views
from hotline.tickets.models import Ticket
from hotline.tickets.numbering import typed_number
from hotline.tickets.policy import ACTION_ROLES, authorize
from hotline.tickets.sla import STAGE_LABELS
from hotline.tickets.states import ACTION_LABELS, OPEN, STATUS_LABELS, TRANSITIONS, Status
from hotline.tickets.validation import EMERGENCY_SERVICES, SATISFACTION_LABELS
from hotline.web.render import NAV, page
from hotline.web.routes import fieldwork
from hotline.web.session import COOKIE, PageContext, database, page_work
from hotline.web.uploads import held_as_uploaded

router = APIRouter(include_in_schema=False)
STATE_LABELS = {"not_started": "未开始", "running": "计时中", "met": "按时完成", "met_late": "超时完成",
                "overdue": "已超期", "paused": "已暂停",
                "review": "退单待审，不计超期", "stopped": "已停止"}


def place_text(region: str, address: str | None) -> str:
    """「夏县裴介镇朱吕村（村东供水闸阀井）」: the place, and the address in brackets only when it adds
    something (an address that repeats the place is left out; one that starts with it keeps the rest)."""
    extra = (address or "").strip()
    if extra.startswith(region):
        extra = extra[len(region):].strip(" ，,、")
    if not extra or extra in region:
        return region
    return f"{region}（{extra}）"


@router.get("/")
def home(request: Request) -> Response:
    """Signed in: the role's first page; otherwise the sign-in page."""
    with database(request).transaction(write=False) as session:
        found = current(session, request.cookies.get(COOKIE))
    target = NAV[found[0].role][0][0] if found else "/login"
    return RedirectResponse(target, status_code=303)


PER_PAGE = 50
# Timeline actions whose unit is the one acted on, not the actor's own: shown as "actor → unit".
TARGET_ACTIONS = frozenset({"urge", "supervise", "approve_extension", "refuse_extension"})


@router.get("/tickets")
def ticket_list(request: Request, q: str = "", status: str = "", overdue: str = "", page_no: str = "1") -> Response:
    """Search within one's scope, newest first, 50 a page, by status and overdue; a status the page
    does not offer is ignored with a message rather than refused."""
    with page_work(request, write=False) as ctx:
        f, error, status, late = _search(q, status, overdue)
        number = int(page_no) if page_no.isdigit() and 0 < int(page_no) < 100_000 else 1
        rows, total = queries.list_tickets(ctx.session, ctx.scope, f, page=number, per_page=PER_PAGE)
        pages = max(1, -(-total // PER_PAGE))
        if number > pages:  # a page past the end (the list shrank, or a typed address): the last one
            number = pages
            rows, total = queries.list_tickets(ctx.session, ctx.scope, f, page=number, per_page=PER_PAGE)
        snap, now = reference.snapshot(ctx.session), clock.now()
        items = [views.ticket_summary(snap, ctx.scope, t, now) for t in rows]
        base = urlencode({k: v for k, v in (("q", q.strip()), ("status", status), ("overdue", "1" if late else ""))
                          if v})
        return page(request, "pages/tickets.html", items=items, total=total, q=q, status=status, overdue=late,
                    page_no=number, pages=pages, base=base, statuses=STATUS_LABELS, error=error, title="工单查询",
                    export_max=export.MAX_ROWS)


def _search(q: str, status: str, overdue: str) -> tuple[queries.TicketFilter, str | None, str, bool]:
    """The list's filters from the address: (filter, error, the status kept, overdue only)."""
    error = None
    if status and status != queries.OPEN_FILTER and status not in {s.value for s in Status}:
        error, status = f"未知的工单状态「{status}」，已显示全部状态", ""
    late = overdue == "1"
    f = queries.TicketFilter(q=q.strip() or None, status=[status] if status else [], overdue=True if late else None)
    return f, error, status, late


@router.get("/tickets.xlsx")
def ticket_export(request: Request, q: str = "", status: str = "", overdue: str = "") -> Response:
    """导出 Excel: the list's search (same filters, same scope) as a workbook, newest first, written to
    a temporary file that is sent and then removed (memory stays flat however many rows match)."""
    path = None
    try:
        with page_work(request, write=False) as ctx:
            f, _error, _status, _late = _search(q, status, overdue)
            path, _done = export.temporary_file(ctx.session, ctx.scope, f, filters_text=export.describe(f))
    except BaseException:
        if path is not None:  # written, but the read transaction failed to close: nothing is sent
            path.unlink(missing_ok=True)
        raise
    stamp = clock.local().strftime("%Y%m%d-%H%M")
    name = quote(f"工单导出-{stamp}.xlsx")
    return FileResponse(path, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f"attachment; filename=tickets-{stamp}.xlsx; filename*=UTF-8''{name}"},
                        background=BackgroundTask(path.unlink, missing_ok=True))


IMPORTERS = (Role.agent, Role.dispatcher, Role.admin)  # who may register tickets
MAX_UPLOAD = 5 * 1024 * 1024


def _import_page(request: Request, *, status_code: int = 200, result: ImportResult | None = None,
                 error: str | None = None) -> Response:
    return page(request, "pages/import.html", status_code=status_code, title="导入工单", result=result, error=error,
                columns=importing.COLUMNS, required=importing.REQUIRED)


@router.get("/tickets/import")
def import_form(request: Request) -> Response:
    with page_work(request, write=False) as ctx:
        if ctx.user.role not in IMPORTERS:
            return page(request, "error.html", status_code=403, title="无权导入", message="只有坐席、派单员和管理员可以导入工单")
        return _import_page(request)


@router.post("/tickets/import")
async def import_upload(request: Request) -> Response:
    """工单导入 from the console: the file checked (``check``) or registered, all or nothing."""
    form = await request.form()
    upload, csrf, check = form.get("file"), str(form.get("csrf", "")), form.get("check") == "1"
    data = await upload.read(MAX_UPLOAD + 1) if isinstance(upload, StarletteUpload) else b""
    with page_work(request, write=True, posted_csrf=csrf) as ctx:
        if ctx.user.role not in IMPORTERS:
            return page(request, "error.html", status_code=403, title="无权导入", message="只有坐席、派单员和管理员可以导入工单")
        if not data:
            return _import_page(request, status_code=422, error="请选择要导入的文件（.xlsx 或 UTF-8 编码的 .csv）")
        if len(data) > MAX_UPLOAD:
            return _import_page(request, status_code=422, error="文件超过 5 MB：请分成几个文件导入")
        with held_as_uploaded(getattr(upload, "filename", None), data) as held:
            try:
                result = importing.import_file(ctx.session, held, actor=ctx.user, dry_run=check)
            except DomainError as err:
                ctx.session.rollback()
                return _import_page(request, status_code=422, error=err.message)
        if check or not result.ok:
            ctx.session.rollback()
        return _import_page(request, status_code=200 if result.ok else 422, result=result)


def _ticket_or_404(ctx, key: str):
    if key.isdigit() and (not key.isascii() or int(key) > 2**31 - 1):
        raise NotFound(f"工单 {key} 不存在或不在您的权限范围内")
    return queries.get_ticket(ctx.session, ctx.scope, key)


def _orders(ctx, ticket, snap: reference.Snapshot, now) -> list[dict]:
    """The ticket's supervision orders as the page shows them: a handler sees its own unit's, and
    may answer an open one; supervisors, dispatchers and admins see them all (admins may answer)."""
    user = ctx.user
    if user.role == Role.handler:
        found = orders.of_ticket(ctx.session, ticket.id, unit_id=user.unit_id)
    elif user.role in (Role.supervisor, Role.dispatcher, Role.admin):
        found = orders.of_ticket(ctx.session, ticket.id)
    else:
        return []
    issuers = {u.id: u.display_name for u in ctx.session.scalars(
        select(User).where(User.id.in_({o.issued_by_id for o in found if o.issued_by_id})))} if found else {}
    return [{"id": o.id, "level": ORDER_LEVEL_LABELS[o.level], "unit": snap.units.get(o.unit_id, ("", "", False))[1],
             "note": o.note, "issued_at": o.issued_at, "issued_by": issuers.get(o.issued_by_id, "系统"),
             "due_at": o.due_at, "state": o.state.value, "overdue": o.state == OrderState.open and now > o.due_at,
             "answer": o.answer, "answered_at": o.answered_at,
             "may_answer": o.state == OrderState.open and (user.role == Role.admin or (user.role == Role.handler
                                                                                 and user.unit_id == o.unit_id))}
            for o in found]


def _decision(ctx, ticket) -> dict | None:
    """What the user may decide on a ticket whose callback is recorded (已回访): 办结 (with a reason
    after a bad callback) and, after a bad one, 重办, each only for the roles the lifecycle allows."""
    if ticket.status != Status.callback_done:
        return None
    negative = lifecycle.callback_negative(ticket)
    close = ctx.user.role in ACTION_ROLES["close"]
    reopen = negative and ctx.user.role in ACTION_ROLES["reopen"]
    return {"close": close, "reopen": reopen, "negative": negative} if close or reopen else None


def _assigned(snap: reference.Snapshot, e: dict[str, Any]) -> str:
    """Where a 派单 or 改派 sent the ticket, from the event's own record: "→ lead（协办：…）", and
    for 改派 the unit it was taken from first ("previous → lead")."""
    d = e["details"]
    if e["action"] not in ("dispatch", "redispatch") or not d.get("lead_unit"):
        return ""
    text = f"→ {d['lead_unit']}"
    if d.get("co_units"):
        text += f"（协办：{'、'.join(d['co_units'])}）"
    previous = d.get("previous_lead_unit_id")
    if e["action"] == "redispatch" and previous in snap.units:
        text = f"{snap.units[previous][1]} {text}"
    return text


def _merge_panel(ctx, ticket, snap: reference.Snapshot, now) -> dict | None:
    """并单 after intake: offered where the lifecycle allows it (its statuses and roles), with the
    open tickets the duplicate detector finds for this one as masters to pick."""
    if ticket.status not in TRANSITIONS["merge"][0] or ctx.user.role not in ACTION_ROLES["merge"]:
        return None
    hits = duplicates.find(ctx.session, ctx.scope, region_code=ticket.region_code,
                           category_code=ticket.category_code, text=ticket.content, now=now, exclude_id=ticket.id)
    return {"items": [views.ticket_summary(snap, ctx.scope, hit.ticket, now) | {"reasons": hit.reasons}
                      for hit in hits]}


def _disposal_panel(ctx, ticket) -> dict | None:
    """转应急部门 and 不予受理 after intake: each offered only where the lifecycle allows it (its
    statuses and roles), as the merge panel is."""
    offered = {action: ticket.status in TRANSITIONS[action][0] and ctx.user.role in ACTION_ROLES[action]
               for action in ("hand_off", "refuse")}
    return offered if any(offered.values()) else None


def _oversight_panel(ctx, ticket) -> dict | None:
    """催办 and 督办 from the ticket page, as on the supervisor board (the same service functions and
    refusals): offered on an open ticket a unit is handling, overdue or not, each to the roles the
    policy allows. Where a 催办 would be refused (the unit was urged within the hour, or the centre's
    step is next), ``urged`` or ``waiting`` says why in place of the button."""
    if ticket.status not in OPEN or ticket.lead_unit_id is None:
        return None
    offered: dict[str, Any] = {action: ctx.user.role in ACTION_ROLES[action] for action in ("urge", "supervise")}
    if not any(offered.values()):
        return None
    last = orders.recent_urges(ctx.session, {ticket.id: ticket.lead_unit_id}, clock.now()).get(ticket.id)
    return offered | {"urged": last.text if last else "", "waiting": orders.WAITING_ON_CENTRE.get(ticket.status, "")}


def verdict_text(action: str, details: dict[str, Any]) -> str:
    """The callback's verdict in words, for its timeline line and the 回访结果 box:
    「联系上，已解决，满意」 or 「未联系上（第 2 次）」; empty for any other event."""
    if action == "record_callback":
        resolved = details.get("resolved")
        parts = ["联系上"] + ([] if resolved is None else ["已解决" if resolved else "未解决"])
        label = SATISFACTION_LABELS.get(details.get("satisfaction") or "")
        return "，".join(parts + ([f"{label}"] if label else []))
    if action == "callback_attempt":
        attempt = details.get("attempt")
        return f"未联系上（第 {attempt} 次）" if attempt else "未联系上"
    return ""


def _callback_summary(ticket: Ticket, events: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The 回访结果 box, kept once the ticket has moved on: the last recorded callback (from the
    timeline, since a reopen clears the ticket's own verdict) and what followed it (办结, 重办), or a
    close as not reached after the attempts."""
    last = next((i for i in range(len(events) - 1, -1, -1) if events[i]["action"] == "record_callback"), None)
    if last is None:
        if ticket.close_reason == "not_reached":
            attempts = sum(1 for e in events if e["action"] == "callback_attempt")
            return {"verdict": f"未联系上（回访 {attempts} 次），以联系不上办结", "comment": None, "at": None,
                    "actor": None, "then": None}
        return None
    e = events[last]
    then = next((e2["action"] for e2 in events[last + 1:] if e2["action"] in ("close", "reopen")), None)
    return {"verdict": verdict_text(e["action"], e["details"]), "comment": e["reason"], "at": e["at"],
            "actor": e["actor"], "then": {"close": "已办结", "reopen": "已重办"}.get(then or "")}


def _render_ticket(request: Request, ctx, ticket, *, status_code: int = 200, error: str | None = None,
                   notice: str | None = None, typed_answer: dict | None = None,
                   typed_reason: dict | None = None, typed_merge: dict | None = None,
                   typed_disposal: dict | None = None, typed_oversight: dict | None = None) -> Response:
    snap, now = reference.snapshot(ctx.session), clock.now()
    detail = views.ticket_detail(snap, ctx.scope, ticket, now, queries.merged_into(ctx.session, ticket))
    events = [views.event_view(snap, e) for e in queries.timeline(ctx.session, ctx.scope, ticket)]
    for e in events:
        e["assigned"] = _assigned(snap, e)
        e["verdict"] = verdict_text(e["action"], e["details"])
    return page(request, "pages/ticket.html", status_code=status_code, t=detail, events=events,
                orders=_orders(ctx, ticket, snap, now), target_actions=TARGET_ACTIONS, typed_answer=typed_answer or {},
                stage_labels=STAGE_LABELS, state_labels=STATE_LABELS, action_labels=ACTION_LABELS,
                urgency_labels=views.URGENCY_LABELS, place=place_text(detail["region"]["name"], detail["address"]),
                title=f"工单 {detail['number']}", error=error, notice=notice,
                may_assess=ctx.user.role in (Role.supervisor, Role.admin), exclusion_reasons=exclusions.REASONS,
                fieldwork=fieldwork.ticket_panel(ctx, ticket), decision=_decision(ctx, ticket),
                callback_summary=_callback_summary(ticket, events),
                merge=_merge_panel(ctx, ticket, snap, now), typed_merge=typed_merge or {},
                disposal=_disposal_panel(ctx, ticket), typed_disposal=typed_disposal or {},
                services=EMERGENCY_SERVICES, oversight=_oversight_panel(ctx, ticket),
                typed_oversight=typed_oversight or {}, levels=ORDER_LEVEL_LABELS,
                typed_reason=typed_reason or {})


DECIDED = {"close": "工单已办结。", "reopen": "工单已重办，已退回承办单位重新办理。",
           "hand_off": "工单已转应急部门，工单已结束，无需派单。", "refuse": "工单已登记为不予受理，理由已记入工单。"}


@router.get("/tickets/{key}")
def ticket_page(request: Request, key: str, assessed: str = "", answered: str = "", decided: str = "",
                merged: str = "", urged: str = "", supervised: str = "") -> Response:
    with page_work(request, write=False) as ctx:
        try:
            ticket = _ticket_or_404(ctx, key)
        except NotFound as missing:
            return page(request, "error.html", status_code=404, title="工单不存在", message=missing.message)
        notice = ("考核认定已保存，统计将在几分钟内更新。" if assessed else
                  "督办答复已提交，督办员可在本页查看。" if answered else
                  "工单已并入主工单，随主工单办理。" if merged else
                  "已催办，承办单位已收到通知。" if urged else
                  "已下达督办单，承办单位须按期答复。" if supervised else DECIDED.get(decided))
        return _render_ticket(request, ctx, ticket, notice=notice)


def _act_on_ticket(request: Request, key: str, csrf: str, act: Callable[[PageContext, Ticket], None], done: str,
                   **typed: Any) -> Response:
    """A form posted from the ticket page: ``act`` does it in one transaction, then back to the page
    with ``?done`` (its notice); a refusal rolls back and shows the page with the error and what was
    typed (``typed``: the template's names for it)."""
    with page_work(request, write=True, posted_csrf=csrf) as ctx:
        try:
            ticket = _ticket_or_404(ctx, key)
        except NotFound as missing:
            return page(request, "error.html", status_code=404, title="工单不存在", message=missing.message)
        try:
            act(ctx, ticket)
            ctx.session.flush()
        except DomainError as err:
            ctx.session.rollback()
            return _render_ticket(request, ctx, _ticket_or_404(ctx, key), status_code=err.http_status,
                                  error=err.message, **typed)
        return RedirectResponse(f"/tickets/{ticket.number}?{done}", status_code=303)


@router.post("/tickets/{key}/assessment")
def assessment(request: Request, key: str, csrf: str = Form(""), reason: str = Form(""),
               note: str = Form("")) -> Response:
    """考核认定: a supervisor rules the ticket out of 三率 (invalid or malicious) or back in."""
    def act(ctx: PageContext, ticket: Ticket) -> None:
        if reason == "count":
            exclusions.include(ctx.session, ticket, actor=ctx.user, note=note)
        else:
            exclusions.exclude(ctx.session, ticket, actor=ctx.user, reason=reason, note=note)
    return _act_on_ticket(request, key, csrf, act, "assessed=1")


def _decide(request: Request, key: str, csrf: str, action: str, reason: str) -> Response:
    """办结 or 重办 after the callback, through the lifecycle (which checks the role and the status)."""
    def act(ctx: PageContext, ticket: Ticket) -> None:
        move = lifecycle.close if action == "close" else lifecycle.reopen
        move(ctx.session, ticket, actor=ctx.user, reason=reason.strip() or None)
    return _act_on_ticket(request, key, csrf, act, f"decided={action}",
                          typed_reason={"action": action, "reason": reason})


@router.post("/tickets/{key}/close")
def close_ticket(request: Request, key: str, csrf: str = Form(""), reason: str = Form("")) -> Response:
    return _decide(request, key, csrf, "close", reason)


@router.post("/tickets/{key}/reopen")
def reopen_ticket(request: Request, key: str, csrf: str = Form(""), reason: str = Form("")) -> Response:
    return _decide(request, key, csrf, "reopen", reason)


@router.post("/tickets/{key}/hand-off")
def hand_off_ticket(request: Request, key: str, csrf: str = Form(""), to: str = Form(""),
                    note: str = Form("")) -> Response:
    """转110/119/120/122 from the ticket page, through the lifecycle intake uses."""
    def act(ctx: PageContext, ticket: Ticket) -> None:
        authorize(ctx.user, "hand_off", ticket)
        if not to.strip():
            raise Invalid("请选择转往的应急部门（110、119、120 或 122）", code="invalid_handoff",
                          details={"field": "to"})
        lifecycle.hand_off(ctx.session, ticket, actor=ctx.user, to=to.strip(), note=note.strip() or None)
    return _act_on_ticket(request, key, csrf, act, "decided=hand_off",
                          typed_disposal={"action": "hand_off", "to": to, "note": note})


@router.post("/tickets/{key}/refuse")
def refuse_ticket(request: Request, key: str, csrf: str = Form(""), reason: str = Form("")) -> Response:
    """不予受理 from the ticket page, with the reason given to the caller, through the lifecycle."""
    def act(ctx: PageContext, ticket: Ticket) -> None:
        lifecycle.refuse(ctx.session, ticket, actor=ctx.user, reason=reason)
    return _act_on_ticket(request, key, csrf, act, "decided=refuse",
                          typed_disposal={"action": "refuse", "reason": reason})


@router.post("/tickets/{key}/merge")
def merge_ticket(request: Request, key: str, csrf: str = Form(""), master: str = Form(""),
                 master_number: str = Form(""), note: str = Form(""), confirm: str = Form("")) -> Response:
    """并单 from the ticket page: a ticket registered twice is merged into its master (picked among
    the offered duplicates or typed by number) once confirmed, through the lifecycle intake uses."""
    picked, typed = typed_number(master), typed_number(master_number)
    number = picked or typed

    def act(ctx: PageContext, ticket: Ticket) -> None:
        authorize(ctx.user, "merge", ticket)
        if not number:
            raise Invalid("请选择或填写主工单号", code="invalid_master", details={"field": "master"})
        if picked and typed and picked != typed:  # an offer chosen, then a number typed (or the reverse)
            raise Invalid(f"既选择了 {picked} 又填写了主工单号 {typed}：请只保留一个主工单",
                          code="invalid_master", details={"field": "master"})
        try:
            target = _ticket_or_404(ctx, number)
        except NotFound:
            raise Invalid(f"主工单 {number} 不存在或不在您的权限范围内", code="invalid_master",
                          details={"field": "master"}) from None
        if confirm != "1":
            raise Invalid(f"请勾选确认与 {target.number} 为同一问题后再并单", code="unconfirmed",
                          details={"field": "confirm"})
        lifecycle.merge(ctx.session, ticket, actor=ctx.user, master=target,
                        note=note.strip() or f"{ctx.user.display_name}确认与 {target.number} 为同一问题")
    return _act_on_ticket(request, key, csrf, act, "merged=1",
                          typed_merge={"master": number, "note": note})


@router.post("/tickets/{key}/supervision/{order_id}/answer")
def answer_order(request: Request, key: str, order_id: str, csrf: str = Form(""), answer: str = Form("")) -> Response:
    """答复督办: the ordered unit's handler (or an admin) answers the order once, from the ticket page."""
    def act(ctx: PageContext, ticket: Ticket) -> None:
        order = (ctx.session.get(SupervisionOrder, int(order_id))
                 if order_id.isdigit() and 0 < int(order_id) < 2**31 else None)
        if order is None or order.ticket_id != ticket.id:
            raise NotFound(f"工单 {ticket.number} 没有这张督办单")
        orders.answer_order(ctx.session, order, actor=ctx.user, answer=answer)
    return _act_on_ticket(request, key, csrf, act, "answered=1", typed_answer={"order_id": order_id, "answer": answer})


@router.post("/tickets/{key}/urge")
def urge_ticket(request: Request, key: str, csrf: str = Form(""), note: str = Form("")) -> Response:
    """催办 from the ticket page: as the board's, for any open ticket a unit is handling."""
    def act(ctx: PageContext, ticket: Ticket) -> None:
        orders.urge(ctx.session, ticket, actor=ctx.user, note=note.strip() or None)
    return _act_on_ticket(request, key, csrf, act, "urged=1", typed_oversight={"action": "urge", "note": note})


@router.post("/tickets/{key}/supervise")
def supervise_ticket(request: Request, key: str, csrf: str = Form(""), note: str = Form(""),
                     level: str = Form("general"), working_days: str = Form("")) -> Response:
    """督办 from the ticket page: an order to the lead unit; supervisors and admins only (the policy)."""
    # Read as the board reads them (its module imports the unit pages, which import this one).
    from hotline.web.routes.supervision import parse_level, parse_working_days

    def act(ctx: PageContext, ticket: Ticket) -> None:
        orders.supervise(ctx.session, ticket, actor=ctx.user, level=parse_level(level), note=note,
                         working_days=parse_working_days(working_days))
    return _act_on_ticket(request, key, csrf, act, "supervised=1", typed_oversight={
        "action": "supervise", "note": note, "level": level, "working_days": working_days})
