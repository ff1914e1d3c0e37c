"""Operating rules (warning share, escalation delays, callback rules): read by supervisors and admins,
changed by admins. Validation is ``directory.settings``'s: a value out of range is refused with a
message naming the rule and its range, and the old value stays."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import Field

from hotline.accounts.models import Role
from hotline.api.edge import Context, unit_of_work
from hotline.api.schemas import Body, Out
from hotline.directory import settings as rules
from hotline.directory.settings import all_rules, rule_view
from hotline.kit.errors import NotFound, PermissionDenied

router = APIRouter(prefix="/settings", tags=["settings"])
READERS = (Role.supervisor, Role.admin)


def _known(key: str) -> str:
    if key not in rules.RULES:
        raise NotFound(f"没有名为 {key} 的规则；可设置：{'、'.join(rules.RULES)}", code="unknown_setting")
    return key


def _admin(ctx: Context) -> None:
    if ctx.user.role != Role.admin:
        raise PermissionDenied("只有管理员可以修改运行规则")


# A rule's value is a whole number, a number, true/false or one of its choices, as its ``type`` says.
RuleValue = bool | int | float | str


class SettingOut(Out):
    key: str
    value: RuleValue
    default: RuleValue
    label: str = Field(description="what the rule decides, in Chinese")
    type: Literal["int", "float", "bool", "str"]
    min: int | float | None
    max: int | float | None
    choices: list[str] | None
    customized: bool = Field(description="an admin's value is stored (else the default applies)")
    choice_labels: dict[str, str] | None = Field(description="each choice in Chinese")


class SettingIn(Body):
    value: Any


@router.get("", response_model=list[SettingOut], summary="Operating rules with their values, defaults and ranges (supervisors and admins)")
def list_settings(request: Request):
    with unit_of_work(request, write=False) as ctx:
        if ctx.user.role not in READERS:
            raise PermissionDenied("只有督办员和管理员可以查看运行规则")
        return all_rules(ctx.session)


@router.put("/{key}", response_model=SettingOut, summary="Change an operating rule (admins)")
def put_setting(key: str, body: SettingIn, request: Request):
    with unit_of_work(request, write=True) as ctx:
        _admin(ctx)
        value = rules.set_value(ctx.session, _known(key), body.value)
        return rule_view(key, value, True)


@router.delete("/{key}", response_model=SettingOut, summary="Reset an operating rule to its default (admins)")
def reset_setting(key: str, request: Request):
    with unit_of_work(request, write=True) as ctx:
        _admin(ctx)
        rules.reset(ctx.session, _known(key))
        return rule_view(key, rules.RULES[key].default, False)
