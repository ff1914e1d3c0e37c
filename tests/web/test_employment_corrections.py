"""就业服务站 pages after the QA pass: what station staff saw go wrong, and now see instead — a
person registered twice, columns dropped on import, most of an ID number in the address, 「%」
finding everyone, an ID number that could not be removed, one-click outcomes without a question,
jobs and activities that could not be corrected, activities nobody attended."""

from __future__ import annotations

import io
import json
import re
from datetime import datetime

import pytest
from sqlalchemy import select

from hotline.employment import service
from hotline.employment.fields import mask_id
from hotline.employment.models import Activity, JobPosting, Referral, Worker
from hotline.employment.scope import EVERYWHERE
from hotline.kit import clock
from tests.employment.conftest import DALV, ZHULV, Staff, id_number, make_staff, make_worker
from tests.web.test_employment_pages import _as
from tests.web.test_employment_refusals import _error


@pytest.fixture
def staff(session, people) -> Staff:
    return make_staff(session, people)


def _confirms(html: str) -> dict[str, str]:
    """The question each button asks before it acts: button text → question."""
    return {label: json.loads(question) for question, label in
            re.findall(r"onclick='return confirm\((.*?)\)'[^>]*>([^<]+)</button>", html)}


def test_the_add_form_refuses_a_person_already_on_the_ledger_and_keeps_what_was_typed(site, session, staff):
    first = make_worker(session, ZHULV, name="杨卫东", phone="13803590001")
    session.commit()
    client, csrf = _as(site, staff.village)
    r = client.post("/employment/workers", data={
        "csrf": csrf, "village_code": ZHULV, "name": "杨卫东", "gender": "male", "birth_year": "1975",
        "phone": "13803590001", "employment_status": "unemployed", "skills": "电焊", "job_intention": "开车"})
    assert r.status_code == 409
    assert _error(r.text) == f"杨卫东（1975 年生，电话 13803590001）已在台账中（台账编号 {first.id}），同一人不能重复登记"
    assert 'name="skills" value="电焊"' in r.text and 'name="job_intention" value="开车"' in r.text
    assert session.scalars(select(Worker.id)).all() == [first.id]


def test_an_import_with_headings_it_cannot_place_says_which_and_keeps_nothing(site, session, staff):
    client, csrf = _as(site, staff.village)
    body = "村,姓名,性别,出生年份,就业状态,身份证件,手机号码2\n朱吕村,张三,男,1980,未就业,x,y\n".encode()
    for check in ("1", ""):  # 只检查 says the same
        r = client.post("/employment/workers/import", data={"csrf": csrf, "check": check},
                        files={"file": ("台账.csv", io.BytesIO(body), "text/csv")})
        assert r.status_code == 422 and "已导入" not in r.text and "检查通过" not in r.text
        assert _error(r.text).startswith("无法识别的列名：「身份证件」、「手机号码2」。这些列的内容无法导入，整个文件未导入")
    assert session.scalar(select(Worker.id)) is None


def test_most_of_an_id_number_stays_out_of_the_address(site, session, staff):
    """15 or more digits (an ID number with one missing) were sent on to /employment/workers?q=…"""
    number = id_number("19750312", "131")
    make_worker(session, ZHULV, name="张麦环", id_number=number)
    session.commit()
    client, csrf = _as(site, staff.village)
    for typed in (number[:15], number[:17], number[1:], f"张麦环 {number[:16]}", number[:17] + "11"):
        r = client.post("/employment/workers/search", data={"csrf": csrf, "q": typed, "status": "unemployed"})
        assert r.status_code == 200 and "location" not in r.headers, typed
        assert number[4:14] not in r.text and typed not in r.text, typed  # box, filters, links alike
        assert "共 0 人" in r.text and "格式不对" in r.text and "就业状态：未就业" in r.text
    # Typed straight into the address, it is not written back either.
    page = client.get("/employment/workers", params={"q": number[:17]}).text
    assert number[:17] not in page and f"身份证号 {mask_id(number[:17])}" in page
    # Fewer digits (a phone number) is an ordinary search, with its address.
    r = client.post("/employment/workers/search", data={"csrf": csrf, "q": "13803590001"})
    assert r.status_code == 303 and r.headers["location"] == "/employment/workers?q=13803590001"


@pytest.mark.parametrize("typed", ["%", "_", "%%"])
def test_a_search_for_wildcards_shows_nobody(site, session, staff, typed):
    make_worker(session, ZHULV, name="张麦环")
    session.commit()
    client, _csrf = _as(site, staff.village)
    page = client.get("/employment/workers", params={"q": typed}).text
    assert f"关键词「{typed}」" in page and "共 0 人" in page and "张麦环" not in page


def test_an_emptied_id_field_removes_the_number_on_record(site, session, staff):
    """A blank ID field kept the old number: a wrong one could not be removed on the page."""
    number = id_number("19750312", "131")
    worker = make_worker(session, ZHULV, name="张麦环", id_number=number, phone="13803590001")
    session.commit()
    client, csrf = _as(site, staff.village)
    page = client.get(f"/employment/workers/{worker.id}").text
    assert f'name="id_number" value="{mask_id(number)}"' in page and number not in page
    form = {"csrf": csrf, "village_code": ZHULV, "name": "张麦环", "gender": "男", "birth_year": "1975",
            "phone": "13803590001", "employment_status": "unemployed"}
    r = client.post(f"/employment/workers/{worker.id}", data={**form, "id_number": mask_id(number), "skills": "电焊"})
    assert r.status_code == 303
    session.expire_all()
    assert (worker.id_number, worker.skills) == (number, "电焊")  # sent back as shown: kept
    session.commit()
    r = client.post(f"/employment/workers/{worker.id}", data={**form, "id_number": ""})
    assert r.status_code == 303
    page = client.get(f"/employment/workers/{worker.id}").text
    assert "<tr><th>身份证号</th><td>未登记</td></tr>" in page and 'name="id_number" value=""' in page
    session.expire_all()
    assert worker.id_number is None


def test_outcomes_and_closing_ask_first_naming_the_person_and_the_job(site, session, staff):
    worker = make_worker(session, ZHULV, name="郝志刚", job_intention="编织")
    job = service.add_job(session, EVERYWHERE, actor=None, employer="朱吕村扶贫车间", region_code=ZHULV, title="手工编织",
                          openings=5, pay="计件")
    service.recommend(session, EVERYWHERE, job, worker, actor=None)
    service.add_activity(session, EVERYWHERE, actor=None, village_code=ZHULV, kind="job_fair", title="家门口招聘会",
                         participants=30)
    session.commit()
    client, _csrf = _as(site, staff.village)
    asked = _confirms(client.get(f"/employment/jobs/{job.id}").text)
    assert asked == {"录用上岗": "确认 郝志刚 已被朱吕村扶贫车间录用上岗？登记后不能撤销，其台账将改为稳定就业。",
                     "未录用": "确认 郝志刚 未被朱吕村扶贫车间录用？登记后不能撤销。",
                     "停招": "确认「手工编织」（朱吕村扶贫车间）停招？停招后不能再推荐人员。"}
    asked = _confirms(client.get("/employment/activities").text)
    assert asked["删除"].startswith("删除 ") and "裴介镇朱吕村的「家门口招聘会」？删除后不再计入六个一" in asked["删除"]


def test_a_direct_recommendation_of_someone_not_looking_for_work_is_refused(site, session, staff):
    worker = make_worker(session, ZHULV, name="郝老汉", employment_status="无劳动能力", job_intention="编织")
    job = service.add_job(session, EVERYWHERE, actor=None, employer="朱吕村扶贫车间", region_code=ZHULV, title="手工编织",
                          openings=5, pay="计件")
    session.commit()
    client, csrf = _as(site, staff.village)
    r = client.post(f"/employment/jobs/{job.id}/recommend", data={"csrf": csrf, "worker_id": str(worker.id)})
    assert r.status_code == 409 and _error(r.text).startswith("郝老汉的就业状态为「无劳动能力」，不在求职人员之列")
    assert session.scalar(select(Referral.id)) is None


def test_a_job_is_corrected_on_its_page(site, session, staff):
    clock.freeze(datetime(2026, 6, 15, 10, 0))
    job = service.add_job(session, EVERYWHERE, actor=None, employer="朱吕村扶贫车问", region_code=ZHULV, title="编织",
                          openings=2, pay="计件")
    session.commit()
    url = f"/employment/jobs/{job.id}"
    other, _ = _as(site, staff.supervisor)
    assert "修改岗位" not in other.get(url).text
    client, csrf = _as(site, staff.village)
    page = client.get(url).text
    assert "<summary>修改岗位</summary>" in page and 'name="employer" value="朱吕村扶贫车问"' in page
    typed = {"csrf": csrf, "employer": "朱吕村扶贫车间", "region": ZHULV, "title": "手工编织", "openings": "0",
             "pay": "120元/天", "requirements": "女性优先", "workshop": "1"}
    r = client.post(f"{url}/edit", data=typed)
    assert r.status_code == 422 and _error(r.text) == "招聘人数应在 1–10000 之间（填的是 0）"
    assert "<details open><summary>修改岗位</summary>" in r.text and 'name="employer" value="朱吕村扶贫车间"' in r.text
    r = client.post(f"{url}/edit", data={**typed, "region": DALV, "openings": "4"})
    assert r.status_code == 403 and "只能修改本辖区" in _error(r.text)
    r = client.post(f"{url}/edit", data={**typed, "openings": "4"})
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "岗位已修改" in page and "<h1>手工编织 <small>朱吕村扶贫车间" in page and "4 人（已录用 0 人）" in page
    assert "120元/天" in page and "女性优先" in page and "扶贫车间</span>" in page
    session.expire_all()
    assert session.get(JobPosting, job.id).employer == "朱吕村扶贫车间"


def test_an_activity_entered_by_mistake_is_deleted_and_no_longer_counts(site, session, staff):
    clock.freeze(datetime(2026, 6, 15, 10, 0))
    worker = make_worker(session, ZHULV, name="王二")
    wrong = service.add_activity(session, EVERYWHERE, actor=None, village_code=ZHULV, kind="job_fair",
                                 title="录错的招聘会", participants=5, worker_ids=[worker.id])
    dalv = service.add_activity(session, EVERYWHERE, actor=None, village_code=DALV, kind="job_fair",
                                title="大吕村招聘会", participants=5)
    session.commit()
    ids = wrong.id, dalv.id
    client, csrf = _as(site, staff.village)
    assert "1/6" in client.get("/employment/villages").text
    r = client.post(f"/employment/activities/{ids[1]}/delete", data={"csrf": csrf})  # not their village
    assert r.status_code == 404 and "不在您的辖区内" in _error(r.text)
    r = client.post(f"/employment/activities/{ids[0]}/delete", data={"csrf": csrf})
    assert r.status_code == 303
    listing = client.get(r.headers["location"]).text
    assert "活动已删除，不再计入六个一" in listing and "录错的招聘会" not in listing
    assert "0/6" in client.get("/employment/villages").text
    assert "参加招聘会：录错的招聘会" not in client.get(f"/employment/workers/{worker.id}").text
    assert session.scalars(select(Activity.id)).all() == [ids[1]]


@pytest.mark.parametrize(("participants", "words"), [
    ("", "请填写参加人数（至少 1 人）"),
    ("0", "参加人数应在 1–10000 之间（填的是 0）"),
    ("1", "参加人数 1 人少于勾选的台账参加人员（2 人）：请填写实际参加人数（至少 2 人）"),
])
def test_an_activity_nobody_attended_is_refused_saying_how_many(site, session, staff, participants, words):
    """Blank or 0 was saved and counted for 六个一; 2 ticked with 0 was silently saved as 2."""
    people = [make_worker(session, ZHULV, name=n) for n in ("张一", "王二")]
    session.commit()
    client, csrf = _as(site, staff.village)
    r = client.post("/employment/activities", data={"csrf": csrf, "village_code": ZHULV, "kind": "training",
                                                    "on_day": "", "title": "电焊培训", "participants": participants,
                                                    "worker_ids": [str(p.id) for p in people]})
    assert r.status_code == 422 and _error(r.text) == words
    assert 'value="电焊培训"' in r.text and session.scalar(select(Activity.id)) is None
