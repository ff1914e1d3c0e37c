"""The working-day calendar: weekends, holidays, 调休 working weekends, and years without data."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.kit.calendar import WorkCalendar
from hotline.kit.errors import HolidayDataMissing

SH = ZoneInfo("Asia/Shanghai")

# The part of the State Council notice for 2026 these tests need: 国庆 Oct 1–7 off, Sun Sep 20 and
# Sat Oct 10 worked (调休). (中秋 Sep 25–27 is left out on purpose: these tests are about 国庆.)
NATIONAL_DAY_2026 = [(date(2026, 10, d), False) for d in range(1, 8)] + [
    (date(2026, 9, 20), True),
    (date(2026, 10, 10), True),
]
CAL = WorkCalendar.build(NATIONAL_DAY_2026, [2026])


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


def test_weekdays_work_and_weekends_rest_outside_the_exceptions():
    assert CAL.is_workday(date(2026, 9, 18))  # Friday
    assert not CAL.is_workday(date(2026, 9, 19))  # Saturday
    assert not CAL.is_workday(date(2026, 9, 27))  # Sunday


def test_holidays_are_days_off_and_tiaoxiu_weekends_are_working_days():
    assert not CAL.is_workday(date(2026, 10, 1))  # Thursday, 国庆
    assert not CAL.is_workday(date(2026, 10, 7))
    assert CAL.is_workday(date(2026, 9, 20))  # Sunday, worked
    assert CAL.is_workday(date(2026, 10, 10))  # Saturday, worked


def test_a_year_without_holiday_data_raises_instead_of_guessing():
    with pytest.raises(HolidayDataMissing) as err:
        CAL.is_workday(date(2027, 1, 1))
    assert err.value.year == 2027
    assert "2027" in err.value.message


def test_non_strict_lookup_falls_back_to_weekends_for_a_missing_year():
    assert CAL.is_workday(date(2027, 1, 1), strict=False)  # a Friday: a holiday, but nobody entered it
    assert not CAL.is_workday(date(2027, 1, 2), strict=False)


def test_covers_only_entered_years():
    assert CAL.covers(date(2026, 12, 31))
    assert not CAL.covers(date(2027, 1, 1))


def test_next_workday_skips_the_golden_week():
    assert CAL.next_workday(date(2026, 9, 30)) == date(2026, 10, 8)
    assert CAL.next_workday(date(2026, 9, 19)) == date(2026, 9, 20)  # Sat -> the worked Sunday
    assert CAL.next_workday(date(2026, 10, 9)) == date(2026, 10, 10)  # Fri -> the worked Saturday
    assert CAL.next_workday(date(2026, 10, 10)) == date(2026, 10, 12)


def test_working_days_from_a_working_day_keep_the_clock_time():
    # Wed 17:00 before the holiday: Oct 8, 9, 10 (Sat, worked), 12, 13.
    due = CAL.add_working_days(local(2026, 9, 30, 17, 0), 5, SH)
    assert due == local(2026, 10, 13, 17, 0)


def test_working_days_keep_the_timezone_of_the_start():
    start = local(2026, 9, 30, 17, 0).astimezone(UTC)
    due = CAL.add_working_days(start, 5, SH)
    assert due.tzinfo == UTC
    assert due == local(2026, 10, 13, 17, 0)


def test_utc_start_is_counted_by_the_local_day():
    # 2026-09-18 20:00 UTC is already Saturday 04:00 in Shanghai: a day off.
    due = CAL.add_working_days(datetime(2026, 9, 18, 20, 0, tzinfo=UTC), 1, SH)
    assert due == local(2026, 9, 21, 0, 0)  # end of the worked Sunday


def test_tiaoxiu_sunday_counts_as_the_first_working_day_after_a_saturday():
    # Received Sat 2026-09-19: the clock starts on the worked Sunday Sep 20, so 2 working days
    # are Sep 20 and Sep 21; the deadline is the end of Monday.
    due = CAL.add_working_days(local(2026, 9, 19, 15, 30), 2, SH)
    assert due == local(2026, 9, 22, 0, 0)


def test_received_on_a_day_off_the_deadline_is_the_end_of_the_nth_working_day():
    # Received Sat 2026-09-26: working days are Mon 28, Tue 29, Wed 30, then the golden week.
    # Three working days end at the end of Wed Sep 30, not a week later.
    due = CAL.add_working_days(local(2026, 9, 26, 10, 0), 3, SH)
    assert due == datetime.combine(date(2026, 9, 30) + timedelta(days=1), time(0), SH)


def test_a_deadline_at_the_end_of_a_working_day_extended_ends_with_the_nth_working_day_after_it():
    # Due at the end of Wednesday Nov 25 (Thu 00:00); 2 more working days end with Friday, not at
    # Monday 00:00: the ticket must not look on time through the weekend.
    end_of_wednesday = local(2026, 11, 26, 0, 0)
    assert CAL.add_working_days(end_of_wednesday, 2, SH) == local(2026, 11, 28, 0, 0)
    assert CAL.add_working_days(end_of_wednesday, 3, SH) == local(2026, 12, 1, 0, 0)  # end of Monday
    # The end of the last day before the golden week, extended by one: the end of Oct 8.
    assert CAL.add_working_days(local(2026, 10, 1, 0, 0), 1, SH) == local(2026, 10, 9, 0, 0)
    # 00:00 after a day off is the start of a working day: the rule for a working-day start holds.
    assert CAL.add_working_days(local(2026, 11, 30, 0, 0), 2, SH) == local(2026, 12, 2, 0, 0)


@given(st.dates(date(2026, 1, 1), date(2026, 12, 1)), st.integers(1, 6), st.integers(1, 6))
def test_extending_twice_is_extending_once_by_the_sum(day, a, b):
    """Two approved extensions of a deadline at the end of a working day land where one of a + b would."""
    if not CAL.is_workday(day):
        return
    end = datetime.combine(day + timedelta(days=1), time(0), SH)
    once = CAL.add_working_days(end, a + b, SH)
    assert CAL.add_working_days(CAL.add_working_days(end, a, SH), b, SH) == once
    assert once.time() == time(0) and CAL.is_workday(once.date() - timedelta(days=1))
    assert CAL.working_days_between(day, once.date() - timedelta(days=1)) == a + b


def test_received_during_the_holiday_counts_from_the_first_day_back():
    due = CAL.add_working_days(local(2026, 10, 3, 9, 0), 1, SH)
    assert due == local(2026, 10, 9, 0, 0)  # end of Thu Oct 8


def test_zero_working_days_from_a_day_off_is_the_start_of_the_next_working_day():
    assert CAL.add_working_days(local(2026, 10, 3, 9, 0), 0, SH) == local(2026, 10, 8, 0, 0)


def test_negative_working_days_are_refused():
    with pytest.raises(ValueError):
        CAL.add_working_days(local(2026, 9, 30, 9, 0), -1, SH)


def test_working_days_into_a_missing_year_raise_unless_lenient():
    start = local(2026, 12, 30, 10, 0)  # Wednesday
    with pytest.raises(HolidayDataMissing):
        CAL.add_working_days(start, 3, SH)
    # Weekends only: Dec 31, Fri Jan 1 (not known to be a holiday), Mon Jan 4.
    assert CAL.add_working_days(start, 3, SH, strict=False) == local(2027, 1, 4, 10, 0)


def test_roll_to_workday_keeps_the_clock_time():
    assert CAL.roll_to_workday(local(2026, 10, 2, 14, 0), SH) == local(2026, 10, 8, 14, 0)
    working = local(2026, 10, 10, 14, 0)  # the worked Saturday stays
    assert CAL.roll_to_workday(working, SH) == working


def test_working_days_between_counts_a_half_open_range():
    assert CAL.working_days_between(date(2026, 9, 30), date(2026, 10, 13)) == 5
    assert CAL.working_days_between(date(2026, 9, 18), date(2026, 9, 20)) == 1  # only the worked Sunday
    assert CAL.working_days_between(date(2026, 9, 30), date(2026, 9, 30)) == 0
