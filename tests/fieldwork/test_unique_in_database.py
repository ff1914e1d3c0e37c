"""Two submits of the same instant (two tabs, two web processes) cannot both register the same
machine or open a second operation of a name: the database's unique indexes (migration 0020)
refuse the second row, and the service says so in the check's own words, never a fault."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from hotline.fieldwork import service
from hotline.fieldwork.models import Machine, Operation
from hotline.fieldwork.states import MachineKind, MachineState, OperationState, OwnerKind
from hotline.kit.errors import Conflict
from tests.fieldwork.conftest import PEIJIE, START, TARGET, XIANDI, ZHULV, blind_once, operation

NOW = datetime(2026, 10, 2, tzinfo=UTC)
MACHINE = dict(township_code=PEIJIE, kind="harvester", label="测试收割机 X1", owner="张三", owner_kind="person",
               phone="13912345678", village_code=ZHULV)


def _count(db, model) -> int:
    with db.transaction(write=False) as s:
        return s.scalar(select(func.count()).select_from(model))


def _machine_row(**kw) -> Machine:
    fields = dict(township_code=PEIJIE, kind=MachineKind.harvester, label="测试收割机 X1", owner="张三",
                  owner_kind=OwnerKind.person, phone=None, state=MachineState.available, created_at=NOW)
    fields.update(kw)
    return Machine(**fields)


def _operation_row(**kw) -> Operation:
    fields = dict(name="裴介镇秋季抢收抢种", township_code=PEIJIE, crops="谷子", start_date=START, target_date=TARGET,
                  state=OperationState.open, created_at=NOW)
    fields.update(kw)
    return Operation(**fields)


def test_the_database_refuses_a_machine_registered_twice_whatever_writes_it(db):
    with db.transaction() as s:
        s.add(_machine_row())
    for twin in (_machine_row(), _machine_row(label="测试收割机 x1", owner="张三")):  # no phone, letter case aside
        with pytest.raises(IntegrityError), db.transaction() as s:
            s.add(twin)
    with db.transaction() as s:  # another model, kind, owner, phone or town is another machine
        s.add_all([_machine_row(label="测试收割机 X2"), _machine_row(kind=MachineKind.tractor),
                   _machine_row(owner="李四"), _machine_row(phone="13912345678"), _machine_row(township_code=XIANDI)])
    assert _count(db, Machine) == 6


def test_the_database_refuses_a_second_open_operation_of_a_name_not_a_closed_one(db):
    with db.transaction() as s:
        s.add(_operation_row(name="Autumn 秋收"))
    with pytest.raises(IntegrityError), db.transaction() as s:
        s.add(_operation_row(name="autumn 秋收"))
    with db.transaction() as s:  # closed ones repeat the name (next year's 秋收); other names and towns are free
        s.add_all([_operation_row(name="autumn 秋收", state=OperationState.closed),
                   _operation_row(name="Autumn 秋收", state=OperationState.closed),
                   _operation_row(name="小麦抢种"), _operation_row(name="Autumn 秋收", township_code=XIANDI)])
    assert _count(db, Operation) == 5


def test_a_machine_saved_by_another_submit_after_the_check_is_refused_in_the_checks_words(session, field, monkeypatch):
    first = service.register_machine(session, actor=field.town, **MACHINE)
    session.commit()
    blind_once(monkeypatch, "_same_machine")
    with pytest.raises(Conflict, match=rf"^本镇已登记这台农机：#{first.id} 收割机「测试收割机 X1」张三（朱吕村，可调派），"
                                       r"无须重复登记$") as refused:
        service.register_machine(session, actor=field.town, **{**MACHINE, "label": "测试收割机 x1"})
    assert refused.value.code == "machine_exists" and refused.value.details == {"machine_id": first.id}
    # The transaction is still usable (on PostgreSQL too): the edge rolls it back, nothing was added.
    assert session.scalar(select(func.count()).select_from(Machine)) == 1


def test_an_operation_opened_by_another_submit_after_the_check_is_refused_in_the_checks_words(session, field,
                                                                                               monkeypatch):
    op = field.operation
    blind_once(monkeypatch, "_open_named")
    with pytest.raises(Conflict, match=rf"^裴介镇已有进行中的行动「{op.name}」（#{op.id}，2026-10-01 至 2026-10-20），"
                                       r"请在该行动中登记任务，或换一个名称") as refused:
        operation(session, field.town, name=op.name)
    assert refused.value.code == "operation_exists" and refused.value.details == {"operation_id": op.id}
    assert session.scalar(select(func.count()).select_from(Operation)) == 1


def _at_once(db, act) -> tuple[object, object]:
    """``act`` in two transactions at once: the first has saved but not committed when the second
    begins. Returns what each gave (a result or the exception raised)."""
    saved, release = threading.Event(), threading.Event()
    out: dict[str, object] = {}

    def run(which: str) -> None:
        try:
            with db.transaction() as s:
                out[which] = act(s).id
                if which == "first":
                    saved.set()
                    release.wait(10)
        except Exception as err:  # noqa: BLE001 - handed to the test
            out[which] = err
            saved.set()

    first = threading.Thread(target=run, args=("first",))
    first.start()
    assert saved.wait(10)
    second = threading.Thread(target=run, args=("second",))
    second.start()
    time.sleep(0.5)  # the second is past its check (PostgreSQL: waiting on the first's index entry)
    release.set()
    first.join(10)
    second.join(10)
    return out["first"], out["second"]


def test_two_registrations_of_one_machine_at_the_same_instant_save_one(db):
    first, second = _at_once(db, lambda s: service.register_machine(s, actor=None, **MACHINE))
    assert isinstance(first, int)
    assert isinstance(second, Conflict) and second.code == "machine_exists", second
    assert f"本镇已登记这台农机：#{first} 收割机「测试收割机 X1」张三" in second.message
    assert _count(db, Machine) == 1


def test_two_operations_of_one_name_opened_at_the_same_instant_save_one(db):
    first, second = _at_once(db, lambda s: operation(s, None))
    assert isinstance(first, int)
    assert isinstance(second, Conflict) and second.code == "operation_exists", second
    assert f"裴介镇已有进行中的行动「裴介镇秋季抢收抢种」（#{first}，" in second.message
    assert _count(db, Operation) == 1
