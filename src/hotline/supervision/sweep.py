"""The deadline sweep: find tickets whose supervision ladder has a step due, claim each, act once.

Find: ``tickets.watch_at <= now`` through ``ix_tickets_watch_at`` (the lifecycle points
``watch_at`` at the earliest step of the ladder whenever a status or a due time changes).

Claim: one conditional UPDATE per batch moves ``watch_at`` of the found rows to ``now + lease``
``WHERE id IN (...) AND watch_at <= now`` and returns the rows it changed; it commits before any
work is done. A row another worker claimed first no longer matches (PostgreSQL re-checks the
condition after waiting for that worker's lock; ``FOR UPDATE SKIP LOCKED`` in the find step keeps
workers off each other's rows in the first place; SQLite writes are serialised), so two workers
never hold one ticket. A worker that dies leaves ``watch_at`` at the lease's end; then any worker
takes the ticket again.

Act: in one transaction per few tickets (each alone if that fails), every step due and not yet taken is taken: a
``DeadlineAlert`` row (unique per ticket, stage, step and due time: the backstop that makes a
step happen once even if a lease ran out mid-work), a ``TicketEvent``, and the notices in the
outbox. Then ``watch_at`` moves to the next step, unless the lifecycle re-pointed it meanwhile.
The sweep writes ``watch_at`` with Core statements that leave the ticket's version alone, so a
sweep never makes a person's concurrent action fail with a conflict.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hotline.directory import reference
from hotline.kit import clock
from hotline.kit.db import Database
from hotline.notify import recipients
from hotline.supervision import steps as ladder_steps
from hotline.supervision.models import DeadlineAlert
from hotline.tickets import sla
from hotline.tickets.models import Ticket

log = logging.getLogger(__name__)
T = Ticket.__table__
DEFAULT_LEASE = timedelta(minutes=5)
CHUNK = 25  # tickets acted on per transaction


def find_due(session: Session, *, now: datetime, batch: int) -> list[int]:
    """Ids of tickets with a step due, oldest mark first (an index range scan on ``watch_at``)."""
    query = select(T.c.id).where(T.c.watch_at <= now).order_by(T.c.watch_at).limit(batch)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query))


def claim_due(db: Database, *, now: datetime | None = None, batch: int = 500,
              lease: timedelta = DEFAULT_LEASE) -> list[tuple[int, datetime]]:
    """Find and claim up to ``batch`` due tickets; returns ``(id, lease end)`` of the ones this call
    won, committed before it returns."""
    now = now or clock.now()
    until = now + lease
    with db.transaction(write=True) as session:
        ids = find_due(session, now=now, batch=batch)
        if not ids:
            return []
        won = session.scalars(update(T).where(T.c.id.in_(ids), T.c.watch_at <= now)
                              .values(watch_at=until).returning(T.c.id)).all()
    return [(ticket_id, until) for ticket_id in sorted(won)]


def _act_in(session: Session, ticket_id: int, claimed_until: datetime, now: datetime) -> int:
    """Take every due, untaken step of one claimed ticket in ``session``; returns how many.

    The ticket's row is locked first (``SELECT … FOR UPDATE``, read afresh), as 催办 and 督办 by
    hand lock it: an escalation and a supervisor's order sent at the same moment run one after
    the other, so the ladder sees the order (and folds its own into it) or the supervisor sees the
    ladder's (and is refused a second of the same level)."""
    ticket = session.get(Ticket, ticket_id, with_for_update=True, populate_existing=True)
    if ticket is None:
        return 0
    snap = reference.snapshot(session)
    steps = sla.ladder(ticket, snap.rules, snap.calendar, clock.tz())
    done = {(a.stage, a.step, a.due_at) for a in session.execute(
        select(DeadlineAlert.stage, DeadlineAlert.step, DeadlineAlert.due_at)
        .where(DeadlineAlert.ticket_id == ticket_id))}
    due = [s for s in steps if s.at <= now and (s.stage, s.step, s.due_at) not in done]
    latest = {s.stage: s for s in due}  # only the latest due step of a stage notifies
    for step in due:
        ladder_steps.take(session, ticket, step, snap, now=now, notify=latest[step.stage] is step)
    later = [s.at for s in steps if s.at > now]
    session.execute(update(T).where(T.c.id == ticket_id, T.c.watch_at == claimed_until)
                    .values(watch_at=min(later) if later else None))
    return len(due)


def act(db: Database, ticket_id: int, claimed_until: datetime, *, now: datetime) -> int:
    """One claimed ticket in its own transaction; returns how many steps were taken."""
    try:
        with db.transaction(write=True) as session, recipients.remembered():
            return _act_in(session, ticket_id, claimed_until, now)
    except IntegrityError:
        # Another worker took these steps after this one's lease ran out: nothing is done twice.
        log.warning("ticket %s: supervision steps already taken by another worker", ticket_id)
        return 0


def act_chunk(db: Database, chunk: list[tuple[int, datetime]], *, now: datetime) -> int:
    """A few claimed tickets in one transaction (one commit instead of many); if anything in it
    fails, each ticket again in its own, so one bad ticket holds up no other."""
    try:
        with db.transaction(write=True) as session, recipients.remembered():
            return sum(_act_in(session, ticket_id, until, now) for ticket_id, until in chunk)
    except Exception:  # noqa: BLE001 - retried one by one below, where errors are reported per ticket
        log.info("chunk of %s tickets failed; acting on each alone", len(chunk))
    taken = 0
    for ticket_id, until in chunk:
        try:
            taken += act(db, ticket_id, until, now=now)
        except Exception:  # noqa: BLE001 - the lease runs out and a later sweep tries again
            log.exception("ticket %s: supervision step failed; retried after the lease", ticket_id)
    return taken


def sweep_deadlines(db: Database, *, worker: str = "worker", now: datetime | None = None, batch: int = 500,
                    lease: timedelta = DEFAULT_LEASE, max_batches: int | None = None) -> dict[str, int]:
    """Claim and act on due tickets, batch after batch, until none is due (or ``max_batches``)."""
    counts = {"tickets": 0, "steps": 0, "batches": 0}
    while max_batches is None or counts["batches"] < max_batches:
        at = now or clock.now()
        claimed = claim_due(db, now=at, batch=batch, lease=lease)
        if not claimed:
            break
        counts["batches"] += 1
        for i in range(0, len(claimed), CHUNK):
            counts["steps"] += act_chunk(db, claimed[i:i + CHUNK], now=at)
        counts["tickets"] += len(claimed)
    if counts["tickets"]:
        log.info("%s: deadline sweep took %s steps on %s tickets", worker, counts["steps"], counts["tickets"])
    return counts
