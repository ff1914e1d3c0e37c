"""A worker killed with SIGKILL in the middle of its work loses nothing and sends nothing twice.

Real processes on a real SQLite data directory: the first run is killed while it is taking the
ladder steps of its claimed batch, the second while it is sending the notices, the third runs to
the end once the dead workers' leases have run out.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from hotline.kit.db import Database
from hotline.notify.models import MessageState, OutboxMessage
from hotline.supervision.models import DeadlineAlert
from tests.worker.scenario import (
    assert_done_exactly_once,
    count,
    hotline_env,
    once,
    owed,
    seed_due_tickets,
    start_hotline,
)

LEASE = 2  # seconds: a killed worker's claims lapse this soon


def kill_when(progress, total: int, env: dict[str, str], what: str) -> int:
    """Start ``hotline worker --once`` and SIGKILL it once ``progress()`` reaches a fifth of
    ``total``; returns the progress the dead worker left, which must be short of ``total``."""
    process = start_hotline(env, "worker", "--once")
    try:
        deadline = time.monotonic() + 120
        while progress() < total // 5:
            assert process.poll() is None, f"the worker ended before {what}: {process.communicate()}"
            assert time.monotonic() < deadline, f"no {what} within 120 s"
            time.sleep(0.005)
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()
    done = progress()
    assert done < total, f"the worker had finished {what} before it could be killed"
    return done


def test_sigkill_mid_batch_loses_nothing_and_sends_nothing_twice(data_dir: Path, data_db: Database):
    seed_due_tickets(data_db, 400)
    expected = owed(data_db)
    assert expected.tickets == 400 and len(expected.alerts) == 800
    env = hotline_env(data_dir=data_dir, HOTLINE_CLAIM_LEASE_SECONDS=str(LEASE))
    sms_log = data_dir / "outbox" / "sms.log"

    taken = kill_when(lambda: count(data_db, DeadlineAlert), len(expected.alerts), env, "the steps")
    assert 0 < taken < len(expected.alerts)
    time.sleep(LEASE + 0.5)  # the dead worker's claimed tickets are free again

    sent = kill_when(lambda: count(data_db, OutboxMessage, OutboxMessage.state == MessageState.sent),
                     len(expected.messages), env, "the messages")
    assert count(data_db, DeadlineAlert) == len(expected.alerts)  # the second run finished the ladder first
    assert 0 < sent < len(expected.messages)
    time.sleep(LEASE + 0.5)

    last = once(env)
    assert last["steps_taken"] == 0 and last["messages_sent"] == len(expected.messages) - sent
    assert once(env)["messages_sent"] == 0
    assert_done_exactly_once(data_db, expected, sms_log)
