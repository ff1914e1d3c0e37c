"""Limits per client over a sliding window, counted in the database (``rate_limit_hits``), so every
web process and every machine counts the same hits: three processes behind nginx allow what one
does, and a restart forgets nothing.

A hit is a row (what it counts, whose, when); a limit is full when ``limit`` rows of the key are
younger than its window. :func:`take` checks and records in the caller's transaction, one at a time
per key: on PostgreSQL under a transaction-scoped advisory lock on the key, on SQLite because one
writer runs at a time. So requests sent at once from several processes each count, and none gets
past a limit another has just filled; a request that is rolled back leaves no hit. Rows older than
a day are removed by the worker's hourly :func:`purge` (a full key gets no more rows, so a client
hammering away adds nothing).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Index, Integer, String, delete, func, insert, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from hotline.kit import clock
from hotline.kit.db import Base, UTCDateTime

KEEP = timedelta(hours=24)  # longer than any window
LOCK = 12345_0014  # first key of the (int, int) advisory locks that queue one key's hits (PostgreSQL)


class RateLimitHit(Base):
    """One counted event: a portal submission, a wrong track attempt, a 找回查询码 request …"""

    __tablename__ = "rate_limit_hits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bucket: Mapped[str] = mapped_column(String(32))  # what is counted
    key: Mapped[str] = mapped_column(String(64))  # whose (a client address)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    __table_args__ = (Index("ix_rate_limit_hits_bucket_key_at", "bucket", "key", "at"),)


@dataclass(frozen=True)
class Limit:
    bucket: str
    limit: int
    window: timedelta


def count(session: Session, limit: Limit, key: str) -> int:
    """The key's hits within the window."""
    since = clock.now() - limit.window
    return session.scalar(select(func.count()).select_from(RateLimitHit).where(
        RateLimitHit.bucket == limit.bucket, RateLimitHit.key == key[:64], RateLimitHit.at > since)) or 0


def full(session: Session, limit: Limit, key: str) -> bool:
    """Whether the key has used up its limit (a read: nothing is recorded)."""
    return count(session, limit, key) >= limit.limit


def add(session: Session, limit: Limit, key: str) -> None:
    """Record a hit (e.g. a failed attempt), whatever the count."""
    session.execute(insert(RateLimitHit).values(bucket=limit.bucket, key=key[:64], at=clock.now()))


def take(session: Session, limit: Limit, key: str) -> bool:
    """Record a hit unless the limit is full; whether it was recorded. Call it in the transaction
    of the work it allows, so the hit commits (or rolls back) with it."""
    if session.get_bind().dialect.name == "postgresql":
        lock = zlib.crc32(f"{limit.bucket}\n{key[:64]}".encode()) - 2**31  # a signed int4
        session.execute(text("SELECT pg_advisory_xact_lock(:a, :b)"), {"a": LOCK, "b": lock})
    if full(session, limit, key):
        return False
    add(session, limit, key)
    return True


def purge(session: Session, *, now: datetime | None = None) -> int:
    """Remove hits older than :data:`KEEP`; how many went."""
    gone = session.execute(delete(RateLimitHit).where(RateLimitHit.at <= (now or clock.now()) - KEEP))
    return gone.rowcount or 0
