"""The supervisor board (督办看板): warnings, overdue tickets and orders by unit; urging by hand."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from hotline.accounts.models import Role
from hotline.directory import reference
from hotline.kit import clock
from hotline.kit.errors import DomainError, NotFound
from hotline.supervision import board as supervision_board
from hotline.supervision import orders
from hotline.tickets import queries
from hotline.tickets.sla import STAGE_LABELS, stage_states
from hotline.tickets.states import OPEN, STATUS_LABELS
from hotline.web.render import page
from hotline.web.routes.unit import countdown, refused
from hotline.web.session import PageContext, page_work

router = APIRouter(include_in_schema=False)
ROLES = (Role.supervisor, Role.admin, Role.dispatcher)


def _render(request: Request, ctx: PageContext, status_code: int = 200, error: str | None = None,
            typed: dict[str, Any] | None = None, notice: str | None = None) -> Response:
    now = clock.now()
    rows = supervision_board.board(ctx.session, ctx.scope, now=now)
    f = queries.TicketFilter(status=[s.value for s in OPEN], overdue=True)
    tickets, total = queries.list_tickets(ctx.session, ctx.scope, f, per_page=100)
    snap = reference.snapshot(ctx.session)
    late = []
    for t in tickets:
        stages = stage_states(t, now)
        overdue = [s for s, v in stages.items() if v["state"] == "overdue"]
        due = min((cast(datetime, stages[s]["due_at"]) for s in overdue), default=None)
        late.append({"number": t.number, "title": t.title, "status_label": STATUS_LABELS[t.status],
                     "unit": snap.units.get(t.lead_unit_id, ("", "", False))[1] if t.lead_unit_id else "",
                     "stages": "、".join(STAGE_LABELS[s] for s in overdue),
                     "countdown": countdown(due, now) if due else ""})
    open_orders = orders.orders_for(ctx.session, actor=ctx.user, state="open", limit=100)
    return page(request, "supervision/board.html", status_code=status_code, rows=rows, late=late,
                late_total=total, open_orders=len(open_orders), error=error, typed=typed or {},
                notice=notice, title="督办看板")


@router.get("/supervision")
def supervision_page(request: Request, urged: str = "") -> Response:
    with page_work(request, write=False) as ctx:
        if ctx.user.role not in ROLES:
            return refused(request)
        return _render(request, ctx, notice=f"已催办工单 {urged}，承办单位已收到通知。" if urged else None)


@router.post("/supervision/{number}/urge")
def urge(request: Request, number: str, csrf: str = Form(""), note: str = Form("")) -> Response:
    with page_work(request, write=True, posted_csrf=csrf) as ctx:
        if ctx.user.role not in ROLES:
            return refused(request)
        try:
            ticket = queries.get_ticket(ctx.session, ctx.scope, number)
        except NotFound as missing:
            return page(request, "error.html", status_code=404, title="工单不存在", message=missing.message)
        try:
            orders.urge(ctx.session, ticket, actor=ctx.user, note=note.strip() or None)
            ctx.session.flush()
        except DomainError as err:
            ctx.session.rollback()
            return _render(request, ctx, status_code=err.http_status, error=err.message,
                           typed={"number": number, "note": note})
        return RedirectResponse(f"/supervision?urged={ticket.number}", status_code=303)
