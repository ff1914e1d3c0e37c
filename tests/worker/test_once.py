"""``hotline worker --once`` as an operator's cron job runs it: a real process on a data directory."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from hotline.config import load_settings
from hotline.kit.db import Database
from hotline.tickets.models import Ticket, TicketEvent
from tests.worker.scenario import (
    HANDLER_PHONE,
    assert_done_exactly_once,
    hotline_env,
    once,
    owed,
    run_hotline,
    seed_due_tickets,
    sms_log_keys,
)


def test_once_warns_and_urges_the_due_tickets_sends_the_notices_and_a_second_run_adds_nothing(tmp_path: Path):
    data = tmp_path / "data"
    env = hotline_env(data_dir=data)
    assert run_hotline(env, "init").returncode == 0
    db = Database(load_settings({"HOTLINE_DATA_DIR": str(data)}).database_url)
    try:
        seed_due_tickets(db, 12)
        expected = owed(db)
        assert expected.tickets == 12 and len(expected.alerts) == 24 and len(expected.sms) == 6

        counts = once(env)
        assert counts == {"tickets_swept": 12, "steps_taken": 24, "orders_overdue": 0, "incidents_proposed": 0,
                          "messages_sent": len(expected.messages), "messages_retried": 0, "messages_dead": 0}
        sms_log = data / "outbox" / "sms.log"
        assert_done_exactly_once(db, expected, sms_log)
        with db.transaction(write=False) as s:
            urged = s.scalars(select(TicketEvent).where(TicketEvent.action == "urge")).first()
            assert urged is not None and urged.actor_name == "系统" and "催办" in urged.reason
            not_due = s.scalars(select(Ticket).where(Ticket.id.not_in({a[0] for a in expected.alerts}))).all()
            assert len(not_due) == 2 and all(t.watch_at is not None for t in not_due)  # their time will come
        log_before = sms_log.read_bytes()
        lines = [json.loads(line) for line in sms_log.read_text(encoding="utf-8").splitlines()]
        assert Counter(line["template"] for line in lines) == {"unit.warning": 3, "unit.urge": 3}
        assert all(line["to"] == HANDLER_PHONE for line in lines)
        assert any("现予催办" in line["text"] for line in lines) and any("时限将于" in line["text"] for line in lines)

        assert once(env) == dict.fromkeys(counts, 0)
        assert sms_log.read_bytes() == log_before
        assert_done_exactly_once(db, expected, sms_log)
        assert len(sms_log_keys(sms_log)) == 6
    finally:
        db.dispose()
