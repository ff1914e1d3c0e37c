"""Days off entered or changed after tickets and supervision orders were given working-day
deadlines: the running ones move with the calendar, the met ones and the hand-set ones stay."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from hotline.directory import holidays, reference
from hotline.directory.models import Holiday
from hotline.kit import clock
from hotline.supervision import orders
from hotline.tickets import lifecycle
from tests.builders import register

SH = ZoneInfo("Asia/Shanghai")
GENERAL = dict(kind="praise", category_code="0401", urgency="normal")  # reply in 5 working days


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


def _entries_2026(session) -> tuple[list, list]:
    rows = session.scalars(select(Holiday).where(Holiday.day.between(date(2026, 1, 1), date(2026, 12, 31)))).all()
    return ([(h.day, h.name or "") for h in rows if not h.is_workday],
            [(h.day, h.name or "") for h in rows if h.is_workday])


def _add_days_off_2026(session, *days: date) -> orders.HolidayChange:
    """What the admin does: the year's entries as they are, plus the new days off, saved again."""
    before = reference.snapshot(session).calendar
    off, work = _entries_2026(session)
    holidays.set_year(session, 2026, days_off=off + [(d, "地方停工") for d in days], workdays=work)
    return orders.follow_holiday_change(session, before, actor=None)


@pytest.fixture
def shipped_2026(session):
    """The shipped 2026 calendar is put back after the test (other tests count on it)."""
    off, work = _entries_2026(session)
    yield
    holidays.set_year(session, 2026, days_off=off, workdays=work, source="chinesecalendar")


def test_days_off_added_move_running_deadlines_and_order_deadlines_but_not_met_ones(session, people, shipped_2026):
    clock.freeze(local(2026, 11, 30, 10, 0))  # Monday
    running = register(session, people, **GENERAL)
    lifecycle.dispatch(session, running, actor=people.dispatcher, lead_unit_id=people.unit_a)
    lifecycle.accept(session, running, actor=people.handler_a)
    replied = register(session, people, **GENERAL)
    lifecycle.dispatch(session, replied, actor=people.dispatcher, lead_unit_id=people.unit_a)
    lifecycle.accept(session, replied, actor=people.handler_a)
    order = orders.supervise(session, running, actor=people.supervisor, note="请加快办理", working_days=3)
    hand_set = orders.supervise(session, running, actor=people.supervisor, level="key", note="周五前答复",
                                due_at=local(2026, 12, 4, 18, 0))
    clock.freeze(local(2026, 11, 30, 15, 0))
    lifecycle.record_contact(session, replied, actor=people.handler_a, note="已电话联系")
    lifecycle.reply(session, replied, actor=people.handler_a, text="已处理完毕，向来电人说明。")
    session.flush()
    assert clock.local(running.reply_due_at) == local(2026, 12, 7, 10, 0)
    assert clock.local(order.due_at) == local(2026, 12, 3, 10, 0)
    replied_due = replied.reply_due_at

    moved = _add_days_off_2026(session, date(2026, 12, 1), date(2026, 12, 2))
    session.flush()

    assert moved == orders.HolidayChange(tickets=1, orders=1)
    # Two working days fewer before it: the reply is due two working days later.
    assert clock.local(running.reply_due_at) == local(2026, 12, 9, 10, 0)
    assert clock.local(order.due_at) == local(2026, 12, 7, 10, 0)  # 3 working days: Dec 3, 4, 7
    assert replied.reply_due_at == replied_due  # met before the change: judged against what it was
    assert clock.local(hand_set.due_at) == local(2026, 12, 4, 18, 0)  # a time set by hand stays
    from hotline.accounts.scope import SYSTEM
    from hotline.tickets import queries

    last = queries.timeline(session, SYSTEM, running)[-1]
    assert last.action == "recompute_due" and "节假日安排已变更" in last.reason
    # Saving the same days again moves nothing.
    assert _add_days_off_2026(session) == orders.HolidayChange(tickets=0, orders=0)
