"""Employment JSON writes: the labour ledger, assistance, jobs with referrals and outcomes, six-ones
activities, as a county 人社局's labour system or a station's tablet would make them. Each goes
through the pages' service function in one transaction, within the same scope: a village handler
only their village, supervisors read only; bad input names the field; nothing is kept on a refusal;
the ID number never comes back whole."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from httpx import Response
from sqlalchemy import func, select

from hotline.accounts.service import create_token
from hotline.employment import service
from hotline.employment.models import (
    Activity,
    Assistance,
    EmploymentStatus,
    JobPosting,
    JobState,
    Referral,
    Worker,
)
from hotline.employment.scope import EVERYWHERE
from tests.api.conftest import Caller
from tests.employment.conftest import DALV, SHUITOU, XINSHE, ZHULV, Staff, id_number, make_staff, make_worker


@pytest.fixture
def staff(session, people) -> Staff:
    return make_staff(session, people)


class Watched(Caller):
    """A caller that keeps every response, so a test can say what never appeared in any of them."""

    def __init__(self, *args: Any, seen: list[Response]):
        super().__init__(*args)
        self.seen = seen

    def request(self, method: str, path: str, **kwargs: Any) -> Response:
        r = super().request(method, path, **kwargs)
        self.seen.append(r)
        return r

    def patch(self, path: str, **kwargs: Any) -> Response:
        return self.request("PATCH", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Response:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Response:
        return self.request("DELETE", path, **kwargs)


@pytest.fixture
def seen() -> list[Response]:
    return []


@pytest.fixture
def as_(api, session, staff, seen):
    def caller(who: str) -> Watched:
        user = getattr(staff, who)
        token = create_token(session, username=user.username, name="test")[1]
        session.commit()
        return Watched(api.client, token, seen=seen)
    return caller


def count(api, model: type) -> int:
    """Rows of ``model`` as the API left them (read apart from the test's own session, which would
    hold SQLite's write lock)."""
    with api.db.transaction(write=False) as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def row(api, model: type, key: int) -> Any:
    with api.db.transaction(write=False) as s:
        return s.get(model, key)


def refused(r: Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    error = r.json()["error"]
    if code:
        assert error["code"] == code, error
    return error


def person(**overrides: Any) -> dict[str, Any]:
    body = {"village_code": ZHULV, "name": "张麦环", "gender": "男", "birth_year": 1975, "employment_status": "未就业",
            "job_intention": "就近务工", "needs_help": True}
    body.update(overrides)
    return body


def x_number() -> str:
    """A valid ID number whose check character is X (sent in lower case, stored in upper)."""
    return next(n for n in (id_number("19800101", f"{s:03d}") for s in range(100, 999)) if n.endswith("X"))


def test_a_county_bureau_adds_and_changes_a_worker_with_the_id_number_stored_and_masked(api, as_, session, seen):
    bureau = as_("bureau")
    number = x_number()
    r = bureau.post("/employment/workers", json={"village_code": SHUITOU, "name": "水头人", "id_number": number.lower(),
                                                 "employment_status": "unemployed", "phone": "13803590001"})
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["id_number_masked"] == number[:4] + "*" * 10 + number[-4:]
    # Gender and birth year came from the ID number, as on the page.
    assert (created["gender"], created["birth_year"], created["village"]["code"]) == ("male" if int(number[16]) % 2
                                                                                     else "female", 1980, SHUITOU)
    assert row(api, Worker, created["id"]).id_number == number
    r = bureau.patch(f"/employment/workers/{created['id']}",
                     json={"employment_status": "稳定就业", "work_place": "县内", "employer": "夏县水头镇农机厂",
                           "needs_help": False})
    assert r.status_code == 200, r.text
    changed = r.json()
    assert (changed["employment_status"], changed["employer"], changed["work_place"], changed["needs_help"]) == (
        "stable", "夏县水头镇农机厂", "in_county", False)
    assert changed["phone"] == "13803590001" and changed["id_number_masked"] == created["id_number_masked"]
    worker = row(api, Worker, created["id"])
    assert worker.id_number == number and worker.employment_status == EmploymentStatus.stable
    # A new number gives a new birth year; null removes the number on record.
    other = id_number("19660101", "222")
    assert bureau.patch(f"/employment/workers/{worker.id}", json={"id_number": other}).json()["birth_year"] == 1966
    cleared = bureau.patch(f"/employment/workers/{worker.id}", json={"id_number": None}).json()
    assert cleared["id_number_masked"] is None and cleared["birth_year"] == 1966
    assert bureau.get(f"/employment/workers/{worker.id}").json()["employer"] == "夏县水头镇农机厂"
    assert all(number not in r.text and number.lower() not in r.text and other not in r.text for r in seen)


def test_a_village_handler_writes_their_own_village_only(api, as_, session, seen):
    dalv = make_worker(session, DALV, name="大吕人")
    session.commit()
    village = as_("village")
    r = village.post("/employment/workers", json=person())
    assert r.status_code == 201 and r.json()["village"]["code"] == ZHULV
    before = count(api, Worker)
    error = refused(village.post("/employment/workers", json=person(village_code=DALV, name="别村人")), 403,
                    "employment_out_of_scope")
    assert "本辖区" in error["message"]
    # Someone of another village is not found, as when reading; nobody moves out of the village either.
    refused(village.patch(f"/employment/workers/{dalv.id}", json={"name": "改名"}), 404, "worker_not_found")
    mine = r.json()["id"]
    refused(village.patch(f"/employment/workers/{mine}", json={"village_code": DALV}), 403, "employment_out_of_scope")
    assert count(api, Worker) == before
    assert row(api, Worker, dalv.id).name == "大吕人" and row(api, Worker, mine).village_code == ZHULV
    # The township moves them between its villages.
    moved = as_("township").patch(f"/employment/workers/{mine}", json={"village_code": DALV})
    assert moved.status_code == 200 and moved.json()["village"]["code"] == DALV


def test_a_duplicate_id_number_is_refused_with_409_naming_it_masked(api, as_, session, seen):
    number = id_number("19750312", "131")
    make_worker(session, DALV, name="李秀英", id_number=number)
    session.commit()
    before = count(api, Worker)
    error = refused(as_("bureau").post("/employment/workers", json=person(id_number=number, gender=None,
                                                                          birth_year=None)),
                    409, "duplicate_id_number")
    assert error["message"] == f"身份证号 {number[:4]}{'*' * 10}{number[-4:]} 已登记（大吕村 李秀英），同一人不能重复登记"
    # A village handler is not told who holds it elsewhere.
    error = refused(as_("village").post("/employment/workers", json=person(id_number=number, gender=None,
                                                                           birth_year=None)), 409)
    assert "在其他村的台账中" in error["message"] and "李秀英" not in error["message"]
    assert count(api, Worker) == before
    mine = as_("village").post("/employment/workers", json=person(name="朱吕人")).json()["id"]
    refused(as_("village").patch(f"/employment/workers/{mine}", json={"id_number": number}), 409,
            "duplicate_id_number")
    assert row(api, Worker, mine).id_number is None
    assert all(number not in r.text for r in seen)


def test_assistance_is_recorded_within_scope(api, as_, session, staff):
    zhulv = make_worker(session, ZHULV, name="张麦环")
    dalv = make_worker(session, DALV, name="李秀英")
    session.commit()
    r = as_("village").post(f"/employment/workers/{zhulv.id}/assistance",
                            json={"kind": "guidance", "note": "上门讲解就近务工政策", "on_day": service.today().isoformat()})
    assert r.status_code == 201, r.text
    assert (r.json()["kind_label"], r.json()["note"]) == ("职业指导", "上门讲解就近务工政策")
    records = as_("bureau").get(f"/employment/workers/{zhulv.id}").json()["assistance"]
    assert [(a["kind_label"], a["recorded_by_id"]) for a in records] == [("职业指导", staff.village.id)]
    refused(as_("village").post(f"/employment/workers/{dalv.id}/assistance", json={"kind": "policy", "note": "宣传"}),
            404, "worker_not_found")
    assert as_("bureau").post(f"/employment/workers/{dalv.id}/assistance",
                              json={"kind": "policy", "note": "政策宣传"}).status_code == 201
    assert count(api, Assistance) == 2


def test_jobs_are_posted_and_closed_by_those_whose_scope_covers_their_place(api, as_, session):
    bureau, village = as_("bureau"), as_("village")
    r = bureau.post("/employment/jobs", json={"employer": "水头镇农机厂", "region_code": SHUITOU, "title": "装配工",
                                              "openings": 3, "pay": "3000元/月"})
    assert r.status_code == 201 and (r.json()["state"], r.json()["hired"]) == ("open", 0)
    shuitou_job = r.json()["id"]
    refused(village.post("/employment/jobs", json={"employer": "水头镇农机厂", "region_code": SHUITOU, "title": "焊工",
                                                   "openings": 1, "pay": "面议"}), 403, "employment_out_of_scope")
    mine = village.post("/employment/jobs", json={"employer": "朱吕村扶贫车间", "workshop": True, "region_code": ZHULV,
                                                  "title": "手工编织", "openings": 8, "pay": "计件"})
    assert mine.status_code == 201 and mine.json()["workshop"] is True
    assert count(api, JobPosting) == 2
    # The posting is visible to all; only those covering its place close it.
    refused(village.post(f"/employment/jobs/{shuitou_job}/state", json={"state": "closed"}), 403,
            "employment_out_of_scope")
    assert row(api, JobPosting, shuitou_job).state == JobState.open
    closed = village.post(f"/employment/jobs/{mine.json()['id']}/state", json={"state": "closed"})
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    assert bureau.post(f"/employment/jobs/{shuitou_job}/state", json={"state": "closed"}).json()["state"] == "closed"
    reopened = bureau.post(f"/employment/jobs/{shuitou_job}/state", json={"state": "open"})
    assert reopened.json()["state"] == "open"
    assert bureau.get(f"/employment/jobs/{shuitou_job}").json()["state"] == "open"
    refused(bureau.post("/employment/jobs/999999/state", json={"state": "closed"}), 404, "job_not_found")


def _figures(caller: Caller, village: str) -> dict[str, Any]:
    return next(v for v in caller.get("/employment/villages").json() if v["village"]["code"] == village)


def test_hiring_through_the_api_makes_the_worker_stable_and_moves_the_village_figures(api, as_, session):
    zhulv = make_worker(session, ZHULV, name="张麦环", employment_status="未就业")
    dalv = make_worker(session, DALV, name="李秀英", employment_status="未就业")
    make_worker(session, ZHULV, name="王二", employment_status="稳定就业")
    session.commit()
    bureau, village = as_("bureau"), as_("village")
    before = _figures(village, ZHULV)
    assert (before["labour_force"], before["employed"], before["unemployed"], before["employment_rate"]) == (2, 1, 1, 0.5)
    job = bureau.post("/employment/jobs", json={"employer": "夏县金鑫农机厂", "region_code": DALV, "title": "装配工",
                                                "openings": 1, "pay": "3500元/月"}).json()
    refused(village.post(f"/employment/jobs/{job['id']}/referrals", json={"worker_id": dalv.id}), 404,
            "worker_not_found")
    r = village.post(f"/employment/jobs/{job['id']}/referrals", json={"worker_id": zhulv.id, "note": "有装配经验"})
    assert r.status_code == 201 and (r.json()["state"], r.json()["worker_id"]) == ("recommended", zhulv.id)
    referral = r.json()["id"]
    refused(village.post(f"/employment/jobs/{job['id']}/referrals", json={"worker_id": zhulv.id}), 409,
            "already_recommended")
    assert [x["id"] for x in village.get(f"/employment/jobs/{job['id']}").json()["referrals"]] == [referral]
    r = village.post(f"/employment/jobs/{job['id']}/referrals/{referral}/outcome", json={"outcome": "hired"})
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["referral"]["state"], out["job"]["state"], out["job"]["hired"]) == ("hired", "closed", 1)
    assert (out["worker"]["employment_status"], out["worker"]["employment_status_label"], out["worker"]["employer"],
            out["worker"]["work_place"], out["worker"]["needs_help"]) == ("stable", "稳定就业", "夏县金鑫农机厂",
                                                                         "in_county", False)
    # As a user would see it: the worker's page, the job list and the village's figures.
    page = bureau.get(f"/employment/workers/{zhulv.id}").json()
    assert page["employment_status"] == "stable" and [x["state"] for x in page["referrals"]] == ["hired"]
    assert [a["kind_label"] for a in page["assistance"]] == ["岗位推荐", "岗位推荐"]
    after = _figures(village, ZHULV)
    assert (after["employed"], after["stable"], after["unemployed"], after["employment_rate"]) == (2, 2, 0, 1.0)
    assert [j["state"] for j in bureau.get("/employment/jobs").json()] == ["closed"]
    # Decided once; a filled posting takes no more recommendations.
    refused(village.post(f"/employment/jobs/{job['id']}/referrals/{referral}/outcome", json={"outcome": "rejected"}),
            409, "referral_decided")
    refused(bureau.post(f"/employment/jobs/{job['id']}/referrals", json={"worker_id": dalv.id}), 409, "job_closed")
    assert count(api, Referral) == 1


def test_a_rejection_leaves_the_worker_as_they_were(api, as_, session):
    zhulv = make_worker(session, ZHULV, name="张麦环", employment_status="未就业")
    dalv = make_worker(session, DALV, name="李秀英", employment_status="未就业")
    job = service.add_job(session, EVERYWHERE, actor=None, employer="裴介镇扶贫车间", region_code=ZHULV, title="编织",
                          openings=5, pay="计件")
    session.commit()
    township, village = as_("township"), as_("village")
    mine = township.post(f"/employment/jobs/{job.id}/referrals", json={"worker_id": zhulv.id}).json()["id"]
    theirs = township.post(f"/employment/jobs/{job.id}/referrals", json={"worker_id": dalv.id}).json()["id"]
    # The village handler does not see the 大吕村 recommendation, nor record its outcome.
    refused(village.post(f"/employment/jobs/{job.id}/referrals/{theirs}/outcome", json={"outcome": "hired"}), 404,
            "referral_not_found")
    refused(village.post(f"/employment/jobs/999999/referrals/{mine}/outcome", json={"outcome": "hired"}), 404)
    r = village.post(f"/employment/jobs/{job.id}/referrals/{mine}/outcome",
                     json={"outcome": "rejected", "note": "未到岗面试"})
    assert r.status_code == 200 and r.json()["referral"]["state"] == "rejected"
    assert (r.json()["worker"]["employment_status"], r.json()["job"]["state"]) == ("unemployed", "open")
    assert row(api, Referral, theirs).state.value == "recommended"


def test_six_ones_activities_with_attendees(api, as_, session):
    zhulv = make_worker(session, ZHULV, name="张麦环")
    dalv = make_worker(session, DALV, name="李秀英")
    session.commit()
    village = as_("village")
    r = village.post("/employment/activities", json={"village_code": ZHULV, "kind": "job_fair", "title": "家门口招聘会",
                                                     "participants": 30, "worker_ids": [zhulv.id]})
    assert r.status_code == 201, r.text
    assert (r.json()["kind_label"], r.json()["participants"], r.json()["ledger_attendees"]) == ("招聘会", 30, 1)
    assert [a["kind_label"] for a in village.get(f"/employment/workers/{zhulv.id}").json()["assistance"]] == ["招聘会"]
    assert _figures(village, ZHULV)["six_ones"]["job_fair"] == 1
    before = (count(api, Activity), count(api, Assistance))
    refused(village.post("/employment/activities", json={"village_code": DALV, "kind": "training", "title": "培训"}),
            403, "employment_out_of_scope")
    # A worker of another village among the attendees: refused whole, no activity and no record left.
    refused(village.post("/employment/activities", json={"village_code": ZHULV, "kind": "training", "title": "电焊培训",
                                                         "worker_ids": [zhulv.id, dalv.id]}), 403)
    error = refused(village.post("/employment/activities", json={"village_code": ZHULV, "kind": "venue", "title": "挂牌",
                                                                 "worker_ids": [zhulv.id]}), 422)
    assert error["message"] == "活动场所不登记参加人员" and error["details"]["field"] == "worker_ids"
    assert (count(api, Activity), count(api, Assistance)) == before
    bureau = as_("bureau").post("/employment/activities", json={"village_code": SHUITOU, "kind": "venue",
                                                                "title": "活动室挂牌"})
    assert bureau.status_code == 201 and bureau.json()["village"]["code"] == SHUITOU


def test_a_supervisor_reads_but_every_write_is_refused(api, as_, session):
    zhulv = make_worker(session, ZHULV, name="张麦环")
    job = service.add_job(session, EVERYWHERE, actor=None, employer="车间", region_code=ZHULV, title="编织", openings=2,
                          pay="计件")
    referral = service.recommend(session, EVERYWHERE, job, zhulv, actor=None)
    session.commit()
    supervisor = as_("supervisor")
    assert supervisor.get(f"/employment/workers/{zhulv.id}").status_code == 200
    before = [count(api, m) for m in (Worker, Assistance, JobPosting, Referral, Activity)]
    writes = [("POST", "/employment/workers", person()),
              ("POST", "/employment/workers", {"name": ""}),  # refused before the body is looked at
              ("PATCH", f"/employment/workers/{zhulv.id}", {"name": "改名"}),
              ("POST", f"/employment/workers/{zhulv.id}/assistance", {"kind": "other", "note": "走访"}),
              ("POST", "/employment/jobs", {"employer": "厂", "region_code": ZHULV, "title": "工", "openings": 1,
                                            "pay": "面议"}),
              ("POST", f"/employment/jobs/{job.id}/state", {"state": "closed"}),
              ("POST", f"/employment/jobs/{job.id}/referrals", {"worker_id": zhulv.id}),
              ("POST", f"/employment/jobs/{job.id}/referrals/{referral.id}/outcome", {"outcome": "hired"}),
              ("POST", "/employment/activities", {"village_code": ZHULV, "kind": "venue", "title": "挂牌"})]
    for method, path, body in writes:
        r = supervisor.request(method, path, json=body)
        if body == {"name": ""}:
            assert r.status_code == 422  # the body's shape is checked first (pydantic)
            continue
        error = refused(r, 403, "employment_read_only")
        assert error["message"] == "督办员可以查看台账，但不能修改", (method, path)
    assert [count(api, m) for m in (Worker, Assistance, JobPosting, Referral, Activity)] == before
    zhulv = row(api, Worker, zhulv.id)
    assert zhulv.name == "张麦环" and zhulv.employment_status == EmploymentStatus.unemployed
    # Outsiders (a water-bureau handler) and callers without a token are refused too.
    refused(as_("other").post("/employment/workers", json=person()), 403, "employment_forbidden")
    assert as_("other").client.post("/api/v1/employment/workers", json=person()).status_code == 401


@pytest.mark.parametrize(("body", "field", "words"), [
    (person(name=" "), "name", "姓名"),
    (person(id_number="14270119750312131"), "id_number", "身份证号"),
    (person(id_number=id_number("19750312", "131")[:17] + "0"), "id_number", "校验位"),
    (person(birth_year=1976, id_number=id_number("19750312", "131")), "birth_year", "出生年份"),
    (person(gender="女", birth_year=None, id_number=id_number("19750312", "131")), "gender", "性别"),
    (person(phone="12345"), "phone", "联系电话"),
    (person(employment_status="打零工"), "employment_status", "就业状态"),
    (person(education="博士后"), "education", "文化程度"),
    (person(village_code=XINSHE), "village_code", "信社村尚未设立就业服务站"),
    (person(birth_year="一九七五"), "birth_year", "出生年份"),
    ({k: v for k, v in person().items() if k != "name"}, "name", "姓名"),
    (person(nickname="麦子"), "nickname", "不认识的字段"),
])
def test_bad_worker_input_is_refused_naming_the_field_and_nothing_is_kept(api, as_, session, seen, body, field, words):
    r = as_("bureau").post("/employment/workers", json=body)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    fields = {error["details"].get("field")} | {p["field"] for p in error["details"].get("problems", [])}
    assert field in fields and words in error["message"], error
    assert count(api, Worker) == 0
    number = id_number("19750312", "131")
    assert all(number not in x.text and number[:17] not in x.text for x in seen)


@pytest.mark.parametrize(("path", "body", "field", "words"), [
    ("/employment/jobs", {"employer": " ", "region_code": ZHULV, "title": "编织", "openings": 1, "pay": "计件"},
     "employer", "用工单位"),
    ("/employment/jobs", {"employer": "车间", "region_code": ZHULV, "title": "编织", "openings": 0, "pay": "计件"},
     "openings", "招聘人数"),
    ("/employment/jobs", {"employer": "车间", "region_code": ZHULV, "title": "编织", "openings": "八", "pay": "计件"},
     "openings", "招聘人数"),
    ("/employment/jobs", {"employer": "车间", "region_code": "999", "title": "编织", "openings": 1, "pay": "计件"},
     "village_code", "找不到地点"),
    ("/employment/activities", {"village_code": ZHULV, "kind": "party", "title": "联欢"}, "kind", "活动类别"),
    ("/employment/activities", {"village_code": ZHULV, "kind": "venue", "title": " "}, "title", "活动名称"),
    ("/employment/activities", {"village_code": ZHULV, "kind": "venue", "title": "挂牌", "participants": -1},
     "participants", "参加人数"),
    ("/employment/activities", {"village_code": ZHULV, "kind": "venue", "title": "挂牌", "on_day": "2026-13-01"},
     "on_day", "日期"),
])
def test_bad_job_and_activity_input_names_the_field(api, as_, session, path, body, field, words):
    r = as_("bureau").post(path, json=body)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    fields = {error["details"].get("field")} | {p["field"] for p in error["details"].get("problems", [])}
    assert field in fields and words in error["message"], error
    assert count(api, JobPosting) == 0 and count(api, Activity) == 0


def test_bad_assistance_and_outcome_input_names_the_field(api, as_, session):
    zhulv = make_worker(session, ZHULV, name="张麦环")
    job = service.add_job(session, EVERYWHERE, actor=None, employer="车间", region_code=ZHULV, title="编织", openings=2,
                          pay="计件")
    referral = service.recommend(session, EVERYWHERE, job, zhulv, actor=None)
    session.commit()
    before = count(api, Assistance)
    village = as_("village")
    tomorrow = (service.today() + timedelta(days=1)).isoformat()
    for body, field, words in [({"kind": "guidance", "note": " "}, "note", "帮扶内容"),
                               ({"kind": "visit", "note": "走访"}, "kind", "帮扶方式"),
                               ({"kind": "guidance", "note": "走访", "on_day": tomorrow}, "on_day", "晚于今天")]:
        error = refused(village.post(f"/employment/workers/{zhulv.id}/assistance", json=body), 422)
        assert words in error["message"] and field in str(error["details"]), error
    for body, words in [({"outcome": "maybe"}, "推荐结果"), ({"outcome": "hired", "on_day": tomorrow}, "晚于今天")]:
        error = refused(village.post(f"/employment/jobs/{job.id}/referrals/{referral.id}/outcome", json=body), 422)
        assert words in error["message"], error
    error = refused(village.post(f"/employment/jobs/{job.id}/referrals", json={"worker_id": 0}), 422)
    assert "推荐人员（worker_id）" in error["message"]
    # The refused hire left the worker, the posting and the records as they were.
    assert count(api, Assistance) == before
    assert row(api, Worker, zhulv.id).employment_status == EmploymentStatus.unemployed
    assert row(api, Referral, referral.id).state.value == "recommended"


def test_the_writes_are_documented_with_their_bodies_and_examples(api):
    spec = api.client.get("/api/v1/openapi.json").json()
    paths = spec["paths"]
    for path, method in [("/employment/workers", "post"), ("/employment/workers/{worker_id}", "patch"),
                         ("/employment/workers/{worker_id}/assistance", "post"), ("/employment/jobs", "post"),
                         ("/employment/jobs/{job_id}/state", "post"), ("/employment/jobs/{job_id}/referrals", "post"),
                         ("/employment/jobs/{job_id}/referrals/{referral_id}/outcome", "post"),
                         ("/employment/activities", "post")]:
        op = paths["/api/v1" + path][method]
        ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        schema = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
        assert schema.get("examples"), path
        assert all(p.get("title") and not p["title"].isascii() for p in schema["properties"].values()), path
        assert {"403", "409", "422"} <= set(op["responses"]), path
    worker = spec["components"]["schemas"]["WorkerIn"]
    assert {"village_code", "name", "employment_status"} <= set(worker["required"])
    assert "masked" in worker["properties"]["id_number"]["description"]


def _choices(api, path: str, method: str, field: str) -> list[str]:
    spec = api.client.get("/api/v1/openapi.json").json()
    ref = spec["paths"]["/api/v1" + path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    prop = spec["components"]["schemas"][ref.split("/")[-1]]["properties"][field]
    return next(s for s in prop.get("anyOf", [prop]) if s.get("type") != "null")["enum"]


def test_every_documented_status_and_work_place_is_taken_and_nothing_else(api, as_, session):
    """The document lists each status and work place by code and by label, the ones the ledger reads."""
    bureau = as_("bureau")
    statuses = _choices(api, "/employment/workers", "post", "employment_status")
    assert {"stable", "稳定就业", "unable", "无劳动能力"} <= set(statuses) and len(statuses) == 12
    for n, status in enumerate(statuses):
        r = bureau.post("/employment/workers", json=person(name=f"人员{n}", employment_status=status))
        assert r.status_code == 201, (status, r.text)
    places = _choices(api, "/employment/workers", "post", "work_place")
    assert {"in_county", "县内", "out_province", "省外"} <= set(places)
    for n, place in enumerate(places):
        r = bureau.post("/employment/workers", json=person(name=f"务工{n}", employment_status="stable",
                                                             work_place=place, employer="车间"))
        assert r.status_code == 201 and r.json()["work_place"] in ("in_county", "out_county", "out_province"), r.text
    # Spaces around a choice are ignored, as on the pages; blank is no work place.
    assert bureau.post("/employment/workers", json=person(name="空格", employment_status=" stable ",
                                                          work_place="")).status_code == 201
    count_before = count(api, Worker)
    for body, words in [(person(employment_status="打零工"), "就业状态「打零工」无效，可填：稳定就业、"),
                        (person(employment_status=""), "请选择就业状态"),
                        (person(employment_status="stable", work_place="国外"), "就业地点「国外」无效，可填：县内、县外省内、省外")]:
        error = refused(bureau.post("/employment/workers", json=body), 422)
        assert words in error["message"], error
    assert count(api, Worker) == count_before


def test_openings_are_1_to_10000_as_documented(api, as_, session):
    bureau = as_("bureau")
    job = {"employer": "车间", "region_code": ZHULV, "title": "编织", "pay": "计件"}
    for wrong in (0, 10_001):
        error = refused(bureau.post("/employment/jobs", json=job | {"openings": wrong}), 422)
        assert "招聘人数（openings）: 招聘人数应在 1–10000 之间" in error["message"], error
    assert count(api, JobPosting) == 0
    assert bureau.post("/employment/jobs", json=job | {"openings": 10_000}).json()["openings"] == 10_000


def test_a_placed_worker_is_not_hired_twice_and_a_full_posting_reopens_with_more_openings(api, as_, session):
    worker = make_worker(session, ZHULV, name="郝志刚")
    first = service.add_job(session, EVERYWHERE, actor=None, employer="车间", region_code=ZHULV, title="编织",
                            openings=1, pay="计件")
    second = service.add_job(session, EVERYWHERE, actor=None, employer="物流公司", region_code=ZHULV, title="分拣",
                             openings=3, pay="3500元/月")
    at_first = service.recommend(session, EVERYWHERE, first, worker, actor=None)
    at_second = service.recommend(session, EVERYWHERE, second, worker, actor=None)
    session.commit()
    village = as_("village")
    r = village.post(f"/employment/jobs/{first.id}/referrals/{at_first.id}/outcome", json={"outcome": "hired"})
    assert r.status_code == 200 and r.json()["job"]["state"] == "closed"  # 1 of 1: 已停招
    error = refused(village.post(f"/employment/jobs/{second.id}/referrals/{at_second.id}/outcome",
                                 json={"outcome": "hired"}), 409, "already_placed")
    assert error["message"].startswith("该人员已于") and f"在 车间 上岗（岗位 #{first.id}）" in error["message"]
    assert row(api, Referral, at_second.id).state.value == "recommended"
    error = refused(village.post(f"/employment/jobs/{first.id}/state", json={"state": "open"}), 409, "job_filled")
    assert "请先把招聘人数调高到至少 2 人" in error["message"]
    r = village.post(f"/employment/jobs/{first.id}/state", json={"state": "open", "openings": 2})
    assert r.status_code == 200 and (r.json()["state"], r.json()["openings"]) == ("open", 2)


def test_a_worker_with_a_note_longer_than_the_limit_from_before_it_can_still_be_changed(api, as_, session):
    """Notes written before the 500-character limit stay; a change to another field is not refused
    for them, while a new over-long note still is."""
    worker = make_worker(session, ZHULV, name="郝志刚")
    worker.note = "旧" * 800  # written before the limit
    session.commit()
    village = as_("village")
    r = village.patch(f"/employment/workers/{worker.id}", json={"phone": "13903551234"})
    assert r.status_code == 200 and r.json()["phone"] == "13903551234" and r.json()["note"] == "旧" * 800
    refused(village.patch(f"/employment/workers/{worker.id}", json={"note": "新" * 501}), 422)
    assert row(api, Worker, worker.id).note == "旧" * 800


def test_a_person_already_on_the_ledger_is_refused_with_409(api, as_, session):
    """The same person (village, name, birth year, phone) was added twice through POST /workers."""
    village = as_("village")
    first = village.post("/employment/workers", json=person(phone="13803590001"))
    assert first.status_code == 201, first.text
    error = refused(village.post("/employment/workers", json=person(phone="13803590001", skills="电焊")), 409,
                    "already_on_ledger")
    assert error["message"] == (f"张麦环（1975 年生，电话 13803590001）已在台账中（台账编号 {first.json()['id']}），"
                                "同一人不能重复登记")
    assert error["details"]["worker_id"] == first.json()["id"] and count(api, Worker) == 1


def test_a_referral_of_someone_not_looking_for_work_is_refused(api, as_, session):
    worker = make_worker(session, ZHULV, name="郝老汉", employment_status="无劳动能力", job_intention="编织")
    job = service.add_job(session, EVERYWHERE, actor=None, employer="车间", region_code=ZHULV, title="编织", openings=2,
                          pay="计件")
    session.commit()
    error = refused(as_("village").post(f"/employment/jobs/{job.id}/referrals", json={"worker_id": worker.id}), 409,
                    "not_seeking_work")
    assert error["message"].startswith("郝老汉的就业状态为「无劳动能力」，不在求职人员之列")
    assert count(api, Referral) == 0 and count(api, Assistance) == 0


def test_a_job_is_corrected_and_an_activity_removed(api, as_, session):
    village = as_("village")
    job = village.post("/employment/jobs", json={"employer": "车问", "region_code": ZHULV, "title": "编织", "openings": 2,
                                                 "pay": "计件"}).json()
    r = village.put(f"/employment/jobs/{job['id']}", json={"employer": "车间", "region_code": ZHULV, "title": "手工编织",
                                                            "openings": 3, "pay": "计件", "workshop": True})
    assert r.status_code == 200, r.text
    assert (r.json()["employer"], r.json()["title"], r.json()["openings"], r.json()["workshop"]) == (
        "车间", "手工编织", 3, True)
    refused(village.put(f"/employment/jobs/{job['id']}", json={"employer": "车间", "region_code": DALV, "title": "编织",
                                                                "openings": 3, "pay": "计件"}), 403)
    activity = village.post("/employment/activities", json={"village_code": ZHULV, "kind": "job_fair",
                                                            "title": "录错的招聘会", "participants": 20}).json()
    assert _figures(village, ZHULV)["six_ones"]["job_fair"] == 1
    removed = village.delete(f"/employment/activities/{activity['id']}")
    assert removed.status_code == 200 and removed.json()["title"] == "录错的招聘会"
    assert _figures(village, ZHULV)["six_ones"]["job_fair"] == 0 and count(api, Activity) == 0
    refused(village.delete(f"/employment/activities/{activity['id']}"), 404, "activity_not_found")
    error = refused(village.post("/employment/activities", json={"village_code": ZHULV, "kind": "job_fair",
                                                                 "title": "招聘会"}), 422)
    assert error["message"] == "请填写参加人数（至少 1 人）" and error["details"]["field"] == "participants"
