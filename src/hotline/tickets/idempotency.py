"""Idempotency keys: a caller's retry of a request that registers a ticket gets the first answer
again instead of a second ticket (the HTTP side, the ``Idempotency-Key`` header, is
:mod:`hotline.api.idempotency`).

A key is the caller's (an account: all its API tokens share the keys) and unique per account, held
by the database: :func:`claim` inserts the row first thing in the request's transaction, so of two
requests with one key the second waits on the first's index entry (PostgreSQL) or on the single
writer (SQLite) and then finds the committed row. The row, the ticket and the answer commit
together: a crash before the commit leaves neither (the retry registers the ticket once), never a
ticket without its key nor a key without its answer. A key is kept :data:`KEEP` (24 hours); after
that it is free again: taken over by the next request that uses it, and removed by the worker's
hourly :func:`purge_expired`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from hotline.kit import clock
from hotline.kit.db import Base, UTCDateTime

KEEP = timedelta(hours=24)
MAX_KEY = 255  # characters, as the IETF draft's examples and Stripe allow


class IdempotencyKey(Base):
    """One caller's key: the fingerprint of the request that first used it and that request's
    answer (status, media type, body as sent), and the ticket it registered."""

    __tablename__ = "idempotency_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(MAX_KEY))
    fingerprint: Mapped[str] = mapped_column(String(64))  # SHA-256 of the endpoint and the body
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # The answer: set in the same transaction as the claim, so a committed row always has one.
    status_code: Mapped[int | None] = mapped_column(Integer)
    media_type: Mapped[str | None] = mapped_column(String(100))
    body: Mapped[str | None] = mapped_column(Text)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))

    __table_args__ = (UniqueConstraint("user_id", "key"),)


@dataclass(frozen=True)
class Claim:
    """What :func:`claim` found: ``new`` when this request holds the key now (and must
    :func:`keep` its answer before committing), else the row of the request that used it first."""

    row: IdempotencyKey
    new: bool


def claim(
    session: Session, *, user_id: int, key: str, fingerprint: str, now: datetime | None = None
) -> Claim:
    """Take ``key`` for this request, or find who took it first. An expired row of the key is
    removed first (the key is free again). The insert is ``ON CONFLICT DO NOTHING``: on PostgreSQL
    it waits for a transaction holding the same key to end, then the select (a new snapshot under
    READ COMMITTED) reads that transaction's committed row; never two rows, never an error."""
    now = now or clock.now()
    T = IdempotencyKey.__table__
    session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.user_id == user_id, IdempotencyKey.key == key, IdempotencyKey.expires_at <= now
        )
    )
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    values = {
        "user_id": user_id,
        "key": key,
        "fingerprint": fingerprint,
        "created_at": now,
        "expires_at": now + KEEP,
    }
    statement = (
        insert(T).values(values).on_conflict_do_nothing(index_elements=["user_id", "key"]).returning(T.c.id)
    )
    while True:  # again only if the row we met was removed (expired) before we could read it
        new_id = session.execute(statement).scalar()
        if new_id is not None:
            return Claim(session.get_one(IdempotencyKey, new_id), new=True)
        first = session.scalars(
            select(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
        ).first()
        if first is not None:
            return Claim(first, new=False)


def keep(
    session: Session,
    row: IdempotencyKey,
    *,
    status_code: int,
    media_type: str,
    body: str,
    ticket_id: int | None,
) -> None:
    """The answer to replay for the key (flushed: the caller's transaction commits it with the ticket)."""
    row.status_code, row.media_type, row.body, row.ticket_id = status_code, media_type, body, ticket_id
    session.flush()


def purge_expired(session: Session, *, now: datetime | None = None) -> int:
    """Remove the keys past their :data:`KEEP`; how many were removed."""
    gone = session.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at <= (now or clock.now())))
    return gone.rowcount or 0
