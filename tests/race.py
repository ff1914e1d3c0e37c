"""Two transactions at the same moment, in a fixed order, for the check-then-write races.

``at_once(db, first, second)`` runs ``first`` in a transaction left open, then ``second`` in another
transaction on a thread, and commits the first only once the second waits on a lock the first
holds (or has finished without waiting: what the code did before its row was locked). So the
second always reads what it reads while the first is done but not committed: the moment the race
needs, every run. PostgreSQL only: SQLite runs one writer at a time (``BEGIN IMMEDIATE``), so there
the second would simply wait for the first to end; tests skip with that reason.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from hotline.kit.db import Database

SERIAL = (
    "SQLite runs one writer at a time (BEGIN IMMEDIATE): the second transaction starts after the first ends"
)


def postgres_only(db: Database) -> None:
    if db.dialect != "postgresql":
        pytest.skip(SERIAL)


def at_once(
    db: Database, first: Callable[[Session], Any], second: Callable[[Session], Any], *, wait: float = 10.0
) -> tuple[Any, Any]:
    """What each gave: its return value, or the exception it raised (its transaction rolled back)."""
    postgres_only(db)
    out: dict[str, Any] = {}
    winner = db.session()
    try:
        out["first"] = first(winner)
        winner.flush()
    except Exception as err:  # noqa: BLE001 - handed to the test
        winner.rollback()
        winner.close()
        raise AssertionError(f"the first transaction failed on its own: {err!r}") from err

    def run() -> None:
        try:
            with db.transaction() as s:
                out["second"] = second(s)
        except Exception as err:  # noqa: BLE001 - handed to the test
            out["second"] = err

    loser = threading.Thread(target=run)
    loser.start()
    deadline = time.monotonic() + wait
    with db.engine.connect() as watch:  # until the second waits on a lock, or is done without one
        while loser.is_alive() and not watch.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"
            )
        ):
            assert time.monotonic() < deadline, "the second transaction neither waited on a lock nor ended"
            time.sleep(0.05)
            watch.rollback()
    winner.commit()
    winner.close()
    loser.join(wait)
    assert not loser.is_alive(), "the second transaction did not end after the first committed"
    return out["first"], out["second"]
