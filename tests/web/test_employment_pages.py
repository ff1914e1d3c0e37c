"""就业服务站 pages: what station staff see and do, and who is refused."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime

import openpyxl
import pytest
from sqlalchemy import select, update

from hotline.accounts.models import User
from hotline.accounts.service import hash_password
from hotline.employment import service
from hotline.employment.fields import mask_id
from hotline.employment.models import EmploymentStatus, JobPosting, Referral, Worker
from hotline.employment.scope import EVERYWHERE
from hotline.kit import clock
from tests.employment.conftest import DALV, SHUITOU, XINSHE, ZHULV, Staff, id_number, make_staff, make_worker
from tests.web.conftest import PASSWORD, csrf_of


@pytest.fixture
def staff(session, people) -> Staff:
    return make_staff(session, people)


def _as(site, user: User):
    with site.db.transaction() as s:
        s.execute(update(User).where(User.id == user.id).values(password_hash=hash_password(PASSWORD)))
    client = site.browser()
    r = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert r.status_code == 303, r.text
    return client, csrf_of(client.get("/employment").text)


def test_a_township_handler_keeps_the_ledger_of_their_villages(site, session, staff):
    make_worker(session, ZHULV, name="张麦环", id_number=id_number("19750312", "131"), skills="电焊")
    make_worker(session, DALV, name="李秀英", employment_status="稳定就业", employer="裴介镇服装车间")
    make_worker(session, SHUITOU, name="水头人")
    session.commit()
    client, csrf = _as(site, staff.township)
    home = client.get("/employment").text
    assert "就业服务站" in home and 'href="/employment"' in home and "台账人数" in home
    listing = client.get("/employment/workers").text
    assert "张麦环" in listing and "李秀英" in listing and "水头人" not in listing and "共 2 人" in listing
    assert "李秀英" not in client.get("/employment/workers?q=电焊").text
    worker_id = session.scalar(select(Worker.id).where(Worker.name == "张麦环"))
    session.commit()  # the test's session writes: end its transaction before the site writes
    page = client.get(f"/employment/workers/{worker_id}").text
    assert "1427**********" in page and id_number("19750312", "131") not in page
    r = client.post(f"/employment/workers/{worker_id}/assistance",
                    data={"csrf": csrf, "kind": "guidance", "note": "讲解县内用工信息", "on_day": ""})
    assert r.status_code == 303
    assert "讲解县内用工信息" in client.get(r.headers["location"]).text
    r = client.post("/employment/workers", data={
        "csrf": csrf, "village_code": DALV, "name": "重号", "employment_status": "unemployed",
        "id_number": id_number("19750312", "131")})
    assert r.status_code == 409 and "已登记（朱吕村 张麦环），同一人不能重复登记" in r.text
    r = client.post("/employment/workers", data={
        "csrf": csrf, "village_code": DALV, "name": "王建军", "gender": "male", "birth_year": "1980",
        "employment_status": "unemployed", "job_intention": "开车", "needs_help": "1"})
    assert r.status_code == 303
    assert "已登记到台账" in client.get(r.headers["location"]).text
    shuitou = session.scalar(select(Worker.id).where(Worker.name == "水头人"))
    session.commit()
    assert client.get(f"/employment/workers/{shuitou}").status_code == 404


def test_recommending_and_placing_from_the_job_page(site, session, staff):
    clock.freeze(datetime(2026, 6, 15, 10, 0))
    worker = make_worker(session, ZHULV, name="张麦环", employment_status="季节性务工", job_intention="车间")
    session.commit()
    client, csrf = _as(site, staff.village)
    r = client.post("/employment/jobs", data={"csrf": csrf, "employer": "朱吕村扶贫车间", "workshop": "1",
                                              "region": ZHULV, "title": "手工编织", "openings": "8", "pay": "计件"})
    assert r.status_code == 303
    job_url = r.headers["location"].split("?")[0]
    page = client.get(job_url).text
    assert "扶贫车间" in page and "计件" in page and "张麦环" in page and "同村" in page
    r = client.post(f"{job_url}/recommend", data={"csrf": csrf, "worker_id": str(worker.id)})
    assert r.status_code == 303
    referral = session.scalars(select(Referral.id)).one()
    session.commit()
    r = client.post(f"{job_url}/referrals/{referral}", data={"csrf": csrf, "outcome": "hired"})
    assert r.status_code == 303
    assert "已登记录用上岗" in client.get(r.headers["location"]).text
    session.expire_all()
    assert worker.employment_status == EmploymentStatus.stable and worker.employer == "朱吕村扶贫车间"
    session.commit()
    assert "经推荐在朱吕村扶贫车间上岗" in client.get(f"/employment/workers/{worker.id}").text
    r = client.post(f"{job_url}/referrals/{referral}", data={"csrf": csrf, "outcome": "rejected"})
    assert r.status_code == 409 and "已有结果" in r.text


def test_the_full_employment_page_shows_figures_gaps_and_links(site, session, staff):
    clock.freeze(datetime(2026, 6, 15, 10, 0))
    for i in range(9):
        make_worker(session, ZHULV, name=f"在业{i}", employment_status="稳定就业")
    make_worker(session, ZHULV, name="待业", employment_status="未就业")
    for kind in ("troupe", "ledger", "venue", "guidance", "training"):
        service.add_activity(session, EVERYWHERE, actor=None, village_code=ZHULV, kind=kind, title="活动",
                             participants=10)
    session.commit()
    client, _csrf = _as(site, staff.bureau)
    page = client.get("/employment/villages").text
    assert "裴介镇朱吕村" in page and "90.0%" in page and "5/6" in page and "本年度未开展：招聘会" in page
    assert "水头镇水头村" in page and "台账中没有有劳动能力且有就业意愿的人员" in page
    assert '<td class="num" title="招聘会">✗</td>' in page and '<td class="num" title="技能培训">✓</td>' in page
    assert f"/employment/workers?village={ZHULV}&amp;status=unemployed" in page
    behind = client.get(f"/employment/workers?village={ZHULV}&status=unemployed").text
    assert "待业" in behind and "在业0" not in behind and "共 1 人" in behind
    by_rate = client.get("/employment/villages?sort=rate").text
    assert by_rate.index("朱吕村") < by_rate.index("水头村")


def test_import_refuses_a_bad_file_whole_and_export_is_scoped(site, session, staff):
    client, csrf = _as(site, staff.village)
    body = ("村,姓名,性别,出生年份,就业状态\n朱吕村,张三,男,1980,未就业\n大吕村,李四,男,1980,未就业\n"
            "朱吕村,王五,男,1880,未就业\n").encode()
    r = client.post("/employment/workers/import", data={"csrf": csrf},
                    files={"file": ("台账.csv", io.BytesIO(body), "text/csv")})
    assert r.status_code == 422 and "2 行有问题，3 行均未导入" in r.text
    assert "第 3 行" in r.text and "不是您辖区内设有就业服务站的村" in r.text and "第 4 行" in r.text
    assert session.scalar(select(Worker.id)) is None
    # the page says before any upload that an exported ledger (its ID numbers masked) is not an import file
    assert "台账导出文件中的身份证号已脱敏，不能原样导回" in client.get("/employment/workers/import").text
    session.commit()
    good = "村,姓名,性别,出生年份,就业状态\n朱吕村,张三,男,1980,未就业\n".encode()
    r = client.post("/employment/workers/import", data={"csrf": csrf},
                    files={"file": ("台账.csv", io.BytesIO(good), "text/csv")})
    assert r.status_code == 200 and "已导入 1 人" in r.text
    make_worker(session, DALV, name="大吕人")
    session.commit()
    r = client.get("/employment/workers.xlsx")
    rows = list(openpyxl.load_workbook(io.BytesIO(r.content)).worksheets[0].iter_rows(values_only=True))
    assert [row[1] for row in rows[1:]] == ["张三"]


def test_who_is_refused(site, session, staff):
    client, _csrf = site.signed_in("handler_a")  # a water bureau's handler
    assert "就业服务站" not in client.get("/unit").text
    r = client.get("/employment")
    assert r.status_code == 403 and "就业服务站仅供" in r.text
    agent, _ = site.signed_in("agent")
    assert agent.get("/employment/workers").status_code == 403
    supervisor, csrf = _as(site, staff.supervisor)
    assert "就业服务站" in supervisor.get("/employment").text
    r = supervisor.post("/employment/workers", data={"csrf": csrf, "village_code": ZHULV, "name": "张三",
                                                     "gender": "男", "birth_year": "1980", "employment_status": "未就业"})
    assert r.status_code == 403 and "不能修改" in r.text
    village, _ = _as(site, staff.village)
    assert village.post("/employment/workers", data={"name": "x"}).status_code == 403  # no CSRF token


def test_editing_keeps_the_id_number_unseen_and_activities_add_records(site, session, staff):
    clock.freeze(datetime(2026, 6, 15, 10, 0))
    number = id_number("19750312", "131")
    worker = make_worker(session, ZHULV, name="张麦环", id_number=number)
    session.commit()
    client, csrf = _as(site, staff.village)
    form = {"csrf": csrf, "village_code": ZHULV, "name": "张麦环", "gender": "", "birth_year": "",
            "employment_status": "flexible", "employer": "跑运输", "work_place": "in_county",
            "id_number": mask_id(number)}  # as the form holds it
    r = client.post(f"/employment/workers/{worker.id}", data=form)
    assert r.status_code == 303
    page = client.get(f"/employment/workers/{worker.id}").text
    assert "灵活就业" in page and "跑运输" in page and number not in page and "不改则保持不变" in page
    session.expire_all()
    assert worker.id_number == number and worker.birth_year == 1975
    session.commit()
    r = client.post(f"/employment/workers/{worker.id}", data={**form, "birth_year": "1976"})
    assert r.status_code == 422 and "与身份证号（1975 年）不符" in r.text and number not in r.text
    r = client.post(f"/employment/workers/{worker.id}", data={**form, "id_number": "", "gender": "男",
                                                               "birth_year": "1975"})
    assert r.status_code == 303
    session.expire_all()
    assert worker.id_number is None
    session.commit()
    form_page = client.get("/employment/activities").text  # a station's only village is picked for its staff
    assert "登记到：<strong>裴介镇朱吕村</strong>" in form_page and f'name="worker_ids" value="{worker.id}"' in form_page
    r = client.post("/employment/activities", data={"csrf": csrf, "village_code": ZHULV, "kind": "training",
                                                    "on_day": "2026-06-10", "title": "电焊工技能培训",
                                                    "participants": "25", "worker_ids": [str(worker.id)]})
    assert r.status_code == 303
    listing = client.get(r.headers["location"]).text
    assert "活动已登记" in listing and "电焊工技能培训" in listing and "技能培训" in listing
    assert "参加技能培训：电焊工技能培训" in client.get(f"/employment/workers/{worker.id}").text
    r = client.post("/employment/activities", data={"csrf": csrf, "village_code": ZHULV, "kind": "training",
                                                    "title": "电焊工技能培训", "participants": "99999999999999999999999"})
    assert r.status_code == 422 and "参加人数应在 1–10000 之间" in r.text and "99999999999999999999999" in r.text
    r = client.post("/employment/activities", data={"csrf": csrf, "village_code": DALV, "kind": "training",
                                                    "title": "外村培训", "participants": "5"})
    assert r.status_code == 403 and "只能修改本辖区" in r.text


def test_attendees_of_one_name_can_be_told_apart(site, session, staff):
    """Two 杨卫东 of 朱吕村 were both offered as 「杨卫东（稳定就业）」."""
    older = make_worker(session, ZHULV, name="杨卫东", employment_status="稳定就业", birth_year="1975")
    younger = make_worker(session, ZHULV, name="杨卫东", employment_status="稳定就业", birth_year="1988")
    twins = [make_worker(session, ZHULV, name="李秀英", gender="女", birth_year="1982", phone=f"1380359000{i}")
             for i in range(2)]
    session.commit()
    client, _csrf = _as(site, staff.village)
    html = client.get(f"/employment/activities?village={ZHULV}&year=2026").text
    labels = {int(v): t.strip() for v, t in re.findall(r'name="worker_ids" value="(\d+)"[^>]*>([^<]*)</label>', html)}
    assert labels[older.id] == "杨卫东（1975 年生，稳定就业）" and labels[younger.id] == "杨卫东（1988 年生，稳定就业）"
    assert [labels[t.id] for t in twins] == [f"李秀英（1982 年生，未就业，台账编号 {t.id}）" for t in twins]


def test_a_job_posted_at_a_city_shows_the_city_by_name(site, session, staff):
    """A job posted for a whole city (长治市某机械厂 in the demo) showed its code, 1408, as the place."""
    service.add_job(session, EVERYWHERE, actor=None, employer="运城市某机械厂", region_code="1408", title="操作工",
                    openings=3, pay="4500元/月")
    session.commit()
    client, _csrf = _as(site, staff.bureau)
    listing = client.get("/employment/jobs").text
    assert "<td>运城市</td>" in listing and "<td>1408</td>" not in listing
    job_id = session.scalar(select(JobPosting.id))
    session.commit()
    assert "<tr><th>工作地点</th><td>运城市</td></tr>" in client.get(f"/employment/jobs/{job_id}").text


def _zip_of(name: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(name, "<xml/>")
    return out.getvalue()


def test_an_unreadable_import_names_the_file_the_person_uploaded(site, session, staff):
    """An unreadable CSV was refused naming the server's temporary file (tmpy85gz1pw.csv), not 台账.csv."""
    client, csrf = _as(site, staff.village)
    body = "村,姓名,性别,出生年份,就业状态\n朱吕村,张三,男,1980,未就业\n".encode("utf-16")
    r = client.post("/employment/workers/import", data={"csrf": csrf},
                    files={"file": ("朱吕村台账.csv", io.BytesIO(body), "text/csv")})
    assert r.status_code == 422 and "朱吕村台账.csv 不是 UTF-8 或 GBK 编码的 CSV" in r.text and "tmp" not in r.text
    r = client.post("/employment/workers/import", data={"csrf": csrf},
                    files={"file": ("旧台账.xls", io.BytesIO(b"\xd0\xcf\x11\xe0" + bytes(60)), "application/vnd.ms-excel")})
    assert r.status_code == 422 and "旧台账.xls 是旧版 Excel（.xls）文件" in r.text
    r = client.post("/employment/workers/import", data={"csrf": csrf},
                    files={"file": ("长" * 100 + ".csv", io.BytesIO(body), "text/csv")})
    assert r.status_code == 422 and "上传的文件.csv 不是 UTF-8 或 GBK 编码的 CSV" in r.text
    for broken in (b"PK\x03\x04" + bytes(60), _zip_of("word/document.xml")):  # cut off; a .docx renamed
        r = client.post("/employment/workers/import", data={"csrf": csrf},
                        files={"file": ("台账.xlsx", io.BytesIO(broken), "application/octet-stream")})
        error = r.text.split('class="error"')[1].split("</")[0]
        assert r.status_code == 422 and "台账.xlsx 不是有效的 Excel（.xlsx）文件" in error, error
        assert not re.search(r"zip|File|not", error), error  # openpyxl's words are not shown
    assert session.scalar(select(Worker.id)) is None


def test_a_refused_edit_keeps_the_id_number_on_record_in_view(site, session, staff):
    """After a refused edit the form came back without the 已登记 … hint: the person could not tell
    an ID number was still on record. It comes back as it was sent: masked (kept) or emptied
    (to be removed), with the hint."""
    number = id_number("19750312", "131")
    worker = make_worker(session, ZHULV, name="张麦环", id_number=number)
    session.commit()
    client, csrf = _as(site, staff.village)
    form = {"csrf": csrf, "village_code": ZHULV, "name": "张麦环", "gender": "男", "birth_year": "1975",
            "employment_status": "unemployed", "phone": "12345", "skills": "电焊", "id_number": mask_id(number)}
    r = client.post(f"/employment/workers/{worker.id}", data=form)
    assert r.status_code == 422 and "联系电话「12345」无效" in r.text
    assert f'name="id_number" value="{mask_id(number)}"' in r.text and f"已登记 {mask_id(number)}" in r.text
    assert 'name="skills" value="电焊"' in r.text and number not in r.text
    r = client.post(f"/employment/workers/{worker.id}", data={**form, "id_number": ""})
    assert 'name="id_number" value=""' in r.text and f"已登记 {mask_id(number)}" in r.text
    session.expire_all()
    assert worker.id_number == number


def test_the_six_ones_figure_opens_that_years_activities_only(site, session, staff):
    """六个一 1/6 on the 充分就业村 page (and 2026 年活动 1 on the home page) opened a list holding
    last year's activities too: a 2025 招聘会 there read as if this year's were held."""
    clock.freeze(datetime(2026, 6, 15, 10, 0))
    service.add_activity(session, EVERYWHERE, actor=None, village_code=ZHULV, kind="training", title="电焊工技能培训",
                         participants=10)
    service.add_activity(session, EVERYWHERE, actor=None, village_code=ZHULV, kind="job_fair", title="去年的招聘会",
                         participants=10, on_day=datetime(2025, 9, 1).date())
    session.commit()
    client, _csrf = _as(site, staff.village)
    villages = client.get("/employment/villages").text
    assert f'<a href="/employment/activities?village={ZHULV}&amp;year=2026">1/6</a>' in villages
    listing = client.get(f"/employment/activities?village={ZHULV}&year=2026").text
    assert "电焊工技能培训" in listing and "去年的招聘会" not in listing
    assert '<option value="2026" selected>2026 年</option>' in listing
    home = client.get("/employment").text
    assert '<a class="kpi" href="/employment/activities?year=2026"><span>2026 年活动</span><strong>1</strong>' in home
    everything = client.get(f"/employment/activities?village={ZHULV}").text
    assert "电焊工技能培训" in everything and "去年的招聘会" in everything
    assert "去年的招聘会" in client.get(f"/employment/activities?village={ZHULV}&year=2025").text
    assert "去年的招聘会" in client.get(f"/employment/activities?village={ZHULV}&year=abc").text  # all years


def test_a_city_wide_job_suggests_the_job_seekers_of_that_city(site, session, staff):
    """The demo's 长治市某机械厂 job, posted for the whole city, said 辖区台账中暂无合适人选 although
    the ledger held job seekers of that city's villages."""
    seeker = make_worker(session, ZHULV, name="张麦环", job_intention="进厂")
    service.add_station(session, EVERYWHERE, village_code=XINSHE)
    make_worker(session, XINSHE, name="黎城人", job_intention="进厂")  # 长治市: another city
    service.add_job(session, EVERYWHERE, actor=None, employer="运城市某机械厂", region_code="1408", title="操作工",
                    openings=3, pay="4500元/月")
    session.commit()
    client, _csrf = _as(site, staff.admin)
    job_id = session.scalar(select(JobPosting.id))
    session.commit()
    page = client.get(f"/employment/jobs/{job_id}").text
    assert "暂无合适人选" not in page and f'<a href="/employment/workers/{seeker.id}">张麦环</a>' in page
    assert "<td>同市</td>" in page and "黎城人" not in page


def test_a_village_without_a_station_is_told_so_before_typing_a_whole_form(site, session, people):
    """A village handler whose village has no station got an empty 村 list on 登记劳动力 and 导入台账,
    and learned why only after filling the form in (该村尚未设立就业服务站)."""
    from hotline.accounts.models import Role
    from hotline.accounts.service import add_user

    handler = add_user(session, username="t-zhulv", display_name="t-zhulv", role=Role.handler,
                       unit_code="xiaxian-peijie-zhulv")
    session.commit()
    client, _csrf = _as(site, handler)
    for path in ("/employment/workers/new", "/employment/workers/import"):
        assert "您的辖区内还没有设立就业服务站的村" in client.get(path).text
    service.add_station(session, EVERYWHERE, village_code=ZHULV)
    session.commit()
    page = client.get("/employment/workers/new").text
    assert "还没有设立就业服务站的村" not in page and f'<option value="{ZHULV}"' in page


def _x_number() -> str:
    from tests.employment.test_id_search import number_ending_in_x
    return number_ending_in_x()


def test_the_ledger_search_finds_a_person_by_the_whole_id_number_without_showing_it(site, session, staff):
    number, x_number = id_number("19750312", "131"), _x_number()
    make_worker(session, ZHULV, name="张麦环", id_number=number)
    make_worker(session, DALV, name="李秀英", id_number=x_number)
    make_worker(session, DALV, name="王电话", phone="13914270155")
    make_worker(session, SHUITOU, name="水头人", id_number=id_number("19800101", "242"))
    session.commit()
    client, csrf = _as(site, staff.township)
    listing = client.get("/employment/workers").text
    assert "完整身份证号" in listing and 'action="/employment/workers/search"' in listing

    def search(q: str, **more: str):
        return client.post("/employment/workers/search", data={"csrf": csrf, "q": q, **more})

    r = search(number)
    assert r.status_code == 200 and "共 1 人" in r.text and ">张麦环</a>" in r.text and "李秀英" not in r.text
    assert number not in r.text and number[4:14] not in r.text  # nowhere: box, filters, links
    assert f"身份证号 {mask_id(number)}" in r.text and '<input name="q" value=""' in r.text
    worker_id = session.scalar(select(Worker.id).where(Worker.name == "张麦环"))
    session.commit()
    assert f'href="/employment/workers.xlsx?worker={worker_id}"' in r.text and 'href="/employment/workers">清除条件' in r.text
    # The export of that search: the one person, the number masked in the rows and in what was searched.
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"/employment/workers.xlsx?worker={worker_id}").content))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert [row[1] for row in rows[1:]] == ["张麦环"] and rows[1][5] == mask_id(number)
    about = dict(book["说明"].iter_rows(values_only=True))
    assert about["筛选条件"] == f"身份证号 {mask_id(number)}" and number not in str(about)

    r = search(f" {x_number[:17].lower()}x ")  # lower-case x, spaces around
    assert r.status_code == 200 and ">李秀英</a>" in r.text and "共 1 人" in r.text
    assert x_number not in r.text and x_number[:17] not in r.text
    r = search(number, village=DALV)  # the other filters still apply, and stay in the links
    assert "共 0 人" in r.text and "没有符合条件的人员" in r.text and number not in r.text and "导出 Excel" not in r.text
    # Outside the township: 水头镇 is not theirs.
    r = search(id_number("19800101", "242"))
    assert r.status_code == 200 and "共 0 人" in r.text and "水头人" not in r.text
    # A mistyped check digit is said so, masked.
    wrong = number[:17] + ("0" if number[-1] != "0" else "1")
    r = search(wrong)
    assert "校验位不对" in r.text and mask_id(wrong) in r.text and wrong not in r.text and "共 0 人" in r.text

    # A fragment of an ID number is an ordinary search: sent on to the list's address and looked
    # for in names, phones and the rest, never in ID numbers.
    r = search(number[:6])
    assert r.status_code == 303 and r.headers["location"] == f"/employment/workers?q={number[:6]}"
    page = client.get(r.headers["location"]).text
    assert ">王电话</a>" in page and "张麦环" not in page and f'value="{number[:6]}"' in page
    # Most of one (17 of its 18 characters) is answered here too, never put in an address.
    r = search(number[:17], status="unemployed")
    assert r.status_code == 200 and number[:17] not in r.text and "共 0 人" in r.text and "格式不对" in r.text
    # The number typed straight into the address is answered the same way, not written back.
    page = client.get("/employment/workers", params={"q": number, "status": "unemployed"}).text
    assert ">张麦环</a>" in page and number not in page and 'href="/employment/workers.xlsx?status=unemployed&amp;worker=' in page
    # No CSRF token, no search; the address of the search itself leads back to the ledger.
    assert client.post("/employment/workers/search", data={"q": number}).status_code == 403
    assert client.get("/employment/workers/search").headers["location"] == "/employment/workers"


def test_a_village_handler_does_not_find_a_neighbouring_villages_person_by_id_number(site, session, staff):
    number = id_number("19750312", "131")
    worker = make_worker(session, DALV, name="大吕人", id_number=number)
    session.commit()
    client, csrf = _as(site, staff.village)
    r = client.post("/employment/workers/search", data={"csrf": csrf, "q": number})
    assert r.status_code == 200 and "共 0 人" in r.text and "大吕人" not in r.text and number not in r.text
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"/employment/workers.xlsx?worker={worker.id}").content))
    assert len(list(book.worksheets[0].iter_rows(values_only=True))) == 1  # the header only
    assert dict(book["说明"].iter_rows(values_only=True))["筛选条件"] == f"人员编号 {worker.id}"
