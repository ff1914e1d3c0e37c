"""The demo's incidents: a supervisor opening 突发事件 in a fresh demo finds a water outage waiting for
a decision, a power cut confirmed with its calls linked, yesterday's road collapse confirmed with a
public notice still up, and a run of consultations dismissed; normal traffic raises nothing else."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from hotline.accounts.models import Role, User
from hotline.demo.generate import generate, load_staff
from hotline.incidents import public_notice, service
from hotline.incidents.models import Incident, IncidentState
from hotline.kit import clock
from hotline.notify.models import OutboxMessage
from hotline.tickets.models import Ticket, TicketEvent

NOW = datetime(2026, 11, 18, 2, 30, tzinfo=UTC)  # a Wednesday, 10:30 in Shanxi


@pytest.fixture
def demo(db):
    with db.transaction() as s:
        load_staff(s, None)
    summary = generate(db.session, tickets=300, days=45, seed=7, now=NOW, incidents=True)
    return db, summary


def _by_state(session) -> dict[IncidentState, list[Incident]]:
    out: dict[IncidentState, list[Incident]] = defaultdict(list)
    for incident in session.scalars(select(Incident).order_by(Incident.id)):
        out[incident.state].append(incident)
    return out


def test_the_demo_has_an_incident_to_decide_one_confirmed_and_one_dismissed(demo):
    db, summary = demo
    assert {k: v["state"] for k, v in summary["incidents"].items()} == {
        "water": "proposed", "power": "confirmed", "road": "confirmed", "insurance": "dismissed"}
    with db.session() as s:
        states = _by_state(s)
        assert {k: len(v) for k, v in states.items()} == {
            IncidentState.proposed: 1, IncidentState.confirmed: 2, IncidentState.dismissed: 1}

        # Waiting: 裴介镇's water, several of its villages, this morning, before "now".
        [water] = states[IncidentState.proposed]
        assert water.area_code == "140828102" and water.category_code.startswith("01")
        assert len(water.region_codes) >= 3 and water.population > 5000
        assert "停水" in water.title and water.decided_at is None
        assert NOW - timedelta(hours=4) < water.first_ticket_at < water.last_ticket_at <= NOW
        tickets = s.scalars(select(Ticket).where(Ticket.id.in_(service.ticket_ids(s, water)))).all()
        assert len(tickets) >= 6
        assert all(t.region_code.startswith("140828102") and t.category_code.startswith("01") for t in tickets)

        # Confirmed by a supervisor, with a note; every call of it linked and told so on its timeline.
        [power, road] = sorted(states[IncidentState.confirmed], key=lambda i: i.first_ticket_at)
        decider = s.get(User, power.decided_by_id)
        assert decider.role == Role.supervisor and "线路故障" in power.note
        assert power.area_code == "140828100" and power.category_code.startswith("02")
        linked = service.ticket_ids(s, power, linked=True)
        assert linked and linked == service.ticket_ids(s, power)
        told = set(s.scalars(select(TicketEvent.ticket_id).where(TicketEvent.action == "incident")))
        assert told == linked | service.ticket_ids(s, road)
        assert power.detected_at < power.decided_at <= NOW

        # Yesterday's road collapse in 水头镇: confirmed, and its public notice still up, so the portal
        # shows it to a citizen of the villages around (and not to one of another township).
        assert road.area_code == "140828103" and road.category_code.startswith("07")
        assert NOW - timedelta(days=2) < road.first_ticket_at < NOW - timedelta(hours=12)
        assert service.ticket_ids(s, road, linked=True) == service.ticket_ids(s, road)
        [shown] = public_notice.live(s, now=NOW, region_code="140828103202")
        assert shown.incident.id == road.id and "绕行" in shown.notice.text and "水头镇" in shown.notice.text
        assert shown.notice.published_at > road.decided_at and shown.expires_at > NOW + timedelta(hours=24)
        assert public_notice.live(s, now=NOW, region_code="140828102207") == []
        assert set(s.scalars(select(TicketEvent.ticket_id).where(TicketEvent.action == "incident_notice"))) \
            == service.ticket_ids(s, road)

        # Dismissed with its reason; nothing linked.
        [insurance] = states[IncidentState.dismissed]
        assert "不是突发事件" in insurance.note
        assert service.ticket_ids(s, insurance, linked=True) == set()
        assert insurance.last_ticket_at < power.first_ticket_at

        # Deciding about the past sent no message to anyone.
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_the_day_s_ticket_numbers_follow_the_time_of_the_call(demo):
    db, _ = demo
    with db.session() as s:
        rows = s.execute(select(Ticket.number, Ticket.received_at)).all()
    by_day: dict[str, list[tuple[str, datetime]]] = defaultdict(list)
    for number, received in rows:
        by_day[number[:8]].append((number, received))
    for day, tickets in by_day.items():
        assert day == clock.local(tickets[0][1]).strftime("%Y%m%d")
        times = [received for _, received in sorted(tickets)]
        assert times == sorted(times), day


def test_numbers_follow_the_calls_across_the_generator_s_batches(db):
    """1,000 tickets are played in several batches; a duplicate rides with its master's batch, and
    must still not take a number before a call that came earlier."""
    with db.transaction() as s:
        load_staff(s, None)
    generate(db.session, tickets=1000, days=20, seed=5, now=NOW)
    with db.session() as s:
        rows = sorted(s.execute(select(Ticket.number, Ticket.received_at)).all())
    for (n1, t1), (n2, t2) in zip(rows, rows[1:], strict=False):
        if n1[:8] == n2[:8]:
            assert t1 <= t2, (n1, n2)
