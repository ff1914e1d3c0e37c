"""催办, 督办 and 答复督办 sent twice at the same moment (two tabs, or two web processes on
PostgreSQL): the second waits for the first's row lock and is refused as if it came later, so the
unit is urged once, holds one order, and an order keeps its first answer."""

from __future__ import annotations

from sqlalchemy import func, select, update

from hotline.accounts.models import User
from hotline.kit.errors import Conflict, TransitionNotAllowed
from hotline.notify.models import OutboxMessage
from hotline.supervision import orders
from hotline.supervision.models import SupervisionOrder
from hotline.tickets.models import Ticket, TicketEvent
from hotline.tickets.states import Status
from tests.builders import make_ticket
from tests.race import at_once


def _ticket(db, people) -> int:
    """An accepted ticket of unit A, whose one handler has a phone (催办 is sent by SMS too)."""
    with db.transaction() as s:
        s.execute(update(User).where(User.id == people.handler_a.id).values(phone="13903590001"))
        return make_ticket(s, people, Status.accepted).id


def _events(db, ticket_id: int, action: str) -> int:
    with db.transaction(write=False) as s:
        return s.scalar(
            select(func.count())
            .select_from(TicketEvent)
            .where(TicketEvent.ticket_id == ticket_id, TicketEvent.action == action)
        )


def test_two_urges_sent_at_once_tell_the_unit_once(tdb, people):
    ticket_id = _ticket(tdb, people)

    def urge(who):
        return lambda s: (
            orders.urge(s, s.get(Ticket, ticket_id), actor=s.get(User, who.id), note="请抓紧办理").id
        )

    first, second = at_once(tdb, urge(people.supervisor), urge(people.dispatcher))
    assert isinstance(first, int)
    assert isinstance(second, Conflict) and second.code == "urged_recently", second
    assert "由 t-supervisor 催办，1 小时内不重复催办" in second.message
    assert _events(tdb, ticket_id, "urge") == 1
    with tdb.transaction(write=False) as s:
        told = s.execute(
            select(OutboxMessage.channel, OutboxMessage.recipient)
            .where(OutboxMessage.template_code.like("unit.urge%"))
            .order_by(OutboxMessage.channel)
        ).all()
    assert [tuple(row) for row in told] == [("inbox", str(people.handler_a.id)), ("sms", "13903590001")]


def test_two_orders_of_one_level_sent_at_once_make_one_order(tdb, people):
    ticket_id = _ticket(tdb, people)

    def supervise(note):
        return lambda s: (
            orders.supervise(
                s, s.get(Ticket, ticket_id), actor=s.get(User, people.supervisor.id), level="key", note=note
            ).id
        )

    first, second = at_once(tdb, supervise("请三日内答复"), supervise("请三日内答复"))
    assert isinstance(first, int)
    assert isinstance(second, Conflict) and second.code == "order_open", second
    assert second.message.startswith(f"工单 {make_number(tdb, ticket_id)} 已有未答复的重点督办单")
    with tdb.transaction(write=False) as s:
        assert s.scalars(
            select(SupervisionOrder.id).where(SupervisionOrder.ticket_id == ticket_id)
        ).all() == [first]
    assert _events(tdb, ticket_id, "supervise") == 1


def test_an_order_answered_twice_at_once_keeps_the_first_answer(tdb, people):
    ticket_id = _ticket(tdb, people)
    with tdb.transaction() as s:
        order_id = orders.supervise(
            s, s.get(Ticket, ticket_id), actor=s.get(User, people.supervisor.id), note="请答复"
        ).id

    def answer(who, text):
        return lambda s: orders.answer_order(
            s, s.get(SupervisionOrder, order_id), actor=s.get(User, who.id), answer=text
        )

    first, second = at_once(tdb, answer(people.handler_a, "已更换闸阀"), answer(people.admin, "已恢复供水"))
    assert isinstance(second, TransitionNotAllowed) and "该督办单已答复" in second.message, second
    with tdb.transaction(write=False) as s:
        order = s.get(SupervisionOrder, order_id)
        assert (order.answer, order.answered_by_id) == ("已更换闸阀", people.handler_a.id)
    assert _events(tdb, ticket_id, "answer_supervision") == 1


def make_number(db, ticket_id: int) -> str:
    with db.transaction(write=False) as s:
        return s.get(Ticket, ticket_id).number


def test_an_escalation_due_while_a_supervisor_issues_an_order_makes_one_order(tdb, people):
    """The sweep's 升级督办 falls due while a supervisor's 一般督办 on the same ticket is being
    written: the sweep waits for the ticket's row lock, then finds the order and folds its own
    into it, so the unit is ordered (and told) once."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from hotline.directory import settings
    from hotline.kit import clock
    from hotline.supervision import sweep
    from hotline.tickets import lifecycle
    from tests.builders import register

    sh = ZoneInfo("Asia/Shanghai")
    clock.freeze(datetime(2026, 11, 2, 9, 0, tzinfo=sh))  # reply due Thu 5 Nov 09:00
    with tdb.transaction() as s:
        settings.set_value(s, "supervision.escalate_after_minutes", 120)
        ticket = register(s, people, urgency="normal")
        lifecycle.dispatch(s, ticket, actor=people.dispatcher, lead_unit_id=people.unit_a)
        lifecycle.accept(s, ticket, actor=people.handler_a)
        lifecycle.record_contact(s, ticket, actor=people.handler_a)
        ticket_id = ticket.id
    now = datetime(2026, 11, 5, 11, 1, tzinfo=sh)
    clock.freeze(now)
    [(claimed, until)] = sweep.claim_due(tdb, now=now)
    assert claimed == ticket_id

    def supervise(s):
        return orders.supervise(s, s.get(Ticket, ticket_id), actor=s.get(User, people.supervisor.id),
                                note="请今日答复").id

    first, second = at_once(tdb, supervise, lambda s: sweep.act(tdb, ticket_id, until, now=now))
    assert isinstance(first, int) and second >= 1, second
    with tdb.transaction(write=False) as s:
        assert s.scalars(select(SupervisionOrder.id).where(SupervisionOrder.ticket_id == ticket_id)).all() == [first]
        told = s.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.template_code == "unit.supervision", OutboxMessage.channel == "inbox"))
    assert told == 1
    [escalate] = [e for e in _timeline(tdb, ticket_id) if e.action == "escalate"]
    assert escalate.details["folded"] is True and escalate.details["order_id"] == first


def _timeline(db, ticket_id: int) -> list[TicketEvent]:
    with db.transaction(write=False) as s:
        return list(s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)))
