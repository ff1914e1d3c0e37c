"""就业服务站 pages refusing what nobody could mean, in place and in words: a second placement of one
person, dates before 2000 or before birth, counts out of range, over-long notes, empty forms, a
full posting reopened as it is."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from sqlalchemy import select

from hotline.employment import service
from hotline.employment.models import Activity, Assistance, JobPosting, Referral, Worker
from hotline.employment.scope import EVERYWHERE
from hotline.kit import clock
from tests.employment.conftest import DALV, ZHULV, Staff, make_staff, make_worker
from tests.web.test_employment_pages import _as


@pytest.fixture
def staff(session, people) -> Staff:
    return make_staff(session, people)


def _error(html: str) -> str:
    found = re.search(r'<p class="error" role="alert">(.*?)</p>', html, re.S)
    return found.group(1).strip() if found else ""


def test_a_worker_placed_at_one_job_is_not_hired_at_a_second(site, session, staff):
    clock.freeze(datetime(2026, 6, 15, 10, 0))
    worker = make_worker(session, ZHULV, name="郝志刚", employment_status="未就业", job_intention="普工")
    first = service.add_job(session, EVERYWHERE, actor=None, employer="裴介镇扶贫车间", region_code=ZHULV,
                            title="编织", openings=5, pay="计件")
    second = service.add_job(session, EVERYWHERE, actor=None, employer="夏县某物流公司", region_code=DALV,
                             title="分拣员", openings=5, pay="3500元/月")
    at_first = service.recommend(session, EVERYWHERE, first, worker, actor=None)
    at_second = service.recommend(session, EVERYWHERE, second, worker, actor=None)
    session.commit()
    ids = (first.id, second.id, at_first.id, at_second.id)
    client, csrf = _as(site, staff.township)
    before = client.get(f"/employment/jobs/{ids[1]}").text
    assert before.count('value="hired">录用上岗</button>') == 1
    r = client.post(f"/employment/jobs/{ids[0]}/referrals/{ids[2]}", data={"csrf": csrf, "outcome": "hired"})
    assert r.status_code == 303
    placed = f"该人员已于 2026-06-15 在 裴介镇扶贫车间 上岗（岗位 #{ids[0]}）"
    page = client.get(f"/employment/jobs/{ids[1]}").text
    assert placed in page and 'value="hired">录用上岗</button>' not in page and ">未录用</button>" in page
    r = client.post(f"/employment/jobs/{ids[1]}/referrals/{ids[3]}", data={"csrf": csrf, "outcome": "hired"})
    assert r.status_code == 409 and _error(r.text).startswith(placed)
    assert "（已录用 0 人）" in r.text
    session.expire_all()
    assert worker.employer == "裴介镇扶贫车间"
    assert session.scalar(select(Referral.state).where(Referral.id == ids[3])).value == "recommended"
    session.commit()
    r = client.post(f"/employment/jobs/{ids[1]}/referrals/{ids[3]}",
                    data={"csrf": csrf, "outcome": "rejected", "note": "已在别处上岗"})
    assert r.status_code == 303 and "已登记未录用" in client.get(r.headers["location"]).text


def test_dates_before_2000_or_before_birth_are_refused_in_place(site, session, staff):
    clock.freeze(datetime(2026, 6, 15, 10, 0))
    worker = make_worker(session, ZHULV, name="郝志刚", birth_year="1988")
    young = make_worker(session, ZHULV, name="小郝", birth_year="2008")
    session.commit()
    ids = worker.id, young.id
    client, csrf = _as(site, staff.village)
    r = client.post(f"/employment/workers/{ids[0]}/assistance",
                    data={"csrf": csrf, "kind": "guidance", "note": "上门讲解政策", "on_day": "1900-01-01"})
    assert r.status_code == 422 and _error(r.text) == "日期 1900-01-01 早于 2000-01-01，请核对"
    assert "上门讲解政策</textarea>" in r.text
    r = client.post(f"/employment/workers/{ids[1]}/assistance",
                    data={"csrf": csrf, "kind": "guidance", "note": "上门", "on_day": "2005-03-01"})
    assert r.status_code == 422 and _error(r.text) == "日期 2005-03-01 早于该人员的出生年份（2008 年），请核对"
    r = client.post("/employment/activities", data={"csrf": csrf, "village_code": ZHULV, "kind": "training",
                                                    "on_day": "1901-01-01", "title": "家政培训", "participants": "20"})
    assert r.status_code == 422 and _error(r.text) == "日期 1901-01-01 早于 2000-01-01，请核对"
    assert 'value="家政培训"' in r.text
    assert session.scalar(select(Assistance.id)) is None and session.scalar(select(Activity.id)) is None


@pytest.mark.parametrize(("participants", "shown"), [("99999999", "99999999"), ("-4", "-4")])
def test_activity_participants_have_a_range(site, session, staff, participants, shown):
    client, csrf = _as(site, staff.village)
    r = client.post("/employment/activities", data={"csrf": csrf, "village_code": ZHULV, "kind": "job_fair",
                                                    "on_day": "", "title": "家门口招聘会", "participants": participants})
    assert r.status_code == 422 and _error(r.text) == f"参加人数应在 1–10000 之间（填的是 {shown}）"
    assert f'value="{participants}"' in r.text
    assert session.scalar(select(Activity.id)) is None


def test_long_notes_are_refused_and_the_facts_table_keeps_its_labels(site, session, staff):
    worker = make_worker(session, ZHULV, name="郝志刚")
    session.commit()
    worker_id = worker.id
    client, csrf = _as(site, staff.village)
    form = {"csrf": csrf, "village_code": ZHULV, "name": "郝志刚", "gender": "male", "birth_year": "1975",
            "employment_status": "unemployed"}
    r = client.post(f"/employment/workers/{worker_id}", data={**form, "note": "长" * 6000})
    assert r.status_code == 422 and _error(r.text) == "备注不能超过 500 字（现有 6000 字），请精简"
    assert 'maxlength="500"' in r.text
    r = client.post(f"/employment/workers/{worker_id}/assistance",
                    data={"csrf": csrf, "kind": "guidance", "note": "记" * 4000, "on_day": ""})
    assert r.status_code == 422 and _error(r.text) == "帮扶内容不能超过 1000 字（现有 4000 字），请精简"
    r = client.post(f"/employment/workers/{worker_id}", data={**form, "note": "备注" * 50})
    assert r.status_code == 303
    page = client.get(f"/employment/workers/{worker_id}").text
    assert "<tr><th>备注</th><td>" + "备注" * 50 + "</td></tr>" in page
    css = client.get("/static/app.css").text
    assert "table.facts th { width: 1%; white-space: nowrap;" in css and "overflow-wrap: anywhere" in css


def test_job_form_messages_say_what_is_wrong(site, session, staff):
    client, csrf = _as(site, staff.village)
    job = {"csrf": csrf, "employer": "朱吕村扶贫车间", "region": ZHULV, "title": "编织", "openings": "-3", "pay": "计件"}
    r = client.post("/employment/jobs", data=job)
    assert r.status_code == 422 and _error(r.text) == "招聘人数应在 1–10000 之间（填的是 -3）"
    assert 'value="-3"' in r.text
    r = client.post("/employment/jobs", data={"csrf": csrf, "employer": "", "region": "", "title": "",
                                              "openings": "", "pay": ""})
    assert r.status_code == 422 and _error(r.text) == "请填写用工单位、工作地点、岗位名称、招聘人数、薪酬"
    r = client.post("/employment/jobs", data={**job, "employer": " ", "openings": "abc"})
    assert r.status_code == 422 and _error(r.text) == "请填写用工单位"
    assert session.scalar(select(JobPosting.id)) is None


def test_an_empty_worker_form_names_every_missing_field(site, session, staff):
    client, csrf = _as(site, staff.village)
    r = client.post("/employment/workers", data={"csrf": csrf, "village_code": "", "name": "", "gender": "",
                                                 "birth_year": "", "employment_status": ""})
    assert r.status_code == 422 and _error(r.text) == "请填写村（社区）、姓名、性别（男/女）、出生年份、就业状态"
    r = client.post("/employment/workers", data={"csrf": csrf, "village_code": ZHULV, "name": "郝志刚",
                                                 "gender": "male", "birth_year": "", "employment_status": ""})
    assert r.status_code == 422 and _error(r.text) == "请填写出生年份、就业状态"
    assert 'value="郝志刚"' in r.text
    assert session.scalar(select(Worker.id)) is None


def test_a_full_posting_is_reopened_only_with_more_openings(site, session, staff):
    job = service.add_job(session, EVERYWHERE, actor=None, employer="裴介镇扶贫车间", region_code=ZHULV, title="编织",
                          openings=2, pay="计件")
    refs = [service.recommend(session, EVERYWHERE, job, make_worker(session, ZHULV, name=n), actor=None)
            for n in ("张一", "王二", "李三")]
    for referral in refs:
        service.decide(session, EVERYWHERE, referral, actor=None, hired=True)
    session.commit()
    url = f"/employment/jobs/{job.id}"
    client, csrf = _as(site, staff.village)
    page = client.get(url).text
    assert "· 已停招" in page and "2 人（已录用 3 人）" in page and "调高到至少 4 人" in page
    r = client.post(f"{url}/state", data={"csrf": csrf, "state": "open", "openings": "2"})
    assert r.status_code == 409
    assert _error(r.text) == "已录用 3 人，招聘人数为 2 人（已招满）：请先把招聘人数调高到至少 4 人，再重新开放"
    assert "· 已停招" in r.text and "· 招聘中" not in r.text
    r = client.post(f"{url}/state", data={"csrf": csrf, "state": "open", "openings": "3"})
    assert r.status_code == 409 and 'name="openings" value="3"' in r.text
    r = client.post(f"{url}/state", data={"csrf": csrf, "state": "open", "openings": "6"})
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "岗位已重新开放" in page and "· 招聘中" in page and "6 人（已录用 3 人）" in page


def test_a_note_longer_than_the_limit_from_before_it_is_kept_when_the_rest_is_changed(site, session, staff):
    worker = make_worker(session, ZHULV, name="郝志刚")
    worker.note = "旧" * 800  # written before the limit
    session.commit()
    worker_id = worker.id
    client, csrf = _as(site, staff.village)
    form = {"csrf": csrf, "village_code": ZHULV, "name": "郝志刚", "gender": "male", "birth_year": "1975",
            "employment_status": "unemployed", "phone": "13903551234", "note": "旧" * 800}
    assert client.post(f"/employment/workers/{worker_id}", data=form).status_code == 303
    session.expire_all()
    kept = session.get(Worker, worker_id)
    assert kept.phone == "13903551234" and kept.note == "旧" * 800
    session.rollback()  # no read left open beside the site's writer
    r = client.post(f"/employment/workers/{worker_id}", data={**form, "note": "旧" * 800 + "新"})
    assert r.status_code == 422 and _error(r.text) == "备注不能超过 500 字（现有 801 字），请精简"
