"""Deadlines (时限): which limit applies, when each stage is due, and when it is overdue."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from hotline.directory import holidays, reference
from hotline.directory.reference import LimitRow
from hotline.kit import clock
from hotline.kit.calendar import WorkCalendar
from hotline.kit.errors import HolidayDataMissing, Invalid
from hotline.tickets import deadlines, lifecycle, sla
from hotline.tickets.models import TicketEvent
from hotline.tickets.sla import Limit
from hotline.tickets.states import Status
from tests.builders import make_ticket, register

SH = ZoneInfo("Asia/Shanghai")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


def dispatched_at(session, people, when: datetime, **fields):
    """Register and dispatch a ticket at ``when`` (local time)."""
    clock.freeze(when)
    ticket = register(session, people, **fields)
    lifecycle.dispatch(session, ticket, actor=people.dispatcher, lead_unit_id=people.unit_a)
    session.flush()
    return ticket


# A praise about property management: no category or kind row matches, so the general limit of
# 5 working days to reply applies.
GENERAL = dict(kind="praise", category_code="0401", urgency="normal")


# ---------------------------------------------------------------- working-day deadlines on real data


def test_five_working_days_across_national_day_2026(session, people):
    ticket = dispatched_at(session, people, local(2026, 9, 30, 17, 0), **GENERAL)
    # Oct 1–7 off; Oct 8, 9, 10 (Saturday, worked), 12, 13.
    assert clock.local(ticket.reply_due_at) == local(2026, 10, 13, 17, 0)
    assert ticket.due_warning is None


def test_seeded_calendar_counts_the_tiaoxiu_sunday(session, people):
    cal = reference.snapshot(session).calendar
    assert cal.is_workday(date(2026, 9, 20))
    one = Limit(1, "working_days")
    # From Friday evening, the next working day is the worked Sunday.
    assert sla.add_limit(local(2026, 9, 18, 17, 0), one, cal, SH).at == local(2026, 9, 20, 17, 0)
    # Received on Saturday: the worked Sunday is the first working day; due at its end.
    assert sla.add_limit(local(2026, 9, 19, 11, 0), one, cal, SH).at == local(2026, 9, 21, 0, 0)


def test_dispatched_on_a_day_off_is_due_at_the_end_of_the_nth_working_day(session, people):
    # Saturday before the golden week; a water ticket must be answered in 3 working days:
    # Mon 28, Tue 29, Wed 30. Due at the end of Sep 30, not after the holiday.
    ticket = dispatched_at(session, people, local(2026, 9, 26, 10, 0), category_code="0103", urgency="normal")
    assert clock.local(ticket.reply_due_at) == local(2026, 10, 1, 0, 0)


def test_hour_limits_are_clock_hours_even_on_holidays(session, people):
    clock.freeze(local(2026, 10, 1, 22, 30))  # National Day, late evening
    ticket = register(session, people, urgency="emergency")
    assert clock.local(ticket.dispatch_due_at) == local(2026, 10, 1, 23, 30)
    urgent = register(session, people, urgency="urgent")
    assert clock.local(urgent.dispatch_due_at) == local(2026, 10, 2, 0, 30)


def test_day_limits_are_calendar_days(session, people):
    # An urgent water ticket is answered within 2 days, holidays included.
    ticket = dispatched_at(session, people, local(2026, 10, 2, 10, 0), category_code="0103", urgency="urgent")
    assert clock.local(ticket.reply_due_at) == local(2026, 10, 4, 10, 0)


def test_a_deadline_in_a_year_without_holiday_data_is_flagged_and_counted_by_weekends(session, people):
    ticket = dispatched_at(session, people, local(2026, 12, 28, 10, 0), **GENERAL)
    # Dec 29, 30, 31, Fri Jan 1 (unknown, so counted as working), Mon Jan 4.
    assert clock.local(ticket.reply_due_at) == local(2027, 1, 4, 10, 0)
    assert ticket.due_warning is not None and "2027" in ticket.due_warning
    with pytest.raises(HolidayDataMissing):
        reference.snapshot(session).calendar.is_workday(date(2027, 1, 4))


def test_entering_next_years_holidays_removes_the_warning_and_skips_the_holiday(session, people):
    holidays.set_year(session, 2027, days_off=[(date(2027, 1, 1), "元旦")], workdays=[])
    ticket = dispatched_at(session, people, local(2026, 12, 28, 10, 0), **GENERAL)
    assert clock.local(ticket.reply_due_at) == local(2027, 1, 5, 10, 0)
    assert ticket.due_warning is None
    assert reference.snapshot(session).calendar.is_workday(date(2027, 1, 4))


def test_holiday_data_of_2027_does_not_leak_between_tests(session):
    # The previous test entered 2027; the fixture removes it again, so this year is unknown here.
    with pytest.raises(HolidayDataMissing):
        reference.snapshot(session).calendar.is_workday(date(2027, 6, 1))


def test_add_limit_refuses_nonsense():
    cal = WorkCalendar.build([], [2026])
    with pytest.raises(Invalid):
        sla.add_limit(local(2026, 9, 1, 9, 0), Limit(-1, "hours"), cal, SH)
    with pytest.raises(Invalid):
        sla.add_limit(local(2026, 9, 1, 9, 0), Limit(3, "fortnights"), cal, SH)


def test_a_pause_gives_back_only_the_working_time_it_took():
    cal = WorkCalendar.build([], [2026])
    due = local(2026, 9, 16, 17, 0)  # Wednesday
    # Suspended Friday 18:00, resumed Monday 09:00: 6 h of Friday and 9 h of Monday were working days.
    moved, warning = sla.shift_for_pause(due, local(2026, 9, 4, 18, 0), local(2026, 9, 7, 9, 0), "working_days", cal, SH)
    assert moved == local(2026, 9, 17, 8, 0) and warning is None
    # A pause that lands the deadline on a weekend carries it over to Monday.
    moved, _ = sla.shift_for_pause(local(2026, 9, 4, 17, 0), local(2026, 9, 1, 9, 0), local(2026, 9, 2, 9, 0),
                                   "working_days", cal, SH)
    assert moved == local(2026, 9, 7, 17, 0)
    # Clock-hour limits move by the whole pause, weekend included.
    moved, _ = sla.shift_for_pause(due, local(2026, 9, 4, 18, 0), local(2026, 9, 7, 9, 0), "hours", cal, SH)
    assert moved == due + timedelta(hours=63)


def test_a_pause_into_a_missing_year_warns():
    cal = WorkCalendar.build([], [2026])
    moved, warning = sla.shift_for_pause(local(2026, 12, 31, 17, 0), local(2026, 12, 1, 9, 0), local(2026, 12, 3, 9, 0),
                                         "working_days", cal, SH)
    # Two working days given back from Thursday 17:00: Friday, then (unknown 2027) Monday.
    assert moved == local(2027, 1, 4, 17, 0)
    assert warning is not None and "2027" in warning


# ---------------------------------------------------------------- which limit applies


def row(stage="reply", category=None, urgency=None, kind=None, amount=1, unit="working_days") -> LimitRow:
    return LimitRow(stage, category, urgency, kind, amount, unit)


ROWS = [
    row(amount=5),
    row(category="01", amount=3),
    row(category="0103", amount=1),
    row(urgency="emergency", amount=24, unit="hours"),
    row(kind="complaint", amount=13),
    row(stage="dispatch", category="01", amount=2, unit="hours"),
]


def resolve(path, urgency="normal", kind="help", stage="reply"):
    return sla.resolve_limit(ROWS, stage=stage, category_path=path, urgency=urgency, kind=kind)


def test_an_emergency_beats_the_categorys_normal_limit():
    assert resolve(["0103", "01"], urgency="emergency") == Limit(24, "hours")


def test_a_leaf_category_row_beats_its_parents():
    assert resolve(["0103", "01"]) == Limit(1, "working_days")
    assert resolve(["0101", "01"]) == Limit(3, "working_days")  # a sibling gets the parent's row


def test_kind_rows_apply_only_when_no_category_row_matches():
    assert resolve(["0401", "04"], kind="complaint") == Limit(13, "working_days")
    assert resolve(["0101", "01"], kind="complaint") == Limit(3, "working_days")


def test_the_general_row_and_the_built_in_default():
    assert resolve(["0401", "04"]) == Limit(5, "working_days")
    assert sla.resolve_limit([], stage="accept", category_path=["0401"], urgency="normal", kind="help") == Limit(
        *sla.DEFAULT_LIMITS["accept"]
    )


def test_rows_of_other_stages_and_urgencies_do_not_apply():
    assert resolve(["0103", "01"], stage="dispatch") == Limit(2, "hours")
    assert resolve(["0401", "04"], urgency="urgent") == Limit(5, "working_days")


def test_shipped_limits_on_tickets(session, people):
    when = local(2026, 9, 14, 9, 0)  # Monday
    emergency = dispatched_at(session, people, when, category_code="0103", urgency="emergency")
    water = dispatched_at(session, people, when, category_code="0103", urgency="normal")
    complaint = dispatched_at(session, people, when, category_code="0401", kind="complaint", urgency="normal")
    assert emergency.reply_due_at - emergency.dispatched_at == timedelta(hours=24)
    assert clock.local(water.reply_due_at) == local(2026, 9, 17, 9, 0)  # 3 working days
    # 13 working days: Sep 15–18 (4), the worked Sunday 20 (5), 21–24 (9; 中秋 Sep 25–27 off),
    # 28–30 (12), then the golden week, Oct 8 (13).
    assert clock.local(complaint.reply_due_at) == local(2026, 10, 8, 9, 0)


# ---------------------------------------------------------------- overdue at the right minute


def test_accept_stage_turns_overdue_one_minute_after_its_due_time(session, people):
    clock.freeze(local(2026, 9, 15, 9, 0))
    ticket = make_ticket(session, people, Status.dispatched)  # urgent: 2 hours to accept
    due = ticket.accept_due_at
    assert clock.local(due) == local(2026, 9, 15, 11, 0)

    before = sla.stage_states(ticket, due - timedelta(minutes=1))
    assert before["accept"]["state"] == "running"
    assert sla.overdue_stages(ticket, due - timedelta(minutes=1)) == []
    assert sla.overdue_stages(ticket, due + timedelta(minutes=1)) == ["accept"]

    clock.freeze(due + timedelta(minutes=1))
    lifecycle.accept(session, ticket, actor=people.handler_a)
    states = sla.stage_states(ticket, clock.now())
    assert states["accept"]["state"] == "met_late"
    assert states["dispatch"]["state"] == "met"


def test_reply_stage_overdue_and_paused(session, people):
    clock.freeze(local(2026, 9, 15, 9, 0))
    ticket = make_ticket(session, people, Status.in_progress)
    due = ticket.reply_due_at
    assert "reply" not in sla.overdue_stages(ticket, due - timedelta(minutes=1))
    assert "reply" in sla.overdue_stages(ticket, due + timedelta(minutes=1))

    lifecycle.suspend(session, ticket, actor=people.handler_a, reason="来电人出差，下周回来")
    assert sla.stage_states(ticket, due + timedelta(minutes=1))["reply"]["state"] == "paused"
    assert sla.overdue_stages(ticket, due + timedelta(days=3)) == []


def test_a_registered_ticket_waits_on_dispatch(session, people):
    clock.freeze(local(2026, 9, 15, 9, 0))
    ticket = make_ticket(session, people, Status.registered)
    due = ticket.dispatch_due_at
    assert sla.stage_states(ticket, due)["dispatch"]["state"] == "running"
    assert sla.overdue_stages(ticket, due + timedelta(minutes=1)) == ["dispatch"]
    assert sla.stage_states(ticket, due)["reply"]["state"] == "not_started"


# ---------------------------------------------------------------- provisional deadlines recomputed


def test_entering_holidays_later_recomputes_provisional_deadlines_with_their_extensions(session, people):
    ticket = dispatched_at(session, people, local(2026, 12, 28, 10, 0), **GENERAL)
    lifecycle.accept(session, ticket, actor=people.handler_a)
    lifecycle.request_extension(session, ticket, actor=people.handler_a, amount=2, reason="需协调施工队")
    lifecycle.approve_extension(session, ticket, actor=people.dispatcher)
    session.flush()
    # Provisional: weekends only (Jan 4) + 2 working days = Jan 6, flagged.
    assert clock.local(ticket.reply_due_at) == local(2027, 1, 6, 10, 0)
    assert "2027" in ticket.due_warning

    holidays.set_year(session, 2027, days_off=[(date(2027, 1, 1), "元旦")], workdays=[])
    assert deadlines.recompute_provisional(session, actor=None) == 1
    session.flush()
    # With 元旦 off: 5 working days end Jan 5, the approved 2 more end Jan 7.
    assert clock.local(ticket.reply_due_at) == local(2027, 1, 7, 10, 0)
    assert ticket.due_warning is None
    from hotline.accounts.scope import SYSTEM
    from hotline.tickets import queries

    last = queries.timeline(session, SYSTEM, ticket)[-1]
    assert last.action == "recompute_due" and "reply_due_at" in last.details
    # Nothing left to recompute: a second run changes nothing.
    assert deadlines.recompute_provisional(session, actor=None) == 0


def test_a_redispatch_does_not_make_an_on_time_dispatch_look_late(session, people):
    clock.freeze(local(2026, 11, 2, 9, 0))
    ticket = make_ticket(session, people, Status.return_requested)
    clock.freeze(local(2026, 11, 5, 9, 0))  # long after the 2-hour dispatch limit
    lifecycle.redispatch(session, ticket, actor=people.dispatcher, lead_unit_id=people.unit_b)
    session.flush()
    states = sla.stage_states(ticket, clock.now())
    assert states["dispatch"]["state"] == "met"
    assert ticket.dispatch_count == 2
    assert ticket.task_of(people.unit_b).dispatched_at == clock.now()


def test_a_rejected_return_gives_the_unit_back_the_time_its_return_waited_for_review(session, people):
    """No unit clock runs in 退单待审; 驳回退单 moves the deadlines still running later by the
    wait, a working-day limit by the working time in it only (as 挂起/恢复), and says so on the
    timeline; one already passed when the unit asked stays overdue. A water ticket (reply: 3 working
    days) signed Mon 2 Nov 09:00, the caller not reached yet."""
    ticket = dispatched_at(session, people, local(2026, 11, 2, 9, 0), urgency="normal")
    lifecycle.accept(session, ticket, actor=people.handler_a)
    assert ticket.due_basis["reply"]["unit"] == "working_days"
    reply_due, contact_due = ticket.reply_due_at, ticket.contact_due_at
    assert clock.local(reply_due) == local(2026, 11, 5, 9, 0)
    clock.freeze(local(2026, 11, 4, 9, 0))  # Wednesday: one working day left to reply
    lifecycle.request_return(session, ticket, actor=people.handler_a, reason="该村供水不归本站管理")
    clock.freeze(local(2026, 11, 9, 10, 0))  # the centre decides the next Monday
    lifecycle.reject_return(session, ticket, actor=people.dispatcher, reason="该村在本站供水范围内")
    session.flush()
    assert ticket.status == Status.accepted
    # Wed 15 h + Thu + Fri + Mon 10 h of working time waited: the reply's one day left runs from now.
    assert clock.local(ticket.reply_due_at) == local(2026, 11, 10, 10, 0)
    assert ticket.reply_due_at > clock.now()
    # The caller was due to be reached Tue 09:00, before the return was asked for: still overdue.
    assert contact_due < local(2026, 11, 4, 9, 0) and ticket.contact_due_at == contact_due
    assert ticket.lead_task().response_due_at == contact_due  # and so does the order's response (响应率)
    states = sla.stage_states(ticket, clock.now())
    assert (states["reply"]["state"], states["contact"]["state"]) == ("running", "overdue")
    events = list(session.scalars(select(TicketEvent).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.action.in_(("reject_return", "recompute_due")))
        .order_by(TicketEvent.id)))
    assert [e.action for e in events] == ["reject_return", "recompute_due"]
    moved = events[-1]
    assert moved.reason.startswith("退单待审 5 天 1 小时，期间承办单位时限不计")
    assert moved.reason.endswith("：反馈时限顺延至11月10日 10:00") and "联系来电人" not in moved.reason
    # A later holiday recomputation keeps the time given back (it is remembered as a pause).
    deadlines.recompute_due_times(session, ticket, actor=None, calendar_changed=True)
    assert clock.local(ticket.reply_due_at) == local(2026, 11, 10, 10, 0)


def test_a_rejected_return_moves_the_response_limits_of_the_orders_not_answered_yet(session, people):
    """The orders' response limits (响应率) follow the deadlines they mirror when 驳回退单 gives time
    back: the lead's (first contact) and a co-handler's not signed yet (signature) move later by the
    wait; a co-handler that had already signed keeps the limit it signed against. Urgent: accept
    within 2 hours, contact within 4; dispatched 09:00, return asked 10:00, rejected 13:00."""
    clock.freeze(local(2026, 11, 2, 9, 0))
    ticket = register(session, people)
    lifecycle.dispatch(session, ticket, actor=people.dispatcher, lead_unit_id=people.unit_a,
                       co_unit_ids=[people.unit_a_co, people.unit_b])
    clock.freeze(local(2026, 11, 2, 9, 30))
    lifecycle.accept(session, ticket, actor=people.handler_a_co)
    clock.freeze(local(2026, 11, 2, 10, 0))
    lifecycle.request_return(session, ticket, actor=people.handler_a, reason="该村供水不归本站管理")
    clock.freeze(local(2026, 11, 2, 13, 0))
    lifecycle.reject_return(session, ticket, actor=people.dispatcher, reason="该村在本站供水范围内")
    session.flush()
    assert (clock.local(ticket.accept_due_at), clock.local(ticket.contact_due_at)) == (
        local(2026, 11, 2, 14, 0), local(2026, 11, 2, 16, 0))
    lead, signed, waiting = (ticket.task_of(u) for u in (people.unit_a, people.unit_a_co, people.unit_b))
    assert clock.local(lead.response_due_at) == local(2026, 11, 2, 16, 0)
    assert clock.local(waiting.response_due_at) == local(2026, 11, 2, 14, 0)
    assert clock.local(signed.response_due_at) == local(2026, 11, 2, 11, 0)
