"""What the ledger refuses beyond the shape of a field: a second placement of one person, dates
and counts nobody could mean, texts longer than a note, a full posting reopened as it is."""

from __future__ import annotations

import threading
import time
from datetime import date, datetime

import pytest
from sqlalchemy import select

from hotline.employment import queries, service
from hotline.employment.fields import worker_fields
from hotline.employment.models import EmploymentStatus, JobState, ReferralState
from hotline.employment.scope import EVERYWHERE
from hotline.kit import clock
from hotline.kit.errors import Conflict, Invalid, TransitionNotAllowed
from tests.employment.conftest import DALV, ZHULV, fields, make_worker

TODAY = date(2026, 11, 28)


def _job(session, employer: str, openings: int = 5, region: str = ZHULV):
    return service.add_job(session, EVERYWHERE, actor=None, employer=employer, region_code=region, title="普工",
                           openings=openings, pay="计件")


def test_a_worker_placed_at_one_job_is_not_hired_at_another_until_the_ledger_says_he_left(session, staff):
    clock.freeze(datetime(2026, 6, 15, 10, 0))
    worker = make_worker(session, name="郝志刚", employment_status="未就业")
    first, second = _job(session, "裴介镇扶贫车间"), _job(session, "夏县某物流公司", region=DALV)
    at_first = service.recommend(session, EVERYWHERE, first, worker, actor=None)
    at_second = service.recommend(session, EVERYWHERE, second, worker, actor=None)
    service.decide(session, EVERYWHERE, at_first, actor=None, hired=True)
    with pytest.raises(Conflict) as refused:
        service.decide(session, EVERYWHERE, at_second, actor=None, hired=True)
    assert refused.value.message.startswith(f"该人员已于 2026-06-15 在 裴介镇扶贫车间 上岗（岗位 #{first.id}）")
    assert "如已离职，请先在台账中修改其就业状态" in refused.value.message
    assert at_second.state == ReferralState.recommended and worker.employer == "裴介镇扶贫车间"
    assert queries.hired_counts(session, [first.id, second.id]) == {first.id: 1}
    # He left: the ledger says so, and the first hire no longer holds him.
    service.update_worker(session, EVERYWHERE, worker, actor=None, fields=fields(name="郝志刚"))
    assert worker.employment_status == EmploymentStatus.unemployed
    service.decide(session, EVERYWHERE, at_second, actor=None, hired=True)
    assert worker.employer == "夏县某物流公司" and at_second.state == ReferralState.hired


def test_a_placed_worker_may_still_be_recorded_as_not_hired_elsewhere(session, staff):
    worker = make_worker(session, name="郝志刚")
    first, second = _job(session, "裴介镇扶贫车间"), _job(session, "夏县某物流公司")
    at_first = service.recommend(session, EVERYWHERE, first, worker, actor=None)
    at_second = service.recommend(session, EVERYWHERE, second, worker, actor=None)
    service.decide(session, EVERYWHERE, at_first, actor=None, hired=True)
    service.decide(session, EVERYWHERE, at_second, actor=None, hired=False, note="已在别处上岗")
    assert at_second.state == ReferralState.rejected and worker.employer == "裴介镇扶贫车间"


@pytest.mark.parametrize(("on_day", "words"), [
    (date(1900, 1, 1), "日期 1900-01-01 早于 2000-01-01"),
    (date(1999, 12, 31), "日期 1999-12-31 早于 2000-01-01"),
])
def test_assistance_and_activities_before_2000_are_refused(session, staff, on_day, words):
    clock.freeze(datetime(2026, 6, 15, 10, 0))
    worker = make_worker(session, birth_year="1988")
    with pytest.raises(Invalid, match=words):
        service.record_assistance(session, EVERYWHERE, worker, actor=None, kind="guidance", note="上门", on_day=on_day)
    with pytest.raises(Invalid, match=words):
        service.add_activity(session, EVERYWHERE, actor=None, village_code=ZHULV, kind="training", title="培训",
                             participants=10, on_day=on_day)
    kept = service.record_assistance(session, EVERYWHERE, worker, actor=None, kind="guidance", note="上门",
                                     on_day=date(2000, 1, 1))
    assert kept.on_day == date(2000, 1, 1)


def test_assistance_before_the_person_was_born_is_refused(session, staff):
    clock.freeze(datetime(2026, 6, 15, 10, 0))
    worker = make_worker(session, birth_year="2008")
    with pytest.raises(Invalid) as refused:
        service.record_assistance(session, EVERYWHERE, worker, actor=None, kind="guidance", note="上门",
                                  on_day=date(2007, 12, 31))
    assert refused.value.message == "日期 2007-12-31 早于该人员的出生年份（2008 年），请核对"
    job = _job(session, "裴介镇扶贫车间")
    referral = service.recommend(session, EVERYWHERE, job, worker, actor=None)
    with pytest.raises(Invalid, match="早于推荐日期 2026-06-15"):
        service.decide(session, EVERYWHERE, referral, actor=None, hired=True, on_day=date(2026, 6, 1))
    assert referral.state == ReferralState.recommended


@pytest.mark.parametrize(("participants", "words"), [
    (99_999_999, "参加人数应在 1–10000 之间（填的是 99999999）"),
    (-4, "参加人数应在 1–10000 之间（填的是 -4）"),
    ("-4", "参加人数应在 1–10000 之间（填的是 -4）"),
    ("十", "参加人数「十」应为 1–10000 之间的整数"),
    # A job fair nobody came to was not held: it counted towards 六个一 all the same.
    (0, "参加人数应在 1–10000 之间（填的是 0）"),
    ("", "请填写参加人数（至少 1 人）"),
    (None, "请填写参加人数（至少 1 人）"),
])
def test_activity_participants_are_between_1_and_10000(session, staff, participants, words):
    with pytest.raises(Invalid) as refused:
        service.add_activity(session, EVERYWHERE, actor=None, village_code=ZHULV, kind="job_fair", title="招聘会",
                             participants=participants)
    assert refused.value.message == words
    kept = service.add_activity(session, EVERYWHERE, actor=None, village_code=ZHULV, kind="job_fair", title="招聘会",
                                participants="10000")
    assert kept.participants == 10_000


@pytest.mark.parametrize(("openings", "words"), [
    ("-3", "招聘人数应在 1–10000 之间（填的是 -3）"),
    ("0", "招聘人数应在 1–10000 之间（填的是 0）"),
    (10_001, "招聘人数应在 1–10000 之间（填的是 10001）"),
    ("3.5", "招聘人数「3.5」应为 1–10000 之间的整数"),
])
def test_openings_out_of_range_say_the_range(session, staff, openings, words):
    with pytest.raises(Invalid) as refused:
        _job(session, "车间", openings=openings)
    assert refused.value.message == words


def test_an_empty_job_names_every_missing_field_at_once(session, staff):
    with pytest.raises(Invalid) as refused:
        service.add_job(session, EVERYWHERE, actor=None, employer=" ", region_code="", title="", openings="", pay="")
    assert refused.value.message == "请填写用工单位、工作地点、岗位名称、招聘人数、薪酬"
    assert refused.value.details["fields"] == ["employer", "region_code", "title", "openings", "pay"]
    with pytest.raises(Invalid) as one:
        service.add_job(session, EVERYWHERE, actor=None, employer="车间", region_code=ZHULV, title="", openings="2",
                        pay="计件")
    assert one.value.message == "请填写岗位名称"


def test_an_empty_worker_names_every_missing_field_at_once():
    with pytest.raises(Invalid) as refused:
        worker_fields({"name": " ", "gender": "", "birth_year": "", "employment_status": ""}, today=TODAY)
    assert refused.value.message == "请填写姓名、性别（男/女）、出生年份、就业状态"
    with pytest.raises(Invalid) as by_id:  # an ID number gives gender and birth year
        worker_fields({"id_number": "142701197503121314"}, today=TODAY)
    assert by_id.value.message == "请填写姓名、就业状态"


def test_a_note_and_an_assistance_record_have_a_length_limit(session, staff):
    with pytest.raises(Invalid) as long_note:
        fields(note="长" * 6000)
    assert long_note.value.message == "备注不能超过 500 字（现有 6000 字），请精简"
    assert fields(note="长" * 500)["note"] == "长" * 500
    worker = make_worker(session)
    with pytest.raises(Invalid) as long_record:
        service.record_assistance(session, EVERYWHERE, worker, actor=None, kind="guidance", note="记" * 4000)
    assert long_record.value.message == "帮扶内容不能超过 1000 字（现有 4000 字），请精简"
    assert queries.assistance_of(session, worker) == []
    kept = service.record_assistance(session, EVERYWHERE, worker, actor=None, kind="guidance", note="记" * 1000)
    assert len(kept.note) == 1000


def test_a_full_posting_is_reopened_only_with_more_openings(session, staff):
    job = _job(session, "裴介镇扶贫车间（手套加工）", openings=2)
    people = [make_worker(session, name=n) for n in ("张一", "王二", "李三")]
    refs = [service.recommend(session, EVERYWHERE, job, w, actor=None) for w in people]
    for referral in refs:  # the employer took all three: the third hire after the posting closed
        service.decide(session, EVERYWHERE, referral, actor=None, hired=True)
    assert job.state == JobState.closed and queries.hired_counts(session, [job.id]) == {job.id: 3}
    with pytest.raises(TransitionNotAllowed) as refused:
        service.set_job_state(session, EVERYWHERE, job, state="open")
    assert refused.value.message == "已录用 3 人，招聘人数为 2 人（已招满）：请先把招聘人数调高到至少 4 人，再重新开放"
    with pytest.raises(TransitionNotAllowed, match="招聘人数为 3 人（已招满）"):
        service.set_job_state(session, EVERYWHERE, job, state="open", openings=3)
    assert job.state == JobState.closed and job.openings == 2
    service.set_job_state(session, EVERYWHERE, job, state="open", openings="5")
    assert job.state == JobState.open and job.openings == 5
    with pytest.raises(Invalid, match="只能在重新开放时调整"):
        service.set_job_state(session, EVERYWHERE, job, state="closed", openings=8)
    # A posting closed by hand before it was full opens again as it is.
    other = _job(session, "夏县某物流公司", openings=2)
    service.set_job_state(session, EVERYWHERE, other, state="closed")
    service.set_job_state(session, EVERYWHERE, other, state="open")
    assert other.state == JobState.open and other.openings == 2



def _placeable(db, people, jobs: int = 2) -> tuple[list, list[int]]:
    """A person recommended to ``jobs`` postings, committed: the postings and the recommendations' ids."""
    from tests.employment.conftest import make_staff

    clock.freeze(datetime(2026, 6, 15, 10, 0))
    with db.transaction() as s:
        make_staff(s, people)
        worker = make_worker(s, name="郝志刚", employment_status="未就业")
        postings = [_job(s, "裴介镇扶贫车间"), _job(s, "夏县某物流公司", region=DALV)][:jobs]
        return postings, [service.recommend(s, EVERYWHERE, job, worker, actor=None).id for job in postings]


def _decide_at_once(db, first: tuple[int, bool], second: tuple[int, bool]) -> tuple[object, object]:
    """Two outcomes (recommendation id, hired) in two transactions at once: the first has decided
    but not committed when the second begins. What each gave: "saved" or the exception raised."""
    from hotline.employment.models import Referral

    decided, release = threading.Event(), threading.Event()
    out: dict[int, object] = {}

    def run(which: int, referral: int, hired: bool) -> None:
        try:
            with db.transaction() as s:
                service.decide(s, EVERYWHERE, s.get(Referral, referral), actor=None, hired=hired)
                out[which] = "saved"
                if which == 0:
                    decided.set()
                    release.wait(10)
        except Exception as err:  # noqa: BLE001 - handed to the test
            out[which] = err
            decided.set()

    threads = [threading.Thread(target=run, args=(0, *first)), threading.Thread(target=run, args=(1, *second))]
    threads[0].start()
    assert decided.wait(10)
    threads[1].start()
    time.sleep(0.5)  # the second is in decide (PostgreSQL: waiting for the worker's row)
    release.set()
    for thread in threads:
        thread.join(10)
    return out[0], out[1]


def test_two_hires_of_one_person_at_the_same_instant_place_him_once(db, people):
    """Two tabs (or two web processes on PostgreSQL) record 录用上岗 for one person at two jobs at
    once: the second waits for the first (the worker's row is locked) and is refused in the
    check's words, so the person is not placed twice."""
    jobs, referrals = _placeable(db, people)
    first, second = _decide_at_once(db, (referrals[0], True), (referrals[1], True))
    assert first == "saved"
    assert isinstance(second, Conflict) and second.code == "already_placed", second
    assert second.message.startswith(f"该人员已于 2026-06-15 在 裴介镇扶贫车间 上岗（岗位 #{jobs[0].id}）")
    with db.transaction(write=False) as s:
        assert queries.hired_counts(s, [job.id for job in jobs]) == {jobs[0].id: 1}


def test_one_recommendation_decided_twice_at_the_same_instant_is_decided_once(db, people):
    """录用上岗 and 未录用 of one recommendation submitted at once: the second, read again under the
    lock, is told the recommendation already has its outcome."""
    from hotline.employment.models import Assistance, Referral

    _, (referral,) = _placeable(db, people, jobs=1)
    first, second = _decide_at_once(db, (referral, True), (referral, False))
    assert first == "saved"
    assert isinstance(second, TransitionNotAllowed) and second.message == "该推荐已有结果，不能再次登记", second
    with db.transaction(write=False) as s:
        assert s.get(Referral, referral).state == ReferralState.hired
        notes = list(s.scalars(select(Assistance.note).order_by(Assistance.id)))
    assert [n for n in notes if "未录用" in n] == [] and len([n for n in notes if "上岗" in n]) == 1
