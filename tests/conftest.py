"""Shared fixtures: a migrated database on each backend, personas, the movable clock.

Every test that takes ``db`` runs twice, on SQLite and on PostgreSQL. PostgreSQL tests skip with a
reason when no server answers, unless HOTLINE_REQUIRE_POSTGRES=1 (set by CI) makes that a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from hotline.directory import reference
from hotline.directory.loader import load_reference_data
from hotline.kit import clock, pg
from hotline.kit.db import Database
from hotline.migrations import upgrade
from hotline.notify.templates import load_templates
from tests.builders import Personas, make_personas

PG_ADMIN_URL = os.environ.get("HOTLINE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REQUIRE_PG = os.environ.get("HOTLINE_REQUIRE_POSTGRES") == "1"

# Tables written by tests; reference tables are loaded once per session and left alone.
MUTABLE = ["rate_limit_hits", "idempotency_keys", "fieldwork_assignments", "fieldwork_progress", "fieldwork_task_events", "fieldwork_machines",
           "fieldwork_volunteers", "fieldwork_tasks", "fieldwork_buyers", "fieldwork_operations", "employment_activity_workers", "employment_assistance", "employment_referrals", "employment_activities",
           "employment_jobs", "employment_workers", "employment_stations", "reports", "hotspot_snapshots", "rollup_assessment", "rollup_intake_area", "rollup_intake_channel", "rollup_intake_county", "rollup_state", "classification_feedback", "incident_events", "incident_notices", "incident_tickets", "incidents", "web_sessions", "callback_tasks", "deadline_alerts", "supervision_orders", "settings", "outbox_messages", "inbox_items", "message_templates", "ticket_events", "ticket_requests", "attachments", "ticket_units", "ticket_imports", "tickets", "ticket_sequences",
           "api_tokens", "users"]


def _pg_available() -> str | None:
    return pg.unreachable(PG_ADMIN_URL)


def _fresh_pg_database(worker: str) -> str:
    return pg.create_database(PG_ADMIN_URL, f"hotline_test_{worker}_{uuid.uuid4().hex[:8]}".lower())


def _drop_pg_database(url: str) -> None:
    pg.drop_database(PG_ADMIN_URL, url)


def _prepare(url: str) -> Database:
    upgrade(url)
    database = Database(url)
    with database.transaction() as session:
        load_reference_data(session)
    return database


@pytest.fixture(scope="session")
def sqlite_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    path = tmp_path_factory.mktemp("db") / "hotline.db"
    database = _prepare(f"sqlite:///{path}")
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def postgres_db(worker_id: str) -> Iterator[Database]:
    reason = _pg_available()
    if reason:
        if REQUIRE_PG:
            pytest.fail(f"HOTLINE_REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)
    url = _fresh_pg_database(worker_id)
    database = _prepare(url)
    yield database
    database.dispose()
    _drop_pg_database(url)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest) -> Iterator[Database]:
    database: Database = request.getfixturevalue(f"{request.param}_db")
    _clean(database)
    yield database
    clock.freeze(None)
    _clean(database)


def _clean(database: Database) -> None:
    with database.transaction() as session:
        for table in MUTABLE:
            session.execute(text(f"DELETE FROM {table}"))
        # Holiday years added by a test (2027 and later) are removed again.
        session.execute(text("DELETE FROM holidays WHERE day >= :d"), {"d": "2027-01-01"})
        session.execute(text("DELETE FROM holiday_years WHERE year >= 2027"))
        # Every ticket event may owe a message (notices): the shipped templates, as `hotline init` loads them.
        load_templates(session)
    reference.invalidate()


@pytest.fixture
def session(db: Database) -> Iterator:
    """A session whose work is committed at the end of the test body (like an edge would)."""
    s = db.session()
    try:
        yield s
        s.commit()
    finally:
        s.close()


@pytest.fixture
def people(session) -> Personas:
    personas = make_personas(session)
    session.commit()
    return personas


@pytest.fixture(scope="session", autouse=True)
def _wired() -> None:
    """Follow-ups (notices, callback tasks) listen to the timeline, as in every entry point."""
    from hotline import wiring

    wiring.install()


@pytest.fixture(autouse=True)
def _reset_clock() -> Iterator[None]:
    yield
    clock.freeze(None)
