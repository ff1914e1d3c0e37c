"""The supervisor board (督办看板): warnings, overdue tickets and orders by unit; urging by hand."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, cast

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from hotline.accounts.models import Role
from hotline.directory import reference
from hotline.kit import clock
from hotline.kit.errors import DomainError, Invalid, NotFound
from hotline.notify import recipients
from hotline.supervision import board as supervision_board
from hotline.supervision import orders
from hotline.supervision.models import ORDER_LEVEL_LABELS
from hotline.tickets import queries
from hotline.tickets.models import Ticket, TicketEvent
from hotline.tickets.sla import STAGE_LABELS, stage_states
from hotline.tickets.states import OPEN, STATUS_LABELS
from hotline.web.render import page
from hotline.web.routes.unit import countdown, refused
from hotline.web.session import PageContext, page_work

router = APIRouter(include_in_schema=False)
ROLES = (Role.supervisor, Role.admin, Role.dispatcher)
NUMBER = re.compile(r"\d{8}-\d{6}")  # a ticket number, as the redirect after an action names it
ORDERS_SHOWN = 50  # open supervision orders listed on the board (the heading counts them all)
ANSWERED_SHOWN = 20  # answered orders listed on the board, the latest answer first
TOWNS_SHOWN = 20  # townships in the table; more with overdue tickets are shown too, the rest folded
NOTICE_FOR = timedelta(minutes=10)  # the notice after an action names one taken this recently


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
                     "waiting": orders.WAITING_ON_CENTRE.get(t.status, ""),
                     "unit": snap.units.get(t.lead_unit_id, ("", "", False))[1] if t.lead_unit_id else "",
                     "stages": "、".join(STAGE_LABELS[s] for s in overdue),
                     "countdown": countdown(due, now) if due else ""})
    warned_rows, warned_total = supervision_board.warned_tickets(ctx.session, ctx.scope, now=now)
    warned = [{"number": t.number, "title": t.title, "status_label": STATUS_LABELS[t.status],
               "waiting": orders.WAITING_ON_CENTRE.get(t.status, ""),
               "unit": snap.units.get(t.lead_unit_id, ("", "", False))[1] if t.lead_unit_id else "",
               "stages": "、".join(STAGE_LABELS[s] for s in stages), "due_at": due, "countdown": countdown(due, now)}
              for t, stages, due in warned_rows]
    # Where a 催办 would be refused as too soon, the row says when and by whom instead of the button.
    shown = {t.id: t.lead_unit_id for t in tickets if t.lead_unit_id} | {
        t.id: t.lead_unit_id for t, _, _ in warned_rows if t.lead_unit_id}
    urged = orders.recent_urges(ctx.session, shown, now)
    for row, t in [*zip(late, tickets, strict=True), *zip(warned, (t for t, _, _ in warned_rows), strict=True)]:
        row["urged"] = urged[t.id].text if t.id in urged else ""
    open_orders = orders.count_orders(ctx.session, actor=ctx.user, state="open")
    # The open orders themselves, the earliest due first: which unit owes which answer, by when.
    order_rows = [{"number": number, "title": title, "unit": snap.units.get(o.unit_id, ("", "", False))[1],
                   "level": ORDER_LEVEL_LABELS[o.level], "note": o.note, "issued_at": o.issued_at,
                   "due_at": o.due_at, "countdown": countdown(o.due_at, now), "overdue": now > o.due_at}
                  for o, number, title in orders.open_listing(ctx.session, actor=ctx.user, limit=ORDERS_SHOWN)]
    # What the units answered lately, the latest first: the supervisor reads the answer here.
    answered_rows = [{"number": number, "title": title, "unit": snap.units.get(o.unit_id, ("", "", False))[1],
                      "level": ORDER_LEVEL_LABELS[o.level], "note": o.note, "answer": o.answer,
                      "answered_at": o.answered_at, "late": o.answered_at is not None and o.answered_at > o.due_at}
                     for o, number, title in orders.answered_listing(ctx.session, actor=ctx.user, limit=ANSWERED_SHOWN)]
    return page(request, "supervision/board.html", status_code=status_code, rows=rows, late=late,
                late_total=total, reviewing=supervision_board.awaiting_review(ctx.session, ctx.scope), warned=warned, warned_total=warned_total, open_orders=open_orders, order_rows=order_rows,
                answered_rows=answered_rows, error=error, typed=typed or {},
                notice=notice, title="督办看板", chart=supervision_board.unit_chart(rows),
                towns=_towns(supervision_board.by_township(ctx.session, ctx.scope, now=now)),
                levels=ORDER_LEVEL_LABELS, may_supervise=ctx.user.role in (Role.supervisor, Role.admin))


def _towns(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The township table: the worst ``TOWNS_SHOWN`` and every other one with overdue tickets
    (never hidden), then the rest (open tickets, none overdue) folded under 另有 N 个乡镇; the
    totals of all of them."""
    shown = max(TOWNS_SHOWN, sum(1 for r in rows if r["overdue"]))
    return {"shown": rows[:shown], "more": rows[shown:], "open": sum(r["open"] for r in rows),
            "overdue": sum(r["overdue"] for r in rows), "count": len(rows)}


@router.get("/supervision")
def supervision_page(request: Request, urged: str = "", supervised: str = "") -> Response:
    with page_work(request, write=False) as ctx:
        if ctx.user.role not in ROLES:
            return refused(request)
        return _render(request, ctx, notice=_done_notice(ctx, urged, supervised))


def _done_notice(ctx: PageContext, urged: str, supervised: str) -> str | None:
    """The notice after 催办 or 督办 (the redirect names the ticket): only for a ticket this person
    urged or ordered in the last few minutes, so an address typed or shared shows nothing. It says
    whether the unit was told: a unit without active handler accounts gets no message at all."""
    action, number = ("urge", urged) if urged else ("supervise", supervised)
    if not NUMBER.fullmatch(number):  # the address names a ticket, nothing else
        return None
    try:
        ticket = queries.get_ticket(ctx.session, ctx.scope, number)
    except NotFound:
        return None
    event = ctx.session.scalars(select(TicketEvent).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.action == action, TicketEvent.actor_id == ctx.user.id,
        TicketEvent.at >= clock.now() - NOTICE_FOR).order_by(TicketEvent.at.desc(), TicketEvent.id.desc()).limit(1)).first()
    if event is None:
        return None
    unit = reference.snapshot(ctx.session).units.get(event.unit_id or -1, ("", "承办单位", False))[1]
    done = f"已催办工单 {number}" if action == "urge" else f"已对工单 {number} 下达督办单"
    if not recipients.unit_staff(ctx.session, event.unit_id):
        return f"{done}（已记入工单时间线），但{unit}没有可接收通知的账号，单位未收到通知：请电话告知该单位。"
    return f"{done}，{unit}已收到通知。" if action == "urge" else f"{done}，{unit}已收到通知，须按期答复。"


def _act(request: Request, number: str, csrf: str, typed: dict[str, Any],
         do: Callable[[PageContext, Ticket], None], done: str) -> Response:
    """One action on one ticket from the board: refused roles and unknown tickets answered, a
    domain refusal re-renders the board with the error and what was typed, success redirects."""
    with page_work(request, write=True, posted_csrf=csrf) as ctx:
        if ctx.user.role not in ROLES:
            return refused(request)
        try:
            ticket = queries.get_ticket(ctx.session, ctx.scope, number)
        except NotFound as missing:
            return page(request, "error.html", status_code=404, title="工单不存在", message=missing.message)
        try:
            do(ctx, ticket)
            ctx.session.flush()
        except DomainError as err:
            ctx.session.rollback()
            return _render(request, ctx, status_code=err.http_status, error=err.message, typed=typed)
        return RedirectResponse(f"/supervision?{done}={ticket.number}", status_code=303)


@router.post("/supervision/{number}/urge")
def urge(request: Request, number: str, csrf: str = Form(""), note: str = Form("")) -> Response:
    def do(ctx: PageContext, ticket: Ticket) -> None:
        orders.urge(ctx.session, ticket, actor=ctx.user, note=note.strip() or None)

    return _act(request, number, csrf, {"number": number, "note": note}, do, "urged")


@router.post("/supervision/{number}/supervise")
def supervise(request: Request, number: str, csrf: str = Form(""), note: str = Form(""),
              level: str = Form("general"), working_days: str = Form("")) -> Response:
    """督办: an order to the lead unit with a due date; supervisors and admins only (the policy)."""
    def do(ctx: PageContext, ticket: Ticket) -> None:
        orders.supervise(ctx.session, ticket, actor=ctx.user, level=parse_level(level), note=note,
                         working_days=parse_working_days(working_days))

    typed = {"number": number, "note": note, "level": level, "working_days": working_days, "action": "supervise"}
    return _act(request, number, csrf, typed, do, "supervised")


def parse_working_days(text: str) -> int | None:
    """督办时限 as typed on a form: empty for the rule's default, else a whole number of working days."""
    text = text.strip()
    if not text:
        return None
    if not text.isdigit():
        raise Invalid("督办时限须为 1–30 个工作日", code="invalid_due", details={"field": "working_days"})
    return int(text)


def parse_level(text: str) -> str:
    """督办级别 as picked on a form: one of the order levels."""
    if text not in ORDER_LEVEL_LABELS:
        raise Invalid("请选择督办级别（一般、重点、挂牌）", code="invalid_level", details={"field": "level"})
    return text
