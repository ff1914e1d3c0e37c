"""The home address, the ticket list (search within one's scope) and the ticket page."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from hotline.accounts.models import Role
from hotline.accounts.signin import current
from hotline.analytics import exclusions
from hotline.directory import reference
from hotline.kit import clock
from hotline.kit.errors import DomainError, NotFound
from hotline.tickets import queries, views
from hotline.tickets.sla import STAGE_LABELS
from hotline.tickets.states import ACTION_LABELS
from hotline.web.render import NAV, page
from hotline.web.session import COOKIE, database, page_work

router = APIRouter(include_in_schema=False)
STATE_LABELS = {"not_started": "未开始", "running": "计时中", "met": "按时完成", "met_late": "超时完成",
                "overdue": "已超期", "paused": "已暂停", "stopped": "已停止"}


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


@router.get("/tickets")
def ticket_list(request: Request, q: str = "", status: str = "", page_no: int = 1) -> Response:
    with page_work(request, write=False) as ctx:
        f = queries.TicketFilter(q=q.strip() or None, status=[status] if status else [])
        rows, total = queries.list_tickets(ctx.session, ctx.scope, f, page=max(page_no, 1), per_page=50)
        snap, now = reference.snapshot(ctx.session), clock.now()
        items = [views.ticket_summary(snap, ctx.scope, t, now) for t in rows]
        return page(request, "pages/tickets.html", items=items, total=total, q=q, status=status,
                    page_no=page_no, title="工单查询")


def _ticket_or_404(ctx, key: str):
    if key.isdigit() and (not key.isascii() or int(key) > 2**31 - 1):
        raise NotFound(f"工单 {key} 不存在或不在您的权限范围内")
    return queries.get_ticket(ctx.session, ctx.scope, key)


def _render_ticket(request: Request, ctx, ticket, *, status_code: int = 200, error: str | None = None,
                   notice: str | None = None) -> Response:
    snap, now = reference.snapshot(ctx.session), clock.now()
    detail = views.ticket_detail(snap, ctx.scope, ticket, now, queries.merged_into(ctx.session, ticket))
    events = [views.event_view(snap, e) for e in queries.timeline(ctx.session, ctx.scope, ticket)]
    return page(request, "pages/ticket.html", status_code=status_code, t=detail, events=events,
                stage_labels=STAGE_LABELS, state_labels=STATE_LABELS, action_labels=ACTION_LABELS,
                urgency_labels=views.URGENCY_LABELS, place=place_text(detail["region"]["name"], detail["address"]),
                title=f"工单 {detail['number']}", error=error, notice=notice,
                may_assess=ctx.user.role in (Role.supervisor, Role.admin), exclusion_reasons=exclusions.REASONS)


@router.get("/tickets/{key}")
def ticket_page(request: Request, key: str, assessed: str = "") -> Response:
    with page_work(request, write=False) as ctx:
        try:
            ticket = _ticket_or_404(ctx, key)
        except NotFound as missing:
            return page(request, "error.html", status_code=404, title="工单不存在", message=missing.message)
        return _render_ticket(request, ctx, ticket, notice="考核认定已保存，统计将在几分钟内更新。" if assessed else None)


@router.post("/tickets/{key}/assessment")
def assessment(request: Request, key: str, csrf: str = Form(""), reason: str = Form(""),
               note: str = Form("")) -> Response:
    """考核认定: a supervisor rules the ticket out of 三率 (invalid or malicious) or back in."""
    with page_work(request, write=True, posted_csrf=csrf) as ctx:
        try:
            ticket = _ticket_or_404(ctx, key)
        except NotFound as missing:
            return page(request, "error.html", status_code=404, title="工单不存在", message=missing.message)
        try:
            if reason == "count":
                exclusions.include(ctx.session, ticket, actor=ctx.user, note=note)
            else:
                exclusions.exclude(ctx.session, ticket, actor=ctx.user, reason=reason, note=note)
            ctx.session.flush()
        except DomainError as err:
            ctx.session.rollback()
            return _render_ticket(request, ctx, _ticket_or_404(ctx, key), status_code=err.http_status,
                                  error=err.message)
        return RedirectResponse(f"/tickets/{ticket.number}?assessed=1", status_code=303)
