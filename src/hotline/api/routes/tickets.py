"""Ticket endpoints: create, list and search, read, timeline, and one endpoint per transition."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import Field

from hotline.api import idempotency
from hotline.api.edge import Context, unit_of_work
from hotline.api.paging import MAX_PAGE, PAGE_ONLY, PER_PAGE_ONLY
from hotline.api.schemas import (
    ActionResult,
    AnswerIn,
    ApproveExtensionIn,
    CallbackIn,
    DispatchIn,
    EventOut,
    ExtensionIn,
    HandOffIn,
    MergeIn,
    NoteIn,
    Number,
    OptionalReasonIn,
    Out,
    ReasonIn,
    ReplyIn,
    TicketCreate,
    TicketOut,
    TicketPage,
    UnitActionIn,
    UnitRef,
    Versioned,
)
from hotline.assist.units import suggest_unit
from hotline.callbacks import service as callbacks
from hotline.directory import reference
from hotline.kit import clock
from hotline.kit.errors import Invalid, NotFound
from hotline.routing.catalogue import suggest_units
from hotline.tickets import lifecycle, queries, views
from hotline.tickets.models import Ticket, TicketEvent

router = APIRouter(prefix="/tickets", tags=["tickets"])
MAX_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL


def _find(ctx: Context, key: str, *, version: int | None = None) -> Ticket:
    """A ticket by id or number; an id no database column could hold (or not in ASCII digits) is
    simply not found, rather than an error from the driver."""
    if key.isdigit() and (not key.isascii() or int(key) > MAX_ID):
        raise NotFound(f"工单 {key} 不存在或不在您的权限范围内")
    return queries.get_ticket(ctx.session, ctx.scope, key, expected_version=version)


def _detail(ctx: Context, ticket: Ticket, *, new: bool = False) -> dict[str, Any]:
    snap = reference.snapshot(ctx.session)
    merged = [] if new else queries.merged_into(ctx.session, ticket)  # a new ticket has none yet
    return views.ticket_detail(snap, ctx.scope, ticket, clock.now(), merged)


@router.post("", response_model=TicketOut, status_code=201, summary="Register a ticket (受理)",
             responses={201: {"headers": idempotency.REPLAYED_DOC}})
def create_ticket(body: TicketCreate, request: Request,
                  idempotency_key: idempotency.KeyHeader = None) -> Response:
    key = idempotency.parse(idempotency_key)
    with unit_of_work(request, write=True) as ctx:
        once = idempotency.start(ctx.session, user_id=ctx.user.id, key=key, endpoint="POST /api/v1/tickets",
                                 content=lambda: body.model_dump(mode="json"))
        if once.replay is not None:
            return once.replay
        fields = body.model_dump(exclude={"attachments", "received_at"})
        try:
            received = clock.aware(body.received_at) if body.received_at else None
        except OverflowError:
            raise Invalid("受理时间超出范围", code="invalid_datetime", details={"field": "received_at"}) from None
        if received is not None and received > clock.now():
            raise Invalid("受理时间不能晚于当前时间", code="invalid_datetime", details={"field": "received_at"})
        ticket = lifecycle.register(
            ctx.session, actor=ctx.user, api_token_id=ctx.token_id, received_at=received,
            attachments=[a.model_dump() for a in body.attachments], **fields,
        )
        # The dict is already JSON-ready and shaped by TicketOut (the documented response_model);
        # returning it as a response skips a second validation pass on the busiest endpoint.
        return once.keep(JSONResponse(_detail(ctx, ticket, new=True), status_code=201), ticket_id=ticket.id)


def _parse_when(value: str | None, field: str, *, end: bool = False) -> datetime | None:
    """A date means the whole local day (``end``: up to its midnight); a naive datetime is local."""
    if not value:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value) + (timedelta(days=1) if end else timedelta(0))
            return clock.aware(datetime.combine(day, time(0)))
        return clock.aware(datetime.fromisoformat(value))
    except (ValueError, OverflowError):
        raise Invalid(f"{field} 不是有效的日期或时间：{value!r}（例：2026-11-28 或 2026-11-28T08:00:00+08:00）",
                      code="invalid_datetime", details={"field": field}) from None


@router.get("", response_model=TicketPage, summary="List and search tickets")
def list_tickets(
    request: Request,
    status: list[str] = Query(default=[], description="one or more statuses; open: every status not yet finished"),
    unit_id: int | None = Query(default=None, ge=1, le=MAX_ID),
    region_code: str | None = Query(default=None, description="a region and everything inside it"),
    category_code: str | None = Query(default=None, description="a category and its subcategories"),
    kind: str | None = None,
    channel: str | None = None,
    urgency: str | None = None,
    received_from: str | None = Query(default=None, description="date or datetime, inclusive"),
    received_to: str | None = Query(default=None, description="date (inclusive) or datetime (exclusive)"),
    overdue: bool | None = None,
    q: str | None = Query(default=None, max_length=100, description="full-text search (all terms must appear)"),
    page: int = Query(default=1, ge=1, le=MAX_PAGE, description=PAGE_ONLY),
    per_page: int = Query(default=50, ge=1, le=queries.MAX_PAGE_SIZE, description=PER_PAGE_ONLY),
) -> dict[str, Any]:
    f = queries.TicketFilter(
        status=[s for part in status for s in part.split(",") if s], unit_id=unit_id, region_code=region_code,
        category_code=category_code, kind=kind, channel=channel, urgency=urgency,
        received_from=_parse_when(received_from, "received_from"),
        received_to=_parse_when(received_to, "received_to", end=True), overdue=overdue, q=q,
    )
    if f.received_from and f.received_to and f.received_from >= f.received_to:
        raise Invalid("received_from 须早于 received_to", code="invalid_range", details={"field": "received_to"})
    with unit_of_work(request, write=False) as ctx:
        rows, total = queries.list_tickets(ctx.session, ctx.scope, f, page=page, per_page=per_page)
        snap = reference.snapshot(ctx.session)
        now = clock.now()
        return {"items": [views.ticket_summary(snap, ctx.scope, t, now) for t in rows], "total": total,
                "page": page, "per_page": per_page}


@router.get("/{key}", response_model=TicketOut, summary="One ticket by id or number")
def get_ticket(key: str, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=False) as ctx:
        return _detail(ctx, _find(ctx, key))


@router.get("/{key}/events", response_model=list[EventOut], summary="The ticket's timeline")
def timeline(key: str, request: Request) -> list[dict[str, Any]]:
    with unit_of_work(request, write=False) as ctx:
        ticket = _find(ctx, key)
        snap = reference.snapshot(ctx.session)
        return [views.event_view(snap, e) for e in queries.timeline(ctx.session, ctx.scope, ticket)]


class UnitSuggestionOut(Out):
    source: Literal["catalogue", "history", "fallback"] = Field(
        description="catalogue: the dispatch catalogue's rule; history: who resolved such tickets there; fallback: "
                    "neither (lead_unit may be null)")
    confidence: Number = Field(description="0–1")
    note: str = Field(description="why this unit, in Chinese")
    lead_unit: UnitRef | None
    co_units: list[UnitRef]


@router.get("/{key}/suggested-units", response_model=UnitSuggestionOut,
            summary="The unit to dispatch to: the catalogue's rule, else history (who resolved such tickets there)")
def suggested_units(key: str, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=False) as ctx:
        ticket = _find(ctx, key)
        s = suggest_unit(ctx.session, category_code=ticket.category_code, region_code=ticket.region_code,
                         text=ticket.content)
        snap = reference.snapshot(ctx.session)
        return {
            "source": s.source,
            "confidence": s.confidence,
            "note": s.reason,
            "lead_unit": views._unit(snap, s.lead_unit_id),
            "co_units": [views._unit(snap, u) for u in s.co_unit_ids],
        }


Action = Callable[[Context, Ticket, Any], TicketEvent]


def _act(request: Request, key: str, body: Versioned, fn: Action) -> dict[str, Any]:
    with unit_of_work(request, write=True) as ctx:
        ticket = _find(ctx, key, version=body.version)
        event = fn(ctx, ticket, body)
        ctx.session.flush()
        snap = reference.snapshot(ctx.session)
        return {"ticket": _detail(ctx, ticket), "event": views.event_view(snap, event)}


def _action(path: str, summary: str, body_model: type[Versioned], fn: Action) -> None:
    def endpoint(key: str, body: Versioned, request: Request) -> dict[str, Any]:
        return _act(request, key, body, fn)

    # Annotations are strings under `from __future__ import annotations`; give FastAPI the real
    # body class so each action documents (and validates) its own fields.
    endpoint.__annotations__ = {"key": str, "body": body_model, "request": Request, "return": dict[str, Any]}
    endpoint.__name__ = path.replace("-", "_")
    router.add_api_route(f"/{{key}}/{path}", endpoint, methods=["POST"], response_model=ActionResult,
                         summary=summary, name=path)


def _dispatch(ctx: Context, t: Ticket, b: DispatchIn, *, again: bool = False) -> TicketEvent:
    lead, co = b.lead_unit_id, b.co_unit_ids
    if lead is None:
        s = suggest_units(ctx.session, category_code=t.category_code, region_code=t.region_code)
        if s.lead_unit_id is None:
            raise Invalid("派单目录没有可用的承办单位，请指定 lead_unit_id", code="no_suggestion",
                          details={"field": "lead_unit_id"})
        lead, co = s.lead_unit_id, (s.co_unit_ids if co is None else co)
    fn = lifecycle.redispatch if again else lifecycle.dispatch
    return fn(ctx.session, t, actor=ctx.user, lead_unit_id=lead, co_unit_ids=co or [], note=b.note)


L = lifecycle
_action("answer", "Answer directly (直接答复) and close", AnswerIn,
        lambda c, t, b: L.answer_directly(c.session, t, actor=c.user, answer=b.answer))
_action("hand-off", "Hand off to 110/119/120/122", HandOffIn,
        lambda c, t, b: L.hand_off(c.session, t, actor=c.user, to=b.to, note=b.note))
_action("refuse", "Refuse the request (不予受理) with a reason", ReasonIn,
        lambda c, t, b: L.refuse(c.session, t, actor=c.user, reason=b.reason))
_action("dispatch", "Dispatch (派单) to a lead unit and co-handlers; default: the catalogue's suggestion", DispatchIn,
        lambda c, t, b: _dispatch(c, t, b))
_action("accept", "Accept (签收) as the lead unit, or a co-handler's part", UnitActionIn,
        lambda c, t, b: L.accept(c.session, t, actor=c.user, unit_id=b.unit_id))
_action("contact", "Record contact with the caller", NoteIn,
        lambda c, t, b: L.record_contact(c.session, t, actor=c.user, note=b.note))
_action("request-return", "Ask to return the ticket (退单申请)", ReasonIn,
        lambda c, t, b: L.request_return(c.session, t, actor=c.user, reason=b.reason))
_action("redispatch", "Approve the return and re-dispatch (改派)", DispatchIn,
        lambda c, t, b: _dispatch(c, t, b, again=True))
_action("reject-return", "Reject the return request (驳回退单)", ReasonIn,
        lambda c, t, b: L.reject_return(c.session, t, actor=c.user, reason=b.reason))
_action("suspend", "Suspend (挂起): pause the clock", ReasonIn,
        lambda c, t, b: L.suspend(c.session, t, actor=c.user, reason=b.reason))
_action("resume", "Resume after a suspension", NoteIn,
        lambda c, t, b: L.resume(c.session, t, actor=c.user, note=b.note))
_action("request-extension", "Ask for more time (延期申请)", ExtensionIn,
        lambda c, t, b: L.request_extension(c.session, t, actor=c.user, amount=b.amount, unit=b.unit, reason=b.reason))
_action("approve-extension", "Approve the pending extension", ApproveExtensionIn,
        lambda c, t, b: L.approve_extension(c.session, t, actor=c.user, amount=b.amount, note=b.note))
_action("refuse-extension", "Refuse the pending extension", ReasonIn,
        lambda c, t, b: L.refuse_extension(c.session, t, actor=c.user, reason=b.reason))
_action("reply", "Submit the reply (反馈), or a co-handler's part", ReplyIn,
        lambda c, t, b: L.reply(c.session, t, actor=c.user, text=b.text, unit_id=b.unit_id))
_action("accept-reply", "Review: accept the reply", NoteIn,
        lambda c, t, b: L.accept_reply(c.session, t, actor=c.user, note=b.note))
_action("send-back-reply", "Review: send the reply back to the unit", ReasonIn,
        lambda c, t, b: L.send_back_reply(c.session, t, actor=c.user, reason=b.reason))
_action("callback", "Record a callback (回访); the callback rules may then close (not reached) or reopen it",
        CallbackIn,
        lambda c, t, b: callbacks.record(c.session, t, actor=c.user, reached=b.reached, resolved=b.resolved,
                                         satisfaction=b.satisfaction, comment=b.comment).event)
_action("close", "Close (办结)", OptionalReasonIn,
        lambda c, t, b: L.close(c.session, t, actor=c.user, reason=b.reason))
_action("reopen", "Reopen (重办) after an unsatisfied callback", OptionalReasonIn,
        lambda c, t, b: L.reopen(c.session, t, actor=c.user, reason=b.reason))
_action("merge", "Merge into a master ticket (并单)", MergeIn,
        lambda c, t, b: L.merge(c.session, t, actor=c.user, master=_find(c, b.master),
                                note=b.note))
_action("archive", "Archive (归档)", Versioned,
        lambda c, t, b: L.archive(c.session, t, actor=c.user))
