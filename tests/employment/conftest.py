"""Employment fixtures: three stations of 夏县 and the people who work them.

朱吕村 and 大吕村 lie in 裴介镇, 水头村 in 水头镇. The village handler (朱吕村村民委员会) sees only
朱吕村, the township handler (裴介镇) both 裴介镇 villages, the county 人社局 handler all three."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from hotline.accounts.models import Role, User
from hotline.accounts.service import add_user
from hotline.employment import service
from hotline.employment.fields import id_checksum, worker_fields
from hotline.employment.models import Worker
from hotline.employment.scope import EVERYWHERE, ledger_scope

ZHULV, DALV, SHUITOU = "140828102207", "140828102201", "140828103200"
XINSHE = "140426106213"  # 黎城县洪井镇信社村: another county


def id_number(birth: str, seq: str = "123", region: str = "142701") -> str:
    """A valid resident ID number: ``birth`` as YYYYMMDD, ``seq`` odd for a man, even for a woman."""
    first = f"{region}{birth}{seq}"
    return first + id_checksum(first)


@dataclass
class Staff:
    village: User
    township: User
    bureau: User
    other: User  # a handler of the county water bureau: no part in employment work
    supervisor: User
    admin: User


def make_staff(session, people) -> Staff:
    """The employment personas, and the three stations, committed."""
    def user(name: str, unit: str) -> User:
        return add_user(session, username=name, display_name=name, role=Role.handler, unit_code=unit)

    out = Staff(user("t-zhulv", "xiaxian-peijie-zhulv"), user("t-peijie", "xiaxian-peijie"),
                user("t-hrss", "xiaxian-hrss"), people.handler_a, people.supervisor, people.admin)
    for code in (ZHULV, DALV, SHUITOU):
        service.add_station(session, EVERYWHERE, village_code=code)
    session.commit()
    return out


@pytest.fixture
def staff(session, people) -> Staff:
    return make_staff(session, people)


def scope_of(session, user: User):
    return ledger_scope(session, user)


def fields(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"name": "张麦环", "gender": "男", "birth_year": "1975", "employment_status": "未就业",
                              "job_intention": "就近务工", "needs_help": "是"}
    if overrides.get("id_number"):  # the ID number gives them
        values.pop("gender"), values.pop("birth_year")
    values.update(overrides)
    return worker_fields(values, today=date(2026, 11, 28))


def make_worker(session, village: str = ZHULV, **overrides: Any) -> Worker:
    return service.add_worker(session, EVERYWHERE, actor=None, village_code=village, fields=fields(**overrides))
