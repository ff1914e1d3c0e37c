"""Supervision endpoints: urge (催办) and supervise (督办) a ticket, the orders and their answers,
the deadline alerts of a ticket, and the supervisor board."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import Field
from sqlalchemy import select

from hotline.accounts.models import Role
from hotline.api import paging
from hotline.api.edge import unit_of_work
from hotline.api.routes.tickets import MAX_ID, _detail, _find
from hotline.api.schemas import (
    ActionResult,
    Body,
    NoteIn,
    Out,
    TicketOut,
    Timestamp,
    UnitRef,
    Versioned,
    own_words,
)
from hotline.directory import reference
from hotline.kit import clock
from hotline.kit.errors import NotFound, PermissionDenied
from hotline.supervision import board as board_query
from hotline.supervision import orders
from hotline.supervision.models import (
    ORDER_LEVEL_LABELS,
    DeadlineAlert,
    OrderLevel,
    OrderState,
    SupervisionOrder,
)
from hotline.tickets import views
from hotline.tickets.sla import STAGE_LABELS, STEP_LABELS

router = APIRouter(tags=["supervision"])


# The limits ``orders.supervise`` keeps, stated in the document and refused in its words.
Level = Annotated[Literal[tuple(level.value for level in OrderLevel)],  # type: ignore[valid-type]
                  own_words("督办级别须为 general（一般）、key（重点）或 listed（挂牌）", "invalid_level")]
WorkingDays = Annotated[int | None, Field(ge=1, le=30), own_words("督办时限须为 1–30 个工作日", "invalid_due")]


class SuperviseIn(Versioned):
    level: Level = Field(default="general", description="general（一般）, key（重点） or listed（挂牌）")
    note: str
    working_days: WorkingDays = Field(default=None, description="answer within this many working days (1–30)")
    due_at: datetime | None = Field(default=None, description="or by this time")


class AnswerOrderIn(Body):
    answer: str


class OrderOut(Out):
    id: int
    ticket_id: int
    unit: UnitRef | None = Field(description="the unit the order is addressed to")
    level: OrderLevel
    level_label: str = Field(description="一般, 重点 or 挂牌")
    state: OrderState
    note: str
    issued_by_id: int | None
    issued_at: Timestamp
    due_at: Timestamp = Field(description="the unit answers by then")
    overdue: bool = Field(description="open and past due_at")
    answer: str | None
    answered_at: Timestamp | None


class SupervisedOut(Out):
    order: OrderOut
    ticket: TicketOut


class AlertOut(Out):
    stage: str = Field(description="dispatch, accept, contact or reply")
    stage_label: str
    step: str = Field(description="warn, overdue, urge, escalate or escalate_parent")
    step_label: str = Field(description="预警, 超期, 催办, 升级督办 or 上级督办")
    due_at: Timestamp = Field(description="the deadline the step was about")
    at: Timestamp = Field(description="when the step was taken")


class BoardRow(Out):
    unit: UnitRef
    open: int = Field(description="open tickets the unit leads")
    warned: int = Field(description="of them, with a warning (预警) that still stands")
    overdue: int = Field(description="of them, overdue now")
    open_orders: int = Field(description="open supervision orders addressed to the unit")
    overdue_orders: int = Field(description="of them, past their answer deadline")


def order_view(snap: reference.Snapshot, order: SupervisionOrder, now: datetime) -> dict[str, Any]:
    return {
        "id": order.id, "ticket_id": order.ticket_id, "unit": views._unit(snap, order.unit_id),
        "level": order.level.value, "level_label": ORDER_LEVEL_LABELS[order.level], "state": order.state.value,
        "note": order.note, "issued_by_id": order.issued_by_id, "issued_at": views.iso(order.issued_at),
        "due_at": views.iso(order.due_at), "overdue": order.state.value == "open" and now > order.due_at,
        "answer": order.answer, "answered_at": views.iso(order.answered_at),
    }


@router.post("/tickets/{key}/urge", response_model=ActionResult, summary="Urge (催办) the lead unit now")
def urge(key: str, body: NoteIn, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=True) as ctx:
        ticket = _find(ctx, key, version=body.version)
        event = orders.urge(ctx.session, ticket, actor=ctx.user, note=body.note)
        ctx.session.flush()
        snap = reference.snapshot(ctx.session)
        return {"ticket": _detail(ctx, ticket), "event": views.event_view(snap, event)}


@router.post("/tickets/{key}/supervise", status_code=201, response_model=SupervisedOut, summary="Issue a supervision order (督办) to the lead unit")
def supervise(key: str, body: SuperviseIn, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=True) as ctx:
        ticket = _find(ctx, key, version=body.version)
        due = clock.aware(body.due_at) if body.due_at else None
        order = orders.supervise(ctx.session, ticket, actor=ctx.user, level=body.level, note=body.note,
                                 due_at=due, working_days=body.working_days)
        ctx.session.flush()
        return {"order": order_view(reference.snapshot(ctx.session), order, clock.now()),
                "ticket": _detail(ctx, ticket)}


@router.get("/tickets/{key}/alerts", response_model=list[AlertOut], summary="Deadline steps taken for a ticket (预警、超期、催办、升级)")
def alerts(key: str, request: Request) -> list[dict[str, Any]]:
    with unit_of_work(request, write=False) as ctx:
        ticket = _find(ctx, key)
        rows = ctx.session.scalars(select(DeadlineAlert).where(DeadlineAlert.ticket_id == ticket.id)
                                   .order_by(DeadlineAlert.at, DeadlineAlert.id))
        return [{"stage": a.stage, "stage_label": STAGE_LABELS[a.stage], "step": a.step,
                 "step_label": STEP_LABELS.get(a.step, a.step), "due_at": views.iso(a.due_at),
                 "at": views.iso(a.at)} for a in rows]


@router.get("/supervision-orders", response_model=list[OrderOut], responses=paging.TOTAL_DOC,
            summary="Supervision orders (督办单): a handler sees their unit's (paged; total in X-Total-Count)")
def list_orders(request: Request, response: Response,
                window: Annotated[paging.Window, Depends(paging.rows(default=100, most=500))],
                state: str | None = Query(default=None), unit_id: int | None = Query(default=None, ge=1, le=MAX_ID)) -> list[dict[str, Any]]:
    limit, offset = window.limit, window.offset
    with unit_of_work(request, write=False) as ctx:
        found = orders.orders_for(ctx.session, actor=ctx.user, state=state, unit_id=unit_id, limit=limit,
                                  offset=offset)
        paging.report_total(response, orders.count_orders(ctx.session, actor=ctx.user, state=state, unit_id=unit_id))
        snap, now = reference.snapshot(ctx.session), clock.now()
        return [order_view(snap, o, now) for o in found]


@router.post("/supervision-orders/{order_id}/answer", response_model=OrderOut, summary="Answer a supervision order (答复督办)")
def answer(order_id: int, body: AnswerOrderIn, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=True) as ctx:
        order = ctx.session.get(SupervisionOrder, order_id) if 0 < order_id < 2**31 else None
        if order is None:
            raise NotFound("督办单不存在")
        orders.answer_order(ctx.session, order, actor=ctx.user, answer=body.answer)
        return order_view(reference.snapshot(ctx.session), order, clock.now())


@router.get("/supervision/board", response_model=list[BoardRow], summary="Supervisor board: warned and overdue tickets and orders by unit")
def supervision_board(request: Request) -> list[dict[str, Any]]:
    with unit_of_work(request, write=False) as ctx:
        if ctx.user.role not in (Role.supervisor, Role.admin, Role.dispatcher):
            raise PermissionDenied("只有督办员、派单员和管理员可以查看督办看板")
        return board_query.board(ctx.session, ctx.scope, now=clock.now())
