"""Who hears about a ticket: a unit's staff, the supervisors, the dispatchers; and telling them.

Staff get every notice in their in-app inbox and, when their account has a phone number, by SMS.
Keys are built from a caller-supplied stem plus the user and channel, so a re-run adds nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.accounts.models import Role, User
from hotline.notify.models import MessageChannel
from hotline.notify.outbox import enqueue

Recipient = tuple[int, str | None]  # (user id, phone or None)
_local = threading.local()


@contextmanager
def remembered() -> Iterator[None]:
    """Within this block each unit's staff is looked up once (a sweep telling many units)."""
    outer = getattr(_local, "memo", None)
    _local.memo = {} if outer is None else outer
    try:
        yield
    finally:
        _local.memo = outer


def _lookup(session: Session, key: Any, query: Any) -> list[Recipient]:
    memo = getattr(_local, "memo", None)
    if memo is not None and key in memo:
        return memo[key]
    with session.no_autoflush:  # staff are not among the rows this transaction is writing
        people = [(r.id, r.phone) for r in session.execute(query)]
    if memo is not None:
        memo[key] = people
    return people


def unit_staff(session: Session, unit_id: int | None) -> list[Recipient]:
    """The active handlers of a unit."""
    if unit_id is None:
        return []
    return _lookup(session, ("unit", unit_id), select(User.id, User.phone).where(
        User.unit_id == unit_id, User.active.is_(True), User.role == Role.handler).order_by(User.id))


def with_role(session: Session, role: Role) -> list[Recipient]:
    return _lookup(session, ("role", role.value), select(User.id, User.phone).where(
        User.role == role, User.active.is_(True)).order_by(User.id))


def tell_staff(session: Session, *, key: str, people: list[Recipient], template_code: str,
               context: dict[str, Any], ticket_id: int | None = None, urgent: bool = False,
               sms: bool = True) -> int:
    """Enqueue an inbox message (and an SMS when ``sms`` and a phone is known) for each person;
    returns how many messages were added (0 for keys seen before)."""
    added = 0
    for user_id, phone in people:
        added += enqueue(session, key=f"{key}:u{user_id}:inbox", channel=MessageChannel.inbox,
                         recipient=str(user_id), template_code=template_code, context=context,
                         ticket_id=ticket_id, urgent=urgent) is not None
        if sms and phone:
            added += enqueue(session, key=f"{key}:u{user_id}:sms", channel=MessageChannel.sms, recipient=phone,
                             template_code=template_code, context=context, ticket_id=ticket_id,
                             urgent=urgent) is not None
    return added
