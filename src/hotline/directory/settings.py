"""Operating rules as data: shipped defaults, overridden per key by admins.

Each rule has a type and a range; ``set_value`` refuses anything else with a message naming the
rule, so a typo cannot stop the sweeps. Reads go through the reference snapshot (``rules``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.directory.models import Setting
from hotline.kit import clock
from hotline.kit.errors import Invalid


@dataclass(frozen=True)
class Rule:
    default: Any
    label: str
    kind: type
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    choice_labels: tuple[str, ...] = ()  # what the admin page shows for each choice
    least_above_zero: float | None = None  # a value above 0 must be at least this (see WEIGHTS)


# Weights are relative: one of 0.000000001 beside 0.35 is 0 in all but name, and most likely a typo.
WEIGHT_STEP = 0.01

RULES: dict[str, Rule] = {
    "supervision.warn_share": Rule(0.8, "到达时限的多少比例时预警（0.8 即剩余 20% 时）", float, 0.05, 0.99),
    "supervision.urge_after_minutes": Rule(60, "超期后多少分钟自动催办承办单位", int, 0, 60 * 24 * 30),
    "supervision.escalate_after_minutes": Rule(24 * 60, "超期后多少分钟升级督办（通知督办员）", int, 0, 60 * 24 * 60),
    "supervision.parent_after_minutes": Rule(48 * 60, "超期后多少分钟升级至上级单位", int, 0, 60 * 24 * 90),
    "supervision.order_working_days": Rule(3, "督办单默认答复时限（工作日）", int, 1, 30),
    "callback.due_working_days": Rule(1, "审核通过后多少个工作日内完成回访", int, 0, 10),
    "callback.max_attempts": Rule(3, "回访联系不上的最多尝试次数", int, 1, 10),
    "callback.after_max_attempts": Rule("close", "达到最多回访次数仍联系不上时的处理", str,
                                        choices=("close", "keep"), choice_labels=("以联系不上办结", "继续回访")),
    "callback.retry_after_minutes": Rule(120, "联系不上后多少分钟再次回访", int, 5, 60 * 24 * 7),
    "callback.reopen_on_negative": Rule(True, "回访未解决或不满意时自动重办", bool),
    "employment.min_rate": Rule(0.9, "充分就业村：有劳动能力且有就业意愿者中已就业的最低比例", float, 0.5, 1.0),
    "employment.require_six_ones": Rule(True, "充分就业村：须在本年度开展全部「六个一」活动", bool),
    "assessment.weight_response": Rule(0.30, "综合得分中响应率的权重", float, 0.0, 1.0, least_above_zero=WEIGHT_STEP),
    "assessment.weight_resolution": Rule(0.35, "综合得分中解决率的权重", float, 0.0, 1.0, least_above_zero=WEIGHT_STEP),
    "assessment.weight_satisfaction": Rule(0.35, "综合得分中满意率的权重", float, 0.0, 1.0, least_above_zero=WEIGHT_STEP),
    "assessment.exclude_approved_returns": Rule(True, "经审核同意的退单不计入该单位的响应率分母", bool),
    "assessment.count_basically_satisfied": Rule(True, "「基本满意」计为满意", bool),
    "assessment.period_start_day": Rule(1, "考核月从每月几日开始（26 即上月26日至本月25日计为本月）", int, 1, 28),
    "assessment.min_orders_ranked": Rule(5, "参加排名的最少派单量（不足者列出但不排名）", int, 0, 10000),
}


# What each rule is about, as the admin page names it (the key's first part; the key itself is the
# CLI's and the API's name, shown below it).
GROUPS: dict[str, str] = {"supervision": "督办与预警", "callback": "回访", "employment": "充分就业村",
                          "assessment": "考核"}


def group(key: str) -> str:
    """The Chinese name of the area a rule belongs to (督办与预警 for ``supervision.warn_share``)."""
    return GROUPS.get(key.split(".", 1)[0], key.split(".", 1)[0])


# The composite score divides by the weights' sum: at least one must stay above 0.
WEIGHTS = ("assessment.weight_response", "assessment.weight_resolution", "assessment.weight_satisfaction")

# What each kind of rule takes, as the admin page says it (never a Python type name).
KIND_WORDS: dict[type, str] = {int: "整数", float: "数字（如 0.8）", bool: "是或否（true/false）", str: "文字"}


def coerce(key: str, value: Any) -> Any:
    """The value converted to the rule's type, or ``Invalid`` naming the rule and its range."""
    rule = RULES.get(key)
    if rule is None:
        raise Invalid(f"没有名为 {key} 的规则；可设置：{'、'.join(RULES)}", code="unknown_setting",
                      details={"field": "key"})
    try:
        if rule.kind is bool:
            if isinstance(value, str):
                if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError(value)
                value = value.lower() in ("true", "1", "yes")
            elif not isinstance(value, bool):
                raise ValueError(value)
        elif rule.kind is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError(value)
            value = int(value)
        elif rule.kind is float:
            if isinstance(value, bool):
                raise ValueError(value)
            value = float(value)
        else:
            value = str(value)
    except (TypeError, ValueError):
        shown = "（空）" if value is None or value == "" else f"「{value}」"
        raise Invalid(f"规则 {key}（{rule.label}）须为{KIND_WORDS[rule.kind]}，收到{shown}",
                      code="invalid_setting", details={"field": key}) from None
    if rule.choices and value not in rule.choices:
        options = ([f"{label}（{code}）" for code, label in zip(rule.choices, rule.choice_labels, strict=True)]
                   if rule.choice_labels else list(rule.choices))
        raise Invalid(f"规则 {key}（{rule.label}）只能取：{'、'.join(options)}", code="invalid_setting",
                      details={"field": key, "choices": list(rule.choices)})
    if rule.low is not None and not rule.low <= value <= (rule.high if rule.high is not None else value):
        raise Invalid(f"规则 {key}（{rule.label}）须在 {rule.low}–{rule.high} 之间", code="invalid_setting",
                      details={"field": key})
    if rule.least_above_zero is not None and 0 < value < rule.least_above_zero:
        raise Invalid(f"规则 {key}（{rule.label}）须为 0 或不小于 {rule.least_above_zero}，收到 {number(value)}："
                      "权重是各项之间的比例，这么小的权重与 0 无异", code="invalid_setting", details={"field": key})
    return value


def load(session: Session) -> dict[str, Any]:
    """Every rule's current value: the stored override, else the default."""
    values = {key: rule.default for key, rule in RULES.items()}
    for key, value in session.execute(select(Setting.key, Setting.value)):
        if key in RULES:
            values[key] = value
    return values


def set_value(session: Session, key: str, value: Any) -> Any:
    """Store an override (validated); the reference cache is refreshed for this process."""
    from hotline.directory import reference

    value = coerce(key, value)
    _check_weights(session, key, value)
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=value, updated_at=clock.now()))
    else:
        row.value, row.updated_at = value, clock.now()
    session.flush()
    reference.invalidate(session)
    return value


def _check_weights(session: Session, key: str, value: Any) -> None:
    """Rules that only make sense together: the three weights may not all be 0 (every unit would be
    left without a score, and the ranking with nobody in it)."""
    if key in WEIGHTS and sum(float(v) for k, v in (load(session) | {key: value}).items() if k in WEIGHTS) <= 0:
        raise Invalid("响应率、解决率、满意率三项权重不能都为 0：至少一项须大于 0，否则综合得分无法计算、排名为空",
                      code="invalid_setting", details={"field": key})


def reset(session: Session, key: str) -> None:
    from hotline.directory import reference

    if key not in RULES:
        coerce(key, None)  # raises: unknown rule
    row = session.get(Setting, key)
    if row is not None:
        session.delete(row)
        session.flush()
    reference.invalidate(session)


def number(value: Any) -> str:
    """A number as a person writes it: 0.000000001, never 1e-09."""
    if isinstance(value, float) and math.isfinite(value):
        return format(Decimal(repr(value)), "f")  # repr: the shortest digits that give the float back
    return str(value)


def shown(key: str, value: Any) -> str:
    """A rule's value as the admin page shows it: 是/否, a choice's label, or the number."""
    rule = RULES[key]
    if rule.kind is bool:
        return "是" if value else "否"
    if rule.choice_labels and value in rule.choices:
        return rule.choice_labels[rule.choices.index(value)]
    return number(value)


def rule_view(key: str, value: Any, stored: bool) -> dict[str, Any]:
    rule = RULES[key]
    return {"key": key, "value": value, "default": rule.default, "label": rule.label, "type": rule.kind.__name__,
            "min": rule.low, "max": rule.high, "choices": list(rule.choices) or None, "customized": stored,
            "choice_labels": dict(zip(rule.choices, rule.choice_labels, strict=True)) if rule.choice_labels else None}


def all_rules(session: Session) -> list[dict[str, Any]]:
    """Every rule with its current value; ``customized`` when an admin's value is stored."""
    values = load(session)
    stored = set(session.scalars(select(Setting.key)))
    return [rule_view(key, values[key], key in stored) for key in RULES]
