"""Supervision endpoints: urge (催办) and supervise (督办) a ticket, the orders and their answers,
the deadline alerts of a ticket, and the supervisor board."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import Field
from sqlalchemy import select

from hotline.accounts.models import Role
from hotline.api.edge import unit_of_work
from hotline.api.routes.tickets import ERRORS, MAX_ID, MAX_OFFSET, _detail, _find
from hotline.api.schemas import Body, NoteIn, Versioned, own_words
from hotline.directory import reference
from hotline.kit import clock
from hotline.kit.errors import NotFound, PermissionDenied
from hotline.supervision import board as board_query
from hotline.supervision import orders
from hotline.supervision.models import ORDER_LEVEL_LABELS, DeadlineAlert, OrderLevel, SupervisionOrder
from hotline.tickets import views
from hotline.tickets.sla import STAGE_LABELS, STEP_LABELS

router = APIRouter(tags=["supervision"], responses=ERRORS)


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


def order_view(snap: reference.Snapshot, order: SupervisionOrder, now: datetime) -> dict[str, Any]:
    return {
        "id": order.id, "ticket_id": order.ticket_id, "unit": views._unit(snap, order.unit_id),
        "level": order.level.value, "level_label": ORDER_LEVEL_LABELS[order.level], "state": order.state.value,
        "note": order.note, "issued_by_id": order.issued_by_id, "issued_at": views.iso(order.issued_at),
        "due_at": views.iso(order.due_at), "overdue": order.state.value == "open" and now > order.due_at,
        "answer": order.answer, "answered_at": views.iso(order.answered_at),
    }


@router.post("/tickets/{key}/urge", summary="Urge (催办) the lead unit now")
def urge(key: str, body: NoteIn, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=True) as ctx:
        ticket = _find(ctx, key, version=body.version)
        event = orders.urge(ctx.session, ticket, actor=ctx.user, note=body.note)
        ctx.session.flush()
        snap = reference.snapshot(ctx.session)
        return {"ticket": _detail(ctx, ticket), "event": views.event_view(snap, event)}


@router.post("/tickets/{key}/supervise", status_code=201, summary="Issue a supervision order (督办) to the lead unit")
def supervise(key: str, body: SuperviseIn, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=True) as ctx:
        ticket = _find(ctx, key, version=body.version)
        due = clock.aware(body.due_at) if body.due_at else None
        order = orders.supervise(ctx.session, ticket, actor=ctx.user, level=body.level, note=body.note,
                                 due_at=due, working_days=body.working_days)
        ctx.session.flush()
        return {"order": order_view(reference.snapshot(ctx.session), order, clock.now()),
                "ticket": _detail(ctx, ticket)}


@router.get("/tickets/{key}/alerts", summary="Deadline steps taken for a ticket (预警、超期、催办、升级)")
def alerts(key: str, request: Request) -> list[dict[str, Any]]:
    with unit_of_work(request, write=False) as ctx:
        ticket = _find(ctx, key)
        rows = ctx.session.scalars(select(DeadlineAlert).where(DeadlineAlert.ticket_id == ticket.id)
                                   .order_by(DeadlineAlert.at, DeadlineAlert.id))
        return [{"stage": a.stage, "stage_label": STAGE_LABELS[a.stage], "step": a.step,
                 "step_label": STEP_LABELS.get(a.step, a.step), "due_at": views.iso(a.due_at),
                 "at": views.iso(a.at)} for a in rows]


@router.get("/supervision-orders", summary="Supervision orders (督办单): a handler sees their unit's")
def list_orders(request: Request, state: str | None = Query(default=None), unit_id: int | None = Query(default=None, ge=1, le=MAX_ID),
                limit: int = Query(default=100, ge=1, le=500), offset: int = Query(default=0, ge=0, le=MAX_OFFSET)
                ) -> list[dict[str, Any]]:
    with unit_of_work(request, write=False) as ctx:
        found = orders.orders_for(ctx.session, actor=ctx.user, state=state, unit_id=unit_id, limit=limit,
                                  offset=offset)
        snap, now = reference.snapshot(ctx.session), clock.now()
        return [order_view(snap, o, now) for o in found]


@router.post("/supervision-orders/{order_id}/answer", summary="Answer a supervision order (答复督办)")
def answer(order_id: int, body: AnswerOrderIn, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=True) as ctx:
        order = ctx.session.get(SupervisionOrder, order_id) if 0 < order_id < 2**31 else None
        if order is None:
            raise NotFound("督办单不存在")
        orders.answer_order(ctx.session, order, actor=ctx.user, answer=body.answer)
        return order_view(reference.snapshot(ctx.session), order, clock.now())


@router.get("/supervision/board", summary="Supervisor board: warned and overdue tickets and orders by unit")
def supervision_board(request: Request) -> list[dict[str, Any]]:
    with unit_of_work(request, write=False) as ctx:
        if ctx.user.role not in (Role.supervisor, Role.admin, Role.dispatcher):
            raise PermissionDenied("只有督办员、派单员和管理员可以查看督办看板")
        return board_query.board(ctx.session, ctx.scope, now=clock.now())
