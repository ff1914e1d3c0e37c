"""The callback queue (回访队列) for the hotline centre: who to ring next about a reply."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from hotline.accounts.models import Role
from hotline.api import paging
from hotline.api.edge import unit_of_work
from hotline.api.schemas import CallerOut, Out, Timestamp
from hotline.callbacks import queries
from hotline.kit import clock
from hotline.kit.errors import PermissionDenied

router = APIRouter(prefix="/callback-tasks", tags=["callbacks"])
QUEUE_ROLES = frozenset({Role.agent, Role.dispatcher, Role.admin})


class CallbackTaskOut(Out):
    id: int
    ticket_id: int
    number: str
    title: str
    caller: CallerOut
    round: int
    due_at: Timestamp
    overdue: bool
    attempts: int
    last_attempt_at: Timestamp | None
    last_note: str | None
    next_attempt_at: Timestamp
    reply_text: str | None = Field(
        description="The unit's reply (办理结果): what the caller is asked about; null before any reply")


class CallbackQueue(Out):
    items: list[CallbackTaskOut]
    total: int
    limit: int
    offset: int


@router.get("", response_model=CallbackQueue, summary="Open callback tasks, the next attempt first")
def callback_tasks(
    request: Request,
    window: Annotated[paging.Window, Depends(paging.rows(default=50, most=queries.MAX_LIMIT))],
) -> dict[str, Any]:
    limit, offset = window.limit, window.offset
    with unit_of_work(request, write=False) as ctx:
        if ctx.user.role not in QUEUE_ROLES:
            raise PermissionDenied("只有坐席、派单员和管理员可以查看回访队列")
        items, total = queries.queue(ctx.session, scope=ctx.scope, now=clock.now(), limit=limit, offset=offset)
        return {"items": items, "total": total, "limit": limit, "offset": offset}
