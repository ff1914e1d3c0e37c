"""What a supervisor does with a confirmed incident: end it, add a ticket by number, take a
wrongly linked one out; the area follows and the detection respects each."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from hotline.incidents import public_notice, service
from hotline.incidents.detect import detect
from hotline.incidents.models import Incident, IncidentState
from hotline.kit import clock
from hotline.kit.errors import TransitionNotAllowed
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


def test_taking_out_is_refused_on_a_proposal_and_for_the_last_ticket(db, session, people):
    incident = _detected(session, people)
    some = service.tickets_of(session, incident)
    with pytest.raises(TransitionNotAllowed, match="请确认后再移出"):
        service.remove_ticket(session, incident, actor=people.supervisor, number=some[0].number)
    service.confirm(session, incident, actor=people.supervisor)
    for t in some[:-1]:
        service.remove_ticket(session, incident, actor=people.supervisor, number=t.number)
    with pytest.raises(TransitionNotAllowed, match="最后一件"):
        service.remove_ticket(session, incident, actor=people.supervisor, number=some[-1].number)


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
