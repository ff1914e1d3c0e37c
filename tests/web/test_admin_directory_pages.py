"""System administration of the directory in pages: units, categories and time limits, the
dispatch catalogue; admins only, each change seen by the very next request."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from hotline.directory.models import DispatchRule, TimeLimit, Unit
from hotline.kit import clock
from hotline.routing.catalogue import suggest_units
from hotline.tickets.models import Ticket
from hotline.tickets.states import Status
from tests.builders import ZHULV, make_ticket, register, unit_id
from tests.directory.restore import reference_kept


@pytest.fixture
def admin_site(site) -> Iterator:
    with reference_kept(site.db):
        yield site


def test_the_admin_adds_a_unit_and_a_duplicate_code_keeps_what_was_typed(admin_site):
    site = admin_site
    client, csrf = site.signed_in("admin")
    html = client.get("/admin/units").text
    assert "承办单位" in html and "夏县水利局" in html and "派单目录" in html
    form = {"csrf": csrf, "code": "xiaxian-forest", "name": "夏县林业局", "kind": "bureau",
            "parent_code": "xiaxian-gov", "region_code": "140828", "phone": "0359-1234567", "serves": ""}
    r = client.post("/admin/units", data=form)
    assert r.status_code == 303
    html = client.get(r.headers["location"]).text
    assert "已添加承办单位 夏县林业局（xiaxian-forest）" in html and "0359-1234567" in html
    r = client.post("/admin/units", data={**form, "name": "夏县林业和草原局", "phone": "0359-7654321"})
    assert r.status_code == 422 and "单位编码：xiaxian-forest 已被使用" in r.text
    assert 'value="夏县林业和草原局"' in r.text and 'value="0359-7654321"' in r.text
    with site.db.transaction(write=False) as s:
        assert s.scalar(select(Unit.name).where(Unit.code == "xiaxian-forest")) == "夏县林业局"
    # the new unit can take a handler at once
    r = client.post("/admin/users", data={"csrf": csrf, "username": "forest1", "display_name": "林工",
                                          "role": "handler", "unit_code": "xiaxian-forest", "phone": "",
                                          "password": "secret-pass-1"})
    assert r.status_code == 303


def test_a_unit_with_an_open_ticket_is_not_deactivated_and_says_how_many(admin_site, people):
    site = admin_site
    with site.db.transaction() as s:
        make_ticket(s, people, Status.accepted)
    client, csrf = site.signed_in("admin")
    edit = client.get("/admin/units?edit=xiaxian-water").text
    assert "修改承办单位" in edit and "现有 1 张未办结工单" in edit
    form = {"csrf": csrf, "name": "夏县水利局", "phone": "0359-2010536", "parent_code": "xiaxian-gov",
            "region_code": "140828", "active": "0", "serves": "140828"}
    r = client.post("/admin/units/xiaxian-water", data=form)
    assert r.status_code == 422 and "还有 1 张未办结的工单，不能停用" in r.text
    r = client.post("/admin/units/xiaxian-water", data={**form, "active": "1", "parent_code": "xiaxian-water"})
    assert r.status_code == 422 and "会形成循环" in r.text and 'value="xiaxian-water"' in r.text
    r = client.post("/admin/units/xiaxian-water", data={**form, "active": "1", "phone": "0359-0000000"})
    assert r.status_code == 303 and "已保存承办单位 夏县水利局（在用）" in client.get(r.headers["location"]).text


def test_a_unit_the_catalogue_names_is_not_deactivated_and_the_page_names_the_rules(admin_site):
    site = admin_site
    client, csrf = site.signed_in("admin")
    assert "派单目录中由它主办或协办的规则也须先改派或删除" in client.get("/admin/units?edit=xiaxian-water").text
    form = {"csrf": csrf, "name": "夏县水利局", "phone": "0359-2010536", "parent_code": "xiaxian-gov",
            "region_code": "140828", "active": "0", "serves": "140828"}
    r = client.post("/admin/units/xiaxian-water", data=form)
    assert r.status_code == 422
    assert "状态：派单目录中还有由夏县水利局主办或协办的规则：「供水 × 运城市夏县（140828）」（主办）" in r.text
    assert "请先在派单目录中将这些规则改派给其他单位或删除，再停用" in r.text
    with site.db.transaction(write=False) as s:
        assert s.scalar(select(Unit.active).where(Unit.code == "xiaxian-water"))


def test_a_unit_is_not_shrunk_below_its_catalogue_rules_and_the_form_keeps_what_was_typed(admin_site):
    site = admin_site
    client, csrf = site.signed_in("admin")
    form = {"csrf": csrf, "name": "夏县水利局", "phone": "0359-2010536", "parent_code": "xiaxian-gov",
            "region_code": "140828", "active": "1", "serves": "140828 140830"}
    r = client.post("/admin/units/xiaxian-water", data=form)  # a county more
    assert r.status_code == 303 and "已保存承办单位 夏县水利局" in client.get(r.headers["location"]).text
    r = client.post("/admin/units/xiaxian-water", data={**form, "serves": ZHULV, "phone": "0359-7654321"})
    assert r.status_code == 422
    assert "服务地区：改后夏县水利局将不再服务派单目录中由它主办或协办的这些规则的地区" in r.text
    assert "「供水 × 运城市夏县（140828）」（主办）" in r.text and "改派给服务该地区的单位或删除" in r.text
    assert f'name="serves" maxlength="2000" value="{ZHULV}"' in r.text and 'value="0359-7654321"' in r.text
    with site.db.transaction(write=False) as s:
        water = s.scalar(select(Unit).where(Unit.code == "xiaxian-water"))
        assert sorted(r.region_code for r in water.regions) == ["140828", "140830"]
        assert water.phone == "0359-2010536"  # nothing of the refused form was saved
    r = client.post("/admin/units/xiaxian-water", data={**form, "serves": "140828"})  # the county no rule needs
    assert r.status_code == 303
    with site.db.transaction(write=False) as s:
        assert [r.region_code for r in s.scalar(select(Unit).where(Unit.code == "xiaxian-water")).regions] == [
            "140828"]


def test_a_handler_is_refused_and_a_post_without_csrf_is_refused(admin_site):
    site = admin_site
    handler, csrf = site.signed_in("handler_a")
    for path in ("/admin/units", "/admin/categories", "/admin/catalogue"):
        r = handler.get(path)
        assert r.status_code == 403 and "只有管理员" in r.text
    r = handler.post("/admin/catalogue", data={"csrf": csrf, "category_code": "0502", "region_code": ZHULV,
                                               "lead_unit_code": "xiaxian-water"})
    assert r.status_code == 403
    admin, _ = site.signed_in("admin")
    r = admin.post("/admin/categories/limits", data={"stage": "reply", "amount": "3", "unit": "days"})
    assert r.status_code == 403 and "页面已过期" in r.text
    r = admin.post("/admin/units", data={"code": "xiaxian-forest", "name": "夏县林业局", "kind": "bureau"})
    assert r.status_code == 403
    with site.db.transaction(write=False) as s:
        assert s.scalar(select(Unit.id).where(Unit.code == "xiaxian-forest")) is None
        assert s.scalar(select(DispatchRule.id).where(DispatchRule.category_code == "0502",
                                                      DispatchRule.region_code == ZHULV)) is None


def test_an_edited_time_limit_sets_the_due_time_of_the_next_ticket_only(admin_site, people):
    site = admin_site
    clock.freeze(datetime(2026, 3, 10, 2, 0, tzinfo=UTC))  # a Tuesday, 10:00 in Shanxi
    with site.db.transaction() as s:
        before = register(s, people, urgency="normal")
        old_number, old_due = before.number, before.dispatch_due_at
        limit_id = s.scalar(select(TimeLimit.id).where(TimeLimit.stage == "dispatch", TimeLimit.category_code == "01",
                                                       TimeLimit.urgency.is_(None), TimeLimit.kind.is_(None)))
    assert old_due - clock.now() == timedelta(hours=2)
    client, csrf = site.signed_in("admin")
    html = client.get("/admin/categories").text
    assert "已登记工单的截止时间不会改变" in html and "2 小时" in html and "工作日" in html
    r = client.post(f"/admin/categories/limits/{limit_id}", data={"csrf": csrf, "amount": "0", "unit": "hours"})
    assert r.status_code == 422 and "时限：须大于 0" in r.text
    r = client.post(f"/admin/categories/limits/{limit_id}", data={"csrf": csrf, "amount": " ", "unit": "hours"})
    assert r.status_code == 422 and "时限不能为空" in r.text and "不是整数" not in r.text
    r = client.post("/admin/categories/limits", data={"csrf": csrf, "stage": "reply", "category_code": "0502",
                                                      "amount": "", "unit": "days"})
    assert r.status_code == 422 and "时限不能为空" in r.text and '<option value="0502" selected' in r.text
    r = client.post(f"/admin/categories/limits/{limit_id}", data={"csrf": csrf, "amount": "9999", "unit": "hours"})
    assert r.status_code == 422 and "过长" in r.text and 'value="9999"' in r.text
    r = client.post(f"/admin/categories/limits/{limit_id}", data={"csrf": csrf, "amount": "5", "unit": "hours"})
    assert r.status_code == 303 and "改为 5 小时" in client.get(r.headers["location"]).text
    with site.db.transaction() as s:
        after = register(s, people, urgency="normal")
        assert after.dispatch_due_at - clock.now() == timedelta(hours=5)
        assert s.scalar(select(Ticket.dispatch_due_at).where(Ticket.number == old_number)) == old_due


def test_a_category_is_added_under_its_parent_and_a_wrong_code_is_refused(admin_site):
    client, csrf = admin_site.signed_in("admin")
    form = {"csrf": csrf, "parent_code": "01", "code": "0205", "name": "二次供水", "default_kind": "",
            "keywords": "水箱 加压"}
    r = client.post("/admin/categories", data=form)
    assert r.status_code == 422 and "须为01加两位数字" in r.text and 'value="二次供水"' in r.text
    r = client.post("/admin/categories", data={**form, "code": "0105"})
    assert r.status_code == 303 and "已添加分类 0105 二次供水" in client.get(r.headers["location"]).text
    r = client.post("/admin/categories/0105", data={"csrf": csrf, "name": "二次供水设施", "keywords": "水箱",
                                                    "active": "0", "default_kind": "complaint"})
    assert r.status_code == 303 and "二次供水设施（已停用）" in client.get(r.headers["location"]).text


def test_stopping_a_heading_stops_its_subcategories_at_intake_and_starting_it_again_says_they_stay(admin_site):
    site = admin_site
    client, csrf = site.signed_in("admin")
    agent, _ = site.signed_in("agent")
    assert "燃气（0301）" in agent.get("/agent/intake").text
    assert "停用上级分类时，其下所有子分类一并停用" in client.get("/admin/categories?edit=03").text
    form = {"csrf": csrf, "name": "燃气与供暖", "keywords": "燃气", "default_kind": "help"}
    r = client.post("/admin/categories/03", data={**form, "active": "0"})
    assert r.status_code == 303
    assert ("已保存分类 03 燃气与供暖（已停用）；其下子分类 0301 燃气、0302 供暖已一并停用"
            in client.get(r.headers["location"]).text)
    intake = agent.get("/agent/intake").text
    assert "燃气（0301）" not in intake and "供暖（0302）" not in intake
    r = client.post("/admin/categories/0301", data={**form, "name": "燃气", "active": "1"})
    assert r.status_code == 422 and "上级分类 03 燃气与供暖 已停用，请先启用上级分类" in r.text
    r = client.post("/admin/categories/03", data={**form, "active": "1"})
    assert ("已保存分类 03 燃气与供暖（在用）；其下子分类保持原状态，已停用的子分类如需启用请逐个修改"
            in client.get(r.headers["location"]).text)
    assert "燃气（0301）" not in agent.get("/agent/intake").text


def test_a_catalogue_rule_added_in_the_page_makes_the_catalogue_suggest_that_unit(admin_site):
    site = admin_site
    client, csrf = site.signed_in("admin")
    html = client.get("/admin/catalogue").text
    assert "派单规则" in html and "第 1 /" in html and "下一页" in html
    form = {"csrf": csrf, "category_code": "0502", "region_code": ZHULV, "lead_unit_code": "xiaxian-housing",
            "co_unit_codes": "xiaxian-housing", "note": ""}
    empty = client.post("/admin/catalogue", data={"csrf": csrf})  # 添加 pressed with nothing chosen
    assert empty.status_code == 422 and "请选择事项分类" in empty.text and "（空）" not in empty.text
    r = client.post("/admin/catalogue", data={**form, "lead_unit_code": ""})
    assert r.status_code == 422 and "请选择主办单位" in r.text and "（空）" not in r.text
    r = client.post("/admin/catalogue", data=form)
    assert r.status_code == 422 and "已是主办单位" in r.text and 'value="xiaxian-housing"' in r.text
    r = client.post("/admin/catalogue", data={**form, "co_unit_codes": "xiaxian-water"})
    assert r.status_code == 303
    listed = client.get(r.headers["location"]).text
    assert "已添加派单规则" in listed and "夏县住房和城乡建设局" in listed and "共 1 条" in listed
    with site.db.transaction(write=False) as s:
        found = suggest_units(s, category_code="0502", region_code=ZHULV)
        assert found.source == "catalogue" and found.lead_unit_id == unit_id(s, "xiaxian-housing")
        rule_id = found.rule_id
    shown = client.get(f"/admin/catalogue?suggest_category=0502&suggest_region={ZHULV}").text
    assert f"依据派单目录第 {rule_id} 条" in shown
    r = client.post("/admin/catalogue", data={**form, "co_unit_codes": ""})
    assert r.status_code == 422 and "已有派单规则" in r.text
    r = client.post(f"/admin/catalogue/{rule_id}/delete", data={"csrf": csrf})
    assert r.status_code == 303
    with site.db.transaction(write=False) as s:
        assert suggest_units(s, category_code="0502", region_code=ZHULV).rule_id != rule_id


def test_a_lead_unit_that_does_not_serve_the_region_is_refused_in_the_page_keeping_the_form(admin_site):
    client, csrf = admin_site.signed_in("admin")
    form = {"csrf": csrf, "category_code": "0102", "region_code": "140426", "lead_unit_code": "xiaxian-water",
            "co_unit_codes": "", "note": "黎城县停水"}
    r = client.post("/admin/catalogue", data=form)
    assert r.status_code == 422
    assert "主办单位：夏县水利局的服务地区是运城市夏县（140828），不含长治市黎城县（140426）" in r.text
    assert 'value="xiaxian-water"' in r.text and 'value="黎城县停水"' in r.text
    with admin_site.db.transaction(write=False) as s:
        assert s.scalar(select(DispatchRule.id).where(DispatchRule.region_code == "140426",
                                                      DispatchRule.category_code == "0102")) is None
    r = client.post("/admin/catalogue", data={**form, "lead_unit_code": "licheng-water"})
    assert r.status_code == 303 and "已添加派单规则" in client.get(r.headers["location"]).text
