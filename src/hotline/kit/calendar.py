"""Chinese working days: weekends, public holidays and 调休 (weekends that become working days).

Pure maths over a table of exceptions. Which days are exceptions comes from the directory's
holiday table (seeded from ``chinesecalendar`` for 2004–2026, extended by admins each year).
A date in a year the table does not cover raises ``HolidayDataMissing``: never a silent guess.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hotline.kit.errors import HolidayDataMissing


@dataclass(frozen=True)
class WorkCalendar:
    """``exceptions`` maps a date to True (working day) or False (day off) where the weekend
    rule is wrong; ``years`` are the years whose holiday data has been entered."""

    exceptions: Mapping[date, bool] = field(default_factory=dict)
    years: frozenset[int] = frozenset()

    @classmethod
    def build(cls, rows: Iterable[tuple[date, bool]], years: Iterable[int]) -> WorkCalendar:
        return cls(exceptions=dict(rows), years=frozenset(years))

    def covers(self, day: date) -> bool:
        return day.year in self.years

    def is_workday(self, day: date, *, strict: bool = True) -> bool:
        if day.year not in self.years and strict:
            raise HolidayDataMissing(day.year)
        if day in self.exceptions:
            return self.exceptions[day]
        return day.weekday() < 5

    def next_workday(self, day: date, *, strict: bool = True) -> date:
        """The first working day strictly after ``day``."""
        day += timedelta(days=1)
        while not self.is_workday(day, strict=strict):
            day += timedelta(days=1)
        return day

    def add_working_days(self, start: datetime, n: int, tz: ZoneInfo, *, strict: bool = True) -> datetime:
        """Deadline ``n`` working days after ``start``.

        Received on a working day: the same local clock time on the n-th following working day.
        Received on a day off: the clock starts at 00:00 of the next working day, so the deadline is
        the end of the n-th working day counting that one as the first.
        Starting at 00:00 just after a working day (a deadline being extended: 00:00 is the end of
        the day before): the end of the n-th working day after that day, so an extension of a deadline
        at the end of Wednesday by 2 working days ends with Friday, not at Monday 00:00 (a whole
        weekend later).
        """
        if n < 0:
            raise ValueError("n must not be negative")
        local = start.astimezone(tz)
        day = local.date()
        if n and local.timetz().replace(tzinfo=None) == time(0) and self.is_workday(day - timedelta(days=1),
                                                                                     strict=strict):
            day -= timedelta(days=1)
            for _ in range(n):
                day = self.next_workday(day, strict=strict)
            return datetime.combine(day + timedelta(days=1), time(0), tz).astimezone(start.tzinfo)
        if not self.is_workday(day, strict=strict):
            day = self.next_workday(day, strict=strict)
            if n == 0:
                return datetime.combine(day, time(0), tz).astimezone(start.tzinfo)
            for _ in range(n - 1):
                day = self.next_workday(day, strict=strict)
            # The end of that day (24:00), not 00:00 of the next working day: when days off follow,
            # the two are days apart and the ticket would look on time through a whole holiday.
            return datetime.combine(day + timedelta(days=1), time(0), tz).astimezone(start.tzinfo)
        for _ in range(n):
            day = self.next_workday(day, strict=strict)
        due = datetime.combine(day, local.timetz().replace(tzinfo=None), tz)
        return due.astimezone(start.tzinfo)

    def roll_to_workday(self, moment: datetime, tz: ZoneInfo, *, strict: bool = True) -> datetime:
        """Keep the clock time, move the date forward to a working day if it is not one."""
        local = moment.astimezone(tz)
        day = local.date()
        if self.is_workday(day, strict=strict):
            return moment
        day = self.next_workday(day, strict=strict)
        return datetime.combine(day, local.timetz().replace(tzinfo=None), tz).astimezone(moment.tzinfo)

    def working_days_between(self, start: date, end: date, *, strict: bool = True) -> int:
        """Working days in the half-open range (start, end]."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            count += self.is_workday(day, strict=strict)
        return count

    def working_seconds_between(self, start: datetime, end: datetime, tz: ZoneInfo, *, strict: bool = True) -> float:
        """Seconds of ``[start, end)`` that fall on working days (whole days count, 24 h each)."""
        total, cur = 0.0, start
        while cur < end:
            day = cur.astimezone(tz).date()
            midnight = datetime.combine(day + timedelta(days=1), time(0), tz)
            stop = min(end, midnight)
            if self.is_workday(day, strict=strict):
                total += (stop - cur).total_seconds()
            cur = stop
        return total

    def add_working_seconds(self, moment: datetime, seconds: float, tz: ZoneInfo, *, strict: bool = True) -> datetime:
        """``moment`` moved on by ``seconds`` of working-day time, skipping days off."""
        cur, remaining = moment, seconds
        while remaining > 0:
            day = cur.astimezone(tz).date()
            midnight = datetime.combine(day + timedelta(days=1), time(0), tz).astimezone(moment.tzinfo)
            if self.is_workday(day, strict=strict):
                room = (midnight - cur).total_seconds()
                if remaining <= room:
                    return cur + timedelta(seconds=remaining)
                remaining -= room
            cur = midnight
        return cur

