"""Deadline maths (时限): which time limit applies, and when a stage is due.

Pure functions over reference rows and a working-day calendar; the lifecycle stores the results
on the ticket. A limit is in clock hours, calendar days or Chinese working days.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hotline.directory.reference import LimitRow
from hotline.kit.calendar import WorkCalendar
from hotline.kit.errors import HolidayDataMissing, Invalid

DEFAULT_LIMITS = {
    "dispatch": (24, "hours"),
    "accept": (24, "hours"),
    "contact": (24, "hours"),
    "reply": (5, "working_days"),
}


@dataclass(frozen=True)
class Limit:
    amount: int
    unit: str

    def label(self) -> str:
        names = {"hours": "小时", "days": "天", "working_days": "个工作日"}
        return f"{self.amount}{names.get(self.unit, self.unit)}"


@dataclass(frozen=True)
class Due:
    at: datetime
    limit: Limit
    warning: str | None = None


def resolve_limit(
    rows: Iterable[LimitRow], *, stage: str, category_path: Sequence[str], urgency: str, kind: str
) -> Limit:
    """The most specific matching row. Urgency outranks category (an emergency about water is an
    emergency first), category outranks kind; a deeper category outranks its parent."""
    best: tuple[int, int, int] | None = None
    chosen: LimitRow | None = None
    depth = {code: len(category_path) - i for i, code in enumerate(category_path)}
    for row in rows:
        if row.stage != stage:
            continue
        if row.urgency is not None and row.urgency != urgency:
            continue
        if row.kind is not None and row.kind != kind:
            continue
        if row.category_code is not None and row.category_code not in depth:
            continue
        score = (
            row.urgency is not None,
            depth.get(row.category_code, 0) if row.category_code else 0,
            row.kind is not None,
        )
        if best is None or score > best:
            best, chosen = score, row
    if chosen is None:
        amount, unit = DEFAULT_LIMITS[stage]
        return Limit(amount, unit)
    return Limit(chosen.amount, chosen.unit)


def add_limit(start: datetime, limit: Limit, calendar: WorkCalendar, tz: ZoneInfo) -> Due:
    """The due time of a stage starting at ``start``.

    A working-day limit that reaches into a year without holiday data is computed with weekends
    only and carries a visible warning, so intake never stops and nobody is misled.
    """
    if limit.amount < 0:
        raise Invalid("时限不能为负数")
    if limit.unit == "hours":
        return Due(start + timedelta(hours=limit.amount), limit)
    if limit.unit == "days":
        return Due(start + timedelta(days=limit.amount), limit)
    if limit.unit != "working_days":
        raise Invalid(f"未知时限单位 {limit.unit}")
    try:
        return Due(calendar.add_working_days(start, limit.amount, tz), limit)
    except HolidayDataMissing as missing:
        at = calendar.add_working_days(start, limit.amount, tz, strict=False)
        return Due(at, limit, warning=missing_year_warning(missing.year))


def missing_year_warning(year: int) -> str:
    return f"{year}年节假日数据未录入，截止时间暂按周末推算，录入后将重新计算"


def shift_for_pause(
    due: datetime | None, paused_from: datetime, paused_to: datetime, unit: str, calendar: WorkCalendar, tz: ZoneInfo
) -> tuple[datetime | None, str | None]:
    """Push a due time back by the time the clock was paused (挂起).

    Clock-hour and calendar-day limits move by the whole pause. A working-day limit moves by the
    working time inside the pause only: suspended on Friday evening and resumed on Monday morning,
    the unit gets back the Friday evening and Monday morning, not the weekend.
    """
    if due is None:
        return None, None
    if unit != "working_days":
        return due + (paused_to - paused_from), None
    try:
        worked = calendar.working_seconds_between(paused_from, paused_to, tz)
        return calendar.add_working_seconds(due, worked, tz), None
    except HolidayDataMissing as missing:
        worked = calendar.working_seconds_between(paused_from, paused_to, tz, strict=False)
        return calendar.add_working_seconds(due, worked, tz, strict=False), missing_year_warning(missing.year)


# Which statuses keep each stage's clock running.
RUNNING = {
    "dispatch": ("registered",),
    "accept": ("dispatched",),
    "contact": ("dispatched", "accepted"),
    "reply": ("dispatched", "accepted", "in_progress", "return_requested"),
}
STAGE_LABELS = {"dispatch": "派单", "accept": "签收", "contact": "联系来电人", "reply": "反馈"}


def stage_states(ticket: object, now: datetime) -> dict[str, dict[str, object]]:
    """Each stage's due time and whether it is running, met, met late, or overdue."""
    status = str(getattr(ticket, "status", ""))
    done_at = {
        "dispatch": getattr(ticket, "dispatched_at", None),
        "accept": getattr(ticket, "accepted_at", None),
        "contact": getattr(ticket, "contacted_at", None),
        "reply": getattr(ticket, "replied_at", None),
    }
    out: dict[str, dict[str, object]] = {}
    for stage, running_in in RUNNING.items():
        due = getattr(ticket, f"{stage}_due_at", None)
        met = done_at[stage]
        if due is None:
            state = "not_started"
        elif met is not None and status not in running_in:
            state = "met" if met <= due else "met_late"
        elif status in running_in:
            state = "overdue" if now > due else "running"
        elif status == "suspended":
            state = "paused"
        else:
            state = "stopped"
        out[stage] = {"due_at": due, "state": state, "done_at": met}
    return out


def overdue_stages(ticket: object, now: datetime) -> list[str]:
    return [stage for stage, s in stage_states(ticket, now).items() if s["state"] == "overdue"]
