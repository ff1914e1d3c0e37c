"""Ticket numbers: the local day and that day's sequence, handed out by one atomic upsert."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlalchemy.orm import Session

from hotline.kit.ids import ticket_number

_UPSERT = text(
    "INSERT INTO ticket_sequences (day, last) VALUES (:day, 1) "
    "ON CONFLICT (day) DO UPDATE SET last = ticket_sequences.last + 1 RETURNING last"
)


def next_number(session: Session, day: date) -> str:
    """Unique under concurrency: the row lock (PostgreSQL) or the write lock (SQLite) serialises
    writers on the same day, and the number is part of the same transaction as the ticket."""
    seq = session.execute(_UPSERT, {"day": day}).scalar_one()
    return ticket_number(day.strftime("%Y%m%d"), seq)
