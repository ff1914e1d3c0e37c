"""Ledger changes: what is refused and what a placement does."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from hotline.employment import queries, service
from hotline.employment.fields import mask_id, worker_fields
from hotline.employment.models import (
    ActivityWorker,
    Assistance,
    AssistanceKind,
    EmploymentStatus,
    ReferralState,
    WorkPlace,
)
from hotline.employment.scope import EVERYWHERE
from hotline.kit import clock
from hotline.kit.errors import Conflict, Invalid, TransitionNotAllowed
from tests.employment.conftest import DALV, SHUITOU, XINSHE, ZHULV, fields, id_number, make_worker, scope_of

TODAY = date(2026, 11, 28)


def test_an_id_number_is_registered_once_and_shown_masked(session, staff):
    number = id_number("19750312", "131")
    first = make_worker(session, id_number=number)
    assert first.gender.value == "male" and first.birth_year == 1975
    assert mask_id(number) == number[:4] + "*" * 10 + number[-4:] and len(mask_id(number)) == 18
    with pytest.raises(Conflict) as refused:
        make_worker(session, DALV, name="李四", id_number=number.lower())
    assert "已登记（朱吕村 张麦环）" in refused.value.message and "同一人不能重复登记" in refused.value.message
    assert number not in refused.value.message
    # Seen from another village's station, the other person's name is not given away.
    other = scope_of(session, staff.village)
    with pytest.raises(Conflict) as hidden:
        service.add_worker(session, other, actor=staff.village, village_code=ZHULV,
                           fields=fields(name="王五", id_number=number))
    assert "已登记（朱吕村 张麦环）" in hidden.value.message
    township = scope_of(session, staff.township)
    third = make_worker(session, SHUITOU, name="赵六", id_number=id_number("19800101", "241"))
    with pytest.raises(Conflict) as far:
        service.update_worker(session, township, first, actor=staff.township,
                              fields={"id_number": third.id_number})
    assert "在其他村的台账中" in far.value.message and "赵六" not in far.value.message


@pytest.mark.parametrize("typed, message", [
    ({"id_number": "14270119750312131"}, "格式不对"),
    ({"id_number": id_number("19750312", "131")[:-1] + "0"}, "校验位不对"),
    ({"id_number": id_number("19750312", "131"), "birth_year": "1976"}, "与身份证号（1975 年）不符"),
    ({"id_number": id_number("19750312", "131"), "gender": "女"}, "性别与身份证号不符"),
    ({"birth_year": "2015"}, "须年满 16 周岁"),
    ({"gender": ""}, "请填写性别"),
    ({"employment_status": "打零工"}, "就业状态「打零工」无效"),
    ({"phone": "12345"}, "联系电话「12345」无效"),
    ({"education": "博士后"}, "文化程度「博士后」无效"),
])
def test_typed_values_are_checked_with_a_message_naming_the_field(typed, message):
    values = {"name": "张三", "gender": "男", "birth_year": "1975", "employment_status": "未就业", **typed}
    with pytest.raises(Invalid) as refused:
        worker_fields(values, today=TODAY)
    assert message in refused.value.message


def test_gender_and_birth_year_come_from_the_id_number_and_only_workers_keep_an_employer():
    out = worker_fields({"name": "李秀英", "id_number": id_number("19820704", "242"), "employment_status": "未就业",
                         "employer": "某厂", "work_place": "县内"}, today=TODAY)
    assert (out["gender"].value, out["birth_year"], out["employer"], out["work_place"]) == ("female", 1982, None, None)


def test_placement_makes_the_worker_stably_employed_with_the_employer_and_a_record(session, staff):
    clock.freeze(datetime(2026, 6, 15, 10, 0))
    worker = make_worker(session, employment_status="季节性务工", job_intention="车间缝纫")
    scope = scope_of(session, staff.township)
    job = service.add_job(session, scope, actor=staff.township, employer="裴介镇扶贫车间（服装加工）", workshop=True,
                          region_code=DALV, title="缝纫工", openings=10, pay="计件")
    referral = service.recommend(session, scope, job, worker, actor=staff.township)
    with pytest.raises(Conflict):
        service.recommend(session, scope, job, worker, actor=staff.township)
    service.decide(session, scope, referral, actor=staff.township, hired=True)
    session.commit()
    session.expire_all()
    assert referral.state == ReferralState.hired and referral.decided_by_id == staff.township.id
    assert worker.employment_status == EmploymentStatus.stable and worker.employer == "裴介镇扶贫车间（服装加工）"
    assert worker.work_place == WorkPlace.in_county and not worker.needs_help
    notes = [(a.kind, a.note, a.recorded_by_id) for a in queries.assistance_of(session, worker)]
    assert (AssistanceKind.referral, "经推荐在裴介镇扶贫车间（服装加工）上岗（缝纫工，计件）", staff.township.id) in notes
    assert len(notes) == 2  # the recommendation and the placement
    with pytest.raises(TransitionNotAllowed):
        service.decide(session, scope, referral, actor=staff.township, hired=False)


def test_a_refused_candidate_keeps_their_status_and_a_closed_job_takes_no_one(session, staff):
    worker = make_worker(session)
    job = service.add_job(session, EVERYWHERE, actor=None, employer="黎城县某物流公司", region_code=XINSHE,
                          title="分拣员", openings=5, pay="3500元/月")
    referral = service.recommend(session, EVERYWHERE, job, worker, actor=None)
    service.decide(session, EVERYWHERE, referral, actor=None, hired=False, note="年龄不符")
    assert worker.employment_status == EmploymentStatus.unemployed and worker.employer is None
    assert "未录用：年龄不符" in queries.assistance_of(session, worker)[0].note
    service.set_job_state(session, EVERYWHERE, job, state="closed")
    with pytest.raises(TransitionNotAllowed):
        service.recommend(session, EVERYWHERE, job, make_worker(session, name="李四"), actor=None)


def test_the_hire_that_fills_the_openings_closes_the_posting(session, staff):
    job = service.add_job(session, EVERYWHERE, actor=None, employer="裴介镇扶贫车间（手套加工）", workshop=True,
                          region_code=ZHULV, title="手套缝制工", openings=2, pay="计件")
    first, second, third = (make_worker(session, name=n) for n in ("张一", "王二", "李三"))
    refs = [service.recommend(session, EVERYWHERE, job, w, actor=None) for w in (first, second, third)]
    service.decide(session, EVERYWHERE, refs[0], actor=None, hired=True)
    service.decide(session, EVERYWHERE, refs[1], actor=None, hired=False)  # a refusal fills nothing
    assert job.state.value == "open"
    service.decide(session, EVERYWHERE, refs[2], actor=None, hired=True)
    assert job.state.value == "closed"  # 2 of 2 hired: 已停招
    with pytest.raises(TransitionNotAllowed, match="已停招"):
        service.recommend(session, EVERYWHERE, job, make_worker(session, name="赵四"), actor=None)


def test_hired_out_of_the_county_is_recorded_as_such(session, staff):
    worker = make_worker(session)
    job = service.add_job(session, EVERYWHERE, actor=None, employer="长治某厂", region_code=XINSHE, title="普工",
                          openings=2, pay="4000元/月")
    service.decide(session, EVERYWHERE, service.recommend(session, EVERYWHERE, job, worker, actor=None),
                   actor=None, hired=True)
    assert worker.work_place == WorkPlace.out_county


def test_training_attendees_get_an_assistance_record_each(session, staff):
    clock.freeze(datetime(2026, 6, 15, 10, 0))
    a, b = make_worker(session), make_worker(session, name="李四")
    scope = scope_of(session, staff.village)
    activity = service.add_activity(session, scope, actor=staff.village, village_code=ZHULV, kind="training",
                                    title="家政服务技能培训", participants=2, worker_ids=[a.id, b.id])
    assert activity.participants == 2
    assert len(session.scalars(select(ActivityWorker).where(ActivityWorker.activity_id == activity.id)).all()) == 2
    records = session.scalars(select(Assistance).where(Assistance.activity_id == activity.id)).all()
    assert {(r.worker_id, r.kind, r.note) for r in records} == {
        (w.id, AssistanceKind.training, "参加技能培训：家政服务技能培训") for w in (a, b)}
    with pytest.raises(Invalid):
        service.add_activity(session, scope, actor=staff.village, village_code=ZHULV, kind="venue",
                             title="活动室挂牌", worker_ids=[a.id])
    with pytest.raises(Invalid):
        service.add_activity(session, scope, actor=staff.village, village_code=ZHULV, kind="training",
                             title="明天的培训", participants=5, on_day=date(2026, 6, 16))


def test_participants_past_any_activity_are_refused(session, staff):
    """A count no activity has (and past what the column holds) is refused by name, on the page and the API alike."""
    clock.freeze(datetime(2026, 6, 15, 10, 0))
    scope = scope_of(session, staff.village)
    with pytest.raises(Invalid) as refused:
        service.add_activity(session, scope, actor=staff.village, village_code=ZHULV, kind="training",
                             title="技能培训", participants=10**23)
    assert refused.value.message.startswith("参加人数应在 1–10000 之间") and refused.value.details == {"field": "participants"}
    assert service.add_activity(session, scope, actor=staff.village, village_code=ZHULV, kind="training",
                                title="技能培训", participants=10_000).participants == 10_000


def test_a_worker_needs_a_station_village(session, staff):
    with pytest.raises(Invalid) as refused:
        service.add_worker(session, EVERYWHERE, actor=None, village_code="140828102200", fields=fields())
    assert "裴介村尚未设立就业服务站" in refused.value.message
    with pytest.raises(Conflict):
        service.add_station(session, EVERYWHERE, village_code=ZHULV)
