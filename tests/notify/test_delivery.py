"""Sending the outbox: what lands in the log, the inbox, the retries and the admins' failed list."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta

from sqlalchemy import select

from hotline.kit import clock
from hotline.notify.delivery import claim, claim_due, deliver_due, failed_messages, retry_dead
from hotline.notify.drivers import FileDriver
from hotline.notify.models import InboxItem, OutboxMessage
from hotline.notify.outbox import enqueue

RECEIPT = {"ticket_number": "20261128-000123", "query_code": "482913"}
NOON = datetime(2026, 11, 30, 12, 0)


def _sms(db, n: int = 1, prefix: str = "m") -> None:
    with db.transaction() as s:
        for i in range(n):
            enqueue(s, key=f"{prefix}{i}", channel="sms", recipient=f"+86138035900{i:02d}",
                    template_code="caller.receipt", context=RECEIPT)


def _message(db, key: str) -> OutboxMessage:
    with db.transaction(write=False) as s:
        return s.scalars(select(OutboxMessage).where(OutboxMessage.key == key)).one()


class Recorder:
    def __init__(self):
        self.sent: list[str] = []
        self._lock = threading.Lock()

    def send(self, message):
        with self._lock:
            self.sent.append(message.key)


class Broken:
    def send(self, message):
        raise ConnectionError("网关连接被拒绝")


def test_file_driver_writes_one_line_per_message_and_nothing_twice(tdb, tmp_path):
    clock.freeze(NOON)
    _sms(tdb, 3)
    log = tmp_path / "outbox.log"
    driver = FileDriver(log)
    assert deliver_due(tdb, driver, worker="w1") == {"claimed": 3, "sent": 3, "retried": 0, "dead": 0}
    assert deliver_due(tdb, driver, worker="w1") == {"claimed": 0, "sent": 0, "retried": 0, "dead": 0}
    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert sorted(line["key"] for line in lines) == ["m0", "m1", "m2"]
    assert "查询码482913" in lines[0]["text"]
    sent = _message(tdb, "m0")
    assert sent.state == "sent" and sent.sent_at == clock.now()


def test_a_held_sms_goes_out_at_seven(tdb, tmp_path):
    clock.freeze(datetime(2026, 11, 28, 23, 30))
    _sms(tdb, 1)
    driver = Recorder()
    assert deliver_due(tdb, driver, worker="w")["claimed"] == 0
    clock.freeze(datetime(2026, 11, 29, 6, 59))
    assert deliver_due(tdb, driver, worker="w")["claimed"] == 0
    clock.freeze(datetime(2026, 11, 29, 7, 0))
    assert deliver_due(tdb, driver, worker="w")["sent"] == 1 and driver.sent == ["m0"]


def test_an_inbox_message_appears_in_the_users_inbox_once(tdb, people):
    clock.freeze(datetime(2026, 11, 28, 23, 30))  # inbox messages are never held
    user = people.handler_a
    with tdb.transaction() as s:
        enqueue(s, key="t9:dispatch:u", channel="inbox", recipient=str(user.id), template_code="unit.dispatch",
                context={"ticket_number": "20261128-000009", "title": "朱吕村停水", "deadline": "11月29日18:00"})
    driver = Recorder()
    assert deliver_due(tdb, driver, worker="w")["sent"] == 1
    assert deliver_due(tdb, driver, worker="w")["claimed"] == 0
    assert driver.sent == []  # no driver involved
    with tdb.transaction(write=False) as s:
        items = s.scalars(select(InboxItem).where(InboxItem.user_id == user.id)).all()
    assert len(items) == 1
    assert items[0].subject == "新派工单20261128-000009" and "朱吕村停水" in items[0].body
    assert items[0].read_at is None


def test_a_failing_gateway_is_retried_with_growing_waits_then_set_aside(tdb):
    clock.freeze(NOON)
    _sms(tdb, 1)
    waits = []
    for attempt in range(1, 4):
        counts = deliver_due(tdb, Broken(), worker="w", max_attempts=4)
        assert counts == {"claimed": 1, "sent": 0, "retried": 1, "dead": 0}
        msg = _message(tdb, "m0")
        assert msg.state == "pending" and msg.attempts == attempt
        assert "网关连接被拒绝" in msg.last_error
        waits.append(msg.not_before - clock.now())
        assert deliver_due(tdb, Broken(), worker="w")["claimed"] == 0  # not due yet
        clock.freeze(msg.not_before)
    assert waits == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert deliver_due(tdb, Broken(), worker="w", max_attempts=4)["dead"] == 1
    clock.advance(timedelta(days=2))
    assert deliver_due(tdb, Broken(), worker="w", max_attempts=4)["claimed"] == 0  # dead stays put

    with tdb.transaction() as s:
        failed = failed_messages(s)
        assert [(m.key, m.attempts) for m in failed] == [("m0", 4)]
        assert "ConnectionError" in failed[0].last_error and "网关连接被拒绝" in failed[0].last_error
        assert retry_dead(s, [failed[0].id]) == 1
    driver = Recorder()
    assert deliver_due(tdb, driver, worker="w") == {"claimed": 1, "sent": 1, "retried": 0, "dead": 0}
    with tdb.transaction(write=False) as s:
        assert failed_messages(s) == []


def test_backoff_is_capped_at_six_hours(tdb):
    clock.freeze(NOON)
    _sms(tdb, 1)
    with tdb.transaction() as s:
        s.scalars(select(OutboxMessage)).one().attempts = 20
    deliver_due(tdb, Broken(), worker="w", max_attempts=30)
    assert _message(tdb, "m0").not_before - clock.now() == timedelta(hours=6)


def test_one_row_is_claimed_by_one_worker_only(tdb):
    clock.freeze(NOON)
    _sms(tdb, 1)
    now, lease = clock.now(), timedelta(minutes=5)
    msg_id = _message(tdb, "m0").id
    # Both workers saw the row pending in their SELECT; only the first conditional UPDATE wins.
    with tdb.transaction() as s:
        assert claim(s, msg_id, "pending", worker="w1", now=now, lease=lease) is True
    with tdb.transaction() as s:
        assert claim(s, msg_id, "pending", worker="w2", now=now, lease=lease) is False
    assert claim_due(tdb, worker="w2", now=now) == []
    claimed = _message(tdb, "m0")
    assert claimed.state == "sending" and claimed.claimed_by == "w1" and claimed.claimed_until == now + lease


def test_concurrent_workers_send_each_message_exactly_once(tdb):
    clock.freeze(NOON)
    _sms(tdb, 40)
    driver = Recorder()
    totals = []

    def work(name):
        while True:
            counts = deliver_due(tdb, driver, worker=name, batch=5)
            totals.append(counts["sent"])
            if counts["claimed"] == 0:
                return

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(driver.sent) == sorted(f"m{i}" for i in range(40))
    assert sum(totals) == 40


def test_an_abandoned_lease_is_reclaimed_after_it_expires(tdb):
    clock.freeze(NOON)
    _sms(tdb, 1)
    lease = timedelta(minutes=5)
    assert len(claim_due(tdb, worker="dies", lease=lease)) == 1  # ...and never sends
    driver = Recorder()
    clock.advance(timedelta(minutes=4))
    assert deliver_due(tdb, driver, worker="w2", lease=lease)["claimed"] == 0  # lease still held
    clock.advance(timedelta(minutes=2))
    assert deliver_due(tdb, driver, worker="w2", lease=lease) == {"claimed": 1, "sent": 1, "retried": 0, "dead": 0}
    assert driver.sent == ["m0"]
    assert _message(tdb, "m0").state == "sent"
