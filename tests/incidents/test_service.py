"""What a supervisor does with an incident: end it and reopen it, add a ticket by number, take a
wrong one out (of a proposal too); the area follows and the detection respects each."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from hotline.incidents import public_notice, service
from hotline.incidents.detect import detect
from hotline.incidents.models import Incident, IncidentAction, IncidentState
from hotline.kit import clock
from hotline.kit.errors import NotFound, PermissionDenied, TransitionNotAllowed
from hotline.tickets.models import TicketEvent
from tests.builders import make_ticket
from tests.incidents.test_detect import OUTAGE, START, VILLAGES, _detected

XIAOLV = "140828102205"  # 小吕村, 裴介镇
COUNTY_TOWN = "140828100001"  # a 社区 of 瑶峰镇, another township


def _more(session, people, minutes: int, region: str = XIAOLV, n: int = 1) -> list:
    out = []
    for i in range(n):
        clock.freeze(START + timedelta(minutes=minutes + i))
        out.append(make_ticket(session, people, category_code="0101", region_code=region, urgency="normal",
                               content=OUTAGE[i % 3].format(v="小吕村")))
    return out


def test_an_ended_incident_takes_no_more_calls_and_is_not_told_at_intake(db, session, people):
    incident = _detected(session, people)
    service.confirm(session, incident, actor=people.supervisor, note="闸阀井故障")
    public_notice.publish(session, incident, actor=people.supervisor, text="裴介镇部分村停水，正在抢修。")
    clock.freeze(START + timedelta(minutes=70))
    now = clock.now()
    assert service.running_at(session, "140828102207", now=now) == [incident]
    service.end(session, incident, actor=people.supervisor)
    assert incident.state == IncidentState.ended and incident.updated_at == now
    assert service.running_at(session, "140828102207", now=now) == []  # the agent is no longer told
    assert public_notice.live(session, now=now) == []  # nor the citizens
    linked = service.ticket_ids(session, incident, linked=True)
    # Calls after the end are not linked to it, and its own calls start no new proposal.
    later = _more(session, people, 75, n=5)
    clock.freeze(START + timedelta(minutes=90))
    detect(session)
    assert service.ticket_ids(session, incident, linked=True) == linked and incident.ticket_count == 7
    others = [i for i in session.scalars(select(Incident)) if i.id != incident.id]
    assert all(service.ticket_ids(session, i) <= {t.id for t in later} for i in others)
    with pytest.raises(TransitionNotAllowed):
        service.add_tickets(session, incident, actor=people.supervisor, numbers=[later[0].number])
    with pytest.raises(TransitionNotAllowed, match="只有已确认的事件可以结束"):
        service.end(session, incident, actor=people.supervisor)


def test_a_ticket_added_by_number_and_a_wrong_one_taken_out_move_the_area(db, session, people):
    incident = _detected(session, people)
    service.confirm(session, incident, actor=people.supervisor)
    assert incident.area_code == "140828102" and incident.ticket_count == 7
    stray = make_ticket(session, people, category_code="0101", region_code=COUNTY_TOWN, urgency="normal",
                        content="咨询居民用水价格标准。")
    assert service.add_tickets(session, incident, actor=people.supervisor, numbers=[stray.number]) == 1
    assert incident.area_code == "140828" and incident.ticket_count == 8  # widened to the county
    service.remove_ticket(session, incident, actor=people.supervisor, number=stray.number)
    assert incident.area_code == "140828102" and incident.ticket_count == 8 - 1
    assert sorted(incident.region_codes) == sorted(VILLAGES)
    assert stray.id not in service.ticket_ids(session, incident, linked=True)
    [note] = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == stray.id, TicketEvent.action == "note"))
    assert "已移出突发事件" in note.reason
    # Put back by hand, it is linked again.
    assert service.add_tickets(session, incident, actor=people.supervisor, numbers=[stray.number]) == 1
    assert stray.id in service.ticket_ids(session, incident, linked=True)


def test_a_ticket_taken_out_is_not_brought_back_by_the_detection(db, session, people):
    incident = _detected(session, people)
    service.confirm(session, incident, actor=people.supervisor)
    first = service.tickets_of(session, incident)[0]
    service.remove_ticket(session, incident, actor=people.supervisor, number=first.number)
    _more(session, people, 70, n=2)
    clock.freeze(START + timedelta(minutes=80))
    detect(session)
    assert first.id not in service.ticket_ids(session, incident, linked=True)
    assert incident.ticket_count == 7 - 1 + 2


def test_taking_out_is_refused_for_the_last_ticket_and_once_decided(db, session, people):
    incident = _detected(session, people)
    some = service.tickets_of(session, incident)
    service.confirm(session, incident, actor=people.supervisor)
    for t in some[:-1]:
        service.remove_ticket(session, incident, actor=people.supervisor, number=t.number)
    with pytest.raises(TransitionNotAllowed, match="最后一件"):
        service.remove_ticket(session, incident, actor=people.supervisor, number=some[-1].number)
    with pytest.raises(NotFound, match="不在该事件中"):  # out already
        service.remove_ticket(session, incident, actor=people.supervisor, number=some[0].number)
    service.end(session, incident, actor=people.supervisor)
    with pytest.raises(TransitionNotAllowed, match="已结束的事件不能移出工单"):
        service.remove_ticket(session, incident, actor=people.supervisor, number=some[-1].number)


def test_a_ticket_taken_out_of_a_proposal_is_not_linked_at_confirmation_nor_brought_back(db, session, people):
    """The detection gathered a call that is no part of the outage: the supervisor takes it out
    before confirming. The proposal's places and count follow, the detection's next runs leave it
    out, confirming does not link it, and it can be put back by number."""
    incident = _detected(session, people)
    [guocun] = [t for t in service.tickets_of(session, incident) if t.region_code == "140828102203"]  # 郭村, 1,191
    clock.freeze(START + timedelta(minutes=66))
    service.remove_ticket(session, incident, actor=people.supervisor, number=guocun.number)
    assert incident.state == IncidentState.proposed and incident.ticket_count == 6
    assert incident.title == "夏县裴介镇3处集中反映停水" and incident.population == 3600 + 3900 + 2011
    assert guocun.id not in {t.id for t in service.tickets_of(session, incident)}
    [(removed, link, by)] = service.removed_from(session, incident)
    assert removed.id == guocun.id and link.removed_at == clock.now() and by == people.supervisor.display_name
    # Nothing on the call's timeline: it was never told it was part of an incident.
    assert not session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == guocun.id,
                                                         TicketEvent.action == "note")).all()
    later = _more(session, people, 70, n=2)
    for minutes in (75, 80):  # the burst, 郭村's call among it, is detected again and again
        clock.freeze(START + timedelta(minutes=minutes))
        assert detect(session).proposed == 0
    assert session.scalars(select(Incident.id)).all() == [incident.id]
    assert guocun.id not in {t.id for t in service.tickets_of(session, incident)}
    assert incident.ticket_count == 6 + 2
    service.confirm(session, incident, actor=people.supervisor)
    linked = service.ticket_ids(session, incident, linked=True)
    assert guocun.id not in linked and {t.id for t in later} <= linked and len(linked) == 8
    assert not session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == guocun.id,
                                                         TicketEvent.action == "incident")).all()
    # Put back by number, it counts and is linked again.
    assert service.add_tickets(session, incident, actor=people.supervisor, numbers=[guocun.number]) == 1
    assert guocun.id in service.ticket_ids(session, incident, linked=True) and incident.ticket_count == 9
    assert service.removed_from(session, incident) == []
    assert [(e.action, by, number) for e, by, number in service.history(session, incident)] == [
        (IncidentAction.removed, people.supervisor.display_name, guocun.number),
        (IncidentAction.confirmed, people.supervisor.display_name, None),
        (IncidentAction.added, people.supervisor.display_name, guocun.number)]


def test_an_ended_incident_reopened_takes_the_calls_that_keep_coming(db, session, people):
    """Ended too early: the water is still off and the calls keep coming. Reopened, it is confirmed
    again with its tickets (one taken out stays out), agents are told of it again, and the calls
    that came while it was ended, and after, are linked at the next detection run."""
    incident = _detected(session, people)
    service.confirm(session, incident, actor=people.supervisor, note="闸阀井故障")
    wrong = service.tickets_of(session, incident)[0]
    service.remove_ticket(session, incident, actor=people.supervisor, number=wrong.number)
    clock.freeze(START + timedelta(minutes=70))
    service.end(session, incident, actor=people.dispatcher)
    meanwhile = _more(session, people, 75, n=2)
    clock.freeze(START + timedelta(minutes=80))
    detect(session)
    assert incident.ticket_count == 6 and not {t.id for t in meanwhile} & service.ticket_ids(session, incident)
    with pytest.raises(PermissionDenied):
        service.reopen(session, incident, actor=people.handler_a)
    clock.freeze(START + timedelta(minutes=85))
    service.reopen(session, incident, actor=people.supervisor)
    assert incident.state == IncidentState.confirmed and incident.note == "闸阀井故障"
    assert service.running_at(session, "140828102207", now=clock.now()) == [incident]  # told at intake again
    after = _more(session, people, 86)
    clock.freeze(START + timedelta(minutes=90))
    detect(session)
    linked = service.ticket_ids(session, incident, linked=True)
    assert {t.id for t in meanwhile + after} <= linked and wrong.id not in linked
    assert incident.ticket_count == 6 + 3
    assert [(e.action, by) for e, by, _ in service.history(session, incident)] == [
        (IncidentAction.confirmed, people.supervisor.display_name),
        (IncidentAction.removed, people.supervisor.display_name),
        (IncidentAction.ended, people.dispatcher.display_name),
        (IncidentAction.reopened, people.supervisor.display_name)]
    with pytest.raises(TransitionNotAllowed, match="只有已结束的事件可以重新开启（该事件仍在进行）"):
        service.reopen(session, incident, actor=people.supervisor)
    service.end(session, incident, actor=people.supervisor)  # ended again: both ends kept
    assert [e.action for e, _, _ in service.history(session, incident)].count(IncidentAction.ended) == 2


def test_only_an_ended_incident_is_reopened(db, session, people):
    incident = _detected(session, people)
    with pytest.raises(TransitionNotAllowed, match="（该事件待确认）"):
        service.reopen(session, incident, actor=people.supervisor)
    service.dismiss(session, incident, actor=people.supervisor, reason="演练")
    with pytest.raises(TransitionNotAllowed, match="（该事件已排除）"):
        service.reopen(session, incident, actor=people.supervisor)
    assert incident.state == IncidentState.dismissed


def test_a_county_burst_continuing_a_confirmed_incident_links_only_calls_of_its_kind(db, session, people):
    """The demo's 县城 power cut: after confirmation, a county-wide burst of 供电 calls brought in
    咨询电价 calls from another township, hours before the cut, and the area became the whole county."""
    from hotline.incidents.detect import Burst, upsert

    incident = _detected(session, people)
    service.confirm(session, incident, actor=people.supervisor)
    title = incident.title
    clock.freeze(START - timedelta(hours=4))
    consult = make_ticket(session, people, category_code="0104", region_code=COUNTY_TOWN, urgency="normal",
                          kind="consultation", content="咨询居民用水阶梯水价怎么计算。")
    [more] = _more(session, people, 70)
    burst = Burst("01", service.ticket_ids(session, incident) | {consult.id, more.id}, ["停水"])
    upsert(session, burst, now=clock.now(), lookback=timedelta(hours=6))
    assert service.ticket_ids(session, incident, linked=True) >= {more.id}
    assert consult.id not in service.ticket_ids(session, incident)
    assert incident.area_code == "140828102" and incident.title == title.replace("4处", "5处")  # + 小吕村


def test_reopening_an_incident_takes_over_the_proposal_made_of_its_calls_while_it_was_ended(db, session, people):
    """Ended too early: the calls that kept coming were proposed as a new incident. Reopened, the
    incident takes them (linked, each told so on its timeline), and the proposal is not left open
    beside it: one incident for one burst, on the list and at intake."""
    incident = _detected(session, people)
    service.confirm(session, incident, actor=people.supervisor, note="闸阀井故障")
    clock.freeze(START + timedelta(minutes=70))
    service.end(session, incident, actor=people.supervisor)
    meanwhile = _more(session, people, 75, n=5)
    clock.freeze(START + timedelta(minutes=90))
    assert detect(session).proposed == 1
    [proposal] = [i for i in session.scalars(select(Incident)) if i.id != incident.id]
    assert service.ticket_ids(session, proposal) == {t.id for t in meanwhile}
    clock.freeze(START + timedelta(minutes=91))
    service.remove_ticket(session, proposal, actor=people.dispatcher, number=meanwhile[0].number)  # a wrong one
    clock.freeze(START + timedelta(minutes=95))
    service.reopen(session, incident, actor=people.supervisor)
    assert session.scalars(select(Incident)).all() == [incident]
    assert service.running_at(session, XIAOLV, now=clock.now()) == [incident]  # the agent is told of one
    linked = service.ticket_ids(session, incident, linked=True)
    assert {t.id for t in meanwhile[1:]} <= linked and meanwhile[0].id not in linked
    assert incident.state == IncidentState.confirmed and incident.ticket_count == 7 + 4
    assert [t.id for t, _, _ in service.removed_from(session, incident)] == [meanwhile[0].id]  # stays out
    for t in meanwhile[1:]:
        [line] = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == t.id,
                                                           TicketEvent.action == "incident"))
        assert incident.title in line.reason
    assert [(e.action, number) for e, _, number in service.history(session, incident)][-2:] == [
        (IncidentAction.removed, meanwhile[0].number), (IncidentAction.reopened, None)]
    clock.freeze(START + timedelta(minutes=100))
    assert detect(session).proposed == 0  # and the detection does not propose the burst again
    assert session.scalars(select(Incident)).all() == [incident]
    assert meanwhile[0].id not in service.ticket_ids(session, incident, linked=True)


def test_a_call_taken_out_of_a_dismissed_proposal_can_start_a_burst_of_its_own(db, session, people):
    """The detection gathered a call from 瑶峰镇 into a 裴介镇 proposal; the supervisor took it out
    (another matter) and dismissed the proposal. When more calls like it come from 瑶峰镇, they and
    it are proposed as their own incident: it was judged no part of the dismissed one, nothing more."""
    clock.freeze(START + timedelta(minutes=30))
    first = make_ticket(session, people, category_code="0101", region_code=COUNTY_TOWN, urgency="normal",
                        content="县城社区停水了，水龙头不出水，一直没水，请尽快恢复供水。")
    incident = _detected(session, people)
    assert first.id in service.ticket_ids(session, incident)
    service.remove_ticket(session, incident, actor=people.supervisor, number=first.number)
    service.dismiss(session, incident, actor=people.supervisor, reason="演练，非真实停水")
    more = []
    for i in range(3):
        clock.freeze(START + timedelta(minutes=100 + 5 * i))
        more.append(make_ticket(session, people, category_code="0101", region_code=COUNTY_TOWN, urgency="normal",
                                content="县城社区停水了，水龙头不出水，一直没水，请尽快恢复供水。"))
    clock.freeze(START + timedelta(minutes=115))
    assert detect(session).proposed == 1
    [new] = [i for i in session.scalars(select(Incident)) if i.id != incident.id]
    assert new.state == IncidentState.proposed and new.area_code == COUNTY_TOWN[:9]
    assert service.ticket_ids(session, new) == {first.id} | {t.id for t in more}
    assert incident.state == IncidentState.dismissed and first.id not in {t.id for t in service.tickets_of(session, incident)}


def test_a_call_taken_out_of_a_dismissed_proposal_stays_out_of_it_when_the_burst_goes_on(db, session, people):
    """Once a call taken out of a dismissed incident could be detected again, the burst it is part of
    joins that incident quietly: the call itself stays out (before this was a duplicate row, and the
    detection run failed)."""
    incident = _detected(session, people)
    [guocun] = [t for t in service.tickets_of(session, incident) if t.region_code == "140828102203"]
    service.remove_ticket(session, incident, actor=people.supervisor, number=guocun.number)
    service.dismiss(session, incident, actor=people.supervisor, reason="演练，非真实停水")
    later = _more(session, people, 75, n=3)  # with 郭村's call, a burst again
    clock.freeze(START + timedelta(minutes=80))
    assert detect(session).proposed == 0
    assert session.scalars(select(Incident.id)).all() == [incident.id]
    counted = {t.id for t in service.tickets_of(session, incident)}
    assert {t.id for t in later} <= counted and guocun.id not in counted
    assert [t.id for t, _, _ in service.removed_from(session, incident)] == [guocun.id]
