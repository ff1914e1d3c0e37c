"""The hourly statistics job: SQLite gets planner statistics, PostgreSQL is left to autovacuum."""

from __future__ import annotations

from sqlalchemy import text

from hotline.worker.jobs import refresh_statistics
from tests.builders import make_ticket


def test_sqlite_gets_statistics_for_the_ticket_indexes(db, session, people):
    for _ in range(3):
        make_ticket(session, people)
    session.commit()
    ran = refresh_statistics(db)
    with db.transaction(write=False) as s:
        if s.get_bind().dialect.name == "sqlite":
            assert ran
            indexes = set(s.scalars(text("SELECT idx FROM sqlite_stat1 WHERE tbl = 'tickets'")))
            assert "ix_tickets_open_region_received" in indexes
        else:
            assert ran is False
