"""Checks of what coordinators type, with messages they can act on."""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

from hotline.directory import reference
from hotline.directory.models import RegionLevel
from hotline.fieldwork.errors import Invalid, invalid
from hotline.tickets import validation

# 亩: a task is one village plot; a plot of more than 10,000 亩 (about 6.7 km²) is a slip of the
# keyboard (an extra zero or two), which would swamp the dashboard's totals.
MAX_AREA = 10_000.0
# An operation is one season's campaign (秋收, 小麦抢种): it starts no earlier than the platform's
# records go back (2000) and no more than a year from today, and its target is within a year of its
# start. Outside that, a date is a slip of the keyboard (1900-01-01, 2099-12-31), not a plan.
EARLIEST_START = date(2000, 1, 1)
MAX_SPAN_DAYS = 366
MAX_AHEAD_DAYS = 366


def text(value: str | None, field: str, label: str, *, max_chars: int, required: bool = True) -> str | None:
    return validation.require_text(value, field, label, max_chars=max_chars, required=required)


def phone(value: str | None, field: str = "phone") -> str | None:
    try:
        return validation.normalize_phone(value)
    except Invalid as exc:  # the ticket check names the caller's field; name ours
        raise Invalid(exc.message, code=exc.code, details={"field": field}) from None


def area(value: Any, field: str, label: str, *, allow_zero: bool = False) -> float:
    """A number of 亩, rounded to one decimal: positive (or zero when allowed), not absurd."""
    if value is None or str(value).strip() == "":
        raise invalid(f"请填写{label}（亩）", field, "invalid_area")
    try:
        number: float | None = float(str(value).strip())
    except ValueError:
        number = None
    if number is None or math.isnan(number) or math.isinf(number):
        raise invalid(f"{label}须为数字（亩）", field, "invalid_area")
    number = round(number, 1)
    if number < 0 or (number == 0 and not allow_zero):
        raise invalid(f"{label}须大于 0 亩", field, "invalid_area")
    if number > MAX_AREA:
        raise invalid(f"{label} {number:g} 亩过大：一块地不能超过 {MAX_AREA:,.0f} 亩，请检查是否多输了零"
                      f"（连片大田请按地块分成几项任务登记）", field, "invalid_area")
    return number


def day(value: Any, field: str, label: str) -> date:
    if isinstance(value, date):
        return value
    if value is None or str(value).strip() == "":
        raise invalid(f"请填写{label}", field, "empty")
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise invalid(f"{label}须为日期，如 2026-10-08", field, "invalid_date") from None


def operation_days(start: date, target: date, today: date) -> None:
    """An operation's start and target day: within a season of each other, none absurd."""
    if start < EARLIEST_START:
        raise invalid(f"开始日期 {start:%Y-%m-%d} 过早：不能早于 {EARLIEST_START:%Y-%m-%d}，请检查年份",
                      "start_date", "invalid_date")
    latest = today + timedelta(days=MAX_AHEAD_DAYS)
    if start > latest:
        raise invalid(f"开始日期 {start:%Y-%m-%d} 过晚：行动最多提前一年登记，不能晚于 {latest:%Y-%m-%d}",
                      "start_date", "invalid_date")
    if target < start:
        raise invalid("目标完成日期不能早于开始日期", "target_date", "invalid_date")
    if target < today:  # over before it is saved: every task in it overdue, nothing left to arrange
        raise invalid(f"目标完成日期 {target:%Y-%m-%d} 已过：行动的目标完成日期不能早于今天（{today:%Y-%m-%d}）",
                      "target_date", "invalid_date")
    if target > start + timedelta(days=MAX_SPAN_DAYS):
        raise invalid(f"目标完成日期 {target:%Y-%m-%d} 距开始日期超过一年：一次抢收抢种行动不能晚于 "
                      f"{start + timedelta(days=MAX_SPAN_DAYS):%Y-%m-%d} 完成，请检查年份，或分季另建行动",
                      "target_date", "invalid_date")


def due_day(due: date, start: date, target: date, today: date, *, field: str = "due_date") -> None:
    """A task's due day: within its operation, and not already past when it is set."""
    if due < start:
        raise invalid(f"要求完成日期不能早于行动开始日期 {start:%Y-%m-%d}", field, "invalid_date")
    if due > target:  # the operation's target is the day all its work is done
        raise invalid(f"要求完成日期不能晚于行动目标完成日期 {target:%Y-%m-%d}：行动内的任务须在"
                      f"行动期（{start:%Y-%m-%d} 至 {target:%Y-%m-%d}）内完成", field, "invalid_date")
    if due < today:  # overdue the moment it is saved
        raise invalid(f"要求完成日期 {due:%Y-%m-%d} 已过：不能早于今天（{today:%Y-%m-%d}）", field, "invalid_date")


def all_of(checks: list[tuple[str, str, Any]]) -> list[Any]:
    """Run every ``(field, label, check)`` and return their results; if any refuses, one refusal
    naming them all at once: the empty ones as 「请填写行动名称、作物」, the others in their own words."""
    results: list[Any] = []
    failed: list[tuple[str, str, Invalid]] = []
    for field, label, check in checks:
        try:
            results.append(check())
        except Invalid as refused:
            results.append(None)
            failed.append((field, label, refused))
    if len(failed) == 1:
        raise failed[0][2]
    if failed:
        empty = [label for _, label, refused in failed if refused.code == "empty"]
        words = ([f"请填写{'、'.join(empty)}"] if empty else []) + \
            [refused.message for _, _, refused in failed if refused.code != "empty"]
        raise Invalid("；".join(words), code="invalid_fields",
                      details={"field": failed[0][0], "fields": [field for field, _, _ in failed]})
    return results


def township(snap: reference.Snapshot, code: str, field: str = "township_code") -> str:
    if code not in snap.regions or snap.regions[code][1] != RegionLevel.township:
        raise invalid(f"「{code}」不是乡镇（街道）的区划代码", field, "not_a_township")
    return code


def village_of(snap: reference.Snapshot, code: str, township_code: str, field: str = "village_code") -> str:
    """A village (村/社区) code within ``township_code``."""
    found = snap.regions.get(code or "")
    if found is None or found[1] != RegionLevel.village:
        raise invalid(f"「{code}」不是村（社区）的区划代码", field, "not_a_village")
    if found[2] != township_code:
        name = snap.regions.get(township_code, (township_code,))[0]
        raise invalid(f"{found[0]}不属于{name}", field, "village_outside_township")
    return code


def choice(enum_cls: type, value: Any, field: str, labels: dict[Any, str]) -> Any:
    try:
        return enum_cls(value)
    except ValueError:
        by_label = {label: key for key, label in labels.items()}  # 抢收 as well as harvest
        if isinstance(value, str) and value.strip() in by_label:
            return enum_cls(by_label[value.strip()])
        raise invalid(f"「{value}」无效，可选：{'、'.join(labels.values())}", field, "invalid_choice") from None
