"""Sending what the outbox holds: claim, send, mark; retries with backoff; dead messages for admins.

``deliver_due`` finds due rows through the ``(state, not_before)`` index and claims each with a
conditional UPDATE (``WHERE id = :id AND state = ... AND <still due>``): only the worker whose
update changed the row owns it, so any number of workers never send one message twice at the same
time. The claim is a lease (``claimed_until``) committed before sending; a worker that dies leaves
the row in ``sending`` and another worker reclaims it once the lease has expired.

Delivery to the SMS gateway is therefore at least once: a worker killed between the gateway's
answer and the commit that marks the row sent leaves it to be sent again. The gateway receives the
message's idempotency key (``idempotency_key``) to deduplicate such repeats. Inbox messages are
exactly once: the ``InboxItem`` and the "sent" mark commit together.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from hotline.kit import clock
from hotline.kit.db import Database
from hotline.notify.drivers import Driver
from hotline.notify.models import InboxItem, MessageChannel, MessageState, OutboxMessage

MAX_BACKOFF = timedelta(hours=6)
# Sent SMS are marked in groups of this many (inbox messages, which leave no trace outside the
# database, wait for the end of the batch): fewer commits, and a worker that dies re-sends at most
# this many, which the gateway (and the file driver) recognise by their idempotency keys.
MARK_EVERY = 10
T = OutboxMessage.__table__


def backoff(attempts: int) -> timedelta:
    """Wait after the ``attempts``-th failure: 1, 2, 4, 8 … minutes, at most 6 hours."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def _due(now: datetime):
    # Both branches need not_before <= now (a claimed row keeps its not_before), so the
    # (state, not_before) index narrows the scan for pending and abandoned rows alike.
    return and_(
        T.c.state.in_([MessageState.pending.value, MessageState.sending.value]),
        T.c.not_before <= now,
        or_(T.c.state == MessageState.pending.value, T.c.claimed_until < now),
    )


def _still_claimable(state: str, now: datetime):
    if state == MessageState.pending.value:
        return and_(T.c.state == state, T.c.not_before <= now)
    return and_(T.c.state == state, T.c.claimed_until < now)


def claim(session: Session, message_id: int, seen_state: str, *, worker: str, now: datetime,
          lease: timedelta) -> bool:
    """Conditionally take one row; True when this call's UPDATE changed it (rowcount 1)."""
    result = session.execute(
        update(T).where(T.c.id == message_id, _still_claimable(seen_state, now))
        .values(state=MessageState.sending.value, claimed_until=now + lease, claimed_by=worker[:60])
    )
    return result.rowcount == 1


def claim_due(db: Database, *, worker: str, batch: int = 100, now: datetime | None = None,
              lease: timedelta = timedelta(minutes=5)) -> list[OutboxMessage]:
    """Find and claim up to ``batch`` due messages; the claims are committed when this returns."""
    now = now or clock.now()
    with db.transaction() as session:
        query = select(T.c.id, T.c.state).where(_due(now)).order_by(T.c.not_before, T.c.id).limit(batch)
        if session.get_bind().dialect.name == "postgresql":
            # Workers take disjoint batches instead of queueing on each other's row locks (and then
            # finding the rows gone, as if nothing were due).
            query = query.with_for_update(skip_locked=True)
        rows = session.execute(query).all()
        # One conditional UPDATE for the batch: a row that stopped being due (another worker's
        # claim committed meanwhile) is left alone; RETURNING says which rows this call won.
        mine = list(session.scalars(
            update(T).where(T.c.id.in_([row.id for row in rows]), _due(now))
            .values(state=MessageState.sending.value, claimed_until=now + lease, claimed_by=worker[:60])
            .returning(T.c.id))) if rows else []
        if not mine:
            return []
        messages = list(session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(mine))
                                        .order_by(OutboxMessage.not_before, OutboxMessage.id)))
    return messages


def _mark_sent(db: Database, messages: list[OutboxMessage], now: datetime) -> None:
    """Mark messages sent in one transaction; an inbox message's ``InboxItem`` commits with its mark."""
    if not messages:
        return
    with db.transaction() as session:
        for message in messages:
            done = session.execute(
                update(T).where(T.c.id == message.id, T.c.state == MessageState.sending.value)
                .values(state=MessageState.sent.value, sent_at=now, claimed_until=None, last_error=None)
            ).rowcount
            if done and message.channel == MessageChannel.inbox:
                session.add(InboxItem(user_id=int(message.recipient), ticket_id=message.ticket_id,
                                      subject=message.subject, body=message.body, created_at=now))


def _mark_failed(db: Database, message: OutboxMessage, error: str, now: datetime, max_attempts: int) -> bool:
    """Record a failure; True when the message is now dead."""
    attempts = message.attempts + 1
    dead = attempts >= max_attempts
    values: dict[str, Any] = dict(attempts=attempts, last_error=error[:2000], claimed_until=None)
    if dead:
        values["state"] = MessageState.dead.value
    else:
        values.update(state=MessageState.pending.value, not_before=now + backoff(attempts))
    with db.transaction() as session:
        session.execute(update(T).where(T.c.id == message.id, T.c.state == MessageState.sending.value)
                        .values(**values))
    return dead


def deliver_due(db: Database, driver: Driver, *, worker: str, batch: int = 100, now: datetime | None = None,
                max_attempts: int = 8, lease: timedelta = timedelta(minutes=5)) -> dict[str, int]:
    """Claim the due messages, send each, and record the outcome. Returns the counts."""
    now = now or clock.now()
    counts = {"claimed": 0, "sent": 0, "retried": 0, "dead": 0}
    messages = claim_due(db, worker=worker, batch=batch, now=now, lease=lease)
    counts["claimed"] = len(messages)
    sent: list[OutboxMessage] = []
    for message in messages:
        try:
            if message.channel == MessageChannel.inbox:
                int(message.recipient)  # the InboxItem is written with the "sent" mark
            else:
                driver.send(message)
        except Exception as exc:  # noqa: BLE001 - any driver failure is recorded and retried
            error = f"{type(exc).__name__}: {exc}"
            counts["dead" if _mark_failed(db, message, error, now, max_attempts) else "retried"] += 1
            continue
        sent.append(message)
        counts["sent"] += 1
        if sum(m.channel != MessageChannel.inbox for m in sent) >= MARK_EVERY:
            _mark_sent(db, sent, now)
            sent = []
    _mark_sent(db, sent, now)
    return counts


def failed_messages(session: Session) -> list[OutboxMessage]:
    """Messages set aside after too many failures, with ``last_error``, newest first (for admins)."""
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.state == MessageState.dead)
                                .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())))


def retry_dead(session: Session, ids: list[int], *, now: datetime | None = None) -> int:
    """Put dead messages back in the queue (due now, attempts reset); returns how many."""
    if not ids:
        return 0
    result = session.execute(
        update(T).where(T.c.id.in_(ids), T.c.state == MessageState.dead.value)
        .values(state=MessageState.pending.value, attempts=0, not_before=now or clock.now(), claimed_until=None)
    )
    return result.rowcount
