"""Checks of what coordinators type, with messages they can act on."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from hotline.directory import reference
from hotline.directory.models import RegionLevel
from hotline.fieldwork.errors import Invalid, invalid
from hotline.tickets import validation

MAX_AREA = 100_000.0  # 亩: far more than any plot; catches a slip of the keyboard


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
        raise invalid(f"{label}不能超过 {MAX_AREA:,.0f} 亩", field, "invalid_area")
    return number


def day(value: Any, field: str, label: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise invalid(f"{label}须为日期，如 2026-10-08", field, "invalid_date") from None


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
        options = "、".join(f"{k.value}（{v}）" if hasattr(k, "value") else f"{k}（{v}）" for k, v in labels.items())
        raise invalid(f"「{value}」无效，可选：{options}", field, "invalid_choice") from None
