"""Slips a coordinator makes when typing (found by exploratory QA): absurd dates, a due day past the
operation's target, an area on road repair, the same machine or the same open operation twice.
Each is refused in Chinese, saying what is wrong, and nothing is saved."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from hotline.fieldwork import service
from hotline.fieldwork.models import FieldTask, Machine, Operation
from hotline.kit.errors import Conflict, Invalid
from tests.fieldwork.conftest import PEIJIE, TARGET, XIANDI, ZHAICUN, ZHULV, machine, operation, task


def _count(session, model):
    return session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize(("start", "target", "message"), [
    (date(1900, 1, 1), date(2099, 12, 31), "开始日期 1900-01-01 过早：不能早于 2000-01-01"),
    (date(1999, 12, 31), date(2000, 1, 10), "开始日期 1999-12-31 过早"),
    (date(2026, 10, 1), date(2099, 12, 31), "目标完成日期 2099-12-31 距开始日期超过一年"),
    (date(2026, 10, 1), date(2027, 10, 3), "不能晚于 2027-10-02 完成"),
    (date(2099, 1, 1), date(2099, 2, 1), "开始日期 2099-01-01 过晚：行动最多提前一年登记"),
    (date(2026, 10, 5), date(2026, 10, 1), "目标完成日期不能早于开始日期"),
])
def test_an_operation_with_absurd_dates_is_refused(session, field, start, target, message):
    before = _count(session, Operation)
    with pytest.raises(Invalid, match=message) as refused:
        operation(session, field.town, name="裴介镇小麦抢种", start_date=start, target_date=target)
    assert refused.value.details["field"] in ("start_date", "target_date")
    assert _count(session, Operation) == before


def test_an_operation_of_a_season_is_accepted(session, field):
    # A year to the day (and a leap year's extra day) is still one campaign.
    op = operation(session, field.town, name="裴介镇全年排涝", start_date=date(2026, 10, 1),
                   target_date=date(2027, 10, 2))
    assert op.target_date == date(2027, 10, 2)


def test_a_task_is_due_within_its_operations_days(session, field):
    op = field.operation  # 2026-10-01 to 2026-10-20
    with pytest.raises(Invalid, match="要求完成日期不能晚于行动目标完成日期 2026-10-20") as refused:
        task(session, op, field.town, due_date=date(2099, 1, 1))
    assert refused.value.details["field"] == "due_date"
    with pytest.raises(Invalid, match="不能晚于行动目标完成日期"):
        task(session, op, field.town, due_date=date(2026, 10, 21))
    with pytest.raises(Invalid, match="不能早于行动开始日期 2026-10-01"):
        task(session, op, field.town, due_date=date(2026, 9, 30))
    assert _count(session, FieldTask) == 0
    assert task(session, op, field.town, due_date=TARGET).due_date == TARGET
    assert task(session, op, field.town, due_date=op.start_date).due_date == op.start_date


@pytest.mark.parametrize("kind", ["road", "power", "道路抢修"])
def test_an_area_on_work_not_measured_in_mu_is_refused_not_dropped(session, field, kind):
    with pytest.raises(Invalid, match="任务不按亩计，面积请留空") as refused:
        task(session, field.operation, field.town, work_kind=kind, area=30)
    assert refused.value.details["field"] == "area" and _count(session, FieldTask) == 0
    for blank in (None, "", " ", "0", 0):
        assert task(session, field.operation, field.town, work_kind=kind, area=blank).area is None


def test_the_same_machine_is_not_registered_twice_in_a_township(session, field):
    def register(**kw):
        fields = dict(actor=field.town, township_code=PEIJIE, kind="harvester", label="测试收割机 X1", owner="张三",
                      owner_kind="person", phone="13912345678", village_code=ZHULV)
        fields.update(kw)
        return service.register_machine(session, **fields)

    first = register()
    for again in ({}, {"label": " 测试收割机  x1 "}, {"phone": "139 1234 5678"}, {"village_code": None}):
        with pytest.raises(Conflict, match=rf"本镇已登记这台农机：#{first.id} 收割机「测试收割机 X1」张三（朱吕村，可调派）"
                                           r"，无须重复登记") as refused:
            register(**again)
        assert refused.value.code == "machine_exists" and refused.value.details == {"machine_id": first.id}
    assert _count(session, Machine) == 1
    # Another machine of the same owner, another kind, or the same model in another town is its own row.
    assert register(label="测试收割机 X2").id != first.id
    assert register(kind="tractor").id != first.id
    assert register(phone="13912345679").id != first.id
    assert machine(session, township=XIANDI, village=ZHAICUN, label="测试收割机 X1").township_code == XIANDI


def test_a_second_open_operation_of_the_same_name_in_a_town_is_refused(session, field):
    name = field.operation.name  # 裴介镇秋季抢收抢种, open
    for typed in (name, f"  {name} "):
        with pytest.raises(Conflict, match=rf"裴介镇已有进行中的行动「{name}」（#{field.operation.id}，"
                                           r"2026-10-01 至 2026-10-20），请在该行动中登记任务") as refused:
            operation(session, field.town, name=typed)
        assert refused.value.code == "operation_exists"
    assert _count(session, Operation) == 1
    # The same name elsewhere, or once the first has closed (next year's 秋收), is fine.
    assert operation(session, field.people.supervisor, township=XIANDI, name=name).township_code == XIANDI
    service.close_operation(session, field.operation, actor=field.town)
    assert operation(session, field.town, name=name).id != field.operation.id
