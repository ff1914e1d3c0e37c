"""Detection: a burst of 停水 calls in 裴介镇 becomes one proposed incident; normal traffic does not."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from hotline.incidents import service
from hotline.incidents.detect import detect
from hotline.incidents.models import Incident, IncidentState
from hotline.kit import clock
from hotline.tickets.models import TicketEvent
from tests.builders import make_ticket

# 裴介镇 villages: 朱吕村 3600, 大吕村 3900, 姚村 2011, 郭村 1191
VILLAGES = {"140828102207": "朱吕村", "140828102201": "大吕村", "140828102202": "姚村", "140828102203": "郭村"}
START = datetime(2026, 6, 10, 9, 0)
OUTAGE = ["我是夏县裴介镇{v}的，从早上开始村里停水了，到现在一直没水，做饭都没水用，请尽快恢复供水。",
          "{v}停水了，自来水一滴都没有，家里老人孩子没水喝，什么时候能恢复供水？",
          "夏县裴介镇{v}村民反映：全村停水已经两个小时，水龙头不出水，请供水站尽快恢复供水。"]


def _burst(session, people, minutes: int = 60) -> list:
    tickets = []
    for i in range(7):
        code = list(VILLAGES)[i % 4]
        clock.freeze(START + timedelta(minutes=i * minutes // 7))
        tickets.append(make_ticket(session, people, category_code="0101", region_code=code, urgency="normal",
                                   content=OUTAGE[i % 3].format(v=VILLAGES[code])))
    return tickets


def _incidents(session) -> list[Incident]:
    return list(session.scalars(select(Incident).order_by(Incident.id)))


def _detected(session, people):
    """The burst's calls, detected 65 minutes after the first: the one proposed incident."""
    _burst(session, people)
    clock.freeze(START + timedelta(minutes=65))
    detect(session)
    [incident] = _incidents(session)
    return incident


def test_a_burst_of_outage_calls_in_one_township_becomes_one_proposed_incident(db, session, people):
    tickets = _burst(session, people)
    clock.freeze(START + timedelta(minutes=65))
    result = detect(session)
    [incident] = _incidents(session)
    assert result.proposed == 1
    assert incident.state == IncidentState.proposed
    assert incident.area_code == "140828102"  # 裴介镇, the common ancestor
    assert incident.category_code.startswith("01")
    assert sorted(incident.region_codes) == sorted(VILLAGES)
    assert incident.population == 3600 + 3900 + 2011 + 1191
    assert incident.ticket_count == len(tickets)
    assert incident.title == "夏县裴介镇4处集中反映停水"
    assert incident.first_ticket_at == tickets[0].received_at
    # The common words are words of the calls (not character pairs across two words, like 从早 or 到停).
    assert "停水" in incident.keywords
    texts = [t.content for t in tickets]
    for word in incident.keywords:
        assert sum(word in text for text in texts) >= 2, word
    assert not {"从早", "到停", "村里停"} & set(incident.keywords)


def test_scattered_normal_calls_propose_nothing(db, session, people):
    places = ["140828102207", "140828100200", "140828101", "140828103", "140828104", "140828105"]
    contents = ["小区物业乱收停车费，请相关部门查处。", "村口的路灯坏了一个多月了，晚上出行不方便。",
                "家里水压太低，二楼上不去水，请供水单位查看。", "咨询一下养老保险缴费年限怎么计算。",
                "饭店门口油烟很大，影响周边居民生活。", "孩子入学需要准备哪些材料？"]
    cats = ["0401", "0404", "0102", "0802", "0602", "0901"]
    for i in range(12):
        clock.freeze(START + timedelta(hours=i * 5))
        make_ticket(session, people, category_code=cats[i % 6], region_code=places[i % 6], urgency="normal",
                    content=contents[i % 6])
        assert detect(session).proposed == 0
    assert _incidents(session) == []


def test_running_detection_again_updates_instead_of_proposing_twice(db, session, people):
    _burst(session, people)
    clock.freeze(START + timedelta(minutes=65))
    detect(session)
    clock.freeze(START + timedelta(minutes=70))
    assert detect(session).proposed == 0
    more = make_ticket(session, people, category_code="0101", region_code="140828102205", urgency="normal",
                       content="裴介镇小吕村也停水了，一直没水，请尽快恢复供水。")
    clock.freeze(START + timedelta(minutes=75))
    assert detect(session).proposed == 0
    [incident] = _incidents(session)
    assert incident.ticket_count == 8
    assert more.id in service.ticket_ids(session, incident)
    assert incident.population == 3600 + 3900 + 2011 + 1191 + 1373


def test_a_dismissed_incident_is_not_proposed_again(db, session, people):
    incident = _detected(session, people)
    service.dismiss(session, incident, actor=people.supervisor, reason="演练，非真实停水")
    clock.freeze(START + timedelta(minutes=75))
    assert detect(session).proposed == 0
    assert [i.state for i in _incidents(session)] == [IncidentState.dismissed]


def test_confirm_links_the_tickets(db, session, people):
    tickets = _burst(session, people)
    clock.freeze(START + timedelta(minutes=65))
    detect(session)
    [incident] = _incidents(session)
    assert service.ticket_ids(session, incident, linked=True) == set()
    service.confirm(session, incident, actor=people.supervisor, note="朱吕供水站闸阀井故障")
    assert incident.state == IncidentState.confirmed and incident.decided_by_id == people.supervisor.id
    assert service.ticket_ids(session, incident, linked=True) == {t.id for t in tickets}
    # Each ticket's timeline says so, for the unit and the caller's next call.
    for t in tickets:
        events = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == t.id,
                                                           TicketEvent.action == "incident")).all()
        assert len(events) == 1 and incident.title in events[0].reason


def test_more_calls_of_a_dismissed_burst_join_it_instead_of_coming_back_as_a_new_proposal(db, session, people):
    incident = _detected(session, people)
    service.dismiss(session, incident, actor=people.supervisor, reason="演练，非真实停水")
    later = []
    for i, code in enumerate(["140828102205", "140828102206", "140828102207", "140828102201"]):
        clock.freeze(START + timedelta(minutes=80 + 5 * i))
        later.append(make_ticket(session, people, category_code="0102" if i == 0 else "0101", region_code=code,
                                 urgency="normal", content=OUTAGE[i % 3].format(v="小吕村")))
    clock.freeze(START + timedelta(minutes=100))
    assert detect(session).proposed == 0
    [incident] = _incidents(session)  # still one, still dismissed, now holding the later calls too
    assert incident.state == IncidentState.dismissed
    assert incident.ticket_count == 11 and len(incident.region_codes) == 6
    # the list still names what the supervisor dismissed, though the calls now span two categories
    assert (incident.title, incident.category_code) == ("夏县裴介镇4处集中反映停水", "0101")
    assert {t.id for t in later} <= service.ticket_ids(session, incident, linked=False)
    assert service.ticket_ids(session, incident, linked=True) == set()


def test_a_dismissed_burst_that_comes_back_twice_as_big_is_proposed_again(db, session, people):
    first = _detected(session, people)
    service.dismiss(session, first, actor=people.supervisor, reason="演练，非真实停水")
    for i in range(14):
        code = list(VILLAGES)[i % 4]
        clock.freeze(START + timedelta(minutes=80 + 2 * i))
        make_ticket(session, people, category_code="0101", region_code=code, urgency="normal",
                    content=OUTAGE[i % 3].format(v=VILLAGES[code]))
    clock.freeze(START + timedelta(minutes=110))
    assert detect(session).proposed == 1
    first_again, second = _incidents(session)
    assert first_again.state == IncidentState.dismissed and first_again.ticket_count == 7
    assert second.state == IncidentState.proposed and second.ticket_count == 14


def test_a_call_sharing_one_common_phrase_with_a_burst_is_not_part_of_it(db, session, people):
    tickets = _burst(session, people)
    clock.freeze(START + timedelta(minutes=30))
    stray = make_ticket(session, people, category_code="0103", region_code="140828102203", urgency="normal",
                        content="郭村村北路口的井盖丢了，晚上很危险，请尽快派人查看。")
    clock.freeze(START + timedelta(minutes=65))
    detect(session)
    [incident] = _incidents(session)
    assert service.ticket_ids(session, incident) == {t.id for t in tickets}
    assert stray.id not in service.ticket_ids(session, incident)


def test_a_call_that_joins_a_confirmed_incident_is_linked_and_its_timeline_says_so(db, session, people):
    incident = _detected(session, people)
    service.confirm(session, incident, actor=people.supervisor, note="朱吕供水站闸阀井故障")
    clock.freeze(START + timedelta(minutes=70))
    more = make_ticket(session, people, category_code="0101", region_code="140828102205", urgency="normal",
                       content="裴介镇小吕村也停水了，一直没水，请尽快恢复供水。")
    clock.freeze(START + timedelta(minutes=75))
    detect(session)
    assert more.id in service.ticket_ids(session, incident, linked=True)
    [event] = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == more.id,
                                                        TicketEvent.action == "incident")).all()
    assert incident.title in event.reason and event.actor_id is None
