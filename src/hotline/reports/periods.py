"""The periods a briefing covers: a local day (日报), a Monday–Sunday week (周报), an assessment month
(月报, whose first day follows the rule ``assessment.period_start_day``), and the period before each.

A period's *label* names its files and is unique within its kind: ``2026-03-05``, ``2026-W10``
(ISO week), ``2026-03`` (the assessment month, which may start on the 26th of the month before).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from hotline.analytics import rates
from hotline.kit import clock
from hotline.kit.errors import Invalid
from hotline.tickets.validation import EARLIEST_RECEIVED

KINDS = ("daily", "weekly", "monthly")
# No hotline data is older (the assessment pages take years 2000–2100 too): a report of an earlier
# day would be an empty one kept in the list.
EARLIEST = EARLIEST_RECEIVED
KIND_LABELS = {"daily": "日报", "weekly": "周报", "monthly": "月报"}
LABEL_PATTERNS = {
    "daily": re.compile(r"\d{4}-\d{2}-\d{2}"),
    "weekly": re.compile(r"\d{4}-W\d{2}"),
    "monthly": re.compile(r"\d{4}-\d{2}"),
}


@dataclass(frozen=True)
class Period:
    kind: str
    first: date
    last: date  # inclusive
    label: str
    title: str  # 2026年3月5日, 2026年第10周（3月2日—3月8日）, 2026年3月（2月26日—3月25日）

    @property
    def heading(self) -> str:
        """The title with its days said once: 2026年第48周（11月23日—11月29日）, 2026年3月（3月1日—3月31日）,
        2026年3月5日 (a title naming its days already is left as it is)."""
        if self.kind == "daily" or self.title.endswith("）"):
            return self.title
        return f"{self.title}（{_md(self.first)}—{_md(self.last)}）"

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def start(self) -> datetime:
        """Local midnight of the first day (aware)."""
        return datetime.combine(self.first, time(0), clock.tz())

    @property
    def end(self) -> datetime:
        """Local midnight after the last day (aware): the period is [start, end)."""
        return datetime.combine(self.last + timedelta(days=1), time(0), clock.tz())


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise Invalid(f"报表类型须为 daily（日报）、weekly（周报）或 monthly（月报），收到 {kind!r}", code="invalid_report_kind")
    return kind


def _md(d: date) -> str:
    return f"{d.month}月{d.day}日"


def daily(day: date) -> Period:
    return Period("daily", day, day, day.isoformat(), f"{day.year}年{_md(day)}")


def weekly(day: date) -> Period:
    first = day - timedelta(days=day.weekday())
    last = first + timedelta(days=6)
    year, week, _ = first.isocalendar()
    return Period("weekly", first, last, f"{year}-W{week:02d}", f"{year}年第{week}周（{_md(first)}—{_md(last)}）")


def monthly(year: int, month: int, start_day: int = 1) -> Period:
    first, last = rates.month_period(year, month, start_day)
    span = "" if start_day <= 1 else f"（{_md(first)}—{_md(last)}）"
    return Period("monthly", first, last, f"{year}-{month:02d}", f"{year}年{month}月{span}")


def period_of(kind: str, day: date, start_day: int = 1) -> Period:
    """The period of ``kind`` that contains ``day``."""
    check_kind(kind)
    if kind == "daily":
        return daily(day)
    if kind == "weekly":
        return weekly(day)
    return monthly(*rates.month_of(day, start_day), start_day)


def previous(period: Period, start_day: int = 1) -> Period:
    """The period of the same kind just before ``period``."""
    return period_of(period.kind, period.first - timedelta(days=1), start_day)


def months_back(period: Period, count: int, start_day: int = 1) -> list[Period]:
    """The ``count`` assessment months ending with the one that holds ``period``'s last day, oldest
    first."""
    months = [period_of("monthly", period.last, start_day)]
    while len(months) < count:
        months.insert(0, previous(months[0], start_day))
    return months


def check_label(kind: str, label: str) -> str:
    """A stored report's label, refused unless it has the kind's shape (it names a file)."""
    if not LABEL_PATTERNS[check_kind(kind)].fullmatch(label):
        raise Invalid(f"报表期次 {label!r} 格式不正确", code="invalid_report_label")
    return label
