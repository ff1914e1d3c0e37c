"""``hotline fieldwork``: reading an operation and reporting from a shell, under the same rules."""

from __future__ import annotations

from datetime import date

import pytest

from hotline.accounts.models import Role
from hotline.accounts.service import add_user
from hotline.fieldwork import service
from tests.cli.conftest import ok
from tests.fieldwork.conftest import PEIJIE, ZHULV, in_season  # noqa: F401 (in_season: a fixture)

pytestmark = pytest.mark.usefixtures("in_season")


def _setup(db):
    with db.transaction() as s:
        add_user(s, username="c-town", display_name="镇", role=Role.handler, unit_code="xiaxian-peijie")
        add_user(s, username="c-water", display_name="水", role=Role.handler, unit_code="xiaxian-water")
        op = service.create_operation(s, actor=None, name="裴介镇秋季抢收抢种", township_code=PEIJIE, crops="谷子",
                                      start_date=date(2026, 10, 1), target_date=date(2026, 10, 20))
        task = service.create_task(s, actor=None, operation=op, village_code=ZHULV, plot="村东谷子地",
                                   work_kind="harvest", area=6, due_date=date(2026, 10, 8))
        m = service.register_machine(s, actor=None, township_code=PEIJIE, kind="harvester", label="GE80", owner="合作社")
        service.assign_machine(s, task, m, actor=None)
        return op.id, task.id


def test_report_complete_and_read_the_dashboard(db, hotline):
    op_id, task_id = _setup(db)
    assert "裴介镇秋季抢收抢种（夏县裴介镇）  任务 1 项" in ok(hotline("fieldwork", "operations"))
    result = hotline("fieldwork", "progress", str(task_id), "--by", "c-town", "--area", "7")
    assert result.exit_code == 2 and "超过剩余面积" in result.output
    assert "6/6 亩" in ok(hotline("fieldwork", "progress", str(task_id), "--by", "c-town", "--area", "6"))
    assert "已完成，农机和人员已释放" in ok(hotline("fieldwork", "complete", str(task_id), "--by", "c-town"))
    board = ok(hotline("fieldwork", "dashboard", str(op_id)))
    assert "完成 6/6 亩（100%）" in board and "朱吕村" in board and "可调派 1" in board
    assert f"#{task_id}" in ok(hotline("fieldwork", "tasks", "--state", "done"))


def test_a_user_outside_field_work_is_refused(db, hotline):
    _setup(db)
    result = hotline("fieldwork", "tasks", "--by", "c-water")
    assert result.exit_code == 2 and "不负责抢收抢种" in result.output
