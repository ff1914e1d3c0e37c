"""Public notices: a supervisor tells citizens of a confirmed outage; the portal and intake show it
for the places it covers, until it is withdrawn or expires."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from hotline.incidents import public_notice, service
from hotline.incidents.models import IncidentNotice
from hotline.kit import clock
from hotline.kit.errors import Invalid, PermissionDenied, TransitionNotAllowed
from tests.incidents.test_detect import START, _detected

TEXT = "裴介镇朱吕村、大吕村等4个村因供水站闸阀井漏水停水，正在抢修，预计今晚恢复供水。"
ZHULV, PEIJIE_TOWN, XIAXIAN, MIAOQIAN_TOWN = "140828102207", "140828102", "140828", "140828104"


def _confirmed(session, people):
    incident = _detected(session, people)
    service.confirm(session, incident, actor=people.supervisor, note="供水站闸阀井漏水")
    return incident


def _live_texts(session, region_code=None, hours=0):
    return [x.notice.text for x in public_notice.live(session, region_code=region_code,
                                                      now=clock.now() + timedelta(hours=hours))]


def test_a_published_notice_is_live_for_the_places_it_covers(db, session, people):
    incident = _confirmed(session, people)
    clock.freeze(START + timedelta(minutes=70))
    public_notice.publish(session, incident, actor=people.supervisor, text=f"  {TEXT}\n")
    assert _live_texts(session) == [TEXT]  # spaces tidied
    for place in (ZHULV, PEIJIE_TOWN, XIAXIAN):  # the village, its township, its county
        assert _live_texts(session, place) == [TEXT]
    assert _live_texts(session, MIAOQIAN_TOWN) == []  # another township
    assert public_notice.current(session, incident).text == TEXT


def test_only_a_confirmed_incident_gets_a_notice_and_only_from_a_decider(db, session, people):
    incident = _detected(session, people)
    with pytest.raises(TransitionNotAllowed):
        public_notice.publish(session, incident, actor=people.supervisor, text=TEXT)
    service.confirm(session, incident, actor=people.supervisor)
    with pytest.raises(PermissionDenied):
        public_notice.publish(session, incident, actor=people.agent, text=TEXT)
    assert _live_texts(session) == []


@pytest.mark.parametrize(("text", "code"), [("", "notice_required"), ("停水 ", "notice_required"),
                                            ("停" * 301, "notice_too_long")])
def test_a_notice_too_short_or_too_long_is_refused_by_its_field(db, session, people, text, code):
    incident = _confirmed(session, people)
    with pytest.raises(Invalid) as refused:
        public_notice.publish(session, incident, actor=people.supervisor, text=text)
    assert refused.value.code == code and refused.value.details == {"field": "notice"}
    assert session.scalars(select(IncidentNotice)).all() == []


def test_publishing_again_replaces_the_notice_and_keeps_what_was_said(db, session, people):
    incident = _confirmed(session, people)
    clock.freeze(START + timedelta(minutes=66))
    first = public_notice.publish(session, incident, actor=people.supervisor, text=TEXT)
    clock.freeze(START + timedelta(minutes=68))
    public_notice.publish(session, incident, actor=people.supervisor, text="朱吕村等4个村已恢复部分供水，高处住户水压偏低。")
    assert _live_texts(session) == ["朱吕村等4个村已恢复部分供水，高处住户水压偏低。"]
    assert first.withdrawn_at == clock.now()
    assert len(session.scalars(select(IncidentNotice)).all()) == 2


def test_a_withdrawn_or_expired_notice_is_gone(db, session, people):
    incident = _confirmed(session, people)
    clock.freeze(START + timedelta(minutes=66))
    public_notice.publish(session, incident, actor=people.supervisor, text=TEXT)
    assert _live_texts(session, hours=public_notice.NOTICE_HOURS - 1) == [TEXT]
    assert _live_texts(session, hours=public_notice.NOTICE_HOURS) == []  # left up by mistake: expires
    public_notice.withdraw(session, incident, actor=people.supervisor)
    assert _live_texts(session) == []
    with pytest.raises(TransitionNotAllowed):
        public_notice.withdraw(session, incident, actor=people.supervisor)


def test_the_suggested_text_names_the_place_and_the_problem(db, session, people):
    incident = _confirmed(session, people)
    assert public_notice.suggested_text(incident, "夏县裴介镇") == \
        "夏县裴介镇部分地区出现停水情况，相关部门正在处理，恢复时间另行通知。"
    incident.title = "夏县裴介镇6处集中反映供水问题"  # calls of several leaf categories: the heading
    assert public_notice.suggested_text(incident, "夏县裴介镇") == \
        "夏县裴介镇部分地区出现供水问题，相关部门正在处理，恢复时间另行通知。"


def test_the_callers_of_the_linked_tickets_are_told_once_per_publication(db, session, people):
    from hotline.notify.models import OutboxMessage
    from hotline.tickets.models import TicketEvent

    incident = _confirmed(session, people)
    linked = service.ticket_ids(session, incident, linked=True)
    clock.freeze(START + timedelta(minutes=66))
    first = public_notice.publish(session, incident, actor=people.supervisor, text=TEXT)

    def sms(notice):
        return session.scalars(select(OutboxMessage).where(
            OutboxMessage.template_code == "caller.incident_notice",
            OutboxMessage.key.like(f"%:incident_notice:{notice.id}"))).all()

    again = public_notice.publish(session, incident, actor=people.supervisor, text=f"{TEXT} ")  # a double click
    assert again.id == first.id and again.withdrawn_at is None
    told = sms(first)
    assert len(told) == len(linked) == 7 and {m.ticket_id for m in told} == linked
    assert all(m.recipient.endswith("13803590001") and TEXT in m.body and m.body.startswith("【12345】") for m in told)
    events = session.scalars(select(TicketEvent).where(TicketEvent.action == "incident_notice")).all()
    assert {e.ticket_id for e in events} == linked and all(TEXT in e.reason for e in events)
    clock.freeze(START + timedelta(minutes=90))
    update = public_notice.publish(session, incident, actor=people.supervisor, text="裴介镇各村已恢复供水，感谢理解。")
    assert len(sms(update)) == 7 and len(sms(first)) == 7  # the update once more, the first not again
    public_notice.withdraw(session, incident, actor=people.supervisor)
    assert session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.template_code == "caller.incident_notice")) == 14  # withdrawing sends nothing


def test_a_call_linked_while_a_notice_is_up_is_told_it_and_one_linked_after_withdrawal_is_not(db, session, people):
    from hotline.incidents.detect import detect
    from hotline.notify.models import OutboxMessage
    from hotline.tickets.models import TicketEvent
    from tests.builders import make_ticket

    incident = _confirmed(session, people)
    clock.freeze(START + timedelta(minutes=66))
    notice = public_notice.publish(session, incident, actor=people.supervisor, text=TEXT)
    clock.freeze(START + timedelta(minutes=70))
    late = make_ticket(session, people, category_code="0101", region_code="140828102205", urgency="normal",
                       content="裴介镇小吕村也停水了，一直没水，请尽快恢复供水。")
    clock.freeze(START + timedelta(minutes=75))
    detect(session)  # the detection links the late call to the confirmed incident
    assert late.id in service.ticket_ids(session, incident, linked=True)

    def told(ticket):
        return session.scalars(select(OutboxMessage).where(OutboxMessage.ticket_id == ticket.id,
                                                           OutboxMessage.template_code == "caller.incident_notice")).all()

    [sms] = told(late)
    assert TEXT in sms.body and sms.key.endswith(f":incident_notice:{notice.id}")
    [line] = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == late.id,
                                                       TicketEvent.action == "incident_notice")).all()
    assert TEXT in line.reason
    detect(session)  # detection again: nothing new, nobody told twice
    assert len(told(late)) == 1

    public_notice.withdraw(session, incident, actor=people.supervisor)
    clock.freeze(START + timedelta(minutes=80))
    after = make_ticket(session, people, category_code="0101", region_code="140828102205", urgency="normal",
                        content="小吕村还是没水。")
    assert service.add_tickets(session, incident, actor=people.supervisor, numbers=[after.number]) == 1
    assert after.id in service.ticket_ids(session, incident, linked=True)
    assert told(after) == []  # nothing live to tell
