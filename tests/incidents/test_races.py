"""Two supervisors deciding one incident at the same moment (two tabs, or two web processes on
PostgreSQL): the second waits for the first's row lock and is refused in the words it would get a
moment later, so an incident is never dismissed with its tickets linked, nor emptied."""

from __future__ import annotations

from sqlalchemy import func, select

from hotline.accounts.models import User
from hotline.incidents import service
from hotline.incidents.models import Incident, IncidentState, IncidentTicket
from hotline.kit.errors import TransitionNotAllowed
from hotline.tickets.models import TicketEvent
from tests.builders import make_ticket
from tests.incidents.test_detect import _detected
from tests.race import at_once


def _proposed(db, people) -> int:
    with db.transaction() as s:
        return _detected(s, people).id


def _confirmed(db, people) -> int:
    with db.transaction() as s:
        incident = _detected(s, people)
        service.confirm(s, incident, actor=s.get(User, people.supervisor.id))
        return incident.id


def _do(incident_id: int, who, action, **kwargs):
    return lambda s: action(s, s.get(Incident, incident_id), actor=s.get(User, who.id), **kwargs)


def _links(db, incident_id: int) -> tuple[IncidentState, int, int]:
    """The incident's state, its links that are linked, and the 'incident' lines on timelines."""
    with db.transaction(write=False) as s:
        linked = s.scalar(
            select(func.count())
            .select_from(IncidentTicket)
            .where(IncidentTicket.incident_id == incident_id, IncidentTicket.linked.is_(True))
        )
        told = s.scalar(select(func.count()).select_from(TicketEvent).where(TicketEvent.action == "incident"))
        return s.get(Incident, incident_id).state, linked, told


def test_confirm_and_dismiss_sent_at_once_leave_it_confirmed_and_the_dismissal_refused(db, people):
    """Before: the dismissal overwrote the state, leaving a dismissed incident with 7 linked tickets."""
    incident_id = _proposed(db, people)
    first, second = at_once(
        db,
        _do(incident_id, people.supervisor, service.confirm, note="闸阀井故障"),
        _do(incident_id, people.dispatcher, service.dismiss, reason="不是同一件事"),
    )
    assert isinstance(second, TransitionNotAllowed) and second.message == "该事件已确认，不能再排除", second
    assert _links(db, incident_id) == (IncidentState.confirmed, 7, 7)


def test_dismiss_and_confirm_sent_at_once_leave_it_dismissed_and_nothing_linked(db, people):
    incident_id = _proposed(db, people)
    first, second = at_once(
        db,
        _do(incident_id, people.dispatcher, service.dismiss, reason="不是同一件事"),
        _do(incident_id, people.supervisor, service.confirm, note="闸阀井故障"),
    )
    assert isinstance(second, TransitionNotAllowed) and second.message == "该事件已排除，不能再确认", second
    assert _links(db, incident_id) == (IncidentState.dismissed, 0, 0)


def test_a_ticket_added_while_the_incident_is_ended_is_refused(db, people):
    incident_id = _confirmed(db, people)
    with db.transaction() as s:
        stray = make_ticket(
            s, people, category_code="0101", region_code="140828102205", urgency="normal"
        ).number
    first, second = at_once(
        db,
        _do(incident_id, people.supervisor, service.end),
        _do(incident_id, people.dispatcher, service.add_tickets, numbers=[stray]),
    )
    assert isinstance(second, TransitionNotAllowed) and second.message == "已结束的事件不能添加工单", second
    assert _links(db, incident_id) == (IncidentState.ended, 7, 7)


def test_the_last_two_tickets_taken_out_at_once_leave_one(db, people):
    """Before: each removal counted the other ticket as still in, and the incident was left empty."""
    incident_id = _confirmed(db, people)
    with db.transaction() as s:
        numbers = [t.number for t in service.tickets_of(s, s.get(Incident, incident_id))]
        for number in numbers[2:]:
            service.remove_ticket(
                s, s.get(Incident, incident_id), actor=s.get(User, people.supervisor.id), number=number
            )
    first, second = at_once(
        db,
        _do(incident_id, people.supervisor, service.remove_ticket, number=numbers[0]),
        _do(incident_id, people.dispatcher, service.remove_ticket, number=numbers[1]),
    )
    assert isinstance(second, TransitionNotAllowed) and second.code == "incident_last_ticket", second
    assert _links(db, incident_id)[:2] == (IncidentState.confirmed, 1)
