"""Callbacks (回访) as the centre sees them: when one is due, what happens when the caller cannot
be reached, and a dissatisfied caller's ticket going back to the unit."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.callbacks import service
from hotline.callbacks.models import CallbackTask, TaskState
from hotline.directory import settings as rules
from hotline.kit import clock
from hotline.notify.models import MessageChannel, OutboxMessage
from hotline.tickets import lifecycle as L
from hotline.tickets.models import Satisfaction, Ticket, TicketEvent
from hotline.tickets.states import Status
from tests.builders import Personas, make_ticket

WORDS = "水压还是很低，二楼上不去水"


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=clock.tz())


def tasks(session: Session, ticket: Ticket) -> list[CallbackTask]:
    return list(session.scalars(select(CallbackTask).where(CallbackTask.ticket_id == ticket.id)
                                .order_by(CallbackTask.round)))


def last_event(session: Session, ticket: Ticket) -> TicketEvent:
    return session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                           .order_by(TicketEvent.id.desc()).limit(1)).one()


def reviewed_at(session: Session, people: Personas, when: datetime) -> Ticket:
    """A ticket whose reply the centre accepts at ``when`` (local time)."""
    clock.freeze(when)
    ticket = make_ticket(session, people, Status.callback_pending)
    session.flush()
    return ticket


def missed(session: Session, people: Personas, ticket: Ticket, times: int) -> None:
    for _ in range(times):
        service.record(session, ticket, actor=people.agent, reached=False, comment="无人接听")
        clock.advance(timedelta(hours=2))
    session.flush()


@pytest.mark.parametrize(("accepted", "due"), [
    (local(2026, 11, 27, 15, 0), local(2026, 11, 30, 15, 0)),  # Friday → Monday
    (local(2026, 9, 24, 15, 0), local(2026, 9, 28, 15, 0)),  # Thursday before 中秋 (Friday off) → Monday
    (local(2026, 9, 30, 16, 0), local(2026, 10, 8, 16, 0)),  # the eve of 国庆 (Oct 1–7 off) → after it
    (local(2026, 10, 9, 10, 0), local(2026, 10, 10, 10, 0)),  # Friday → the 调休 working Saturday
    (local(2026, 9, 19, 11, 0), local(2026, 9, 21, 0, 0)),  # Saturday → by the end of the 调休 Sunday
])
def test_a_callback_is_due_the_next_working_day(session, people: Personas, accepted: datetime, due: datetime):
    ticket = reviewed_at(session, people, accepted)
    [task] = tasks(session, ticket)
    assert (task.state, task.round, task.attempts) == (TaskState.open, 0, 0)
    assert clock.local(task.due_at) == due
    assert task.next_attempt_at == clock.now()  # the first attempt may be made at once


def test_with_zero_working_days_the_callback_is_due_by_the_end_of_the_day(session, people: Personas):
    rules.set_value(session, "callback.due_working_days", 0)
    ticket = reviewed_at(session, people, local(2026, 11, 27, 15, 0))
    assert clock.local(tasks(session, ticket)[0].due_at) == local(2026, 11, 28, 0, 0)


def test_a_failed_attempt_is_counted_and_the_next_one_scheduled(session, people: Personas):
    ticket = reviewed_at(session, people, local(2026, 11, 30, 9, 0))
    recorded = service.record(session, ticket, actor=people.agent, reached=False, comment="无人接听")
    session.flush()
    assert recorded.event.action == "callback_attempt" and recorded.follow_up is None
    assert ticket.status == Status.callback_pending
    [task] = tasks(session, ticket)
    assert (task.attempts, task.last_note) == (1, "无人接听")
    assert clock.local(task.next_attempt_at) == local(2026, 11, 30, 11, 0)  # 120 minutes later


def test_three_missed_attempts_close_the_ticket_as_not_reached(session, people: Personas):
    ticket = reviewed_at(session, people, local(2026, 11, 30, 9, 0))
    missed(session, people, ticket, 2)
    assert ticket.status == Status.callback_pending
    missed(session, people, ticket, 1)

    assert (ticket.status, ticket.close_reason, ticket.satisfaction) == (
        Status.closed, "not_reached", Satisfaction.not_reached)
    close = last_event(session, ticket)
    assert (close.action, close.actor_name, close.reason) == ("close", "系统", "连续3次回访未联系上")
    [task] = tasks(session, ticket)
    assert (task.state, task.attempts, task.outcome) == (TaskState.not_reached, 3, "not_reached")
    sms = [m.template_code for m in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
           if m.channel == MessageChannel.sms]
    assert sms[-4:] == ["caller.callback"] * 3 + ["caller.closed"]


def test_under_keep_the_centre_keeps_trying_after_the_maximum(session, people: Personas):
    rules.set_value(session, "callback.after_max_attempts", "keep")
    ticket = reviewed_at(session, people, local(2026, 11, 30, 9, 0))
    missed(session, people, ticket, 4)
    assert ticket.status == Status.callback_pending
    [task] = tasks(session, ticket)
    assert (task.state, task.attempts) == (TaskState.open, 4)


def test_the_maximum_is_a_rule(session, people: Personas):
    rules.set_value(session, "callback.max_attempts", 2)
    ticket = reviewed_at(session, people, local(2026, 11, 30, 9, 0))
    missed(session, people, ticket, 2)
    assert ticket.status == Status.closed and last_event(session, ticket).reason == "连续2次回访未联系上"


@pytest.mark.parametrize(("resolved", "satisfaction"), [(False, "dissatisfied"), (True, "dissatisfied"),
                                                        (False, "basically_satisfied")])
def test_a_negative_answer_sends_the_ticket_back_to_the_same_units(session, people: Personas, resolved: bool,
                                                                  satisfaction: str):
    ticket = reviewed_at(session, people, local(2026, 11, 30, 9, 0))
    recorded = service.record(session, ticket, actor=people.agent, reached=True, resolved=resolved,
                              satisfaction=satisfaction, comment=WORDS)
    session.flush()

    assert ticket.status == Status.dispatched and ticket.reopen_count == 1
    assert {(u.unit_id, u.role.value) for u in ticket.active_units()} == {
        (people.unit_a, "lead"), (people.unit_a_co, "co")}
    reopen = recorded.follow_up
    assert reopen is not None and (reopen.action, reopen.actor_name, reopen.reason) == ("reopen", "系统", WORDS)
    [task] = tasks(session, ticket)
    assert (task.state, task.outcome) == (TaskState.done, satisfaction)

    notices = session.scalars(select(OutboxMessage).where(OutboxMessage.template_code == "unit.reopened")).all()
    assert {m.recipient for m in notices} == {str(people.handler_a.id), str(people.handler_a_co.id)}
    assert all(f"群众意见：{WORDS}" in m.body for m in notices)


def test_a_reopened_ticket_gets_a_new_callback_when_its_next_reply_is_accepted(session, people: Personas):
    ticket = reviewed_at(session, people, local(2026, 11, 30, 9, 0))
    service.record(session, ticket, actor=people.agent, reached=True, resolved=False, satisfaction="dissatisfied",
                   comment=WORDS)
    L.accept(session, ticket, actor=people.handler_a)
    L.record_contact(session, ticket, actor=people.handler_a, note="再次上门")
    L.reply(session, ticket, actor=people.handler_a, text="已加装增压泵")
    L.accept_reply(session, ticket, actor=people.dispatcher)
    session.flush()
    assert [(t.round, t.state) for t in tasks(session, ticket)] == [(0, TaskState.done), (1, TaskState.open)]


def test_a_good_answer_waits_for_the_centre_to_close(session, people: Personas):
    ticket = reviewed_at(session, people, local(2026, 11, 30, 9, 0))
    recorded = service.record(session, ticket, actor=people.agent, reached=True, resolved=True,
                              satisfaction="satisfied", comment="水来了")
    assert recorded.follow_up is None and ticket.status == Status.callback_done
    assert tasks(session, ticket)[0].state == TaskState.done


def test_without_automatic_reopening_a_bad_answer_waits_for_the_centre(session, people: Personas):
    rules.set_value(session, "callback.reopen_on_negative", False)
    ticket = reviewed_at(session, people, local(2026, 11, 30, 9, 0))
    recorded = service.record(session, ticket, actor=people.agent, reached=True, resolved=False,
                              satisfaction="dissatisfied", comment=WORDS)
    assert recorded.follow_up is None and ticket.status == Status.callback_done
