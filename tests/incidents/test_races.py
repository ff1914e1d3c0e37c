"""Two supervisors deciding one incident at the same moment (two tabs, or two web processes on
PostgreSQL): the second waits for the first's row lock and is refused in the words it would get a
moment later, so an incident is never dismissed with its tickets linked, nor emptied."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from hotline.accounts.models import User
from hotline.incidents import public_notice, service
from hotline.incidents.detect import detect
from hotline.incidents.models import Incident, IncidentNotice, IncidentState, IncidentTicket
from hotline.kit import clock
from hotline.kit.errors import NotFound, TransitionNotAllowed
from hotline.tickets.models import TicketEvent
from tests.builders import make_ticket
from tests.incidents.test_detect import START, _detected
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


def test_a_call_the_detection_adds_while_the_proposal_is_confirmed_is_linked_and_told(db, people):
    """Before: the detection read the proposal as still proposed and added the call unlinked, so the
    confirmed incident held a call that was never linked nor told of it."""
    incident_id = _proposed(db, people)
    with db.transaction() as s:
        clock.freeze(START + timedelta(minutes=70))
        more = make_ticket(s, people, category_code="0101", region_code="140828102205", urgency="normal",
                           content="裴介镇小吕村也停水了，一直没水，请尽快恢复供水。").id
    clock.freeze(START + timedelta(minutes=75))
    first, second = at_once(db, _do(incident_id, people.supervisor, service.confirm, note="闸阀井故障"),
                            lambda s: detect(s))
    assert not isinstance(second, Exception), second
    assert _links(db, incident_id) == (IncidentState.confirmed, 8, 8)
    with db.transaction(write=False) as s:
        assert more in service.ticket_ids(s, s.get(Incident, incident_id), linked=True)


def _told(db) -> tuple[int, int]:
    """The notices published, and the 突发事件公告 lines on the callers' timelines."""
    with db.transaction(write=False) as s:
        return (s.scalar(select(func.count()).select_from(IncidentNotice)),
                s.scalar(select(func.count()).select_from(TicketEvent).where(TicketEvent.action == "incident_notice")))


def test_a_notice_published_twice_at_once_is_published_and_told_once(db, people):
    """A double click reaching two web processes: before, both saw no live notice and each caller
    was told (and sent an SMS) twice."""
    incident_id = _confirmed(db, people)
    text = "裴介镇部分村停水，正在抢修。"
    first, second = at_once(db, _do(incident_id, people.supervisor, public_notice.publish, text=text),
                            _do(incident_id, people.dispatcher, public_notice.publish, text=text))
    assert not isinstance(second, Exception), second
    assert _told(db) == (1, 7)


def test_a_notice_published_as_the_incident_is_ended_is_refused(db, people):
    """Before: the notice went up on an ended incident and its seven callers were told it."""
    incident_id = _confirmed(db, people)
    first, second = at_once(db, _do(incident_id, people.supervisor, service.end),
                            _do(incident_id, people.dispatcher, public_notice.publish, text="裴介镇部分村停水，正在抢修。"))
    assert isinstance(second, TransitionNotAllowed) and second.code == "incident_not_confirmed", second
    assert _told(db) == (0, 0)


def test_a_notice_withdrawn_twice_at_once_is_withdrawn_once(db, people):
    """Before: both succeeded, and the second overwrote who had taken it down."""
    incident_id = _confirmed(db, people)
    with db.transaction() as s:
        public_notice.publish(s, s.get(Incident, incident_id), actor=s.get(User, people.supervisor.id),
                              text="裴介镇部分村停水，正在抢修。")
    first, second = at_once(db, _do(incident_id, people.supervisor, public_notice.withdraw),
                            _do(incident_id, people.dispatcher, public_notice.withdraw))
    assert isinstance(second, TransitionNotAllowed) and second.code == "notice_not_live", second
    with db.transaction(write=False) as s:
        [notice] = s.scalars(select(IncidentNotice)).all()
        assert notice.withdrawn_by_id == people.supervisor.id


def test_a_proposal_confirmed_as_its_ended_incident_is_reopened_is_refused_as_merged(db, people):
    """Reopening takes over the proposal made of the incident's calls while it was ended; a
    confirmation of that proposal sent at the same moment finds it gone (404), not a half-merged pair."""
    incident_id = _confirmed(db, people)
    with db.transaction() as s:
        clock.freeze(START + timedelta(minutes=70))
        service.end(s, s.get(Incident, incident_id), actor=s.get(User, people.supervisor.id))
        for i in range(5):
            clock.freeze(START + timedelta(minutes=75 + i))
            make_ticket(s, people, category_code="0101", region_code="140828102205", urgency="normal",
                        content="裴介镇小吕村也停水了，一直没水，请尽快恢复供水。")
        clock.freeze(START + timedelta(minutes=90))
        assert detect(s).proposed == 1
        proposal_id = s.scalar(select(Incident.id).where(Incident.id != incident_id))
    first, second = at_once(db, _do(incident_id, people.supervisor, service.reopen),
                            _do(proposal_id, people.dispatcher, service.confirm))
    assert isinstance(second, NotFound) and second.code == "incident_not_found", second
    assert _links(db, incident_id) == (IncidentState.confirmed, 12, 12)
