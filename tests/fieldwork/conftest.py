"""Field-work personas and builders: the 裴介镇 coordinator, the 朱吕村 committee, another town's
coordinator, and an open operation in 裴介镇 with its registers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from hotline.accounts.models import Role, User
from hotline.accounts.service import add_user
from hotline.fieldwork import service
from hotline.fieldwork.models import FieldTask, Machine, Operation, Volunteer
from hotline.kit import clock
from tests.builders import Personas

PEIJIE = "140828102"  # 夏县裴介镇
ZHULV = "140828102207"  # 朱吕村
DALV = "140828102201"  # 大吕村
XIANDI = "141002103"  # 尧都区县底镇
ZHAICUN = "141002103205"  # 县底镇翟村
START, TARGET = date(2026, 10, 1), date(2026, 10, 20)
# The clock of these tests: the eve of the operation above, so its days and its tasks' due days are
# still ahead (a task's due day, an operation's target, may not be past when set).
SEASON = datetime(2026, 9, 30, 9, 0)


@dataclass
class Field:
    people: Personas
    town: User  # handler of 裴介镇人民政府: coordinates 裴介镇
    village: User  # handler of 朱吕村村民委员会: sees 朱吕村's tasks, reports progress
    other_town: User  # handler of 县底镇人民政府
    operation: Operation


def operation(session: Session, actor: User | None = None, township: str = PEIJIE, **kw: Any) -> Operation:
    fields: dict[str, Any] = dict(name="裴介镇秋季抢收抢种", township_code=township, crops="谷子、玉米、小麦",
                                  start_date=START, target_date=TARGET)
    fields.update(kw)
    return service.create_operation(session, actor=actor, **fields)


def task(session: Session, op: Operation, actor: User | None = None, **kw: Any) -> FieldTask:
    fields: dict[str, Any] = dict(village_code=ZHULV, plot="村东谷子地", work_kind="harvest", area=10,
                                  due_date=date(2026, 10, 8), crop="谷子", farmer_name="王建国",
                                  farmer_phone="13803591234")
    fields.update(kw)
    return service.create_task(session, actor=actor, operation=op, **fields)


def machine(session: Session, kind: str = "harvester", village: str | None = ZHULV, township: str = PEIJIE,
            label: str = "雷沃谷神 GE80") -> Machine:
    return service.register_machine(session, actor=None, township_code=township, kind=kind, label=label,
                                    owner="裴介农机合作社", owner_kind="cooperative", phone="13903590001",
                                    village_code=village)


def volunteer(session: Session, name: str = "李强", village: str | None = ZHULV, township: str = PEIJIE) -> Volunteer:
    return service.register_volunteer(session, actor=None, township_code=township, name=name,
                                      phone="13703590002", village_code=village, skills="驾驶收割机")


@pytest.fixture(autouse=True)
def in_season() -> Iterator[None]:
    """The clock on ``SEASON`` (local time); tests move it on with ``clock.freeze``/``advance``.
    Modules elsewhere (web, API, CLI) use it by ``pytest.mark.usefixtures("in_season")``."""
    clock.freeze(SEASON)
    yield
    clock.freeze(None)


@pytest.fixture
def field(session: Session, people: Personas) -> Field:
    town = add_user(session, username="t-peijie", display_name="裴介镇干部", role=Role.handler, unit_code="xiaxian-peijie")
    village = add_user(session, username="t-zhulv", display_name="朱吕村支书", role=Role.handler,
                       unit_code="xiaxian-peijie-zhulv")
    other = add_user(session, username="t-xiandi", display_name="县底镇干部", role=Role.handler, unit_code="yaodu-xiandi")
    op = operation(session, town)
    session.commit()
    return Field(people, town, village, other, op)


def blind_once(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """The service's check ``name`` sees nothing the first time it is asked, as when another submit
    of the same instant has saved its row but not yet committed it; asked again, it sees as before."""
    real = getattr(service, name)
    asked: list[int] = []

    def check(*args: Any, **kwargs: Any) -> Any:
        asked.append(1)
        return None if len(asked) == 1 else real(*args, **kwargs)

    monkeypatch.setattr(service, name, check)
