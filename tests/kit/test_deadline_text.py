"""Deadlines as people read them: the end of a day is that day's 24:00, another year is named."""

from __future__ import annotations

from datetime import datetime

import pytest

from hotline.kit import clock
from hotline.notices.events import local_when
from hotline.supervision.steps import local_label
from hotline.web.render import env


@pytest.fixture(autouse=True)
def _late_november():
    clock.freeze(datetime(2026, 11, 30, 10, 0))
    yield
    clock.freeze(None)


def local(*args: int) -> datetime:
    return clock.aware(datetime(*args))


def test_the_end_of_a_day_is_that_days_24_00_not_the_next_days_00_00():
    end_of_2_december = local(2026, 12, 3, 0, 0)
    assert clock.deadline_text(end_of_2_december) == "12-02 24:00"
    assert local_when(end_of_2_december) == "12月2日24:00"  # the caller's SMS: 办理时限至12月2日24:00
    assert local_label(end_of_2_december) == "12月2日 24:00"
    assert env.from_string("反馈 {{ at | due }}").render(at=end_of_2_december) == "反馈 12-02 24:00"
    assert clock.deadline_text(local(2026, 12, 3, 0, 1)) == "12-03 00:01"
    assert clock.deadline_text(local(2026, 12, 2, 17, 30)) == "12-02 17:30"
    assert local_when(local(2026, 11, 29, 10, 0)) == "11月29日10:00"


def test_a_deadline_in_another_year_names_the_year():
    assert clock.deadline_text(local(2027, 1, 29, 0, 0)) == "2027-01-28 24:00"
    assert local_when(local(2027, 1, 28, 17, 0)) == "2027年1月28日17:00"
    assert env.from_string("{{ at | due }}").render(at=local(2027, 1, 28, 17, 0)) == "2027-01-28 17:00"
    # The end of 31 December is still this year's.
    assert clock.deadline_text(local(2027, 1, 1, 0, 0)) == "12-31 24:00"
    assert local_when(local(2025, 12, 31, 9, 0)) == "2025年12月31日09:00"
    assert env.from_string("{{ at | due }}").render(at=None) == ""
