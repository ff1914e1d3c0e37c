"""The dispatcher's queue: new tickets to dispatch (the suggested unit pre-selected: the catalogue's
rule, else the unit that resolved such tickets there before),
returns to review, extension requests to decide and replies to review. Every action is a form
post that redirects back to the queue with what was done, or shows the refusal in Chinese.

The page carries the list of units once, however many tickets wait: each row's picker holds only
its suggested unit until it is used, and a few lines of script fill in every unit from the page's
one list on the first focus, click or touch (hundreds of units on each of a hundred rows made the
page 2 MB). Without script, ``/dispatch/{number}/choose`` is a page with the whole list for one
ticket.

Co-handlers (协办): a new ticket's row offers the catalogue's co-handlers of the suggested unit as
checkboxes, ticked; picking another lead unit unticks them (app.js), as they were named for the
suggested lead, and picking the suggestion again ticks them again. A returned ticket's row offers
its current co-handlers, ticked. Either row has one more picker to add any other unit; what is
ticked and picked is what is sent, the lead unit left out of its own co-handlers."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from hotline.accounts.models import Role
from hotline.assist.units import UnitSuggestion, suggest_unit
from hotline.directory import reference
from hotline.kit import clock
from hotline.kit.errors import DomainError, Invalid, NotFound, PermissionDenied
from hotline.tickets import lifecycle, queries, validation, views
from hotline.tickets.models import RequestState, RequestType, Ticket, TicketRequest, UnitRole
from hotline.tickets.states import Status
from hotline.web.render import page
from hotline.web.session import PageContext, page_work

router = APIRouter(include_in_schema=False)
DISPATCH_ROLES = frozenset({Role.dispatcher, Role.admin})
PER_SECTION = 50
UNIT_LABELS = {"hours": "小时", "days": "天", "working_days": "个工作日"}
NUMBER = re.compile(r"\d{8}-\d{6}")  # a ticket number, as the redirect after an action names it


def _allowed(ctx: PageContext) -> None:
    if ctx.user.role not in DISPATCH_ROLES:
        raise PermissionDenied("只有派单员和管理员可以使用派单工作台")


def _by_status(ctx: PageContext, status: Status) -> list[Ticket]:
    rows = ctx.session.scalars(
        select(Ticket).where(queries.visible(ctx.scope), Ticket.status == status)
        .order_by(Ticket.received_at, Ticket.id).limit(PER_SECTION)
    ).all()
    return list(rows)


def _pending(ctx: PageContext, kind: RequestType) -> list[tuple[TicketRequest, Ticket]]:
    rows = ctx.session.execute(
        select(TicketRequest, Ticket).join(Ticket, Ticket.id == TicketRequest.ticket_id)
        .where(TicketRequest.type == kind, TicketRequest.state == RequestState.pending, queries.visible(ctx.scope))
        .order_by(TicketRequest.requested_at, TicketRequest.id)
        .limit(PER_SECTION)
    ).all()
    return [(r, t) for r, t in rows]


def _units(snap: reference.Snapshot) -> list[tuple[int, str]]:
    """The units a ticket can be sent to (the active ones that handle tickets, not the hotline centre), by name."""
    return sorted(((uid, name) for uid, (_code, name, active) in snap.units.items()
                   if active and not validation.is_hotline_center(snap, uid)), key=lambda u: u[1])


def _named(snap: reference.Snapshot, unit_ids: list[int]) -> list[tuple[int, str]]:
    return [(u, snap.units[u][1]) for u in unit_ids if u in snap.units]


def _current_co(ticket: Ticket) -> list[int]:
    """The co-handlers of the ticket's current round (kept, ticked, when it is re-dispatched)."""
    return [u.unit_id for u in ticket.active_units() if u.role == UnitRole.co]


def _suggester(ctx: PageContext) -> Callable[[Ticket], UnitSuggestion]:
    """``suggest_unit`` for the tickets of one page, once per category and place: the suggestion
    reads nothing else (its ``text`` is not read yet), and a burst of calls about one outage in
    one village is many tickets of one category at one place."""
    memo: dict[tuple[str, str], UnitSuggestion] = {}

    def suggest(t: Ticket) -> UnitSuggestion:
        key = (t.category_code, t.region_code)
        if key not in memo:
            memo[key] = suggest_unit(ctx.session, category_code=t.category_code, region_code=t.region_code)
        return memo[key]
    return suggest


def _queue(request: Request, ctx: PageContext, *, status_code: int = 200, error: str | None = None,
           done: str = "") -> Response:
    snap, now = reference.snapshot(ctx.session), clock.now()
    units = _units(snap)

    def summary(t: Ticket) -> dict[str, Any]:
        return views.ticket_summary(snap, ctx.scope, t, now)

    suggest, new = _suggester(ctx), []
    for t in _by_status(ctx, Status.registered):
        s = suggest(t)
        new.append({"t": summary(t), "suggested": s.lead_unit_id, "source": s.source, "note": s.reason,
                    "co": _named(snap, s.co_unit_ids)})
    returns = [{"t": summary(t), "reason": r.reason, "unit": snap.units.get(r.unit_id, ("", "?", False))[1],
                "lead": t.lead_unit_id, "co": _named(snap, _current_co(t))}
               for r, t in _pending(ctx, RequestType.return_)]
    extensions = [{"t": summary(t), "reason": r.reason, "unit": snap.units.get(r.unit_id, ("", "?", False))[1],
                   "amount": f"{r.amount} {UNIT_LABELS.get(r.amount_unit or '', r.amount_unit or '')}"}
                  for r, t in _pending(ctx, RequestType.extension)]
    replies = [{"t": summary(t), "reply": t.reply_text} for t in _by_status(ctx, Status.replied)]
    return page(request, "dispatch/queue.html", status_code=status_code, title="派单工作台", units=units,
                unit_names=dict(units), new=new, returns=returns, extensions=extensions, replies=replies,
                error=error, done=done)


@router.get("/dispatch")
def dispatch_queue(request: Request, done: str = "", action: str = "") -> Response:
    with page_work(request, write=False) as ctx:
        try:
            _allowed(ctx)
        except PermissionDenied as refused:
            return page(request, "error.html", status_code=403, title="无权访问", message=refused.message)
        # The address names a ticket and one of the queue's actions, nothing else: the notice is
        # always the app's own sentence, never text carried by a link.
        notice = DONE[action].format(done) if NUMBER.fullmatch(done) and action in DONE else ""
        return _queue(request, ctx, done=notice)


@router.get("/dispatch/{number}/choose")
def choose_unit(request: Request, number: str) -> Response:
    """One ticket's whole list of units, to dispatch or redispatch it where the queue's script
    does not run (the queue's rows hold only the suggested unit without it)."""
    with page_work(request, write=False) as ctx:
        try:
            _allowed(ctx)
            if number.isdigit():  # numbers only, as for the queue's forms
                raise NotFound(f"工单 {number} 不存在或不在您的权限范围内")
            ticket = queries.get_ticket(ctx.session, ctx.scope, number)
        except PermissionDenied as refused:
            return page(request, "error.html", status_code=403, title="无权访问", message=refused.message)
        except NotFound as missing:
            return page(request, "error.html", status_code=404, title="工单不存在", message=missing.message)
        snap = reference.snapshot(ctx.session)
        t = views.ticket_summary(snap, ctx.scope, ticket, clock.now())
        if ticket.status == Status.registered:
            s = suggest_unit(ctx.session, category_code=ticket.category_code, region_code=ticket.region_code)
            form = {"action": f"/dispatch/{t['number']}", "selected": s.lead_unit_id, "exclude": None,
                    "note": s.reason, "button": "派单", "co": _named(snap, s.co_unit_ids), "with_lead": s.lead_unit_id}
        elif ticket.status == Status.return_requested:
            form = {"action": f"/dispatch/{t['number']}/redispatch", "selected": None,
                    "exclude": ticket.lead_unit_id, "note": "", "button": "改派",
                    "co": _named(snap, _current_co(ticket)), "with_lead": None}
        else:
            return page(request, "error.html", status_code=409, title="不能派单",
                        message=f"工单 {t['number']} 当前状态为「{t['status_label']}」，不能派单或改派")
        return page(request, "dispatch/choose.html", title=f"选择承办单位 · {t['number']}", t=t,
                    units=_units(snap), **form)


def _unit_id(form: Any, name: str = "lead_unit_id") -> int:
    raw = str(form.get(name) or "").strip()
    if not raw.isascii() or not raw.isdigit():
        raise Invalid("请选择承办单位", code="unit_required", details={"field": name})
    return int(raw)


def _co_unit_ids(form: Any, lead: int) -> list[int]:
    """The co-handlers ticked and picked (``co_unit_id``, any number; an empty picker is none),
    without the lead unit itself: a unit picked as lead has the whole ticket."""
    chosen: list[int] = []
    for value in form.getlist("co_unit_id"):
        raw = str(value or "").strip()
        if not raw:
            continue
        if not raw.isascii() or not raw.isdigit():
            raise Invalid("协办单位无效，请重新选择", code="invalid_units", details={"field": "co_unit_id"})
        if int(raw) != lead:
            chosen.append(int(raw))
    return chosen


def _assign(fn: Callable[..., Any]) -> Callable[[PageContext, Ticket, Any], Any]:
    """派单 or 改派 through the lifecycle, as intake and the API do: the lead unit and its co-handlers."""
    def act(c: PageContext, t: Ticket, f: Any) -> Any:
        lead = _unit_id(f)
        return fn(c.session, t, actor=c.user, lead_unit_id=lead, co_unit_ids=_co_unit_ids(f, lead),
                  note=str(f.get("note") or "") or None)
    return act


Act = Callable[[PageContext, Ticket, Any], Any]

ACTIONS: dict[str, Act] = {
    "dispatch": _assign(lifecycle.dispatch),
    "redispatch": _assign(lifecycle.redispatch),
    "reject-return": lambda c, t, f: lifecycle.reject_return(c.session, t, actor=c.user,
                                                              reason=str(f.get("reason") or "")),
    "approve-extension": lambda c, t, f: lifecycle.approve_extension(c.session, t, actor=c.user,
                                                                      note=str(f.get("note") or "") or None),
    "refuse-extension": lambda c, t, f: lifecycle.refuse_extension(c.session, t, actor=c.user,
                                                                    reason=str(f.get("reason") or "")),
    "accept-reply": lambda c, t, f: lifecycle.accept_reply(c.session, t, actor=c.user,
                                                            note=str(f.get("note") or "") or None),
    "send-back-reply": lambda c, t, f: lifecycle.send_back_reply(c.session, t, actor=c.user,
                                                                  reason=str(f.get("reason") or "")),
}
# What the queue says after each action, of the ticket number its address carries.
DONE: dict[str, str] = {
    "dispatch": "工单 {} 已派单",
    "redispatch": "工单 {} 已改派",
    "reject-return": "工单 {} 的退单申请已驳回",
    "approve-extension": "工单 {} 的延期申请已批准",
    "refuse-extension": "工单 {} 的延期申请不予批准",
    "accept-reply": "工单 {} 的反馈已审核通过，转回访",
    "send-back-reply": "工单 {} 的反馈已退回承办单位",
}


async def _act(request: Request, number: str, action: str) -> Response:
    form = await request.form()
    token = str(form.get("csrf") or "")
    try:
        with page_work(request, write=True, posted_csrf=token) as ctx:
            _allowed(ctx)
            if number.isdigit():  # numbers only here: ids are not accepted from the queue's forms
                raise Invalid(f"工单号 {number} 无效", code="invalid_number")
            ticket = queries.get_ticket(ctx.session, ctx.scope, number)
            ACTIONS[action](ctx, ticket, form)
            number = ticket.number
            ctx.session.flush()
    except PermissionDenied as refused:
        with page_work(request, write=False, posted_csrf=token):  # a live user for the page
            return page(request, "error.html", status_code=403, title="无权操作", message=refused.message)
    except DomainError as refused:
        with page_work(request, write=False, posted_csrf=token) as ctx:
            return _queue(request, ctx, status_code=refused.http_status if refused.http_status >= 400 else 422,
                          error=refused.message)
    return RedirectResponse(f"/dispatch?{urlencode({'done': number, 'action': action})}", status_code=303)


@router.post("/dispatch/{number}")
async def dispatch_ticket(request: Request, number: str) -> Response:
    return await _act(request, number, "dispatch")


@router.post("/dispatch/{number}/{action}")
async def dispatch_action(request: Request, number: str, action: str) -> Response:
    if action not in ACTIONS or action == "dispatch":
        return page(request, "error.html", status_code=404, title="页面不存在", message=f"没有「{action}」这个操作")
    return await _act(request, number, action)
