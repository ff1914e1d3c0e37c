"""Random walks over field tasks (Hypothesis state machine): whatever coordinators and villages do,
in whatever order, a refused step changes nothing and these stay true:

* a task's state changes only along ``TRANSITIONS``, each change one event whose from/to chain
  from 待安排 to the current state;
* ``area_done`` never exceeds ``area`` and never falls;
* a machine or volunteer is on at most one task, that task is unfinished, and a working machine
  has a task; a finished task has nobody on it.

SQLite only, to keep the run short; the services are the same on both backends.
"""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import select

from hotline.accounts.models import Role
from hotline.accounts.service import add_user
from hotline.fieldwork import service
from hotline.fieldwork.models import FieldTask, Machine, TaskEvent, Volunteer
from hotline.fieldwork.states import TRANSITIONS, UNFINISHED, MachineState, TaskState
from hotline.kit.db import Database
from hotline.kit.errors import DomainError
from tests.conftest import _clean
from tests.fieldwork.conftest import DALV, PEIJIE, ZHULV

_database: Database | None = None


class FieldWalk(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        assert _database is not None
        _clean(_database)
        self.session = _database.session()
        s = self.session
        self.town = add_user(s, username="w-town", display_name="镇", role=Role.handler, unit_code="xiaxian-peijie")
        self.village = add_user(s, username="w-village", display_name="村", role=Role.handler,
                                unit_code="xiaxian-peijie-zhulv")
        op = service.create_operation(s, actor=self.town, name="抢收", township_code=PEIJIE, crops="谷子",
                                      start_date=date(2026, 10, 1), target_date=date(2026, 10, 20))
        self.tasks = [service.create_task(s, actor=self.town, operation=op, village_code=village, plot="地块",
                                          work_kind=kind, area=area, due_date=date(2026, 10, 9))
                      for village, kind, area in ((ZHULV, "harvest", 6), (DALV, "sowing", 3.5), (ZHULV, "road", None))]
        self.machines = [service.register_machine(s, actor=None, township_code=PEIJIE, kind="harvester",
                                                  label=f"机{i}", owner="合作社") for i in range(2)]
        self.people = [service.register_volunteer(s, actor=None, township_code=PEIJIE, name="张三")]
        s.commit()
        self.done = {t.id: 0.0 for t in self.tasks}

    def teardown(self) -> None:
        self.session.close()

    def _do(self, action) -> None:  # noqa: ANN001
        try:
            action()
        except DomainError:
            self.session.rollback()
        else:
            self.session.commit()

    def _actor(self, who: int):  # noqa: ANN202
        return (self.town, self.village, None)[who]

    @rule(t=st.integers(0, 2), m=st.integers(0, 1), who=st.integers(0, 2))
    def assign_machine(self, t: int, m: int, who: int) -> None:
        self._do(lambda: service.assign_machine(self.session, self.tasks[t], self.machines[m], actor=self._actor(who)))

    @rule(t=st.integers(0, 2), who=st.integers(0, 2))
    def assign_volunteer(self, t: int, who: int) -> None:
        self._do(lambda: service.assign_volunteer(self.session, self.tasks[t], self.people[0], actor=self._actor(who)))

    @rule(t=st.integers(0, 2), m=st.integers(0, 1))
    def release_machine(self, t: int, m: int) -> None:
        self._do(lambda: service.release(self.session, self.tasks[t], actor=self.town, machine=self.machines[m]))

    @rule(m=st.integers(0, 1), state=st.sampled_from(["available", "repair", "working", "bad"]))
    def machine_state(self, m: int, state: str) -> None:
        self._do(lambda: service.set_machine_state(self.session, self.machines[m], actor=self.town, state=state))

    @rule(t=st.integers(0, 2))
    def start(self, t: int) -> None:
        self._do(lambda: service.start(self.session, self.tasks[t], actor=self.town))

    @rule(t=st.integers(0, 2), area=st.sampled_from([0, 0.5, 1, 2.5, 4, 7, -1, "x", None]), who=st.integers(0, 2),
          note=st.sampled_from(["", "进展顺利"]))
    def report(self, t: int, area: object, who: int, note: str) -> None:
        self._do(lambda: service.report_progress(self.session, self.tasks[t], actor=self._actor(who), area=area,
                                                 note=note))

    @rule(t=st.integers(0, 2), who=st.integers(0, 2))
    def complete(self, t: int, who: int) -> None:
        self._do(lambda: service.complete(self.session, self.tasks[t], actor=self._actor(who)))

    @rule(t=st.integers(0, 2), reason=st.sampled_from(["", "农户自行收割"]))
    def cancel(self, t: int, reason: str) -> None:
        self._do(lambda: service.cancel(self.session, self.tasks[t], actor=self.town, reason=reason))

    @invariant()
    def states_follow_the_graph(self) -> None:
        for task in self.session.scalars(select(FieldTask)):
            moves = [(e.from_state, e.to_state) for e in self.session.scalars(
                select(TaskEvent).where(TaskEvent.task_id == task.id, TaskEvent.to_state.is_not(None))
                .order_by(TaskEvent.id))]
            assert moves[0] == (None, TaskState.pending.value)
            for (_, before), (frm, to) in zip(moves, moves[1:], strict=False):
                assert frm == before and TaskState(to) in TRANSITIONS[TaskState(frm)], moves
            assert moves[-1][1] == task.state.value

    @invariant()
    def area_done_rises_within_the_area(self) -> None:
        for task in self.session.scalars(select(FieldTask)):
            assert task.area_done >= self.done[task.id] - 1e-9
            self.done[task.id] = task.area_done
            if task.area is None:
                assert task.area_done == 0
            else:
                assert task.area_done <= task.area + 1e-9
            if task.state == TaskState.done and task.area is not None:
                assert abs(task.area_done - task.area) < 1e-9

    @invariant()
    def nobody_is_double_booked(self) -> None:
        states = {t.id: t.state for t in self.session.scalars(select(FieldTask))}
        for m in self.session.scalars(select(Machine)):
            assert (m.state == MachineState.working) == (m.task_id is not None), (m.state, m.task_id)
            if m.task_id is not None:
                assert states[m.task_id] in UNFINISHED
        for p in self.session.scalars(select(Volunteer)):
            if p.task_id is not None:
                assert states[p.task_id] in UNFINISHED


def test_random_walks_keep_the_field_rules(sqlite_db):
    global _database
    _database = sqlite_db
    try:
        run_state_machine_as_test(FieldWalk, settings=settings(
            max_examples=25, stateful_step_count=30, deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
    finally:
        _database = None
        _clean(sqlite_db)
