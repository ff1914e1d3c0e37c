"""Field work services: who may act, double booking, progress against area, releasing on finish,
tasks made from tickets, and refusals that save nothing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from hotline.fieldwork import queries, service
from hotline.fieldwork.access import field_scope
from hotline.fieldwork.models import Assignment, FieldTask, Operation, TaskEvent
from hotline.fieldwork.states import MachineState, TaskState
from hotline.kit.errors import Conflict, Invalid, NotFound, PermissionDenied, TransitionNotAllowed
from tests.builders import register
from tests.fieldwork.conftest import DALV, PEIJIE, XIANDI, ZHAICUN, ZHULV, machine, operation, task, volunteer


def test_the_town_coordinates_its_own_operation_and_nobody_elses(session, field):
    made = task(session, field.operation, field.town)
    assert made.state == TaskState.pending and made.area == 10 and made.farmer_phone == "+8613803591234"
    for outsider in (field.other_town, field.village, field.people.handler_b, field.people.agent,
                     field.people.dispatcher):
        with pytest.raises(PermissionDenied, match="本镇"):
            task(session, field.operation, outsider)
    with pytest.raises(PermissionDenied):
        operation(session, field.town, township=XIANDI, name="县底镇抢收")
    # Supervisors and admins coordinate everywhere.
    assert operation(session, field.people.supervisor, township=XIANDI).township_code == XIANDI


def test_bad_input_is_refused_in_chinese_and_nothing_is_saved(session, field):
    cases = [
        (dict(village_code=ZHAICUN), "不属于裴介镇"),
        (dict(village_code=PEIJIE), "不是村"),
        (dict(area=0), "大于 0"),
        (dict(area="十亩"), "须为数字"),
        (dict(work_kind="plough"), "无效"),
        (dict(due_date="10月8日"), "须为日期"),
        (dict(due_date=date(2026, 9, 1)), "不能早于行动开始日期"),
        (dict(plot="  "), "地块不能为空"),
        (dict(farmer_phone="123"), "电话号码"),
        (dict(priority=9), "优先级"),
    ]
    for typed, message in cases:
        with pytest.raises(Invalid, match=message):
            task(session, field.operation, field.town, **typed)
    assert session.scalar(select(func.count()).select_from(FieldTask)) == 0
    with pytest.raises(Invalid, match="不能早于开始日期"):
        operation(session, field.town, start_date=date(2026, 10, 5), target_date=date(2026, 10, 1))


def test_a_machine_or_volunteer_cannot_be_on_two_unfinished_tasks(session, field):
    first, second = task(session, field.operation, field.town), task(session, field.operation, field.town, village_code=DALV)
    harvester, person = machine(session), volunteer(session)
    service.assign_machine(session, first, harvester, actor=field.town)
    service.assign_volunteer(session, first, person, actor=field.town)
    assert first.state == TaskState.scheduled and harvester.state == MachineState.working
    with pytest.raises(Conflict, match=rf"正在任务 #{first.id}（朱吕村 抢收）作业") as refused:
        service.assign_machine(session, second, harvester, actor=field.town)
    assert refused.value.code == "resource_busy"
    with pytest.raises(Conflict, match=f"志愿者「李强」正在任务 #{first.id}"):
        service.assign_volunteer(session, second, person, actor=field.town)
    assert second.state == TaskState.pending
    assert harvester.task_id == first.id and person.task_id == first.id


def test_a_machine_under_repair_or_of_another_town_is_not_sent(session, field):
    t = task(session, field.operation, field.town)
    broken = machine(session)
    service.set_machine_state(session, broken, actor=field.town, state="repair")
    with pytest.raises(Conflict, match="正在维修"):
        service.assign_machine(session, t, broken, actor=field.town)
    elsewhere = machine(session, township=XIANDI, village=ZHAICUN)
    with pytest.raises(Invalid, match="不在本镇农机登记表中"):
        service.assign_machine(session, t, elsewhere, actor=field.town)


def test_completing_or_cancelling_releases_machines_and_volunteers(session, field):
    done_task, dropped = task(session, field.operation, field.town, area=5), task(session, field.operation, field.town)
    m1, m2, p1 = machine(session), machine(session, label="久保田 4LZ"), volunteer(session)
    service.assign_machine(session, done_task, m1, actor=field.town)
    service.assign_volunteer(session, done_task, p1, actor=field.town)
    service.assign_machine(session, dropped, m2, actor=field.town)
    service.report_progress(session, done_task, actor=field.village, area=5, note="全部收完")
    service.complete(session, done_task, actor=field.town)
    service.cancel(session, dropped, actor=field.town, reason="农户已自行收割")
    for m in (m1, m2):
        assert (m.state, m.task_id) == (MachineState.available, None)
    assert p1.task_id is None
    assert session.scalar(select(func.count()).select_from(Assignment).where(Assignment.released_at.is_(None))) == 0
    assert dropped.cancel_reason == "农户已自行收割" and dropped.state == TaskState.cancelled
    # Free again: the same harvester can go to a new task at once.
    service.assign_machine(session, task(session, field.operation, field.town), m1, actor=field.town)


def test_a_scheduled_task_with_nobody_left_on_it_is_waiting_again(session, field):
    t = task(session, field.operation, field.town)
    m1, m2, p1 = machine(session), machine(session, label="久保田 4LZ"), volunteer(session)
    service.assign_machine(session, t, m1, actor=field.town)
    service.assign_volunteer(session, t, p1, actor=field.town)
    service.release(session, t, actor=field.town, machine=m1)
    assert t.state == TaskState.scheduled  # the volunteer is still on it
    service.release(session, t, actor=field.town, volunteer=p1)
    assert t.state == TaskState.pending
    # A machine reported broken takes the last one off the task: waiting again, said so in the history.
    service.assign_machine(session, t, m2, actor=field.town)
    assert t.state == TaskState.scheduled
    service.set_machine_state(session, m2, actor=field.town, state="repair")
    assert t.state == TaskState.pending
    moves = session.scalars(select(TaskEvent.to_state).where(TaskEvent.task_id == t.id,
                                                             TaskEvent.to_state.is_not(None)).order_by(TaskEvent.id)).all()
    assert moves == ["pending", "scheduled", "pending", "scheduled", "pending"]  # registered, then as above
    # A working task keeps its state when its machines go: the work has begun.
    w = task(session, field.operation, field.town)
    service.assign_machine(session, w, m1, actor=field.town)
    service.start(session, w, actor=field.town)
    service.release(session, w, actor=field.town, machine=m1)
    assert w.state == TaskState.working


def test_a_note_alone_is_a_progress_report_even_when_the_area_is_all_done(session, field):
    t = task(session, field.operation, field.town, area=4)
    service.assign_machine(session, t, machine(session), actor=field.town)
    service.report_progress(session, t, actor=field.village, area=4)
    report = service.report_progress(session, t, actor=field.village, area="", note="已全部收完，等待镇里验收")
    assert (report.area, t.area_done, t.state) == (0, 4, TaskState.working)
    last = session.scalars(select(TaskEvent.note).where(TaskEvent.task_id == t.id).order_by(TaskEvent.id.desc())).first()
    assert last == "已全部收完，等待镇里验收（累计 4/4 亩）"
    with pytest.raises(Invalid, match="请填写本次完成面积"):  # neither area nor note: nothing to report
        service.report_progress(session, t, actor=field.village, area="")


def test_choices_are_taken_by_their_chinese_label_too(session, field):
    t = task(session, field.operation, field.town, work_kind="排涝", priority="特急")
    assert (t.work_kind, t.priority) == ("drainage", 3)
    m = machine(session, kind="抽水泵")
    assert m.kind == "pump"
    # The choices in the coordinator's words, not the program's codes (harvest, drainage, ...).
    with pytest.raises(Invalid, match="^「犁地」无效，可选：抢收、排涝、抢种、道路抢修、电力保障$"):
        task(session, field.operation, field.town, work_kind="犁地")


def test_progress_rises_to_the_area_and_never_past_it(session, field):
    t = task(session, field.operation, field.town, area=12.5)
    service.assign_machine(session, t, machine(session), actor=field.town)
    service.report_progress(session, t, actor=field.village, area=4, note="上午收了 4 亩")
    assert (t.state, t.area_done) == (TaskState.working, 4.0)  # a first report means work began
    with pytest.raises(Invalid, match="超过剩余面积：任务共 12.5 亩，已完成 4 亩，尚余 8.5 亩"):
        service.report_progress(session, t, actor=field.village, area=9)
    with pytest.raises(Invalid, match="大于 0"):
        service.report_progress(session, t, actor=field.village, area=-1)
    with pytest.raises(TransitionNotAllowed, match="尚余 8.5 亩"):
        service.complete(session, t, actor=field.town)
    service.report_progress(session, t, actor=field.town, area=8.5)
    assert t.area_done == 12.5
    service.complete(session, t, actor=field.town)
    assert t.state == TaskState.done and t.finished_at is not None
    with pytest.raises(TransitionNotAllowed, match="已完成"):
        service.report_progress(session, t, actor=field.town, area=1)
    actions = [e.action for e, _ in queries.events(session, t)]
    assert actions == ["create", "assign", "start", "progress", "progress", "complete", "release"]


def test_a_pending_task_takes_no_progress_and_state_moves_follow_the_graph(session, field):
    t = task(session, field.operation, field.town)
    with pytest.raises(TransitionNotAllowed, match="尚未安排"):
        service.report_progress(session, t, actor=field.town, area=1)
    with pytest.raises(TransitionNotAllowed, match="「待安排」，不能改为「作业中」"):
        service.start(session, t, actor=field.town)
    with pytest.raises(Invalid, match="取消原因不能为空"):
        service.cancel(session, t, actor=field.town, reason=" ")
    assert t.state == TaskState.pending


def test_road_repair_has_no_area_and_its_progress_is_a_note(session, field):
    t = task(session, field.operation, field.town, work_kind="road", area=None, plot="朱吕村至大吕村机耕路")
    assert t.area is None
    service.assign_machine(session, t, machine(session, kind="truck", label="晋M·12345"), actor=field.town)
    with pytest.raises(Invalid, match="进度说明不能为空"):
        service.report_progress(session, t, actor=field.village)
    service.report_progress(session, t, actor=field.village, note="已垫石子 200 米")
    service.complete(session, t, actor=field.town)
    assert t.state == TaskState.done


def test_villages_see_their_own_tasks_and_report_but_do_not_coordinate(session, field):
    mine, theirs = task(session, field.operation, field.town), task(session, field.operation, field.town, village_code=DALV)
    service.assign_machine(session, mine, machine(session), actor=field.town)
    scope = field_scope(session, field.village)
    assert [t.id for t in queries.list_tasks(session, scope, queries.TaskFilter())] == [mine.id]
    with pytest.raises(NotFound):
        queries.get_task(session, scope, theirs.id)
    service.report_progress(session, mine, actor=field.village, area=2)
    with pytest.raises(NotFound):
        service.report_progress(session, theirs, actor=field.village, area=1)
    for act in (lambda: service.complete(session, mine, actor=field.village),
                lambda: service.cancel(session, mine, actor=field.village, reason="x"),
                lambda: service.assign_volunteer(session, mine, volunteer(session), actor=field.village)):
        with pytest.raises(PermissionDenied):
            act()
    # Another town sees nothing of 裴介镇; a water bureau's handler has no field work at all.
    other = field_scope(session, field.other_town)
    assert queries.list_tasks(session, other, queries.TaskFilter()) == []
    with pytest.raises(NotFound):
        queries.get_operation(session, other, field.operation.id)
    assert not field_scope(session, field.people.handler_b).any
    everyone = field_scope(session, field.people.supervisor)
    assert len(queries.list_tasks(session, everyone, queries.TaskFilter())) == 2


def test_a_task_from_a_ticket_keeps_the_link_and_the_callers_details(session, field):
    ticket = register(session, field.people, content="朱吕村东头我家八亩谷子被雨泡了，地里全是水，收割机进不去，请帮忙排涝抢收。",
                      category_code="0103", caller_name="王大娘", caller_phone="13803597777")
    made = service.task_from_ticket(session, actor=field.people.supervisor, operation=field.operation,
                                    ticket_key=ticket.number, area=8, due_date="2026-10-06", crop="谷子")
    assert made.ticket_id == ticket.id and made.village_code == ZHULV
    assert (made.farmer_name, made.farmer_phone) == ("王大娘", "+8613803597777")
    assert queries.ticket_number(session, made) == ticket.number
    assert [t.id for t in queries.tasks_of_ticket(session, ticket.id)] == [made.id]
    first = queries.events(session, made)[0][0]
    assert first.action == "from_ticket" and ticket.number in first.note
    with pytest.raises(Conflict, match=f"已转为任务 #{made.id}"):
        service.task_from_ticket(session, actor=field.people.supervisor, operation=field.operation,
                                 ticket_key=ticket.number, area=8, due_date="2026-10-06")
    # The town's coordinator cannot convert a ticket it may not see (dispatched to nobody yet).
    with pytest.raises(NotFound):
        service.task_from_ticket(session, actor=field.town, operation=field.operation, ticket_key=ticket.number,
                                 area=8, due_date="2026-10-06")


def test_a_ticket_outside_the_township_is_refused(session, field):
    ticket = register(session, field.people, region_code="141002103205", content="翟村谷子地被淹，请求帮助抢收。")
    with pytest.raises(Invalid, match="不属于裴介镇"):
        service.task_from_ticket(session, actor=field.people.admin, operation=field.operation,
                                 ticket_key=ticket.number, area=3, due_date="2026-10-06")


def test_suggestions_are_free_machines_of_the_needed_kind_nearest_first(session, field):
    t = task(session, field.operation, field.town, village_code=DALV)
    far = machine(session, village=ZHULV, label="远处收割机")
    near = machine(session, village=DALV, label="大吕收割机")
    machine(session, kind="pump", village=DALV, label="水泵")
    busy = machine(session, village=DALV, label="忙碌收割机")
    service.assign_machine(session, task(session, field.operation, field.town), busy, actor=field.town)
    assert [m.label for m in queries.suggest_machines(session, t)] == [near.label, far.label]
    assert [m.label for m in queries.suggest_machines(session, t, kind="pump")] == ["水泵"]
    assert [m.label for m in queries.suggest_machines(session, t, any_kind=True)] == ["大吕收割机", "水泵", "远处收割机"]
    road = task(session, field.operation, field.town, work_kind="power", area=None, plot="排灌站")
    assert queries.suggest_machines(session, road) == []  # power wants a generator; none registered


def test_an_operation_closes_only_when_no_task_is_left(session, field):
    t = task(session, field.operation, field.town, work_kind="power", area=None, plot="2 号排灌站")
    with pytest.raises(TransitionNotAllowed, match="还有 1 项任务"):
        service.close_operation(session, field.operation, actor=field.town)
    service.cancel(session, t, actor=field.town, reason="供电已恢复")
    service.close_operation(session, field.operation, actor=field.town)
    with pytest.raises(Conflict, match="已结束"):
        task(session, field.operation, field.town)


def test_the_dashboard_counts_what_the_reader_sees(session, field):
    a = task(session, field.operation, field.town, area=10)
    task(session, field.operation, field.town, village_code=DALV, area=6, due_date=date(2026, 10, 2))
    service.assign_machine(session, a, machine(session), actor=field.town)
    service.report_progress(session, a, actor=field.village, area=4)
    from hotline.kit import clock
    clock.freeze(clock.aware(__import__("datetime").datetime(2026, 10, 5, 9, 0)))
    board = queries.dashboard(session, field_scope(session, field.town), field.operation)
    rows = {r["name"]: r for r in board["villages"]}
    assert rows["朱吕村"]["area"] == 10 and rows["朱吕村"]["area_done"] == 4 and rows["朱吕村"]["share"] == 0.4
    assert rows["大吕村"]["overdue"] == 1 and board["overdue"] == 1
    assert board["machines"] == {"available": 0, "working": 1, "repair": 0}
    village_view = queries.dashboard(session, field_scope(session, field.village), field.operation)
    assert [r["name"] for r in village_view["villages"]] == ["朱吕村"] and not village_view["shows_registers"]


def test_events_record_who_did_what(session, field):
    t = task(session, field.operation, field.town)
    service.assign_volunteer(session, t, volunteer(session), actor=field.town)
    rows = session.execute(select(TaskEvent.action, TaskEvent.from_state, TaskEvent.to_state, TaskEvent.actor_id)
                           .where(TaskEvent.task_id == t.id).order_by(TaskEvent.id)).all()
    assert rows == [("create", None, "pending", field.town.id), ("assign", "pending", "scheduled", field.town.id)]
    assert session.scalar(select(Operation.state)) == "open"


def test_two_coordinators_sending_the_same_machine_at_once_cannot_both_win(db, session, field):
    first, second = task(session, field.operation, field.town), task(session, field.operation, field.town, village_code=DALV)
    harvester = machine(session)
    session.commit()
    other = db.session()
    try:
        # The second coordinator's page was loaded while the harvester was still free.
        stale_task, stale_machine = other.get(FieldTask, second.id), other.get(type(harvester), harvester.id)
        assert stale_machine.state == MachineState.available
        other.commit()  # its page is rendered; SQLite's write lock is free for the first coordinator
        service.assign_machine(session, first, harvester, actor=field.town)
        session.commit()
        with pytest.raises(Conflict, match="正在任务"):
            service.assign_machine(other, stale_task, stale_machine, actor=field.town)
        other.rollback()
    finally:
        other.close()
    assert session.scalar(select(func.count()).select_from(Assignment)) == 1
