"""催办 by hand: what the unit is told, and which tickets may be urged at all."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from hotline.kit import clock
from hotline.notify.models import OutboxMessage
from hotline.supervision.orders import urge
from hotline.tickets.states import Status
from tests.builders import make_ticket


def told(session, user) -> list[str]:
    """The in-app messages a person has been sent, oldest first."""
    return list(session.scalars(select(OutboxMessage.body).where(
        OutboxMessage.recipient == str(user.id), OutboxMessage.channel == "inbox",
        OutboxMessage.template_code.like("unit.urge%")).order_by(OutboxMessage.id)))


def test_an_urge_before_the_deadline_says_the_stage_and_the_time_left_not_overdue(session, people):
    clock.freeze(clock.now())
    ticket = make_ticket(session, people, Status.dispatched)  # 签收 is the nearest deadline
    clock.freeze(ticket.accept_due_at - timedelta(hours=15, minutes=10))
    urge(session, ticket, actor=people.supervisor, note="群众反映强烈")
    [message] = told(session, people.handler_a)
    assert "超期" not in message
    assert "签收时限" in message and "尚余 15 小时" in message and "群众反映强烈" in message


def test_an_urge_after_a_deadline_names_the_stages_past_it(session, people):
    clock.freeze(clock.now())
    ticket = make_ticket(session, people, Status.accepted)  # 联系来电人 and 反馈 running
    clock.freeze(ticket.contact_due_at + timedelta(hours=1))
    assert ticket.reply_due_at > clock.now()
    urge(session, ticket, actor=people.supervisor)
    [message] = told(session, people.handler_a)
    assert "的联系来电人已超期，现予催办" in message and "反馈" not in message.split("现予催办")[0]
    clock.freeze(ticket.reply_due_at + timedelta(hours=2))
    urge(session, ticket, actor=people.supervisor)
    assert "的联系来电人、反馈已超期，现予催办" in told(session, people.handler_a)[-1]


def test_a_suspended_ticket_is_urged_without_a_countdown(session, people):
    ticket = make_ticket(session, people, Status.suspended)
    urge(session, ticket, actor=people.supervisor)
    [message] = told(session, people.handler_a)
    assert "超期" not in message and "已挂起，计时暂停" in message
