"""The callback queue (回访) and the form that records one callback."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from hotline.accounts.models import Role
from hotline.callbacks import queries as callback_queries
from hotline.callbacks import service
from hotline.kit import clock
from hotline.kit.errors import DomainError, Invalid, NotFound
from hotline.tickets import lifecycle, queries
from hotline.tickets.states import Status
from hotline.web.render import page
from hotline.web.routes.unit import refused
from hotline.web.session import PageContext, page_work

router = APIRouter(include_in_schema=False)
ROLES = (Role.agent, Role.dispatcher, Role.admin)
SATISFACTION = [("satisfied", "满意"), ("basically_satisfied", "基本满意"), ("dissatisfied", "不满意")]
OUTCOMES = {
    "reopened": "回访结果为未解决或不满意，工单 {n} 已退回承办单位重新办理。",
    "closed": "工单 {n} 已办结。",
    "recorded": "工单 {n} 的回访已记录。",
    "missed": "工单 {n} 本次未联系上来电人，已记录回访次数。",
}


def _render(request: Request, ctx: PageContext, status_code: int = 200, error: str | None = None,
            typed: dict[str, Any] | None = None, notice: str | None = None) -> Response:
    tasks, total = callback_queries.queue(ctx.session, scope=ctx.scope, now=clock.now(), limit=100)
    # Called back but neither closed nor reopened by the rules (e.g. a bad verdict while automatic
    # reopening is off): someone decides on the ticket page, so they are listed with a link there.
    decide, waiting = queries.list_tickets(ctx.session, ctx.scope, queries.TicketFilter(status=[Status.callback_done.value]),
                                           per_page=50)
    return page(request, "callbacks/queue.html", status_code=status_code, tasks=tasks, total=total,
                error=error, typed=typed or {}, notice=notice, satisfaction=SATISFACTION, title="回访",
                to_decide=[{"number": t.number, "title": t.title, "callback_at": t.callback_at,
                            "resolved": t.resolved, "comment": t.callback_comment,
                            "satisfaction": dict(SATISFACTION).get(t.satisfaction.value if t.satisfaction else "", "—")}
                           for t in decide], to_decide_total=waiting)


@router.get("/callbacks")
def callback_queue(request: Request, done: str = "", outcome: str = "") -> Response:
    with page_work(request, write=False) as ctx:
        if ctx.user.role not in ROLES:
            return refused(request)
        notice = OUTCOMES[outcome].format(n=done) if done and outcome in OUTCOMES else None
        return _render(request, ctx, notice=notice)


def _yes_no(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


@router.post("/callbacks/{number}")
def record_callback(request: Request, number: str, csrf: str = Form(""), reached: str = Form(""),
                    resolved: str = Form(""), satisfaction: str = Form(""), comment: str = Form("")) -> Response:
    with page_work(request, write=True, posted_csrf=csrf) as ctx:
        if ctx.user.role not in ROLES:
            return refused(request)
        try:
            ticket = queries.get_ticket(ctx.session, ctx.scope, number)
        except NotFound as missing:
            return page(request, "error.html", status_code=404, title="工单不存在", message=missing.message)
        typed = {"number": number, "reached": reached, "resolved": resolved, "satisfaction": satisfaction,
                 "comment": comment}
        try:
            was_reached = _yes_no(reached)
            if was_reached is None:
                raise Invalid("请选择是否联系上来电人", details={"field": "reached"})
            done = service.record(ctx.session, ticket, actor=ctx.user, reached=was_reached,
                                  resolved=_yes_no(resolved) if was_reached else None,
                                  satisfaction=(satisfaction or None) if was_reached else None,
                                  comment=comment.strip() or None)
            if done.follow_up is None and ticket.status == Status.callback_done and not lifecycle.callback_negative(ticket):
                # Reached, resolved and satisfied: the agent's one click also closes (办结).
                done = service.Recorded(done.event, lifecycle.close(ctx.session, ticket, actor=ctx.user))
            ctx.session.flush()
        except DomainError as err:
            ctx.session.rollback()
            return _render(request, ctx, status_code=err.http_status, error=err.message, typed=typed)
        action = done.follow_up.action if done.follow_up is not None else None
        outcome = {"reopen": "reopened", "close": "closed"}.get(action or "", "recorded" if was_reached else "missed")
        return RedirectResponse(f"/callbacks?done={quote(ticket.number)}&outcome={outcome}", status_code=303)
