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


# Which statuses keep each stage's clock running. None runs while a return waits for review
# (退单待审): the unit has handed the ticket back and the centre decides, 改派 (fresh clocks for the
# new unit) or 驳回退单 (the unit's deadlines, kept as they were, run again). No time limit governs
# that review, so the wait is nobody's 超期: not warned, urged or counted (``REVIEW``).
RUNNING = {
    "dispatch": ("registered",),
    "accept": ("dispatched",),
    "contact": ("dispatched", "accepted"),
    "reply": ("dispatched", "accepted", "in_progress"),
}
REVIEW = "return_requested"
STAGE_LABELS = {"dispatch": "派单", "accept": "签收", "contact": "联系来电人", "reply": "反馈"}


def stage_states(ticket: object, now: datetime) -> dict[str, dict[str, object]]:
    """Each stage's due time and whether it is running, met, met late, overdue, paused (挂起) or
    waiting for the centre's review of a return (退单待审)."""
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
        elif status == REVIEW:
            state = "review"
        else:
            state = "stopped"
        out[stage] = {"due_at": due, "state": state, "done_at": met}
    return out


def overdue_stages(ticket: object, now: datetime) -> list[str]:
    return [stage for stage, s in stage_states(ticket, now).items() if s["state"] == "overdue"]


# ---------------------------------------------------------------- the supervision ladder

ESCALATING = ("accept", "reply")  # stages whose lateness is the unit's: urged and escalated
STEP_LABELS = {"warn": "预警", "overdue": "超期", "urge": "催办", "escalate": "升级督办",
               "escalate_parent": "上级督办"}


@dataclass(frozen=True)
class Step:
    at: datetime
    stage: str
    step: str  # warn, overdue, urge, escalate, escalate_parent
    due_at: datetime


def done_at(ticket: object, stage: str) -> datetime | None:
    return getattr(ticket, {"dispatch": "dispatched_at", "accept": "accepted_at", "contact": "contacted_at",
                            "reply": "replied_at"}[stage], None)


def running_stages(ticket: object) -> list[str]:
    """Stages whose clock runs now: the status keeps it running and the stage is not met yet."""
    status = str(getattr(ticket, "status", ""))
    return [stage for stage, running_in in RUNNING.items()
            if status in running_in and getattr(ticket, f"{stage}_due_at", None) is not None
            and done_at(ticket, stage) is None]


def warn_time(start: datetime, due: datetime, unit: str, share: float, calendar: WorkCalendar,
              tz: ZoneInfo) -> datetime:
    """When ``share`` of the stage's time is used up. Working-day limits count working time only,
    so a deadline after 国庆 is not announced in the middle of the holiday."""
    if due <= start:
        return due
    if unit != "working_days":
        return start + (due - start) * share
    # Not strict: a year without holiday data already flags the deadline itself (due_warning).
    span = calendar.working_seconds_between(start, due, tz, strict=False)
    return calendar.add_working_seconds(start, span * share, tz, strict=False)


def ladder(ticket: object, rules: dict, calendar: WorkCalendar, tz: ZoneInfo) -> list[Step]:
    """Every step the sweep owes a ticket for its running deadlines, earliest first.

    Warning at ``supervision.warn_share`` of the limit, overdue at the due time; for the unit's
    stages (accept, reply) also urging, escalation to the supervisors and to the unit's parent after
    the configured delays past the due time.
    """
    basis = getattr(ticket, "due_basis", None) or {}
    steps: list[Step] = []
    for stage in running_stages(ticket):
        due: datetime = getattr(ticket, f"{stage}_due_at")
        entry = basis.get(stage, {})
        if "from" in entry:
            start = datetime.fromisoformat(entry["from"])
            warn = warn_time(start, due, entry.get("unit", "hours"), float(rules["supervision.warn_share"]),
                             calendar, tz)
            if warn < due:
                steps.append(Step(warn, stage, "warn", due))
        steps.append(Step(due, stage, "overdue", due))
        if stage in ESCALATING:
            for step, key in (("urge", "urge_after_minutes"), ("escalate", "escalate_after_minutes"),
                              ("escalate_parent", "parent_after_minutes")):
                steps.append(Step(due + timedelta(minutes=int(rules[f"supervision.{key}"])), stage, step, due))
    return sorted(steps, key=lambda s: (s.at, s.stage, s.step))
