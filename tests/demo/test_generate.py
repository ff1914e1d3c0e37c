"""The demo generator: what someone looking at a freshly generated demo would notice."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from hotline.accounts.models import User
from hotline.accounts.scope import SYSTEM
from hotline.accounts.service import verify_password
from hotline.demo.generate import generate, load_staff
from hotline.directory.loader import read_csv
from hotline.directory.models import Category
from hotline.kit import clock
from hotline.tickets.models import RequestType, Ticket, TicketEvent, TicketRequest
from hotline.tickets.queries import stats
from hotline.tickets.states import Status
from hotline.tickets.validation import KINDS

NOW = datetime(2026, 11, 18, 2, 30, tzinfo=UTC)  # a Wednesday, 10:30 in Shanxi
OPEN_QUEUES = {Status.registered, Status.dispatched, Status.accepted, Status.in_progress, Status.suspended,
               Status.return_requested, Status.replied, Status.callback_pending, Status.callback_done}


@pytest.fixture
def demo(db):
    with db.transaction() as s:
        load_staff(s, None)
    summary = generate(db.session, tickets=300, days=90, seed=7, now=NOW)
    return db, summary


def test_load_staff_creates_each_account_once_with_the_shared_password(db):
    with db.transaction() as s:
        assert load_staff(s, "demo-pass") == len(list(read_csv("staff.csv")))
    with db.transaction() as s:
        assert load_staff(s, "other") == 0
        users = list(s.scalars(select(User)))
    hashes = {u.password_hash for u in users}
    assert len(hashes) == 1  # hashed once, shared
    assert verify_password(users[0], "demo-pass")


def test_demo_caseload_looks_like_a_real_hotline(demo):
    db, summary = demo
    with db.session() as s:
        tickets = list(s.scalars(select(Ticket)))
        first_level = set(s.scalars(select(Category.code).where(Category.level == 1)))
        assert summary["tickets"] == len(tickets) == 300

        # Every first-level category and every kind of request is there.
        assert {t.category_code[:2] for t in tickets} == first_level
        kinds = Counter(t.kind for t in tickets)
        assert set(kinds) == set(KINDS)
        assert 0.4 <= kinds["consultation"] / len(tickets) <= 0.6

        # Phone is the main channel; most callers are in 夏县.
        channels = Counter(t.channel.value for t in tickets)
        assert channels.most_common(1)[0][0] == "phone"
        assert sum(t.region_code.startswith("140828") for t in tickets) > len(tickets) / 3

        # Every queue has something in it, and much is done.
        statuses = {t.status for t in tickets}
        assert statuses >= OPEN_QUEUES | {Status.closed, Status.archived, Status.merged}

        # The detours of real work happened.
        requests = Counter(r.type for r in s.scalars(select(TicketRequest)))
        assert requests[RequestType.return_] > 0 and requests[RequestType.extension] > 0
        assert any(t.master_id is not None for t in tickets)
        assert any(t.reopen_count > 0 for t in tickets)
        verdicts = Counter(e.details.get("satisfaction") for e in
                           s.scalars(select(TicketEvent).where(TicketEvent.action == "record_callback")))
        assert verdicts["dissatisfied"] > 0
        assert verdicts["satisfied"] > verdicts["basically_satisfied"] + verdicts["dissatisfied"]

        # Some tickets are overdue at the demo's "now".
        clock.freeze(NOW)
        assert stats(s, SYSTEM)["overdue_total"] > 0
        clock.freeze(None)

        # Received in the past 90 days, more on a working day than on a weekend day.
        assert all(NOW - timedelta(days=90) <= t.received_at <= NOW for t in tickets)
        per_day = Counter(clock.local(t.received_at).date() for t in tickets)
        first = clock.local(NOW - timedelta(days=89)).date()
        days = [first + timedelta(days=i) for i in range(89)]
        weekday = [per_day[d] for d in days if d.weekday() < 5]
        weekend = [per_day[d] for d in days if d.weekday() >= 5]
        assert sum(weekday) / len(weekday) > sum(weekend) / len(weekend)

        # A closed ticket was answered on the spot or asked about at callback.
        for t in tickets:
            if t.status == Status.closed:
                assert t.direct_answer or t.satisfaction is not None, t.number


def test_every_timeline_starts_with_registration_and_runs_forward(demo):
    db, _ = demo
    with db.session() as s:
        events: dict[int, list[TicketEvent]] = {}
        for e in s.scalars(select(TicketEvent).order_by(TicketEvent.id)):
            events.setdefault(e.ticket_id, []).append(e)
        received = dict(s.execute(select(Ticket.id, Ticket.received_at)).all())
    assert set(events) == set(received)
    for ticket_id, timeline in events.items():
        assert timeline[0].action == "register"
        assert timeline[0].at == received[ticket_id]
        times = [e.at for e in timeline]
        assert times == sorted(times), ticket_id
        assert times[-1] <= NOW


def test_generation_is_deterministic_and_leaves_the_clock_alone(db):
    with db.transaction() as s:
        load_staff(s, None)
    runs = [generate(db.session, tickets=80, days=30, seed=3, now=NOW) for _ in range(2)]
    for key in ("by_status", "by_kind", "returns", "merged", "reopened", "extensions"):
        assert runs[0][key] == runs[1][key]
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 160
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(minutes=1)


def test_the_demo_sends_nothing_about_the_past_and_its_callback_queue_matches_the_tickets(demo):
    from hotline.callbacks.models import CallbackTask, TaskState
    from hotline.notify.models import OutboxMessage

    db, _ = demo
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        open_tasks = set(s.scalars(select(CallbackTask.ticket_id).where(CallbackTask.state == TaskState.open)))
        waiting = set(s.scalars(select(Ticket.id).where(Ticket.status == Status.callback_pending)))
        finished = Counter(s.scalars(select(CallbackTask.state).where(CallbackTask.state != TaskState.open)))
        # Open tickets carry the sweep's mark; finished ones do not.
        unwatched_open = s.scalar(select(func.count()).select_from(Ticket).where(
            Ticket.status.in_([Status.dispatched, Status.accepted, Status.in_progress]), Ticket.watch_at.is_(None)))
        watched_closed = s.scalar(select(func.count()).select_from(Ticket).where(
            Ticket.status.in_([Status.closed, Status.archived]), Ticket.watch_at.is_not(None)))
    assert open_tasks == waiting and waiting
    assert finished[TaskState.done] > 0 and finished[TaskState.not_reached] + finished[TaskState.cancelled] > 0
    assert unwatched_open == 0 and watched_closed == 0
