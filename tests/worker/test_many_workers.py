"""Three workers at once on PostgreSQL, 5,000 due tickets: every step and every notice exactly once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hotline.kit.db import Database
from tests.worker.scenario import assert_done_exactly_once, hotline_env, owed, seed_due_tickets, start_hotline

pytestmark = pytest.mark.postgres

TICKETS = 5000
WORKERS = 3


def test_three_workers_take_every_step_and_send_every_notice_exactly_once(pg_db: Database, tmp_path: Path):
    seed_due_tickets(pg_db, TICKETS)
    expected = owed(pg_db)
    assert expected.tickets == TICKETS
    assert len(expected.alerts) == 2 * TICKETS and len(expected.messages) == 3 * TICKETS // 2

    env = hotline_env(data_dir=tmp_path / "data", database_url=pg_db.url)
    workers = [start_hotline(env, "worker", "--once") for _ in range(WORKERS)]
    results = [w.communicate(timeout=300) for w in workers]
    assert [w.returncode for w in workers] == [0] * WORKERS, [err for _, err in results]
    counts = [json.loads(out.strip().splitlines()[-1]) for out, _ in results]

    assert sum(c["tickets_swept"] for c in counts) == TICKETS
    assert sum(c["steps_taken"] for c in counts) == len(expected.alerts)
    assert sum(c["messages_sent"] for c in counts) == len(expected.messages)
    assert sum(c["tickets_swept"] > 0 for c in counts) >= 2, f"the workers did not share the work: {counts}"
    assert_done_exactly_once(pg_db, expected, tmp_path / "data" / "outbox" / "sms.log")
