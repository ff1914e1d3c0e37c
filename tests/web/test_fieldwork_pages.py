"""Field work pages, as coordinators, village committees and others see and use them."""

from __future__ import annotations

import html
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from hotline.accounts.models import Role
from hotline.accounts.service import add_user, hash_password
from hotline.fieldwork import queries, service
from hotline.fieldwork.access import SYSTEM
from hotline.fieldwork.models import FieldTask, Machine, Operation
from hotline.kit import clock
from hotline.tickets.states import Status
from tests.builders import make_ticket, register
from tests.fieldwork.conftest import DALV, PEIJIE, ZHULV, blind_once, in_season, machine, volunteer  # noqa: F401 (in_season: a fixture)
from tests.web.conftest import PASSWORD, csrf_of

pytestmark = pytest.mark.usefixtures("in_season")


@pytest.fixture
def staff(db, people):
    with db.transaction() as s:
        for name, unit, shown in (("f-town", "xiaxian-peijie", "裴介镇干部"), ("f-village", "xiaxian-peijie-zhulv", "朱吕村支书")):
            user = add_user(s, username=name, display_name=shown, role=Role.handler, unit_code=unit)
            user.password_hash = hash_password(PASSWORD)
    return people


def sign_in(site, username):
    client = site.browser()
    r = client.post("/login", data={"username": username, "password": PASSWORD})
    assert r.status_code == 303, r.text
    return client, csrf_of(client.get("/tickets").text)


def _operation(site, **kw):
    fields = dict(name="裴介镇秋季抢收抢种", township_code=PEIJIE, crops="谷子、小麦", start_date=date(2026, 10, 1),
                  target_date=date(2026, 10, 20))
    fields.update(kw)
    with site.db.transaction() as s:
        return service.create_operation(s, actor=None, **fields).id


def _task(site, op_id, **kw):
    fields = dict(village_code=ZHULV, plot="村东谷子地", work_kind="harvest", area=10, due_date=date(2026, 10, 8),
                  farmer_name="王建国", farmer_phone="13803591234")
    fields.update(kw)
    with site.db.transaction() as s:
        return service.create_task(s, actor=None, operation=s.get(Operation, op_id), **fields).id


def test_a_coordinator_runs_a_task_from_registration_to_completion(staff, site):
    client, csrf = sign_in(site, "f-town")
    assert '<a href="/fieldwork"' in client.get("/tickets").text  # the nav entry
    r = client.post("/fieldwork/operations", data={"csrf": csrf, "name": "裴介镇秋季抢收抢种", "township_code": PEIJIE,
                                                   "crops": "谷子", "start_date": "2026-10-01", "target_date": "2026-10-20"})
    assert r.status_code == 303
    op_url = r.headers["location"]
    r = client.post(op_url + "/tasks", data={"csrf": csrf, "village_code": ZHULV, "plot": "村东洼地谷子田",
                                             "work_kind": "harvest", "area": "8", "crop": "谷子", "farmer_name": "王大娘",
                                             "farmer_phone": "13803597777", "priority": "2", "due_date": "2026-10-06"})
    assert r.status_code == 303
    task_url = r.headers["location"].split("?")[0]
    page = client.get(task_url).text
    assert "任务已登记" not in page and "待安排" in page and "村东洼地谷子田" in page and "13803597777" in page
    with site.db.transaction() as s:
        near = machine(s, label="雷沃谷神 GE80")
        machine(s, kind="pump", label="QW150")
        busy_id = near.id
    page = client.get(task_url).text
    assert "建议：收割机「雷沃谷神 GE80」" in page and ">抽水泵「QW150」" in page and "建议：抽水泵" not in page
    r = client.post(task_url + "/assign", data={"csrf": csrf, "machine_id": str(busy_id)})
    assert r.status_code == 303
    page = client.get(task_url).text
    assert "已安排" in page and "雷沃谷神 GE80" in page and "调派收割机「雷沃谷神 GE80」" in page

    r = client.post(task_url + "/progress", data={"csrf": csrf, "area": "9", "note": ""})
    assert r.status_code == 422 and "超过剩余面积" in r.text and "尚余 8 亩" in r.text
    r = client.post(task_url + "/complete", data={"csrf": csrf})
    assert r.status_code == 409 and "尚余 8 亩" in r.text
    client.post(task_url + "/progress", data={"csrf": csrf, "area": "8", "note": "全部收完"})
    r = client.post(task_url + "/complete", data={"csrf": csrf})
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "任务已完成，农机和人员已释放" in page and "已完成 8 亩（100%）" in page and "全部收完" in page
    with site.db.transaction() as s:
        assert s.get(Machine, busy_id).state == "available"


def test_double_booking_is_refused_on_the_page_with_the_reason(staff, site):
    op = _operation(site)
    first, second = _task(site, op), _task(site, op, village_code=DALV)
    with site.db.transaction() as s:
        m = machine(s, label="久保田 4LZ")
        p = volunteer(s, name="李强")
        service.assign_machine(s, s.get(FieldTask, first), m, actor=None)
        service.assign_volunteer(s, s.get(FieldTask, first), p, actor=None)
        mid, pid = m.id, p.id
    client, csrf = sign_in(site, "f-town")
    r = client.post(f"/fieldwork/tasks/{second}/assign", data={"csrf": csrf, "machine_id": str(mid)})
    assert r.status_code == 409
    assert f"收割机「久保田 4LZ」（裴介农机合作社）正在任务 #{first}（朱吕村 抢收）作业" in r.text
    r = client.post(f"/fieldwork/tasks/{second}/assign", data={"csrf": csrf, "volunteer_id": str(pid)})
    assert r.status_code == 409 and "志愿者「李强」正在任务" in r.text
    assert "待安排" in client.get(f"/fieldwork/tasks/{second}").text


def test_a_village_sees_its_own_tasks_and_reports_progress_only(staff, site):
    op = _operation(site)
    mine, theirs = _task(site, op, plot="朱吕村东地"), _task(site, op, village_code=DALV, plot="大吕村西地")
    with site.db.transaction() as s:
        service.assign_machine(s, s.get(FieldTask, mine), machine(s), actor=None)
    client, csrf = sign_in(site, "f-village")
    listing = client.get("/fieldwork/tasks").text
    assert "朱吕村东地" in listing and "大吕村西地" not in listing
    assert client.get(f"/fieldwork/tasks/{theirs}").status_code == 404
    page = client.get(f"/fieldwork/tasks/{mine}").text
    assert "上报进度" in page and ">调派农机</button>" not in page and ">完成任务</button>" not in page
    assert "/fieldwork/machines" not in page  # registers are the township's
    r = client.post(f"/fieldwork/tasks/{mine}/progress", data={"csrf": csrf, "area": "3", "note": "上午收了 3 亩"})
    assert r.status_code == 303
    page = client.get(f"/fieldwork/tasks/{mine}").text
    assert "上午收了 3 亩" in page and "朱吕村支书" in page and "作业中" in page
    r = client.post(f"/fieldwork/tasks/{mine}/complete", data={"csrf": csrf})
    assert r.status_code == 403
    assert client.get("/fieldwork/machines").status_code == 403


def test_other_units_are_told_field_work_is_not_theirs(staff, site):
    client, _ = site.signed_in("handler_b")
    r = client.get("/fieldwork")
    assert r.status_code == 403 and "不负责抢收抢种" in r.text
    agent, _ = site.signed_in("agent")
    assert agent.get("/fieldwork/tasks").status_code == 403
    assert "/fieldwork" not in agent.get("/tickets").text


def test_the_dashboard_counts_link_to_the_tasks_behind_them(staff, site):
    op = _operation(site)
    late = _task(site, op, village_code=DALV, plot="大吕村低洼地", due_date=date(2026, 10, 2), area=6)
    _task(site, op, plot="朱吕村北地", area=10)
    with site.db.transaction() as s:
        service.add_buyer(s, actor=None, township_code=PEIJIE, name="裴介粮食购销站", crops="谷子、玉米",
                          phone="13903591111", price="谷子 2.6 元/斤", daily_tons=50)
    clock.freeze(datetime(2026, 10, 5, 9, 0))
    client, _ = sign_in(site, "f-town")
    page = client.get(f"/fieldwork/operations/{op}").text
    assert f'href="/fieldwork/tasks?operation={op}&overdue=1"><span>超期任务</span><strong>1</strong>' in page
    assert f'href="/fieldwork/tasks?operation={op}&village={DALV}&overdue=1">1</a>' in page
    assert "裴介粮食购销站" in page and "谷子 2.6 元/斤" in page and "50 吨/天" in page
    listing = client.get(f"/fieldwork/tasks?operation={op}&overdue=1").text
    assert "大吕村低洼地" in listing and "朱吕村北地" not in listing and f"#{late}" in listing
    assert client.get("/fieldwork/tasks?state=bogus").status_code == 422


def test_a_ticket_about_flooded_crops_becomes_a_task_and_links_back(staff, site):
    _operation(site)
    with site.db.transaction() as s:
        ticket = register(s, staff, content="朱吕村我家八亩谷子被雨泡了，收割机进不去，请帮忙抢收。", caller_name="王大娘",
                          caller_phone="13803597777", address="朱吕村东洼地")
        number = ticket.number
    client, csrf = site.signed_in("supervisor")
    page = client.get(f"/tickets/{number}").text
    assert f'href="/fieldwork/from-ticket/{number}">转为抢收任务' in page
    form = client.get(f"/fieldwork/from-ticket/{number}").text
    assert "朱吕村东洼地" in form
    r = client.post(f"/fieldwork/from-ticket/{number}", data={"csrf": csrf, "operation_id": "", "area": "8",
                                                              "due_date": "2026-10-06"})
    assert r.status_code == 404
    op_id = form.split('name="operation_id"><option value="')[1].split('"')[0]
    r = client.post(f"/fieldwork/from-ticket/{number}", data={"csrf": csrf, "operation_id": op_id, "area": "0",
                                                              "due_date": "2026-10-06"})
    assert r.status_code == 422 and "面积须大于 0 亩" in r.text
    with site.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(FieldTask)) == 0
    r = client.post(f"/fieldwork/from-ticket/{number}", data={"csrf": csrf, "operation_id": op_id, "area": "8",
                                                              "crop": "谷子", "due_date": "2026-10-06"})
    assert r.status_code == 303
    task_page = client.get(r.headers["location"]).text
    assert f'href="/tickets/{number}"' in task_page and "王大娘" in task_page and "由工单转入" in task_page
    ticket_page = client.get(f"/tickets/{number}").text
    assert "抢收任务 #" in ticket_page and "转为抢收任务" not in ticket_page  # one unfinished task per ticket
    # The water bureau's handler on the ticket sees no field-work panel.
    handler, _ = site.signed_in("handler_b")
    assert "转为抢收任务" not in handler.get(f"/tickets/{number}").text


def test_registers_refuse_bad_input_and_list_what_was_registered(staff, site):
    client, csrf = sign_in(site, "f-town")
    r = client.post("/fieldwork/machines", data={"csrf": csrf, "township_code": PEIJIE, "kind": "pump", "label": "抽水泵 1 号",
                                                 "owner": "朱吕村集体", "owner_kind": "cooperative", "phone": "12345"})
    assert r.status_code == 422 and "电话号码" in r.text and "抽水泵 1 号" in r.text  # typed values kept
    r = client.post("/fieldwork/machines", data={"csrf": csrf, "township_code": PEIJIE, "kind": "pump", "label": "抽水泵 1 号",
                                                 "owner": "朱吕村集体", "owner_kind": "cooperative", "phone": "13903590009",
                                                 "village_code": ZHULV})
    assert r.status_code == 303
    page = client.get("/fieldwork/machines?kind=pump").text
    assert "抽水泵 1 号" in page and "可调派" in page and "朱吕村" in page
    r = client.post("/fieldwork/volunteers", data={"csrf": csrf, "township_code": PEIJIE, "name": "", "phone": ""})
    assert r.status_code == 422 and "姓名不能为空" in r.text
    r = client.post("/fieldwork/buyers", data={"csrf": csrf, "township_code": PEIJIE, "name": "晋南粮贸",
                                               "crops": "谷子", "daily_tons": "-3"})
    assert r.status_code == 422 and "日收购能力" in r.text


def test_the_dashboards_machine_and_volunteer_counts_open_the_same_rows(staff, site):
    op = _operation(site)
    t = _task(site, op)
    with site.db.transaction() as s:
        service.assign_machine(s, s.get(FieldTask, t), machine(s, label="本镇收割机"), actor=None)
        machine(s, label="本镇备用收割机")
        service.assign_volunteer(s, s.get(FieldTask, t), volunteer(s, name="在岗甲"), actor=None)
        volunteer(s, name="待命乙")
        away = volunteer(s, name="外出丙")
        service.set_volunteer_available(s, away, actor=None, available=False)
        service.register_machine(s, actor=None, township_code="141002103", kind="harvester", label="县底收割机",
                                 owner="县底合作社")
    client, _ = site.signed_in("supervisor")
    page = client.get(f"/fieldwork/operations/{op}").text
    for href, count, shown, hidden in (
            (f"/fieldwork/machines?township={PEIJIE}&operation={op}", 1, "本镇收割机", "县底收割机"),
            (f"/fieldwork/machines?township={PEIJIE}&state=available", 1, "本镇备用收割机", "县底收割机"),
            (f"/fieldwork/volunteers?township={PEIJIE}&operation={op}", 1, "在岗甲", "待命乙"),
            (f"/fieldwork/volunteers?township={PEIJIE}&on_task=0&available=1", 1, "待命乙", "外出丙")):
        assert f'href="{href.replace("&", "&amp;")}"' in page or f'href="{href}"' in page, href
        listing = client.get(href).text
        assert shown in listing and hidden not in listing, href
        assert f"共 {count} " in listing, href


def test_the_operations_list_counts_the_tasks_its_link_opens(staff, site):
    """The list said 28 tasks where the dashboard and the list behind the link said 30: it left the
    cancelled ones out of the count (their area stays out of the totals)."""
    op = _operation(site)
    _task(site, op, area=10)
    cancelled = _task(site, op, area=6)
    with site.db.transaction() as s:
        service.cancel(s, s.get(FieldTask, cancelled), actor=None, reason="农户已自行收完")
    client, _ = sign_in(site, "f-town")
    page = client.get("/fieldwork").text
    assert f'<a href="/fieldwork/tasks?operation={op}">2</a>' in page
    assert "10.0" in page and "16.0" not in page  # the cancelled task's 6 亩 are not work to do
    assert "共 2 项" in client.get(f"/fieldwork/tasks?operation={op}").text
    assert f'href="/fieldwork/tasks?operation={op}"><span>任务</span><strong>2</strong>' in client.get(
        f"/fieldwork/operations/{op}").text


def test_a_ticket_becomes_a_task_without_a_due_day_and_a_blank_area_is_asked_for(staff, site):
    """The form leaves the due day empty and refused it so (「须为日期，如 2026-10-08」); a blank area
    was 「面积须为数字」."""
    op = _operation(site)
    with site.db.transaction() as s:
        number = register(s, staff, content="朱吕村我家五亩谷子被淹了，请帮忙抢收。", address="朱吕村南洼地").number
    client, csrf = site.signed_in("supervisor")
    form = client.get(f"/fieldwork/from-ticket/{number}").text
    assert "不填则为所选行动的目标完成日期" in form
    r = client.post(f"/fieldwork/from-ticket/{number}", data={"csrf": csrf, "operation_id": str(op), "area": "",
                                                              "work_kind": "harvest", "due_date": ""})
    assert r.status_code == 422 and "请填写面积（亩）" in r.text and "须为数字" not in r.text
    r = client.post(f"/fieldwork/from-ticket/{number}", data={"csrf": csrf, "operation_id": str(op), "area": "5",
                                                              "work_kind": "harvest", "due_date": ""})
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "<dt>要求完成</dt><dd>2026-10-20</dd>" in page  # the operation's target day


def test_the_task_list_shows_the_village_a_dashboard_link_chose(staff, site):
    """A village's count on the dashboard opened the list filtered by a hidden field: nothing on the
    page said which village, and the filter could not be changed."""
    op = _operation(site)
    _task(site, op, village_code=DALV, plot="大吕村低洼地")
    _task(site, op, plot="朱吕村北地")
    client, _ = sign_in(site, "f-town")
    listing = client.get(f"/fieldwork/tasks?operation={op}&village={DALV}").text
    assert f'<option value="{DALV}" selected>大吕村</option>' in listing
    assert f'<option value="{ZHULV}" >朱吕村</option>' in listing and "<option value=\"\">全部村</option>" in listing
    assert "大吕村低洼地" in listing and "朱吕村北地" not in listing


def test_sending_the_same_machine_twice_says_it_is_already_there(staff, site):
    """A second click said the machine 「正在任务 #N 作业，须该任务完成或撤回后才能调派」 of the very
    task on screen."""
    op = _operation(site)
    t = _task(site, op)
    with site.db.transaction() as s:
        m, p = machine(s, label="久保田 4LZ"), volunteer(s, name="李强")
        mid, pid = m.id, p.id
    client, csrf = sign_in(site, "f-town")
    assert client.post(f"/fieldwork/tasks/{t}/assign", data={"csrf": csrf, "machine_id": str(mid)}).status_code == 303
    r = client.post(f"/fieldwork/tasks/{t}/assign", data={"csrf": csrf, "machine_id": str(mid)})
    assert r.status_code == 409 and "收割机「久保田 4LZ」（裴介农机合作社）已在本任务作业，无须再次调派" in r.text
    assert client.post(f"/fieldwork/tasks/{t}/assign", data={"csrf": csrf, "volunteer_id": str(pid)}).status_code == 303
    r = client.post(f"/fieldwork/tasks/{t}/assign", data={"csrf": csrf, "volunteer_id": str(pid)})
    assert r.status_code == 409 and "志愿者「李强」已在本任务，无须再次调派" in r.text


def test_a_closed_operation_does_not_show_the_townships_machines_as_its_own(staff, site):
    """A closed operation with no task showed 「作业中农机 1」: the township's register today."""
    op, other = _operation(site), _operation(site, name="裴介镇小麦抢种")  # one open name per town
    with site.db.transaction() as s:
        service.assign_machine(s, s.get(FieldTask, _task(site, other)), machine(s), actor=None)
        service.close_operation(s, s.get(Operation, op), actor=None)
    client, _ = sign_in(site, "f-town")
    closed = client.get(f"/fieldwork/operations/{op}").text
    assert "已结束" in closed and "作业中农机" not in closed and "待命志愿者" not in closed
    assert "作业中农机" in client.get(f"/fieldwork/operations/{other}").text


def test_registering_a_machine_volunteer_or_buyer_says_it_was_registered(staff, site):
    """A registration came back to the same-looking page with nothing to say it had worked."""
    client, csrf = sign_in(site, "f-town")
    r = client.post("/fieldwork/machines", data={"csrf": csrf, "township_code": PEIJIE, "kind": "pump", "label": "抽水泵 2 号",
                                                 "owner": "朱吕村集体", "owner_kind": "cooperative", "village_code": ZHULV})
    page = client.get(r.headers["location"]).text
    assert '<p class="notice" role="status">已登记，见下表。</p>' in page and "抽水泵 2 号" in page
    r = client.post("/fieldwork/volunteers", data={"csrf": csrf, "township_code": PEIJIE, "name": "张伟", "phone": ""})
    assert "已登记，见下表。" in client.get(r.headers["location"]).text
    r = client.post("/fieldwork/buyers", data={"csrf": csrf, "township_code": PEIJIE, "name": "晋南粮贸", "crops": "谷子"})
    assert "已登记，见下表。" in client.get(r.headers["location"]).text
    with site.db.transaction() as s:
        pump = s.scalar(select(Machine).where(Machine.label == "抽水泵 2 号")).id
    r = client.post(f"/fieldwork/machines/{pump}/state", data={"csrf": csrf, "state": "repair"})
    page = client.get(r.headers["location"]).text
    assert "已更新。" in page and "修好，可调派" in page
    assert "已登记" not in client.get("/fieldwork/machines").text


def test_completing_a_task_does_not_record_a_recall_nobody_made(staff, site):
    """Completion's release of the machines was listed as 「撤回」 by the coordinator."""
    op = _operation(site)
    t = _task(site, op, work_kind="road", area=None)
    with site.db.transaction() as s:
        service.assign_machine(s, s.get(FieldTask, t), machine(s, kind="truck", label="晋L 运输车"), actor=None)
    client, csrf = sign_in(site, "f-town")
    r = client.post(f"/fieldwork/tasks/{t}/complete", data={"csrf": csrf})
    page = client.get(r.headers["location"]).text
    history = page.split('id="history"')[1]
    assert "释放农机或人员" in history and "释放农机 1 台、人员 0 人" in history and "撤回 ·" not in history


def _kpi(page, label):
    """The href and the figure of a dashboard count, by its label."""
    head, _ = page.split(f"<span>{label}</span>", 1)
    href = head.rsplit('href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    figure = page.split(f"<span>{label}</span><strong>", 1)[1].split("</strong>", 1)[0]
    return href, int(figure)


def test_two_operations_in_one_township_each_count_their_own_machines_and_people(staff, site):
    """With 秋收 and 抢种 open in 裴介镇 at once, both dashboards showed the township's machines:
    「作业中农机 3」 on each, six in all for three machines working."""
    harvest = _operation(site)
    with site.db.transaction() as s:
        sowing = service.create_operation(s, actor=None, name="裴介镇小麦抢种", township_code=PEIJIE, crops="小麦",
                                          start_date=date(2026, 10, 5), target_date=date(2026, 10, 25)).id
    reap, sow = _task(site, harvest), _task(site, sowing, village_code=DALV, work_kind="sowing", plot="大吕村麦田")
    with site.db.transaction() as s:
        service.assign_machine(s, s.get(FieldTask, reap), machine(s, label="秋收收割机"), actor=None)
        service.assign_machine(s, s.get(FieldTask, sow), machine(s, kind="seeder", label="抢种播种机甲"), actor=None)
        service.assign_machine(s, s.get(FieldTask, sow), machine(s, kind="tractor", label="抢种拖拉机乙"), actor=None)
        machine(s, label="空闲收割机")
        service.assign_volunteer(s, s.get(FieldTask, reap), volunteer(s, name="秋收志愿者"), actor=None)
        volunteer(s, name="待命志愿者")
    client, _ = sign_in(site, "f-town")
    boards = {op: client.get(f"/fieldwork/operations/{op}").text for op in (harvest, sowing)}
    figures = {op: {label: _kpi(page, label) for label in ("本行动作业中农机", "全镇可调派农机", "本行动在岗志愿者",
                                                           "全镇待命志愿者")} for op, page in boards.items()}
    assert figures[harvest]["本行动作业中农机"][1] == 1 and figures[sowing]["本行动作业中农机"][1] == 2
    assert figures[harvest]["本行动在岗志愿者"][1] == 1 and figures[sowing]["本行动在岗志愿者"][1] == 0
    # The free pool is the township's, the same on both, and says so.
    assert figures[harvest]["全镇可调派农机"][1] == figures[sowing]["全镇可调派农机"][1] == 1
    assert figures[harvest]["全镇待命志愿者"][1] == figures[sowing]["全镇待命志愿者"][1] == 1
    # Each count opens the rows it counts.
    expected = {(harvest, "本行动作业中农机"): (["秋收收割机"], ["抢种播种机甲", "抢种拖拉机乙", "空闲收割机"]),
                (sowing, "本行动作业中农机"): (["抢种播种机甲", "抢种拖拉机乙"], ["秋收收割机", "空闲收割机"]),
                (harvest, "全镇可调派农机"): (["空闲收割机"], ["秋收收割机", "抢种播种机甲"]),
                (harvest, "本行动在岗志愿者"): (["秋收志愿者"], ["待命志愿者"]),
                (sowing, "本行动在岗志愿者"): ([], ["秋收志愿者", "待命志愿者"]),
                (harvest, "全镇待命志愿者"): (["待命志愿者"], ["秋收志愿者"])}
    for (op, label), (shown, hidden) in expected.items():
        href, count = figures[op][label]
        listing = client.get(href).text
        assert f"共 {count} " in listing, (op, label, href)
        assert all(n in listing for n in shown) and not any(n in listing for n in hidden), (op, label, href)
    # The operation's own lists say which operation they are.
    listing = client.get(figures[sowing]["本行动作业中农机"][0]).text
    assert "正在「<a" in listing and "裴介镇小麦抢种</a>」的任务上作业的农机" in listing
    # And the two operations' figures add up to the township's.
    with site.db.transaction() as s:
        a = queries.dashboard(s, SYSTEM, s.get(Operation, harvest))
        b = queries.dashboard(s, SYSTEM, s.get(Operation, sowing))
    assert a["machines"]["working"] + b["machines"]["working"] == a["township"]["machines"]["working"] == 3
    assert a["volunteers"]["on_task"] + b["volunteers"]["on_task"] == a["township"]["volunteers"]["on_task"] == 1


def _back_form(page, action):
    """The hidden list filters (``back``) of the state-change form posting to ``action``."""
    form = page.split(f'action="{action}"', 1)[1].split("</form>", 1)[0]
    return form.split('name="back" value="', 1)[1].split('"', 1)[0].replace("&amp;", "&")


def test_changing_a_machines_or_volunteers_state_comes_back_to_the_same_filtered_list(staff, site):
    """报修 on a list filtered to 收割机 came back to the whole register, unfiltered."""
    with site.db.transaction() as s:
        broken = machine(s, label="待修收割机").id
        machine(s, label="另一台收割机")
        machine(s, kind="pump", label="QW150 水泵")
        away = volunteer(s, name="外出甲").id
        volunteer(s, name="待命乙")
        service.register_volunteer(s, actor=None, township_code="141002103", name="县底丙")
    client, csrf = sign_in(site, "f-town")
    listing = f"/fieldwork/machines?kind=harvester&township={PEIJIE}"
    page = client.get(listing).text
    r = client.post(f"/fieldwork/machines/{broken}/state", data={
        "csrf": csrf, "state": "repair", "back": _back_form(page, f"/fieldwork/machines/{broken}/state")})
    assert r.status_code == 303
    assert r.headers["location"] == f"/fieldwork/machines?kind=harvester&township={PEIJIE}&done=changed"
    page = client.get(r.headers["location"]).text
    assert "已更新。" in page and "共 2 台" in page and "QW150 水泵" not in page
    assert '<option value="harvester" selected>' in page and "修好，可调派" in page

    listing = f"/fieldwork/volunteers?on_task=0&available=1&township={PEIJIE}"
    page = client.get(listing).text
    r = client.post(f"/fieldwork/volunteers/{away}/available", data={
        "csrf": csrf, "available": "0", "back": _back_form(page, f"/fieldwork/volunteers/{away}/available")})
    page = client.get(r.headers["location"]).text
    assert "已更新。" in page and "共 1 人" in page and "待命乙" in page and "外出甲" not in page
    assert "县底丙" not in page
    assert f'<a href="/fieldwork/volunteers?on_task=0&amp;available=1&amp;township={PEIJIE}" aria-current="page">待命</a>' in page


@pytest.mark.parametrize("back", ["//evil.example/x", "https://evil.example/", "kind=harvester&next=//evil.example",
                                  "kind=harvester%0d%0aSet-Cookie:x=1", "state=<script>", "kind=" + "a" * 600])
def test_the_kept_filters_are_only_the_lists_own_and_never_lead_elsewhere(staff, site, back):
    with site.db.transaction() as s:
        m = machine(s).id
    client, csrf = sign_in(site, "f-town")
    r = client.post(f"/fieldwork/machines/{m}/state", data={"csrf": csrf, "state": "repair", "back": back})
    assert r.status_code == 303
    location = r.headers["location"]
    assert location.startswith("/fieldwork/machines?") and location.endswith("done=changed")
    assert "evil" not in location and "script" not in location and "Set-Cookie" not in location
    assert location in ("/fieldwork/machines?done=changed", "/fieldwork/machines?kind=harvester&done=changed")


def test_a_finished_task_does_not_say_nobody_was_ever_sent(staff, site):
    """A completed task's page said 「尚未调派农机或人员」 (not sent yet): its machine had worked it
    and been released."""
    op = _operation(site)
    t = _task(site, op, work_kind="road", area=None)
    with site.db.transaction() as s:
        service.assign_machine(s, s.get(FieldTask, t), machine(s, kind="truck", label="晋L 运输车"), actor=None)
        service.complete(s, s.get(FieldTask, t), actor=None)
    client, _ = sign_in(site, "f-town")
    resources = client.get(f"/fieldwork/tasks/{t}").text.split('id="resources"')[1].split("</section>")[0]
    assert "尚未调派" not in resources and "任务已结束，农机和人员已释放" in resources
    assert "尚未调派农机或人员" in client.get(f"/fieldwork/tasks/{_task(site, op)}").text


def test_the_overdue_headings_count_opens_every_overdue_task(staff, site):
    """The dashboard lists 20 overdue tasks; its heading's count was plain text, the rest out of reach."""
    op = _operation(site)
    for i in range(22):
        _task(site, op, plot=f"低洼地 {i}", due_date=date(2026, 10, 2))
    clock.freeze(datetime(2026, 10, 5, 9, 0))
    client, _ = sign_in(site, "f-town")
    page = client.get(f"/fieldwork/operations/{op}").text
    heading = page.split('id="overdue"')[1].split("</h2>")[0]
    assert f'<a href="/fieldwork/tasks?operation={op}&overdue=1">22</a>' in heading
    assert "下表列出优先级最高的 20 项" in heading


# ---------------------------------------------------------------- slips found by exploratory QA


def _new_operation(client, csrf, **kw):
    data = {"csrf": csrf, "name": "裴介镇小麦抢种", "township_code": PEIJIE, "crops": "小麦", "start_date": "2026-10-05",
            "target_date": "2026-10-25"}
    data.update(kw)
    return client.post("/fieldwork/operations", data=data)


def test_an_operation_or_task_with_absurd_dates_is_refused_on_the_page(staff, site):
    """新建行动 1900-01-01 to 2099-12-31 was listed 进行中; a task due 2099-01-01 on an operation ending
    2026-10-20 was saved."""
    client, csrf = sign_in(site, "f-town")
    r = _new_operation(client, csrf, name="荒唐日期行动", start_date="1900-01-01", target_date="2099-12-31")
    assert r.status_code == 422 and "开始日期 1900-01-01 过早：不能早于 2000-01-01" in r.text
    assert 'value="荒唐日期行动"' in r.text and 'value="2099-12-31"' in r.text  # typed values kept
    r = _new_operation(client, csrf, name="荒唐日期行动", start_date="2026-10-01", target_date="2099-12-31")
    assert r.status_code == 422 and "目标完成日期 2099-12-31 距开始日期超过一年" in r.text
    assert "荒唐日期行动</a>" not in client.get("/fieldwork").text
    op = _operation(site)
    page = client.get(f"/fieldwork/operations/{op}").text
    assert 'name="due_date" value="2026-10-20" min="2026-10-01" max="2026-10-20"' in page
    r = client.post(f"/fieldwork/operations/{op}/tasks", data={
        "csrf": csrf, "village_code": ZHULV, "plot": "村东谷子地", "work_kind": "harvest", "area": "8",
        "priority": "1", "due_date": "2099-01-01"})
    assert r.status_code == 422 and "要求完成日期不能晚于行动目标完成日期 2026-10-20" in r.text
    assert 'value="2099-01-01"' in r.text
    with site.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(FieldTask)) == 0


def test_a_task_page_offers_no_dispatch_when_the_town_has_nothing_free(staff, site):
    """With no machine registered, 调派农机 stood under an empty dropdown and said 「请选择志愿者」."""
    t = _task(site, _operation(site))
    client, csrf = sign_in(site, "f-town")
    page = client.get(f"/fieldwork/tasks/{t}").text
    assert "本镇暂无可调派的农机" in page and "本镇暂无待命的志愿者" in page
    assert 'name="machine_id"' not in page and ">调派农机</button>" not in page
    assert 'name="volunteer_id"' not in page and ">调派志愿者</button>" not in page
    # A form posted empty anyway (an old tab) is asked for what it was about.
    r = client.post(f"/fieldwork/tasks/{t}/assign", data={"csrf": csrf, "what": "machine", "machine_id": ""})
    assert r.status_code == 422 and "请选择农机" in r.text and "请选择志愿者" not in r.text
    r = client.post(f"/fieldwork/tasks/{t}/assign", data={"csrf": csrf, "what": "volunteer", "volunteer_id": ""})
    assert r.status_code == 422 and "请选择志愿者" in r.text
    r = client.post(f"/fieldwork/tasks/{t}/assign", data={"csrf": csrf})
    assert r.status_code == 422 and "请选择要调派的农机或志愿者" in r.text
    with site.db.transaction() as s:
        volunteer(s, name="李强")
    page = client.get(f"/fieldwork/tasks/{t}").text
    assert ">调派志愿者</button>" in page and "李强（朱吕村" in page and "本镇暂无待命的志愿者" not in page
    assert ">调派农机</button>" not in page


def test_the_same_machine_is_registered_once_and_dispatch_tells_machines_apart(staff, site):
    """登记农机 twice with the same details made two rows, listed as two identical lines to dispatch."""
    t = _task(site, _operation(site))
    client, csrf = sign_in(site, "f-town")
    typed = {"csrf": csrf, "township_code": PEIJIE, "kind": "harvester", "label": "测试收割机 X1", "owner": "张三",
             "owner_kind": "person", "phone": "13912345678"}
    assert client.post("/fieldwork/machines", data=typed).status_code == 303
    with site.db.transaction() as s:
        first = s.scalar(select(Machine.id).where(Machine.label == "测试收割机 X1"))
    r = client.post("/fieldwork/machines", data=typed)
    assert r.status_code == 409
    assert f"本镇已登记这台农机：#{first} 收割机「测试收割机 X1」张三（可调派），无须重复登记" in r.text
    assert 'value="测试收割机 X1"' in r.text  # typed values kept
    listing = client.get("/fieldwork/machines").text
    assert "共 1 台" in listing and f"<td>#{first}</td>" in listing
    # The same model of another owner is another machine: the dispatch list tells them apart.
    assert client.post("/fieldwork/machines", data={**typed, "owner": "李四", "phone": "13912340000"}).status_code == 303
    with site.db.transaction() as s:
        second = s.scalar(select(Machine.id).where(Machine.owner == "李四"))
    page = client.get(f"/fieldwork/tasks/{t}").text
    assert f"建议：收割机「测试收割机 X1」#{first} 张三 13912345678（本镇）" in page
    assert f"建议：收割机「测试收割机 X1」#{second} 李四 13912340000（本镇）" in page


def test_a_ticket_already_behind_an_unfinished_task_says_so_before_any_form(staff, site):
    """/fieldwork/from-ticket/{number} showed the whole form again; only submitting it said
    「已转为任务 #36，尚未完成」."""
    op = _operation(site)
    with site.db.transaction() as s:
        number = register(s, staff, content="朱吕村我家五亩谷子被淹了，请帮忙抢收。", address="朱吕村南洼地").number
    client, csrf = site.signed_in("supervisor")
    r = client.post(f"/fieldwork/from-ticket/{number}", data={"csrf": csrf, "operation_id": str(op), "area": "5",
                                                              "work_kind": "harvest", "due_date": ""})
    task_id = int(r.headers["location"].split("/fieldwork/tasks/")[1].split("?")[0])
    page = client.get(f"/fieldwork/from-ticket/{number}")
    assert page.status_code == 200
    assert f'已转为<a href="/fieldwork/tasks/{task_id}">作业任务 #{task_id}</a>（抢收，待安排），尚未完成' in page.text
    assert f'action="/fieldwork/from-ticket/{number}"' not in page.text and "转为抢收任务</button>" not in page.text
    # Once that task is finished, the ticket may become a task again.
    with site.db.transaction() as s:
        service.cancel(s, s.get(FieldTask, task_id), actor=None, reason="农户已自行收割")
    page = client.get(f"/fieldwork/from-ticket/{number}").text
    assert f'action="/fieldwork/from-ticket/{number}"' in page and "尚未完成" not in page


def test_an_area_on_road_repair_is_refused_not_silently_dropped(staff, site):
    """A 道路抢修 task with 面积 30 was saved without its area, and nothing said so."""
    op = _operation(site)
    client, csrf = sign_in(site, "f-town")
    typed = {"csrf": csrf, "village_code": ZHULV, "plot": "村南生产路", "work_kind": "road", "area": "30", "priority": "1",
             "due_date": "2026-10-08"}
    r = client.post(f"/fieldwork/operations/{op}/tasks", data=typed)
    assert r.status_code == 422 and "道路抢修任务不按亩计，面积请留空" in r.text
    assert 'name="area" value="30"' in r.text and 'value="村南生产路"' in r.text
    with site.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(FieldTask)) == 0
    assert 'placeholder="道路抢修、电力保障不填"' in client.get(f"/fieldwork/operations/{op}").text
    r = client.post(f"/fieldwork/operations/{op}/tasks", data={**typed, "area": ""})
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "<dt>面积</dt>" not in page and "道路抢修" in page


@pytest.mark.parametrize(("path", "message"), [
    ("/fieldwork/machines?operation=abc", "行动编号「abc」无效"),
    ("/fieldwork/volunteers?operation=abc", "行动编号「abc」无效"),
    ("/fieldwork/tasks?operation=abc", "行动编号「abc」无效"),
    ("/fieldwork/tasks?machine=x1", "农机编号「x1」无效"),
    ("/fieldwork/tasks?volunteer=-3", "志愿者编号「-3」无效"),
])
def test_a_filter_that_is_not_a_number_is_named_as_typed(staff, site, path, message):
    """/fieldwork/machines?operation=abc said 「行动 0 不存在」."""
    client, _ = sign_in(site, "f-town")
    r = client.get(path)
    assert r.status_code == 422 and message in r.text and "行动 0" not in r.text


def test_a_second_open_operation_of_the_same_name_is_refused_on_the_page(staff, site):
    client, csrf = sign_in(site, "f-town")
    r = _new_operation(client, csrf, name="裴介镇秋季抢收抢种")
    assert r.status_code == 303
    first = int(r.headers["location"].rsplit("/", 1)[1])
    r = _new_operation(client, csrf, name="裴介镇秋季抢收抢种", start_date="2026-10-06")
    assert r.status_code == 409
    assert (f"裴介镇已有进行中的行动「裴介镇秋季抢收抢种」（#{first}，2026-10-05 至 2026-10-25），请在该行动中登记任务"
            in r.text) and 'value="2026-10-06"' in r.text
    assert client.get("/fieldwork").text.count("裴介镇秋季抢收抢种</a>") == 1


def test_a_twin_saved_by_another_tab_at_the_same_instant_is_refused_on_the_form(staff, site, monkeypatch):
    """Two tabs submitting 登记农机 or 新建行动 at once: the second passes the check before the first
    commits, and the database's unique index refuses its row. The form says what the check says,
    with what was typed, not 「操作未保存」 or a fault page."""
    client, csrf = sign_in(site, "f-town")
    typed = {"csrf": csrf, "township_code": PEIJIE, "kind": "harvester", "label": "测试收割机 X1", "owner": "张三",
             "owner_kind": "person", "phone": "13912345678"}
    assert client.post("/fieldwork/machines", data=typed).status_code == 303
    blind_once(monkeypatch, "_same_machine")
    r = client.post("/fieldwork/machines", data={**typed, "label": "测试收割机 x1"})
    with site.db.transaction(write=False) as s:
        first = s.scalar(select(Machine.id).where(Machine.label == "测试收割机 X1"))
        assert s.scalar(select(func.count()).select_from(Machine)) == 1
    assert r.status_code == 409 and "操作未保存" not in r.text
    assert f"本镇已登记这台农机：#{first} 收割机「测试收割机 X1」张三（可调派），无须重复登记" in r.text
    assert 'value="测试收割机 x1"' in r.text

    r = _new_operation(client, csrf, name="裴介镇秋季抢收抢种")
    op = int(r.headers["location"].rsplit("/", 1)[1])
    blind_once(monkeypatch, "_open_named")
    r = _new_operation(client, csrf, name="裴介镇秋季抢收抢种", start_date="2026-10-06")
    assert r.status_code == 409 and "操作未保存" not in r.text
    assert (f"裴介镇已有进行中的行动「裴介镇秋季抢收抢种」（#{op}，2026-10-05 至 2026-10-25），请在该行动中登记任务"
            in r.text) and 'value="2026-10-06"' in r.text
    assert client.get("/fieldwork").text.count("裴介镇秋季抢收抢种</a>") == 1


def test_a_coordinator_moves_the_target_day_when_the_harvest_runs_late(staff, site):
    """Rain held the harvest back: tasks may only be due within the operation, so the coordinator
    moves its target day, and cannot move it before a task still to do."""
    op = _operation(site)  # 2026-10-01 to 2026-10-20
    client, csrf = sign_in(site, "f-town")
    task = {"csrf": csrf, "village_code": ZHULV, "plot": "村西玉米地", "work_kind": "harvest", "area": "5",
            "crop": "玉米", "farmer_name": "李秀英", "farmer_phone": "13803597778", "priority": "1",
            "due_date": "2026-10-28"}
    r = client.post(f"/fieldwork/operations/{op}/tasks", data=task)
    assert r.status_code == 422 and "不能晚于行动目标完成日期 2026-10-20" in r.text
    assert f'action="/fieldwork/operations/{op}/target"' in client.get(f"/fieldwork/operations/{op}").text
    r = client.post(f"/fieldwork/operations/{op}/target", data={"csrf": csrf, "target_date": "2026-10-31"})
    assert r.status_code == 303
    assert "目标完成日期已改为 2026-10-31。" in client.get(r.headers["location"]).text
    assert client.post(f"/fieldwork/operations/{op}/tasks", data=task).status_code == 303
    r = client.post(f"/fieldwork/operations/{op}/target", data={"csrf": csrf, "target_date": "2026-10-25"})
    assert r.status_code == 422 and "不能早于未完成任务的要求完成日期 2026-10-28" in r.text
    assert 'value="2026-10-25"' in r.text  # what was typed stays in the form
    r = client.post(f"/fieldwork/operations/{op}/target", data={"csrf": csrf, "target_date": "2028-10-25"})
    assert r.status_code == 422 and "距开始日期超过一年" in r.text
    with site.db.transaction(write=False) as s:
        assert s.get(Operation, op).target_date == date(2026, 10, 31)
    # A village's staff report progress; they do not move the township's operation.
    village, vcsrf = sign_in(site, "f-village")
    r = village.post(f"/fieldwork/operations/{op}/target", data={"csrf": vcsrf, "target_date": "2026-11-05"})
    assert r.status_code == 403
    with site.db.transaction(write=False) as s:
        assert s.get(Operation, op).target_date == date(2026, 10, 31)


# ---------------------------------------------------------------- corrections and confirmations


def test_a_task_typed_with_an_absurd_area_is_corrected_on_its_edit_form(staff, site):
    op_id = _operation(site)
    task_id = _task(site, op_id, area=9000)  # 90 亩 meant
    client, csrf = sign_in(site, "f-town")
    board = client.get(f"/fieldwork/operations/{op_id}").text
    assert "0.0 / 9000.0" in board
    page = client.get(f"/fieldwork/tasks/{task_id}").text
    assert f'href="/fieldwork/tasks/{task_id}/edit"' in page
    form = client.get(f"/fieldwork/tasks/{task_id}/edit").text
    assert 'name="area" value="9000"' in form and 'value="村东谷子地"' in form and 'value="13803591234"' in form
    fields = {"csrf": csrf, "village_code": ZHULV, "plot": "村东谷子地", "work_kind": "harvest", "area": "90000",
              "crop": "谷子", "farmer_name": "王建国", "farmer_phone": "13803591234", "priority": "1",
              "due_date": "2026-10-08", "note": ""}
    r = client.post(f"/fieldwork/tasks/{task_id}/edit", data=fields)
    assert r.status_code == 422 and "面积 90000 亩过大：一块地不能超过 10,000 亩" in r.text
    assert 'name="area" value="90000"' in r.text  # what was typed is kept to be corrected
    r = client.post(f"/fieldwork/tasks/{task_id}/edit", data={**fields, "area": "90", "farmer_phone": "13803595678"})
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "任务已修改" in page and "90 亩" in page and "13803595678" in page and "面积：9000 亩 → 90 亩" in page
    assert "0.0 / 90.0" in client.get(f"/fieldwork/operations/{op_id}").text
    # A village committee sees the task but may not change it.
    village, _ = sign_in(site, "f-village")
    assert village.get(f"/fieldwork/tasks/{task_id}/edit").status_code == 403
    assert f"/fieldwork/tasks/{task_id}/edit" not in village.get(f"/fieldwork/tasks/{task_id}").text


def test_a_machines_wrong_phone_and_a_misspelt_volunteer_are_corrected_on_their_forms(staff, site):
    with site.db.transaction() as s:
        m, twin = machine(s), machine(s, label="约翰迪尔 C230")
        p = volunteer(s, name="李墙")
        m_id, twin_id, p_id = m.id, twin.id, p.id
    client, csrf = sign_in(site, "f-town")
    assert f'href="/fieldwork/machines/{m_id}/edit"' in client.get("/fieldwork/machines").text
    form = client.get(f"/fieldwork/machines/{m_id}/edit").text
    assert 'value="雷沃谷神 GE80"' in form and 'value="13903590001"' in form
    fields = {"csrf": csrf, "village_code": ZHULV, "kind": "harvester", "label": "雷沃谷神 GE80",
              "owner": "裴介农机合作社", "owner_kind": "cooperative", "phone": "13903590009"}
    r = client.post(f"/fieldwork/machines/{m_id}/edit", data=fields)
    assert r.status_code == 303
    assert "已更新" in client.get(r.headers["location"]).text
    assert "13903590009" in client.get("/fieldwork/machines").text
    r = client.post(f"/fieldwork/machines/{m_id}/edit", data={**fields, "label": "约翰迪尔 C230", "phone": "13903590001"})
    assert r.status_code == 409 and f"本镇已登记这台农机：#{twin_id} 收割机「约翰迪尔 C230」" in r.text
    r = client.post(f"/fieldwork/machines/{m_id}/edit", data={**fields, "kind": "fly"})
    assert r.status_code == 422 and "「fly」无效，可选：收割机、拖拉机" in r.text and "harvester" not in r.text.split("「fly」")[1][:80]

    assert f'href="/fieldwork/volunteers/{p_id}/edit"' in client.get("/fieldwork/volunteers").text
    r = client.post(f"/fieldwork/volunteers/{p_id}/edit", data={"csrf": csrf, "name": "李强", "phone": "13703590002",
                                                                 "village_code": DALV, "skills": "驾驶收割机"})
    assert r.status_code == 303
    listing = client.get("/fieldwork/volunteers").text
    assert "李强" in listing and "李墙" not in listing and "大吕村" in listing


def test_a_volunteer_registered_twice_is_refused_on_the_page_naming_the_row(staff, site):
    with site.db.transaction() as s:
        first = volunteer(s).id
    client, csrf = sign_in(site, "f-town")
    r = client.post("/fieldwork/volunteers", data={"csrf": csrf, "township_code": PEIJIE, "name": "李强",
                                                   "phone": "13703590002", "village_code": "", "skills": ""})
    assert r.status_code == 409
    assert f"本镇已登记这位志愿者：#{first} 李强 13703590002（朱吕村，待命），无须重复登记" in r.text
    assert client.get("/fieldwork/volunteers").text.count("13703590002") == 1


def test_disruptive_clicks_ask_first_naming_the_task_or_machine(staff, site):
    op_id = _operation(site)
    task_id = _task(site, op_id)
    with site.db.transaction() as s:
        m = machine(s)
        service.assign_machine(s, s.get(FieldTask, task_id), m, actor=None)
        m_id = m.id
    client, _ = sign_in(site, "f-town")
    page = html.unescape(client.get(f"/fieldwork/tasks/{task_id}").text)
    assert f'hx-confirm="确认任务 #{task_id}（朱吕村 村东谷子地）已完成？' in page
    assert f'hx-confirm="确认取消任务 #{task_id}（朱吕村 村东谷子地）？取消后不能恢复' in page
    registers = html.unescape(client.get("/fieldwork/machines").text)
    assert (f'hx-confirm="确认收割机「雷沃谷神 GE80」#{m_id}（裴介农机合作社）报修？它将撤离当前任务 #{task_id}'
            in registers)
    board = html.unescape(client.get(f"/fieldwork/operations/{op_id}").text)
    assert 'hx-confirm="确认结束行动「裴介镇秋季抢收抢种」？' in board


def test_the_progress_form_shows_only_once_someone_is_sent_and_says_what_to_do_before(staff, site):
    op_id = _operation(site)
    task_id = _task(site, op_id)
    client, _ = sign_in(site, "f-town")
    village, _ = sign_in(site, "f-village")
    page = client.get(f"/fieldwork/tasks/{task_id}").text
    assert f'action="/fieldwork/tasks/{task_id}/progress"' not in page
    assert "任务尚未调派农机或人员，还不能上报进度。请先在上方「农机和人员」中调派农机或志愿者" in page
    assert "取消任务" in page  # the coordinator may still cancel a pending task
    seen = village.get(f"/fieldwork/tasks/{task_id}").text
    assert f'action="/fieldwork/tasks/{task_id}/progress"' not in seen and "镇里调派农机或人员后即可在此上报" in seen
    with site.db.transaction() as s:
        service.assign_machine(s, s.get(FieldTask, task_id), machine(s), actor=None)
    assert f'action="/fieldwork/tasks/{task_id}/progress"' in village.get(f"/fieldwork/tasks/{task_id}").text


def test_past_days_are_refused_on_the_forms_and_the_inputs_start_today(staff, site):
    op_id = _operation(site)
    clock.freeze(datetime(2026, 10, 5, 9, 0))
    client, csrf = sign_in(site, "f-town")
    board = client.get(f"/fieldwork/operations/{op_id}").text
    assert 'name="due_date" value="2026-10-20" min="2026-10-05" max="2026-10-20"' in board
    r = client.post(f"/fieldwork/operations/{op_id}/tasks", data={
        "csrf": csrf, "village_code": ZHULV, "plot": "村东", "work_kind": "harvest", "area": "5", "priority": "1",
        "due_date": "2026-10-04"})
    assert r.status_code == 422 and "要求完成日期 2026-10-04 已过：不能早于今天（2026-10-05）" in r.text
    listing = client.get("/fieldwork").text
    assert 'name="target_date" value="" min="2026-10-05"' in listing
    r = client.post("/fieldwork/operations", data={"csrf": csrf, "name": "补登秋收", "township_code": PEIJIE,
                                                   "crops": "谷子", "start_date": "2026-09-01", "target_date": "2026-09-20"})
    assert r.status_code == 422 and "目标完成日期 2026-09-20 已过" in r.text


def test_an_empty_operation_form_names_every_missing_field(staff, site):
    client, csrf = sign_in(site, "f-town")
    r = client.post("/fieldwork/operations", data={"csrf": csrf, "name": "", "township_code": PEIJIE, "crops": "",
                                                   "start_date": "", "target_date": ""})
    assert r.status_code == 422 and "请填写行动名称、作物、开始日期、目标完成日期" in r.text


def test_an_operation_already_over_and_a_closed_ticket_are_not_offered_for_a_task(staff, site):
    with site.db.transaction() as s:
        open_ticket = make_ticket(s, staff, Status.in_progress, content="朱吕村谷子倒伏，请帮忙抢收").number
        closed = make_ticket(s, staff, Status.archived, content="排水沟堵塞，污水漫到路上").number
    _operation(site, name="九月抢收", start_date=date(2026, 9, 20), target_date=date(2026, 9, 30))
    _operation(site)
    clock.freeze(datetime(2026, 10, 2, 9, 0))  # 九月抢收 is over, still open
    client, csrf = site.signed_in("supervisor")
    form = client.get(f"/fieldwork/from-ticket/{open_ticket}").text
    assert "裴介镇秋季抢收抢种" in form and "九月抢收" not in form
    assert 'name="due_date" value="" min="2026-10-02" max="2026-10-20"' in form
    assert "转为抢收任务" not in client.get(f"/tickets/{closed}").text
    page = client.get(f"/fieldwork/from-ticket/{closed}").text
    assert f"工单 {closed}「已归档」，已不在办理中，不能转为抢收任务" in page and 'name="operation_id"' not in page
    with site.db.transaction() as s:
        op_id = s.query(Operation).filter(Operation.name == "裴介镇秋季抢收抢种").one().id
    r = client.post(f"/fieldwork/from-ticket/{closed}", data={"csrf": csrf, "operation_id": str(op_id), "area": "5"})
    assert r.status_code == 409 and "已不在办理中" in r.text
    with site.db.transaction() as s:
        assert s.query(FieldTask).count() == 0
