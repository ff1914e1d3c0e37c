"""The ticket timeline: every action becomes one ``TicketEvent`` (who, when, from, to, why)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from hotline.accounts.models import User
from hotline.kit import clock
from hotline.kit.db import insert_now
from hotline.tickets.models import Ticket, TicketEvent
from hotline.tickets.states import Status


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
    return event


def iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt else None
