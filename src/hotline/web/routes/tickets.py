"""The home address, the ticket list (search within one's scope) and the ticket page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from hotline.accounts.signin import current
from hotline.directory import reference
from hotline.kit import clock
from hotline.kit.errors import NotFound
from hotline.tickets import queries, views
from hotline.tickets.sla import STAGE_LABELS
from hotline.tickets.states import ACTION_LABELS
from hotline.web.render import NAV, page
from hotline.web.session import COOKIE, database, page_work

router = APIRouter(include_in_schema=False)
STATE_LABELS = {"not_started": "未开始", "running": "计时中", "met": "按时完成", "met_late": "超时完成",
                "overdue": "已超期", "paused": "已暂停", "stopped": "已停止"}


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


@router.get("/tickets/{key}")
def ticket_page(request: Request, key: str) -> Response:
    with page_work(request, write=False) as ctx:
        try:
            if key.isdigit() and (not key.isascii() or int(key) > 2**31 - 1):
                raise NotFound(f"工单 {key} 不存在或不在您的权限范围内")
            ticket = queries.get_ticket(ctx.session, ctx.scope, key)
        except NotFound as missing:
            return page(request, "error.html", status_code=404, title="工单不存在", message=missing.message)
        snap, now = reference.snapshot(ctx.session), clock.now()
        detail = views.ticket_detail(snap, ctx.scope, ticket, now, queries.merged_into(ctx.session, ticket))
        events = [views.event_view(snap, e) for e in queries.timeline(ctx.session, ctx.scope, ticket)]
        return page(request, "pages/ticket.html", t=detail, events=events, stage_labels=STAGE_LABELS,
                    state_labels=STATE_LABELS, action_labels=ACTION_LABELS, title=f"工单 {detail['number']}")
