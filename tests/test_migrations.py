"""The migrations build exactly the schema the models describe, on SQLite and on PostgreSQL.

A model change without a migration (or a hand-edited migration that drifts) shows up here as a
non-empty autogenerate diff.
"""

from __future__ import annotations

from pprint import pformat

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from hotline.migrations import current_head, upgrade
from hotline.migrations.models import metadata
from tests.conftest import REQUIRE_PG, _drop_pg_database, _fresh_pg_database, _pg_available

# Autogenerate cannot compare expression indexes (lower(username), migration 0019) and says so;
# that index is shown at work by tests/web/test_admin_pages.py instead.
pytestmark = [
    pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index"),
    pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index"),
]


def _diff(url: str) -> list:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
            assert context.get_current_revision() == current_head()
            return compare_metadata(context, metadata)
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_sqlite_migrated_from_empty_matches_the_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    upgrade(url)
    assert set(metadata.tables) <= _tables(url)
    diff = _diff(url)
    assert diff == [], pformat(diff)


@pytest.mark.postgres
def test_postgres_migrated_from_empty_matches_the_models(worker_id):
    reason = _pg_available()
    if reason:
        if REQUIRE_PG:
            pytest.fail(f"HOTLINE_REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)
    url = _fresh_pg_database(f"mig_{worker_id}")
    try:
        upgrade(url)
        assert set(metadata.tables) <= _tables(url)
        diff = _diff(url)
        assert diff == [], pformat(diff)
    finally:
        _drop_pg_database(url)


def test_upgrading_twice_changes_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'twice.db'}"
    upgrade(url)
    upgrade(url)
    assert _diff(url) == []


def test_open_tickets_from_before_the_sweep_are_swept_after_the_upgrade(tmp_path):
    """Migration 0003 adds ``watch_at``: tickets already open get it, so their clocks are watched."""
    from datetime import UTC, datetime

    from sqlalchemy import MetaData, Table, select

    from hotline.directory.loader import load_reference_data
    from hotline.kit.db import Database

    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0002")
    db = Database(url)
    with db.transaction() as s:
        load_reference_data(s)
    engine = create_engine(url)
    tickets = Table("tickets", MetaData(), autoload_with=engine)
    now = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
    row = {"query_code": "123456", "version": 1, "channel": "phone", "kind": "help", "category_code": "0103",
           "urgency": "normal", "caller_anonymous": True, "caller_confidential": False, "region_code": "140828102207",
           "title": "停水", "content": "朱吕村停水", "received_at": now, "dispatch_due_at": now,
           "due_basis": {}, "suspended_seconds": 0, "extension_count": 0, "dispatch_count": 0, "reopen_count": 0,
           "callback_attempts": 0, "updated_at": now}
    with engine.begin() as conn:
        conn.execute(tickets.insert(), [{**row, "number": "20261102-000001", "status": "registered"},
                                        {**row, "number": "20261102-000002", "status": "closed"}])
    engine.dispose()
    upgrade(url)
    with db.session() as s:
        from hotline.tickets.models import Ticket

        marks = dict(s.execute(select(Ticket.number, Ticket.watch_at)).all())
    assert marks["20261102-000001"] is not None and marks["20261102-000002"] is None
    db.dispose()


def test_usernames_differing_only_in_case_stop_the_upgrade_with_their_names(tmp_path):
    """Migration 0019 adds a unique index on lower(username); a database already holding
    Agent1 and agent1 is told which names to rename, and is left as it was."""
    from datetime import UTC, datetime

    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import MetaData, Table

    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0018")
    engine = create_engine(url)
    users = Table("users", MetaData(), autoload_with=engine)
    now = datetime(2026, 11, 2, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(users.insert(), [{"username": name, "display_name": name, "role": "agent", "active": True,
                                       "created_at": now, "failed_logins": 0} for name in ("agent1", "Agent1", "wang")])
    with pytest.raises(RuntimeError, match="用户名只差大小写的账号须先改名，再升级数据库：agent1"):
        upgrade(url)
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == "0018"
    with engine.begin() as conn:
        conn.execute(users.update().where(users.c.username == "Agent1").values(username="agent1-b"))
    engine.dispose()
    upgrade(url)
