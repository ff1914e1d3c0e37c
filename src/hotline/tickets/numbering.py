"""Ticket numbers: the local day and that day's sequence, handed out by one atomic upsert."""

from __future__ import annotations

import unicodedata
from datetime import date

from sqlalchemy import text
from sqlalchemy.orm import Session

from hotline.kit.ids import ticket_number

_UPSERT = text(
    "INSERT INTO ticket_sequences (day, last) VALUES (:day, 1) "
    "ON CONFLICT (day) DO UPDATE SET last = ticket_sequences.last + 1 RETURNING last"
)


def next_number(session: Session, day: date) -> str:
    """The next number of ``day``, unique under any concurrency.

    On PostgreSQL the counter row is bumped in its own short autocommit transaction: inside the
    ticket's transaction its row lock would be held until commit and serialise every intake in
    the city. The price is a gap in the day's numbers when a registration is rolled back, which
    is harmless (numbers are identifiers, not counts). SQLite has a single writer anyway, so there
    the counter stays in the ticket's own transaction and never has gaps.
    """
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        with bind.begin() as conn:
            # No need to wait for this commit to reach the disk: the ticket's own (synchronous)
            # commit comes later in the same WAL and flushes it too; if the ticket is lost in a
            # crash, so may the bump be, and nothing was handed out twice.
            conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
            seq = conn.execute(_UPSERT, {"day": day}).scalar_one()
    else:
        seq = session.execute(_UPSERT, {"day": day}).scalar_one()
    return ticket_number(day.strftime("%Y%m%d"), seq)


def typed_number(typed: str) -> str:
    """A ticket number as a person may type it, as stored: full-width digits and hyphen made ASCII
    (NFKC), spaces dropped, and ``20261129000001`` (without the hyphen) as ``20261129-000001``."""
    number = "".join(unicodedata.normalize("NFKC", typed or "").split()).upper()
    if len(number) == 14 and number.isascii() and number.isdigit():
        number = f"{number[:8]}-{number[8:]}"
    return number
