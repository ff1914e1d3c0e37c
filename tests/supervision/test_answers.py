"""A unit's answer to a supervision order reaches the supervisor who asked for it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from hotline.kit import clock
from hotline.notify.delivery import deliver_due
from hotline.notify.models import InboxItem
from hotline.supervision import orders
from hotline.supervision.models import OrderLevel
from hotline.tickets.states import Status
from tests.builders import make_ticket


class NoSms:
    def send(self, message) -> None:  # inbox messages need no driver
        raise AssertionError("an answer is not sent by SMS")


def inbox_of(db, user_id: int) -> list[InboxItem]:
    deliver_due(db, NoSms(), worker="test")
    with db.session() as s:
        return list(s.scalars(select(InboxItem).where(InboxItem.user_id == user_id).order_by(InboxItem.id)))


def test_the_issuing_supervisor_finds_the_answer_in_the_inbox(db, session, people):
    ticket = make_ticket(session, people, Status.accepted)
    order = orders.supervise(session, ticket, actor=people.supervisor, level="key", note="请三日内解决并答复")
    session.commit()
    before = len(inbox_of(db, people.supervisor.id))
    orders.answer_order(session, order, actor=people.handler_a, answer="已更换闸阀，今日恢复供水")
    session.commit()
    [item] = inbox_of(db, people.supervisor.id)[before:]
    assert ticket.number in item.subject and "已答复" in item.subject
    assert "夏县水利局按期答复：已更换闸阀，今日恢复供水" in item.body and "重点督办单" in item.body
    assert item.ticket_id == ticket.id
    assert inbox_of(db, people.admin.id) == []  # only the one who asked


def test_an_order_of_the_ladder_is_answered_to_every_supervisor_and_a_late_answer_says_so(db, session, people):
    ticket = make_ticket(session, people, Status.accepted)
    order = orders.issue_order(session, ticket, actor=None, unit_id=people.unit_a, level=OrderLevel.general,
                               note="超期自动督办")
    session.commit()
    clock.freeze(order.due_at + timedelta(hours=1))
    orders.answer_order(session, order, actor=people.handler_a, answer="已处理")
    session.commit()
    [item] = [i for i in inbox_of(db, people.supervisor.id) if "已答复" in i.subject]
    assert "夏县水利局逾期答复：已处理" in item.body


def test_answered_orders_are_listed_latest_first(db, session, people):
    first = make_ticket(session, people, Status.accepted)
    second = make_ticket(session, people, Status.accepted)
    a = orders.supervise(session, first, actor=people.supervisor, note="一")
    b = orders.supervise(session, second, actor=people.supervisor, note="二")
    orders.supervise(session, make_ticket(session, people, Status.accepted), actor=people.supervisor, note="未答")
    clock.freeze(clock.now())
    orders.answer_order(session, a, actor=people.handler_a, answer="答一")
    clock.advance(timedelta(minutes=5))
    orders.answer_order(session, b, actor=people.handler_a, answer="答二")
    session.commit()
    listed = orders.answered_listing(session, actor=people.supervisor)
    assert [(o.answer, number) for o, number, _ in listed] == [("答二", second.number), ("答一", first.number)]
    assert [o.answer for o, _, _ in orders.answered_listing(session, actor=people.handler_b)] == []
