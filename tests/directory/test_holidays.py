"""The holiday table's sanity bounds: what an admin entering a year is asked to confirm."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from hotline.directory.holidays import set_year, unusual
from hotline.kit.errors import Invalid


def test_every_official_year_is_usual_and_a_mistyped_one_is_not():
    """The sanity bounds hold for every State Council notice ``chinesecalendar`` knows (2004–2026),
    so no real year needs confirming; a range typed a month too long, or 调休 on every Saturday,
    is caught."""
    import chinese_calendar

    for year in range(2004, 2027):
        off = [d for d in chinese_calendar.holidays if d.year == year]
        work = [d for d in chinese_calendar.workdays if d.year == year and d.weekday() >= 5]
        assert unusual(year, off, work) == [], year
    spring = [date(2027, 2, 6) + timedelta(days=i) for i in range(8 + 28)]  # ..02-13 typed ..03-13, then a Sunday
    assert unusual(2027, spring, []) == ["从 2027-02-06 起连续休息 37 天（历年最长 10 天）"]
    saturdays = [date(2027, 1, 2) + timedelta(weeks=i) for i in range(20)]
    assert unusual(2027, [date(2027, 1, 1)], saturdays) == ["调休上班 20 天（历年最多 12 天）"]


def test_an_unusual_year_is_refused_until_confirmed(session):
    days = [(date(2031, 1, 1) + timedelta(days=i), "寒假") for i in range(40)]
    with pytest.raises(Invalid) as refused:
        set_year(session, 2031, days_off=days, workdays=[])
    assert refused.value.code == "holidays_unusual" and "连续休息 40 天" in refused.value.message
    assert set_year(session, 2031, days_off=days, workdays=[], confirmed=True) == 40
