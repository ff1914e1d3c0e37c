"""The callback queue: open tasks, the one to ring next first, as JSON-ready dicts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.accounts.scope import Scope
from hotline.callbacks.models import CallbackTask, TaskState
from hotline.tickets import views
from hotline.tickets.models import Ticket
from hotline.tickets.queries import visible

MAX_LIMIT = 200


def queue(session: Session, *, scope: Scope, now: datetime, limit: int = 50,
          offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Open callback tasks within ``scope``, ordered by the next attempt (then the due time), and
    their total. ``overdue``: the callback was due before ``now``. The caller's name and phone are
    shown as the scope may see them (``views.caller``)."""
    where = (CallbackTask.state == TaskState.open, visible(scope))
    base = select(CallbackTask, Ticket).join(Ticket, Ticket.id == CallbackTask.ticket_id).where(*where)
    rows = session.execute(base.order_by(CallbackTask.next_attempt_at, CallbackTask.due_at, CallbackTask.id)
                           .limit(min(limit, MAX_LIMIT)).offset(offset)).all()
    total = session.scalar(select(func.count()).select_from(CallbackTask)
                           .join(Ticket, Ticket.id == CallbackTask.ticket_id).where(*where)) or 0
    return [task_view(scope, task, ticket, now) for task, ticket in rows], total


def task_view(scope: Scope, task: CallbackTask, ticket: Ticket, now: datetime) -> dict[str, Any]:
    return {
        "id": task.id,
        "ticket_id": ticket.id,
        "number": ticket.number,
        "title": ticket.title,
        "caller": views.caller(scope, ticket),
        "round": task.round,
        "due_at": views.iso(task.due_at),
        "overdue": task.due_at < now,
        "attempts": task.attempts,
        "last_attempt_at": views.iso(task.last_attempt_at),
        "last_note": task.last_note,
        "next_attempt_at": views.iso(task.next_attempt_at),
        "reply_text": ticket.reply_text,  # what the unit says it did: what the caller is asked about
    }
