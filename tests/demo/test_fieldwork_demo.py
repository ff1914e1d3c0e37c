"""The demo's emergency harvest in 县底镇: what a coordinator opening the demo would see."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from hotline.demo.fieldwork import TOWNSHIP, generate_fieldwork
from hotline.fieldwork.models import Buyer, FieldTask, Machine, ProgressReport, Volunteer
from hotline.fieldwork.states import UNFINISHED, MachineState
from tests.conftest import _clean

NOW = datetime(2026, 11, 18, 2, 30, tzinfo=UTC)


def _run(db, seed=7):
    with db.transaction() as s:
        return generate_fieldwork(s, seed=seed, now=NOW)


def test_the_demo_operation_has_tasks_in_every_state_across_the_villages(db):
    summary = _run(db)
    assert summary["operation"] == "县底镇秋季抢收抢种" and summary["tasks"] == 30
    assert all(n > 0 for n in summary["by_state"].values()), summary["by_state"]
    assert 0 < summary["area_done"] < summary["area"] and summary["overdue"] > 0
    with db.session() as s:
        tasks = list(s.scalars(select(FieldTask)))
        assert len({t.village_code for t in tasks}) >= 12
        assert all(t.village_code.startswith(TOWNSHIP) for t in tasks)
        assert s.scalar(select(func.count()).select_from(Machine)) == 15
        assert s.scalar(select(func.count()).select_from(Volunteer)) == 40
        assert s.scalar(select(func.count()).select_from(Buyer)) >= 3
        assert s.scalar(select(func.count()).select_from(ProgressReport)) >= 10
        # Machines are working only on unfinished tasks, and some are.
        states = {t.id: t.state for t in tasks}
        busy = list(s.scalars(select(Machine).where(Machine.state == MachineState.working)))
        assert busy and all(states[m.task_id] in UNFINISHED for m in busy)
        assert all(t.area is None or t.area_done <= t.area for t in tasks)


def test_the_demo_is_the_same_for_the_same_seed(db):
    first = _run(db)
    with db.session() as s:
        plots = [(t.village_code, t.plot, t.area, t.state) for t in s.scalars(select(FieldTask).order_by(FieldTask.id))]
    _clean(db)
    assert _run(db) == first
    with db.session() as s:
        assert [(t.village_code, t.plot, t.area, t.state) for t in s.scalars(select(FieldTask).order_by(FieldTask.id))] == plots


def test_requests_for_help_with_the_harvest_in_the_town_become_tasks(db, people):
    from tests.builders import register

    with db.transaction() as s:
        wanted = register(s, people, region_code="141002103205", category_code="1204", urgency="normal",
                          content="这一周下雨，翟村村南的八亩谷子地全泡在水里了，收割机下不了地，请求帮忙排涝抢收。")
        register(s, people, region_code="141002103205", content="翟村的供水管道漏水了。")  # not field work
        wanted_id = wanted.id
    _run(db)
    with db.session() as s:
        linked = list(s.scalars(select(FieldTask).where(FieldTask.ticket_id.is_not(None))))
        assert [t.ticket_id for t in linked] == [wanted_id]
        assert linked[0].village_code == "141002103205" and linked[0].farmer_name == "张先生"


def test_the_demo_tasks_fall_due_within_the_operation_and_a_second_run_adds_nothing(db):
    """A task's due day is within its operation's days; a second run on the same data found the
    town's operation open and would register it, and its machines, again."""
    from hotline.fieldwork.models import Operation

    first = _run(db)
    with db.session() as s:
        op = s.scalar(select(Operation))
        assert all(op.start_date <= t.due_date <= op.target_date for t in s.scalars(select(FieldTask)))
    assert first and _run(db) == {}
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Operation)) == 1
        assert s.scalar(select(func.count()).select_from(Machine)) == 15
