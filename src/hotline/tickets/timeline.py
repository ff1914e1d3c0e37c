"""The ticket timeline: every action becomes one ``TicketEvent`` (who, when, from, to, why)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from hotline.accounts.models import User
from hotline.kit import clock
from hotline.kit.db import insert_now
from hotline.tickets.models import Ticket, TicketEvent
from hotline.tickets.states import Status

Listener = Callable[[Session, Ticket, TicketEvent], None]
_listeners: list[Listener] = []
_local = threading.local()


def listen(listener: Listener) -> None:
    """Call ``listener`` after every event from now on (registering the same function twice is a no-op)."""
    if listener not in _listeners:
        _listeners.append(listener)


def listeners() -> list[Listener]:
    return list(_listeners)


@contextmanager
def muted(*which: Listener) -> Iterator[None]:
    """Inside this block the given listeners (all of them when none is named) are not called: the
    demo generator writes history nobody should be sent a message about."""
    saved = getattr(_local, "muted", frozenset())
    _local.muted = saved | (frozenset(which) if which else frozenset(["*"]))
    try:
        yield
    finally:
        _local.muted = saved


def actor_name(actor: User | None) -> str:
    return actor.display_name if actor is not None else "系统"


def record_event(
    session: Session,
    ticket: Ticket,
    action: str,
    actor: User | None,
    *,
    from_status: Status | None = None,
    to_status: Status | None = None,
    reason: str | None = None,
    unit_id: int | None = None,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
    fast: bool = False,
) -> TicketEvent:
    """Append a line to the timeline (``fast``: insert it at once, for a ticket just inserted)."""
    event = TicketEvent(
        ticket_id=ticket.id,
        at=at or clock.now(),
        actor_id=actor.id if actor is not None else None,
        actor_name=actor_name(actor),
        unit_id=unit_id if unit_id is not None else (actor.unit_id if actor is not None else None),
        action=action,
        from_status=from_status.value if from_status else None,
        to_status=to_status.value if to_status else None,
        reason=reason,
        details=details or {},
    )
    if fast:
        insert_now(session, event)
    else:
        session.add(event)
    silenced = getattr(_local, "muted", frozenset())
    if "*" not in silenced:
        for listener in _listeners:
            if listener not in silenced:
                listener(session, ticket, event)
    return event


def iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt else None
