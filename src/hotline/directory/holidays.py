"""The holiday table: seeded from ``chinesecalendar`` (2004–2026), extended by admins each year.

A year counts as entered only when a ``HolidayYear`` row exists; deadlines in other years are
flagged (see ``kit.calendar``). Admins enter a year as its days off and its 调休 working weekends,
exactly as the State Council's notice lists them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from hotline.directory import reference
from hotline.directory.models import Holiday, HolidayYear
from hotline.kit import clock
from hotline.kit.errors import Invalid


def seed_from_chinesecalendar(session: Session) -> int:
    """Enter every year ``chinesecalendar`` knows that the table does not have yet."""
    import chinese_calendar

    known = set(session.scalars(select(HolidayYear.year)))
    days: dict[int, list[Holiday]] = {}
    for day, name in chinese_calendar.holidays.items():
        if day.weekday() < 5:
            days.setdefault(day.year, []).append(Holiday(day=day, is_workday=False, name=_name(name)))
    for day, name in chinese_calendar.workdays.items():
        if day.weekday() >= 5:
            days.setdefault(day.year, []).append(Holiday(day=day, is_workday=True, name=_name(name)))
    first, last = min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year
    added = 0
    for year in range(first, last + 1):
        if year in known:
            continue
        session.add_all(days.get(year, []))
        session.add(HolidayYear(year=year, source="chinesecalendar", updated_at=clock.now()))
        added += len(days.get(year, []))
    session.flush()
    reference.invalidate(session)
    return added


_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


def _name(value: object) -> str | None:
    text = getattr(value, "value", value)
    return _NAMES.get(str(text), str(text)) if text else None


# Beyond any State Council notice of 2004–2026 (at most 23 weekday days off, 12 调休 working days and
# 10 days off in a row, in 2013 and 2020): a year past these is most likely mistyped (2027-01-28..
# 2027-12-04 for ..02-04) and would move every deadline, so it is saved only when confirmed.
MAX_WEEKDAYS_OFF, MAX_WORKDAYS, MAX_REST_RUN = 30, 16, 14


def unusual(year: int, days_off: Iterable[date], workdays: Iterable[date]) -> list[str]:
    """What is out of the ordinary in a year's entries (empty when nothing is)."""
    off, work = set(days_off), set(workdays)
    found = []
    weekdays_off = sum(1 for d in off if d.weekday() < 5)
    if weekdays_off > MAX_WEEKDAYS_OFF:
        found.append(f"工作日放假 {weekdays_off} 天（历年最多 23 天）")
    if len(work) > MAX_WORKDAYS:
        found.append(f"调休上班 {len(work)} 天（历年最多 12 天）")
    run, longest, start, longest_start = 0, 0, None, None
    day = date(year, 1, 1)
    while day.year == year:
        if day in off or (day.weekday() >= 5 and day not in work):
            run, start = run + 1, start or day
            if run > longest:
                longest, longest_start = run, start
        else:
            run, start = 0, None
        day += timedelta(days=1)
    if longest > MAX_REST_RUN and longest_start:
        found.append(f"从 {longest_start} 起连续休息 {longest} 天（历年最长 10 天）")
    return found


def set_year(
    session: Session, year: int, *, days_off: Iterable[tuple[date, str]], workdays: Iterable[tuple[date, str]],
    source: str = "admin", confirmed: bool = False,
) -> int:
    """Replace a year's entries with the days off (weekdays, and weekends if listed) and 调休
    working days from the official notice. Returns the number of stored exception days. A year
    :func:`unusual` finds something in is refused unless ``confirmed`` (a real special arrangement,
    e.g. a holiday extended by the State Council)."""
    days_off, workdays = list(days_off), list(workdays)
    if not 2004 <= year <= 2100:
        raise Invalid(f"年份 {year} 超出范围")
    rows: dict[date, Holiday] = {}
    for day, name in days_off:
        _check_year(day, year)
        rows[day] = Holiday(day=day, is_workday=False, name=name or None)
    for day, name in workdays:
        _check_year(day, year)
        if day in rows:
            raise Invalid(f"{day} 不能既是假日又是调休工作日")
        if day.weekday() < 5:
            raise Invalid(f"{day} 是工作日，不需要登记为调休上班")
        rows[day] = Holiday(day=day, is_workday=True, name=name or None)
    if not confirmed and (odd := unusual(year, [d for d, _ in days_off], [d for d, _ in workdays])):
        raise Invalid(f"{year} 年的安排不同寻常：{'；'.join(odd)}。请对照国务院办公厅通知核对；如确属特别安排，"
                      "请确认后再保存（页面勾选「确认特殊安排」，接口传 confirm_unusual，命令行加 --confirm-unusual）",
                      code="holidays_unusual")
    session.execute(delete(Holiday).where(Holiday.day >= date(year, 1, 1), Holiday.day <= date(year, 12, 31)))
    session.add_all(rows.values())
    entry = session.get(HolidayYear, year) or HolidayYear(year=year)
    entry.source, entry.updated_at = source, clock.now()
    session.add(entry)
    session.flush()
    reference.invalidate(session)
    return len(rows)


def _check_year(day: date, year: int) -> None:
    if day.year != year:
        raise Invalid(f"{day} 不属于 {year} 年")


def expand(start: date, end: date) -> list[date]:
    """Every day from ``start`` to ``end`` inclusive (admins enter holidays as ranges)."""
    if end < start:
        raise Invalid(f"日期范围 {start}–{end} 无效")
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def years(session: Session) -> list[tuple[int, str]]:
    rows = session.execute(select(HolidayYear.year, HolidayYear.source).order_by(HolidayYear.year))
    return [(year, source) for year, source in rows]


ENTER_AHEAD_DAYS = 61  # from November on, the coming year should be entered (the notice is out by then)


def year_to_enter(session: Session, today: date, *, ahead_days: int = ENTER_AHEAD_DAYS) -> int | None:
    """The year an admin should enter now, if any: this year when it is missing (deadlines in working
    days are being counted on weekends alone), or next year once it is ``ahead_days`` away."""
    entered = {year for year, _source in years(session)}
    if today.year not in entered:
        return today.year
    if (date(today.year + 1, 1, 1) - today).days <= ahead_days and today.year + 1 not in entered:
        return today.year + 1
    return None
