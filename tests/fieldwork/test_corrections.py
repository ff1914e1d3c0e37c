"""What a coordinator corrects and what is refused up front: a volunteer registered twice, a task,
machine or volunteer typed wrong and then corrected, a plot of absurd size, a due day or an
operation already past, an empty operation form, a closed ticket turned into a task."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from hotline.fieldwork import queries, service
from hotline.fieldwork.access import SYSTEM
from hotline.fieldwork.models import TaskEvent, Volunteer
from hotline.fieldwork.states import TaskState
from hotline.kit import clock
from hotline.kit.errors import Conflict, Invalid, PermissionDenied, TransitionNotAllowed
from hotline.tickets.states import Status
from tests.builders import make_ticket
from tests.fieldwork.conftest import (
    DALV,
    PEIJIE,
    XIANDI,
    ZHULV,
    blind_once,
    machine,
    operation,
    task,
    volunteer,
)

NOW = datetime(2026, 9, 30, 1, 0, tzinfo=UTC)


# ---------------------------------------------------------------- 1. a volunteer registered once


def test_the_same_volunteer_registered_again_is_refused_naming_the_row_there(session, field):
    first = volunteer(session, name="李强")
    session.commit()
    for name, phone in (("李强", "13703590002"), (" 李强 ", "137 0359 0002")):
        with pytest.raises(Conflict, match=rf"^本镇已登记这位志愿者：#{first.id} 李强 13703590002（朱吕村，待命），无须重复登记$") \
                as refused:
            service.register_volunteer(session, actor=field.town, township_code=PEIJIE, name=name, phone=phone, village_code=DALV)
        assert refused.value.code == "volunteer_exists" and refused.value.details == {"volunteer_id": first.id}
    # A namesake with another phone, or the same person in another township, is another row.
    service.register_volunteer(session, actor=field.town, township_code=PEIJIE, name="李强", phone="13703590003")
    service.register_volunteer(session, actor=field.other_town, township_code=XIANDI, name="李强", phone="13703590002")
    assert session.scalar(select(func.count()).select_from(Volunteer)) == 3


def test_a_namesake_without_a_phone_is_asked_for_one(session, field):
    first = service.register_volunteer(session, actor=field.town, township_code=PEIJIE, name="王芳")
    with pytest.raises(Conflict, match=rf"^本镇已登记这位志愿者：#{first.id} 王芳（未留电话）（待命），无须重复登记；"
                                       r"如是同名的另一人，请填写其电话以区分$"):
        service.register_volunteer(session, actor=field.town, township_code=PEIJIE, name="王芳")
    other = service.register_volunteer(session, actor=field.town, township_code=PEIJIE, name="王芳", phone="13703591111")
    assert other.id != first.id


def test_one_person_cannot_be_booked_on_two_tasks_through_a_second_row(session, field):
    """The QA case: the same person registered twice was sent to two tasks at once and counted
    twice on the dashboard; with one row, the second assignment is refused."""
    person = volunteer(session)
    with pytest.raises(Conflict):
        volunteer(session)
    first, second = task(session, field.operation, field.town), task(session, field.operation, field.town, plot="村西")
    service.assign_volunteer(session, first, person, actor=field.town)
    with pytest.raises(Conflict, match="正在"):
        service.assign_volunteer(session, second, person, actor=field.town)
    board = queries.dashboard(session, SYSTEM, field.operation)
    assert board["volunteers"]["on_task"] == 1


def test_a_volunteer_saved_by_another_submit_after_the_check_is_refused_in_the_checks_words(session, field,
                                                                                             monkeypatch):
    first = volunteer(session)
    session.commit()
    blind_once(monkeypatch, "_same_volunteer")
    with pytest.raises(Conflict, match=rf"^本镇已登记这位志愿者：#{first.id} 李强 13703590002（朱吕村，待命），"
                                       r"无须重复登记$") as refused:
        volunteer(session)
    assert refused.value.code == "volunteer_exists"
    assert session.scalar(select(func.count()).select_from(Volunteer)) == 1


def test_the_database_refuses_a_volunteer_registered_twice_whatever_writes_it(db):
    def row(**kw) -> Volunteer:
        fields = dict(township_code=PEIJIE, name="李强", phone=None, available=True, created_at=NOW)
        fields.update(kw)
        return Volunteer(**fields)

    with db.transaction() as s:
        s.add_all([row(), row(phone="+8613703590002")])
    for twin in (row(), row(name="李强", phone="+8613703590002")):
        with pytest.raises(IntegrityError, match="uq_fieldwork_volunteers_same"), db.transaction() as s:
            s.add(twin)
    with db.transaction() as s:  # another name, phone or town is another person
        s.add_all([row(name="李刚"), row(phone="+8613703590003"), row(township_code=XIANDI)])
    with db.transaction(write=False) as s:
        assert s.scalar(select(func.count()).select_from(Volunteer)) == 5


# ---------------------------------------------------------------- 2. corrections


def test_a_plot_of_absurd_size_is_refused_naming_the_limit(session, field):
    with pytest.raises(Invalid, match=r"^面积 100000 亩过大：一块地不能超过 10,000 亩，请检查是否多输了零"):
        task(session, field.operation, field.town, area=100000)
    assert task(session, field.operation, field.town, area=10000).area == 10000


def test_a_task_typed_wrong_is_corrected_and_the_dashboard_follows(session, field):
    op = field.operation
    t = task(session, op, field.town, area=1000)  # 100 亩 meant
    other = task(session, op, field.town, area=10, village_code=DALV)
    service.assign_machine(session, t, machine(session), actor=field.town)
    service.report_progress(session, t, actor=field.village, area=20)
    assert queries.dashboard(session, SYSTEM, op)["area"] == 1010
    service.update_task(session, t, actor=field.town, village_code=ZHULV, plot="村东洼地谷子田", work_kind="harvest",
                        area="100", crop="谷子", farmer_name="王建国", farmer_phone="13803591234", priority="2",
                        due_date=date(2026, 10, 9), note="地里积水")
    board = queries.dashboard(session, SYSTEM, op)
    assert (board["area"], board["area_done"]) == (110, 20)
    assert (t.plot, t.area, t.priority, t.due_date, t.state) == ("村东洼地谷子田", 100, 2, date(2026, 10, 9),
                                                                 TaskState.working)
    last = session.scalars(select(TaskEvent).where(TaskEvent.task_id == t.id).order_by(TaskEvent.id.desc())).first()
    assert last.action == "edit" and last.note == ("地块：村东谷子地 → 村东洼地谷子田；面积：1000 亩 → 100 亩；"
                                                   "优先级：一般 → 紧急；要求完成日期：2026-10-08 → 2026-10-09；说明已修改")
    fields = dict(village_code=ZHULV, plot="村东", work_kind="harvest", due_date=date(2026, 10, 9))
    with pytest.raises(Invalid, match="^面积不能小于已上报完成的 20 亩$"):
        service.update_task(session, t, actor=field.town, area=15, **fields)
    with pytest.raises(Invalid, match="面积 100000 亩过大"):  # the same checks as registering
        service.update_task(session, t, actor=field.town, area=100000, **fields)
    with pytest.raises(Invalid, match="不属于裴介镇"):
        service.update_task(session, t, actor=field.town, area=100, **{**fields, "village_code": "141002103205"})
    with pytest.raises(PermissionDenied):  # another township's coordinator
        service.update_task(session, other, actor=field.other_town, area=10, **fields)
    service.cancel(session, other, actor=field.town, reason="重复登记")
    with pytest.raises(TransitionNotAllowed, match=f"任务 #{other.id} 已取消，不能修改"):
        service.update_task(session, other, actor=field.town, area=10, **fields)


def test_an_overdue_task_keeps_its_day_while_its_phone_is_corrected_but_gets_no_new_past_day(session, field):
    t = task(session, field.operation, field.town, due_date=date(2026, 10, 3))
    clock.freeze(datetime(2026, 10, 5, 9, 0))
    fields = dict(village_code=ZHULV, plot="村东谷子地", work_kind="harvest", area=10, crop="谷子", farmer_name="王建国")
    service.update_task(session, t, actor=field.town, farmer_phone="13803595678", due_date=date(2026, 10, 3), **fields)
    assert t.farmer_phone == "+8613803595678"
    with pytest.raises(Invalid, match=r"^要求完成日期 2026-10-04 已过：不能早于今天（2026-10-05）$"):
        service.update_task(session, t, actor=field.town, due_date=date(2026, 10, 4), **fields)
    service.update_task(session, t, actor=field.town, due_date=date(2026, 10, 6), **fields)
    assert t.due_date == date(2026, 10, 6)


def test_a_machines_wrong_phone_is_corrected_but_not_into_another_registered_machine(session, field):
    m = machine(session)
    other = machine(session, label="约翰迪尔 C230")
    service.update_machine(session, m, actor=field.town, kind="harvester", label="雷沃谷神 GE80", owner="裴介农机合作社",
                           owner_kind="cooperative", phone="13903590009", village_code=ZHULV)
    assert m.phone == "+8613903590009"
    with pytest.raises(Conflict, match=rf"^本镇已登记这台农机：#{other.id} 收割机「约翰迪尔 C230」裴介农机合作社"):
        service.update_machine(session, m, actor=field.town, kind="harvester", label="约翰迪尔  c230",
                               owner="裴介农机合作社", owner_kind="cooperative", phone="13903590001", village_code=ZHULV)
    with pytest.raises(Invalid, match="^「fly」无效，可选：收割机、拖拉机、抽水泵、播种机、烘干机、运输车、发电机、其他$"):
        service.update_machine(session, m, actor=field.town, kind="fly", label="GE80", owner="合作社")


def test_a_machine_changed_by_another_submit_into_a_twin_is_refused_in_the_checks_words(session, field, monkeypatch):
    m, other = machine(session), machine(session, label="约翰迪尔 C230")
    session.commit()
    blind_once(monkeypatch, "_same_machine")
    with pytest.raises(Conflict, match=rf"^本镇已登记这台农机：#{other.id} 收割机「约翰迪尔 C230」"):
        service.update_machine(session, m, actor=field.town, kind="harvester", label="约翰迪尔 C230",
                               owner="裴介农机合作社", owner_kind="cooperative", phone="13903590001", village_code=ZHULV)


def test_a_misspelt_volunteer_is_corrected_but_not_into_another_registered_one(session, field):
    p = volunteer(session, name="李墙")
    other = volunteer(session, name="张伟")
    service.update_volunteer(session, p, actor=field.town, name="李强", phone="13703590002", village_code=DALV,
                             skills="装卸")
    assert (p.name, p.village_code, p.skills) == ("李强", DALV, "装卸")
    with pytest.raises(Conflict, match=rf"^本镇已登记这位志愿者：#{other.id} 张伟 13703590002"):
        service.update_volunteer(session, p, actor=field.town, name="张伟", phone="13703590002")
    with pytest.raises(Invalid, match="姓名不能为空"):
        service.update_volunteer(session, p, actor=field.town, name=" ", phone="13703590002")


# ---------------------------------------------------------------- 3. days already past


def test_a_new_tasks_due_day_may_not_be_past(session, field):
    clock.freeze(datetime(2026, 10, 5, 9, 0))
    with pytest.raises(Invalid, match=r"^要求完成日期 2026-10-04 已过：不能早于今天（2026-10-05）$"):
        task(session, field.operation, field.town, due_date=date(2026, 10, 4))
    assert task(session, field.operation, field.town, due_date=date(2026, 10, 5)).due_date == date(2026, 10, 5)


def test_an_operation_over_before_it_is_saved_is_refused(session, field):
    clock.freeze(datetime(2026, 11, 29, 9, 0))
    with pytest.raises(Invalid, match=r"^目标完成日期 2026-11-20 已过：行动的目标完成日期不能早于今天（2026-11-29）$"):
        operation(session, field.town, name="补登的秋收", start_date=date(2026, 11, 1), target_date=date(2026, 11, 20))
    with pytest.raises(Invalid, match="目标完成日期 2026-11-28 已过"):  # nor moved into the past
        service.set_target(session, field.operation, actor=field.town, target_date=date(2026, 11, 28))
    # Started earlier and still running is fine.
    assert operation(session, field.town, name="补登的秋收", start_date=date(2026, 11, 1),
                     target_date=date(2026, 11, 29)).id


# ---------------------------------------------------------------- 7. every empty field named


def test_an_empty_operation_form_names_every_missing_field(session, field):
    with pytest.raises(Invalid) as refused:
        service.create_operation(session, actor=field.town, name="", township_code=PEIJIE, crops=" ", start_date="",
                                 target_date="")
    assert refused.value.message == "请填写行动名称、作物、开始日期、目标完成日期"
    assert refused.value.details["fields"] == ["name", "crops", "start_date", "target_date"]
    with pytest.raises(Invalid) as refused:
        service.create_operation(session, actor=field.town, name="秋收", township_code=PEIJIE, crops="",
                                 start_date="10月1日", target_date="")
    assert refused.value.message == "请填写作物、目标完成日期；开始日期须为日期，如 2026-10-08"


# ---------------------------------------------------------------- 8. only open tickets


@pytest.mark.parametrize("status", [Status.closed, Status.archived, Status.refused])
def test_a_ticket_no_longer_handled_does_not_become_a_task(session, field, status):
    ticket = make_ticket(session, field.people, status, content="排水沟堵了，污水漫到路上")
    with pytest.raises(TransitionNotAllowed, match=rf"^工单 {ticket.number}「.+」，已不在办理中，不能转为抢收任务") as refused:
        service.task_from_ticket(session, actor=field.people.supervisor, operation=field.operation,
                                 ticket_key=ticket.number, area=5)
    assert refused.value.code == "ticket_not_open"
    open_ticket = make_ticket(session, field.people, Status.in_progress)
    made = service.task_from_ticket(session, actor=field.people.supervisor, operation=field.operation,
                                    ticket_key=open_ticket.number, area=5)
    assert made.ticket_id == open_ticket.id
