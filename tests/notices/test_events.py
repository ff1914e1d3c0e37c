"""What callers and unit staff are told when a ticket moves: the outbox rows each event writes."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.kit import clock
from hotline.kit.db import Database
from hotline.notices import events as notices
from hotline.notify.models import MessageChannel, OutboxMessage
from hotline.tickets import lifecycle as L
from hotline.tickets.models import Ticket, TicketEvent
from hotline.tickets.states import Status
from tests.builders import LEAK, Personas, make_ticket, register, step

CALLER = "+8613803590001"  # the 张先生 of tests/builders.py
FRIDAY_MORNING = datetime(2026, 11, 27, 10, 0)


def messages(session: Session, template: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if template is not None:
        query = query.where(OutboxMessage.template_code == template)
    return list(session.scalars(query))


def count(db: Database) -> int:
    with db.transaction(write=False) as s:
        return s.scalar(select(func.count()).select_from(OutboxMessage)) or 0


@pytest.fixture(autouse=True)
def _friday_morning():
    clock.freeze(FRIDAY_MORNING)


def test_the_receipt_sms_gives_the_caller_the_ticket_number_and_query_code(session, people: Personas):
    ticket = register(session, people)
    [sms] = messages(session)
    assert (sms.template_code, sms.channel, sms.recipient) == ("caller.receipt", MessageChannel.sms, CALLER)
    assert ticket.number in sms.body and f"查询码{ticket.query_code}" in sms.body
    assert sms.not_before == clock.now()


def test_a_night_registration_is_texted_at_seven_unless_the_ticket_is_urgent(session, people: Personas):
    clock.freeze(datetime(2026, 11, 27, 23, 10))
    calm = register(session, people, urgency="normal", content="小区路灯不亮好几天了，晚上出行不方便。")
    urgent = register(session, people, urgency="urgent")
    by_ticket = {m.ticket_id: m for m in messages(session, "caller.receipt")}
    assert clock.local(by_ticket[calm.id].not_before) == datetime(2026, 11, 28, 7, 0, tzinfo=clock.tz())
    assert by_ticket[urgent.id].not_before == clock.now()


def test_anonymous_callers_and_landlines_get_no_sms(session, people: Personas):
    register(session, people, caller_anonymous=True, caller_name=None, caller_phone=None)
    register(session, people, caller_anonymous=True, caller_name=None, caller_phone="13803590002")
    register(session, people, caller_phone="0359-2012345")  # a landline cannot receive an SMS
    assert messages(session) == []


def test_a_dispatch_tells_the_caller_and_the_units_staff(session, people: Personas):
    people.handler_a.phone = "+8613903590101"  # the bureau's handler also gets an SMS
    ticket = make_ticket(session, people, Status.dispatched, caller_confidential=True)

    [caller] = messages(session, "caller.dispatched")
    assert caller.recipient == CALLER  # a confidential caller is still told
    assert "夏县水利局" in caller.body and "办理时限至11月29日10:00" in caller.body

    staff = messages(session, "unit.dispatch")
    assert {(m.channel, m.recipient) for m in staff} == {
        (MessageChannel.inbox, str(people.handler_a.id)),
        (MessageChannel.sms, "+8613903590101"),
        (MessageChannel.inbox, str(people.handler_a_co.id)),
    }
    for m in staff:
        assert ticket.number in m.subject and "请于11月27日12:00前签收办理" in m.body
        assert "张先生" not in m.body and "13803590001" not in m.body  # units never see a confidential caller


def test_a_redispatch_tells_the_new_unit_and_the_caller_again(session, people: Personas):
    ticket = make_ticket(session, people, Status.return_requested)
    L.redispatch(session, ticket, actor=people.dispatcher, lead_unit_id=people.unit_b)
    session.flush()
    assert ["夏县水利局" in m.body for m in messages(session, "caller.dispatched")] == [True, False]
    assert "夏县住房和城乡建设局" in messages(session, "caller.dispatched")[1].body
    assert {m.recipient for m in messages(session, "unit.dispatch")} == {
        str(people.handler_a.id), str(people.handler_a_co.id), str(people.handler_b.id)}


def test_the_caller_hears_of_the_reply_each_callback_attempt_and_the_closing(session, people: Personas):
    ticket = make_ticket(session, people, Status.in_progress)
    words = "经现场查勘，村东供水闸阀井阀杆锈蚀断裂导致漏水，已于当晚更换闸阀阀杆和减压阀，并对周边管道进行了试压，" \
            "目前六个村已全部恢复正常供水。"
    L.reply(session, ticket, actor=people.handler_a, text=words)
    L.accept_reply(session, ticket, actor=people.dispatcher)
    for _ in range(2):
        L.record_callback(session, ticket, actor=people.agent, reached=False, comment="无人接听")
    L.close(session, ticket, actor=people.agent, reason="两次回访均无人接听")
    session.flush()

    [reply] = messages(session, "caller.reply")
    assert f"已由夏县水利局答复：{words[:59]}…。" in reply.body
    assert len(messages(session, "caller.callback")) == 2  # one per attempt
    [closed] = messages(session, "caller.closed")
    assert ticket.number in closed.body and closed.recipient == CALLER


def test_a_rolled_back_transaction_leaves_no_message(db: Database, people: Personas):
    with pytest.raises(RuntimeError), db.transaction() as s:
        ticket = register(s, people)
        step(s, people, ticket, "dispatch")
        s.flush()
        assert len(messages(s)) == 4  # receipt, dispatched, two inbox notices
        raise RuntimeError("the request failed after the changes")
    assert count(db) == 0
    with db.transaction(write=False) as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 0


def test_replaying_a_tickets_events_adds_no_message(db: Database, people: Personas):
    with db.transaction() as s:
        ticket_id = make_ticket(s, people, Status.closed).id
    before = count(db)
    assert before == 6  # receipt, dispatched, 2 inbox notices, reply, closed
    with db.transaction() as s:
        ticket = s.get(Ticket, ticket_id)
        for event in s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)):
            notices.on_event(s, ticket, event)
    assert count(db) == before


def test_repeating_the_same_api_call_adds_no_message(db: Database, people: Personas, api):
    dispatcher = api.as_("dispatcher")
    t = api.as_("agent").register(content=LEAK)
    body = {"lead_unit_id": people.unit_a, "co_unit_ids": [], "version": t["version"]}
    assert dispatcher.act(t["id"], "dispatch", **body).status_code == 200
    after_first = count(db)
    again = dispatcher.act(t["id"], "dispatch", **body)  # a client retrying after a timeout
    assert again.status_code == 409
    assert count(db) == after_first == 3  # receipt, dispatched, one inbox notice


def test_a_call_handed_off_or_refused_at_once_is_told_so_and_not_told_it_was_accepted(session, people: Personas):
    """Registered and at once handed to 110, or refused: the caller hears where it went or why not,
    and no 「已受理」 receipt is sent to contradict it."""
    emergency = register(session, people, content="村口有人打架，有人受伤流血了")
    L.hand_off(session, emergency, actor=people.agent, to="110", note="已告知拨打110")
    refused = register(session, people, content="想咨询离婚财产怎么分割，法院怎么判")
    L.refuse(session, refused, actor=people.agent, reason="属司法程序中的事项，请向人民法院咨询")
    texts = {(m.ticket_id, m.template_code): m.body for m in messages(session)}
    assert set(texts) == {(emergency.id, "caller.handed_off"), (refused.id, "caller.refused")}
    assert "已转110（公安）处理" in texts[emergency.id, "caller.handed_off"]
    assert "不予受理：属司法程序中的事项，请向人民法院咨询" in texts[refused.id, "caller.refused"]
    assert "已受理" not in texts[refused.id, "caller.refused"]


def test_a_hand_off_at_night_is_texted_at_once_even_for_a_ticket_not_marked_urgent(session, people: Personas):
    """转110 at 23:10: the caller is told at once which service has the call (and to ring it if in
    danger), not at 07:00, though the agent left the urgency at 一般; a refusal still waits."""
    clock.freeze(datetime(2026, 11, 27, 23, 10))
    fight = register(session, people, urgency="normal", content="村口有人打架，有人受伤流血了")
    L.hand_off(session, fight, actor=people.agent, to="110")
    refused = register(session, people, urgency="normal", content="想咨询离婚财产怎么分割，法院怎么判")
    L.refuse(session, refused, actor=people.agent, reason="属司法程序中的事项，请向人民法院咨询")
    [handed] = messages(session, "caller.handed_off")
    [refusal] = messages(session, "caller.refused")
    assert handed.not_before == clock.now() and handed.urgent
    assert clock.local(refusal.not_before) == datetime(2026, 11, 28, 7, 0, tzinfo=clock.tz())


def test_a_receipt_already_sent_stays_when_the_ticket_is_refused_later(session, people: Personas):
    ticket = register(session, people)
    [receipt] = messages(session, "caller.receipt")
    receipt.state = "sent"
    session.flush()
    L.refuse(session, ticket, actor=people.dispatcher, reason="重复来电，已在原工单办理")
    assert [m.template_code for m in messages(session)] == ["caller.receipt", "caller.refused"]
