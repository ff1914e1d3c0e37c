"""Due tickets for the worker tests, what the worker owes them, and ``hotline`` as a real process.

The tickets are emergency tickets in progress (contacted), whose only running clock is the reply
deadline of 24 clock hours: warning at 80 % (19.2 h), overdue at 24 h, urging at 25 h, escalation
at 48 h. Dispatched 21 h ago the warning is due; 30 h ago warning, overdue and urging are; 10 h ago
nothing is yet. Every step is hours away from "now", so a test never straddles one.

Lead units alternate between 夏县水利局 (its handler has a phone: inbox and SMS) and 夏县住房和城乡
建设局 (its handler has none: inbox only).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from hotline.directory import reference
from hotline.kit import clock
from hotline.kit.db import Database
from hotline.notify.models import InboxItem, MessageChannel, MessageState, OutboxMessage
from hotline.supervision.models import DeadlineAlert
from hotline.tickets import lifecycle, sla, timeline
from hotline.tickets.models import Ticket, TicketEvent
from tests.builders import make_personas, register

HANDLER_PHONE = "+8613903590001"
DUE_AGES = (timedelta(hours=21), timedelta(hours=30))  # warning due; warning, overdue and urging due
NOT_DUE_AGE = timedelta(hours=10)
LADDER_ACTIONS = ("warn", "overdue", "urge", "escalate", "escalate_parent")
UNIT_TEMPLATES = {"warn": "unit.warning", "overdue": "unit.overdue", "urge": "unit.urge"}


def midday_zone(at: datetime | None = None) -> str:
    """A fixed-offset zone in which it is between 11:00 and 13:00 now: the unit notices are not
    urgent, and the night hold (22:00–07:00) must not make a test's outcome depend on when it runs."""
    offset = 12 - (at or datetime.now(UTC)).hour  # from +12 to -11 hours
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


# ---------------------------------------------------------------- the tickets


def _model_ticket(session, people, unit: int, age: timedelta, now: datetime) -> int:
    dispatched = now - age
    clock.freeze(dispatched - timedelta(minutes=10))
    ticket = register(session, people, urgency="emergency", received_at=clock.now())
    clock.freeze(dispatched)
    lifecycle.dispatch(session, ticket, actor=people.dispatcher, lead_unit_id=unit)
    lifecycle.accept(session, ticket, actor=people.handler_a if unit == people.unit_a else people.handler_b)
    lifecycle.record_contact(session, ticket, actor=people.handler_a if unit == people.unit_a else people.handler_b,
                             note="已电话联系来电人")
    session.flush()
    return ticket.id


def seed_due_tickets(db: Database, count: int) -> None:
    """``count`` tickets with steps due (half warned only, half warned, overdue and urged) and two
    with nothing due yet. The first ones go through the lifecycle, the rest are copies of them (the
    sweep reads only the ticket row). Nothing else is told about them: the timeline is muted, so the
    outbox holds only what the worker writes."""
    now = clock.now()
    try:
        with db.transaction() as session, timeline.muted():
            people = make_personas(session)
            people.handler_a.phone = HANDLER_PHONE
            session.flush()
            models = [_model_ticket(session, people, unit, age, now)
                      for age in DUE_AGES for unit in (people.unit_a, people.unit_b)]
            for unit in (people.unit_a, people.unit_b):
                _model_ticket(session, people, unit, NOT_DUE_AGE, now)
            _copy(session, models, count - len(models))
    finally:
        clock.freeze(None)


def _copy(session, model_ids: list[int], copies: int) -> None:
    table = Ticket.__table__
    rows = [dict(r._mapping) for r in session.execute(select(table).where(table.c.id.in_(model_ids))
                                                      .order_by(table.c.id))]
    batch = []
    for i in range(copies):
        row = dict(rows[i % len(rows)])
        row.pop("id")
        row["number"] = f"W{i:09d}"
        batch.append(row)
    for start in range(0, len(batch), 1000):
        session.execute(insert(table), batch[start:start + 1000])


# ---------------------------------------------------------------- what the worker owes them


@dataclass
class Owed:
    alerts: set[tuple[int, str, str, datetime]]  # (ticket, stage, step, due_at)
    messages: dict[str, str]  # idempotency key → channel
    tickets: int

    @property
    def sms(self) -> set[str]:
        return {k for k, channel in self.messages.items() if channel == "sms"}


def owed(db: Database, now: datetime | None = None) -> Owed:
    """Every ladder step due by ``now`` and the notices they owe: the latest due step of a stage
    tells the lead unit's handlers (inbox, and SMS to those with a phone)."""
    now = now or clock.now()
    alerts: set[tuple[int, str, str, datetime]] = set()
    messages: dict[str, str] = {}
    tickets = 0
    with db.transaction(write=False) as session:
        snap = reference.snapshot(session)
        staff = _staff(session)
        for ticket in session.scalars(select(Ticket)):
            due = [s for s in sla.ladder(ticket, snap.rules, snap.calendar, clock.tz()) if s.at <= now]
            assert all(s.step in UNIT_TEMPLATES for s in due), "the scenario owes no escalation"
            tickets += bool(due)
            alerts |= {(ticket.id, s.stage, s.step, s.due_at) for s in due}
            for step in {s.stage: s for s in due}.values():
                stem = f"ticket:{ticket.id}:{step.stage}:{step.step}:{step.due_at.isoformat()}"
                for user_id, phone in staff[ticket.lead_unit_id]:
                    messages[f"{stem}:u{user_id}:inbox"] = "inbox"
                    if phone:
                        messages[f"{stem}:u{user_id}:sms"] = "sms"
    return Owed(alerts, messages, tickets)


def _staff(session) -> dict[int, list[tuple[int, str | None]]]:
    from hotline.accounts.models import Role, User

    out: dict[int, list[tuple[int, str | None]]] = {}
    for user in session.scalars(select(User).where(User.role == Role.handler, User.active.is_(True))
                                .order_by(User.id)):
        out.setdefault(user.unit_id, []).append((user.id, user.phone))
    return out


def sms_log_keys(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [json.loads(line)["key"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def assert_done_exactly_once(db: Database, expected: Owed, sms_log: Path) -> None:
    """Each owed step taken once (alert and timeline event), each owed message written once and
    sent, each SMS once in the log, each inbox message once in an inbox; nothing else."""
    with db.transaction(write=False) as session:
        alerts = [(a.ticket_id, a.stage, a.step, a.due_at) for a in session.scalars(select(DeadlineAlert))]
        events = Counter((e.ticket_id, e.action) for e in session.scalars(
            select(TicketEvent).where(TicketEvent.action.in_(LADDER_ACTIONS))))
        rows = session.execute(select(OutboxMessage.key, OutboxMessage.channel, OutboxMessage.state)).all()
        inbox = session.scalar(select(func.count()).select_from(InboxItem))
    assert len(alerts) == len(set(alerts)) and set(alerts) == expected.alerts
    assert events == Counter((t, step) for t, _stage, step, _due in expected.alerts)
    assert {key: str(channel) for key, channel, _ in rows} == expected.messages
    assert Counter(str(state) for _, _, state in rows) == {MessageState.sent.value: len(expected.messages)}
    logged = sms_log_keys(sms_log)
    assert len(logged) == len(set(logged)), "an SMS was written twice"
    assert set(logged) == expected.sms
    assert inbox == sum(1 for c in expected.messages.values() if c == MessageChannel.inbox.value)


# ---------------------------------------------------------------- hotline as a process

HOTLINE = [sys.executable, "-c", "from hotline.cli.main import main; main()"]


def hotline_env(*, data_dir: Path, database_url: str | None = None, **extra: str) -> dict[str, str]:
    """The environment of a ``hotline`` process: its data directory, database and clock zone,
    nothing inherited that would point it elsewhere."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update(HOTLINE_DATA_DIR=str(data_dir), HOTLINE_TIMEZONE=clock.tz().key, PYTHONUNBUFFERED="1")
    if database_url:
        env["HOTLINE_DATABASE_URL"] = database_url
    env.update(extra)
    return env


def run_hotline(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*HOTLINE, *args], env=env, capture_output=True, text=True, timeout=timeout)


def start_hotline(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen([*HOTLINE, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def once(env: dict[str, str]) -> dict[str, int]:
    """``hotline worker --once``: exit status 0 and one JSON line of counts."""
    done = run_hotline(env, "worker", "--once")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def wait_for(condition: Callable[[], bool], *, timeout: float, every: float = 0.2, what: str = "") -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, f"timed out after {timeout}s waiting for {what or condition}"
        time.sleep(every)


def count(db: Database, model, *where) -> int:
    with db.transaction(write=False) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0
