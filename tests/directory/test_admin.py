"""Admins' changes to the directory (``directory.admin``): each refusal names the field in Chinese,
each change is seen by the next read of the reference snapshot and the dispatch catalogue."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from hotline.directory import admin, reference
from hotline.directory.models import DispatchRule, LimitUnit, Stage, TimeLimit, Unit
from hotline.kit.db import Database
from hotline.kit.errors import Invalid, NotFound
from hotline.routing.catalogue import suggest_units
from hotline.tickets.models import Urgency
from tests.builders import ZHULV, unit_id
from tests.directory.restore import reference_kept


@pytest.fixture
def s(db: Database) -> Iterator:
    with reference_kept(db):
        session = db.session()
        try:
            yield session
        finally:
            session.rollback()
            session.close()


def refused(match: str):
    return pytest.raises(Invalid, match=match)


# ---------------------------------------------------------------- units


def test_a_unit_is_added_with_its_parent_and_regions_and_a_duplicate_code_is_refused(s):
    unit = admin.add_unit(s, code="xiaxian-forest", name="夏县林业局", kind="bureau", parent_code="xiaxian-gov",
                          region_code="140828", phone="0359-1234567")
    assert unit.parent_id == unit_id(s, "xiaxian-gov") and unit.active
    assert [r.region_code for r in unit.regions] == ["140828"]  # serves its own region by default
    assert reference.snapshot(s).units[unit.id][:2] == ("xiaxian-forest", "夏县林业局")
    with refused("单位编码：xiaxian-forest 已被使用"):
        admin.add_unit(s, code="xiaxian-forest", name="另一个", kind="bureau")
    with refused("单位编码须为"):
        admin.add_unit(s, code="夏县林业局", name="夏县林业局", kind="bureau")
    with refused("上级单位：单位 nowhere 不存在"):
        admin.add_unit(s, code="xiaxian-forest2", name="夏县林业局", kind="bureau", parent_code="nowhere")
    with refused("所在地区：行政区划代码 999999 不存在"):
        admin.add_unit(s, code="xiaxian-forest3", name="夏县林业局", kind="bureau", region_code="999999")
    with refused("单位类型"):
        admin.add_unit(s, code="xiaxian-forest4", name="夏县林业局", kind="ministry")


def test_a_second_active_unit_of_the_same_name_is_refused(s):
    """Dispatchers pick units by name: two 夏县水利局 would be two identical options."""
    with refused(r"单位名称：已有同名单位 夏县水利局（xiaxian-water），请换一个名称"):
        admin.add_unit(s, code="xiaxian-water-x", name="夏县水利局", kind="bureau", region_code="140828")
    other = admin.add_unit(s, code="xiaxian-forest", name="夏县林业局", kind="bureau", region_code="140828")
    keep = dict(phone=None, parent_code=None, region_code="140828", open_tickets=0)
    with refused("单位名称：已有同名单位 夏县水利局"):
        admin.edit_unit(s, code="xiaxian-forest", name="夏县水利局", active=True, **keep)
    # a stopped unit's name may be taken, and it cannot come back under it while the other is in use
    admin.edit_unit(s, code="xiaxian-forest", name="夏县林业局", active=False, **keep)
    admin.add_unit(s, code="xiaxian-forest-2", name="夏县林业局", kind="bureau", region_code="140828")
    with refused("单位名称：已有同名单位 夏县林业局（xiaxian-forest-2）"):
        admin.edit_unit(s, code="xiaxian-forest", name="夏县林业局", active=True, **keep)
    assert not other.active


def test_a_unit_phone_must_be_a_phone_number(s):
    with refused("电话：电话号码「abc」无法识别（填座机如 0359-1234567、手机号或 12345 这样的服务号码）"):
        admin.add_unit(s, code="xiaxian-forest", name="夏县林业局", kind="bureau", phone="abc")
    with refused("电话：电话号码「0359-12」不是有效号码"):
        admin.add_unit(s, code="xiaxian-forest", name="夏县林业局", kind="bureau", phone="0359-12")
    unit = admin.add_unit(s, code="xiaxian-forest", name="夏县林业局", kind="bureau", phone=" 0359-1234567 ")
    assert unit.phone == "0359-1234567"
    keep = dict(name="运城市12345热线中心", parent_code=None, region_code="1408", active=True, open_tickets=0)
    assert admin.edit_unit(s, code="yuncheng-12345", phone="12345", **keep).phone == "12345"  # a service number
    with refused("电话：电话号码「abc」无法识别"):
        admin.edit_unit(s, code="yuncheng-12345", phone="abc", **keep)


def test_a_parent_below_the_unit_itself_is_refused(s):
    gov = s.scalar(select(Unit).where(Unit.code == "xiaxian-gov"))
    keep = dict(name=gov.name, phone=gov.phone, region_code=gov.region_code, active=True, open_tickets=0)
    with refused("上级单位：夏县水利局 是 夏县人民政府 本身或其下级，会形成循环"):
        admin.edit_unit(s, code="xiaxian-gov", parent_code="xiaxian-water", **keep)
    with refused("会形成循环"):
        admin.edit_unit(s, code="xiaxian-gov", parent_code="xiaxian-gov", **keep)
    admin.edit_unit(s, code="xiaxian-gov", parent_code="", **{**keep, "name": "夏县政府"})
    assert gov.parent_id is None and reference.snapshot(s).units[gov.id][1] == "夏县政府"


def test_a_unit_with_open_tickets_cannot_be_deactivated(s):
    zhulv = s.scalar(select(Unit).where(Unit.code == "xiaxian-peijie-zhulv"))  # no catalogue rule names it
    keep = dict(name=zhulv.name, phone=zhulv.phone, parent_code="xiaxian-peijie", region_code=ZHULV)
    with refused("朱吕村村民委员会还有 3 张未办结的工单，不能停用"):
        admin.edit_unit(s, code="xiaxian-peijie-zhulv", active=False, open_tickets=3, **keep)
    assert zhulv.active
    admin.edit_unit(s, code="xiaxian-peijie-zhulv", active=False, open_tickets=0, **keep)
    assert not reference.snapshot(s).units[zhulv.id][2]
    admin.edit_unit(s, code="xiaxian-peijie-zhulv", active=True, open_tickets=5, **keep)  # reactivating is fine
    assert zhulv.active


def test_a_unit_named_by_catalogue_rules_is_not_deactivated_and_the_rules_are_named(s):
    """A stopped unit left in the catalogue would be suggested, and dispatching the suggestion would fail."""
    water = s.scalar(select(Unit).where(Unit.code == "xiaxian-water"))
    named = [r for r in s.scalars(select(DispatchRule)) if water.id in [r.lead_unit_id, *(r.co_unit_ids or [])]]
    assert len(named) > 5
    keep = dict(name=water.name, phone=water.phone, parent_code="xiaxian-gov", region_code="140828", open_tickets=0)
    with pytest.raises(Invalid) as refusal:
        admin.edit_unit(s, code="xiaxian-water", active=False, **keep)
    message = refusal.value.message
    assert message.startswith("状态：派单目录中还有由夏县水利局主办或协办的规则：「供水 × 运城市夏县（140828）」（主办）、")
    assert f"等 {len(named)} 条；请先在派单目录中将这些规则改派给其他单位或删除，再停用" in message
    assert refusal.value.code == "unit_used_by_catalogue" and water.active
    # one rule, as co-handler only: named in full; once the rule is gone the unit may stop
    admin.add_unit(s, code="xiaxian-forest", name="夏县林业局", kind="bureau", region_code="140828")
    rule = admin.add_rule(s, category_code="0502", region_code=ZHULV, lead_unit_code="xiaxian-housing",
                          co_unit_codes="xiaxian-forest")
    forest = dict(name="夏县林业局", phone=None, parent_code=None, region_code="140828", open_tickets=0)
    with refused(r"^状态：派单目录中还有由夏县林业局主办或协办的规则：「公厕 × 运城市夏县裴介镇朱吕村（140828102207）」"
                 r"（协办）；请先"):
        admin.edit_unit(s, code="xiaxian-forest", active=False, **forest)
    admin.delete_rule(s, rule_id=rule.id)
    assert not admin.edit_unit(s, code="xiaxian-forest", active=False, **forest).active


def test_a_stopped_co_handler_is_neither_suggested_nor_accepted_in_a_rule(s):
    admin.add_unit(s, code="xiaxian-forest", name="夏县林业局", kind="bureau", region_code="140828")
    rule = admin.add_rule(s, category_code="0502", region_code=ZHULV, lead_unit_code="xiaxian-housing",
                          co_unit_codes="xiaxian-forest xiaxian-water")
    forest, water = unit_id(s, "xiaxian-forest"), unit_id(s, "xiaxian-water")
    assert suggest_units(s, category_code="0502", region_code=ZHULV).co_unit_ids == [forest, water]
    # stopped behind the catalogue's back (as before the check existed): dispatching it would fail
    s.get(Unit, forest).active = False
    s.flush()
    reference.invalidate(s)
    found = suggest_units(s, category_code="0502", region_code=ZHULV)
    assert (found.lead_unit_id, found.co_unit_ids, found.rule_id) == (unit_id(s, "xiaxian-housing"), [water], rule.id)
    with refused("^协办单位：夏县林业局 已停用"):
        admin.edit_rule(s, rule_id=rule.id, category_code="0502", region_code=ZHULV, lead_unit_code="xiaxian-housing",
                        co_unit_codes="xiaxian-forest")
    with refused("^协办单位：夏县林业局 已停用"):
        admin.add_rule(s, category_code="0501", region_code=ZHULV, lead_unit_code="xiaxian-housing",
                       co_unit_codes="xiaxian-forest")


def test_the_regions_a_unit_serves_are_replaced(s):
    unit = admin.set_unit_regions(s, code="xiaxian-water", regions="140828, 140828102207\n140828102207")
    assert sorted(r.region_code for r in unit.regions) == ["140828", ZHULV]
    with refused("服务地区：行政区划代码 14082899 不存在"):
        admin.set_unit_regions(s, code="xiaxian-water", regions=["14082899"])
    # 夏县 and 朱吕村 replaced by the whole of 运城市: every catalogue rule of the unit is still covered
    assert [r.region_code for r in admin.set_unit_regions(s, code="xiaxian-water", regions=["1408"]).regions] == [
        "1408"]
    listed = {r["code"]: r for r in admin.unit_rows(s, q="xiaxian-water", open_counts={unit.id: 2})}
    assert listed["xiaxian-water"]["serves"] == ["1408"] and listed["xiaxian-water"]["open"] == 2
    assert listed["xiaxian-water"]["parent_code"] == "xiaxian-gov"


def _serves(s, code: str) -> list[str]:
    s.expire_all()
    return sorted(r.region_code for r in s.scalar(select(Unit).where(Unit.code == code)).regions)


def test_a_unit_keeps_the_regions_its_catalogue_rules_need_naming_the_rules_left_out(s):
    water = unit_id(s, "xiaxian-water")
    left_out = [r for r in s.scalars(select(DispatchRule))  # code prefixes: a region's own tree
                if water in [r.lead_unit_id, *(r.co_unit_ids or [])] and not r.region_code.startswith(ZHULV)]
    assert len(left_out) > 5
    with refused(f"服务地区：改后夏县水利局将不再服务派单目录中由它主办或协办的这些规则的地区："
                 f"「供水 × 运城市夏县（140828）」（主办）、「停水 × 运城市夏县（140828）」（协办）、.*"
                 f"等 {len(left_out)} 条；请先在派单目录中将这些规则改派给服务该地区的单位或删除，再缩小服务地区"):
        admin.set_unit_regions(s, code="xiaxian-water", regions=[ZHULV])
    with refused("服务地区：改后夏县水利局将不再服务"):
        admin.set_unit_regions(s, code="xiaxian-water", regions="")
    assert _serves(s, "xiaxian-water") == ["140828"]
    # one village fewer for the station serving six: its five rules there, all named, no 「等」
    six = _serves(s, "xiaxian-water-zhulv")
    with pytest.raises(Invalid) as refusal:
        admin.set_unit_regions(s, code="xiaxian-water-zhulv", regions=[c for c in six if c != "140828102215"])
    message = refusal.value.message
    assert message.count("运城市夏县裴介镇鲁因村（140828102215）") == 5 and "等" not in message
    assert "「供水 × 运城市夏县裴介镇鲁因村（140828102215）」（主办）" in message
    assert "「供水管网漏水 × 运城市夏县裴介镇鲁因村（140828102215）」（协办）" in message
    assert refusal.value.code == "unit_regions_used_by_catalogue" and _serves(s, "xiaxian-water-zhulv") == six


def test_a_unit_may_gain_regions_and_lose_those_no_rule_needs(s):
    # the six villages exchanged for their township, which covers them as it covers them for the catalogue
    admin.set_unit_regions(s, code="xiaxian-water-zhulv", regions="140828102")
    assert _serves(s, "xiaxian-water-zhulv") == ["140828102"]
    admin.set_unit_regions(s, code="xiaxian-water", regions="140828 140830")
    assert _serves(s, "xiaxian-water") == ["140828", "140830"]
    admin.set_unit_regions(s, code="xiaxian-water", regions="140828")
    assert _serves(s, "xiaxian-water") == ["140828"]
    # a rule already outside the unit's area (saved before the catalogue checked) blocks no change
    s.add(DispatchRule(category_code="0102", region_code="140426", lead_unit_id=unit_id(s, "xiaxian-water"),
                       co_unit_ids=[]))
    s.flush()
    admin.set_unit_regions(s, code="xiaxian-water", regions="140828 140830")
    admin.set_unit_regions(s, code="xiaxian-water", regions="140828")
    assert _serves(s, "xiaxian-water") == ["140828"]


# ---------------------------------------------------------------- categories


def test_a_child_category_extends_its_parents_code(s):
    row = admin.add_category(s, parent_code="01", code="0105", name="二次供水", keywords="二次供水 水箱，加压泵")
    assert (row.level, row.parent_code, row.default_kind.value) == (2, "01", "help")
    assert row.keywords == ["二次供水", "水箱", "加压泵"]
    assert reference.snapshot(s).categories["0105"].name == "二次供水"
    grandchild = admin.add_category(s, parent_code="0105", code="010501", name="水箱清洗", default_kind="complaint")
    assert grandchild.level == 3
    with refused("分类编码：须为01加两位数字"):
        admin.add_category(s, parent_code="01", code="0206", name="错位")
    with refused("分类编码：须为两位数字"):
        admin.add_category(s, code="160", name="三位")
    with refused("分类编码：0101 已存在"):
        admin.add_category(s, parent_code="01", code="0101", name="重复")
    with refused("上级分类：分类编码 77 不存在"):
        admin.add_category(s, parent_code="77", code="7701", name="无上级")
    with refused("分类名称"):
        admin.add_category(s, code="16", name=" ")
    assert admin.add_category(s, code="16", name="新一级").level == 1


def test_a_category_is_renamed_deactivated_and_its_keywords_checked(s):
    admin.edit_category(s, code="0502", name="公共厕所", keywords="公厕|厕所|如厕", active=False)
    cached = reference.snapshot(s).categories["0502"]
    assert (cached.name, cached.active, cached.keywords) == ("公共厕所", False, ["公厕", "厕所", "如厕"])
    with refused("关键词「" + "很" * 21):
        admin.edit_category(s, code="0502", name="公厕", keywords="很" * 21, active=True)
    with refused("分类：分类编码 0599 不存在"):
        admin.edit_category(s, code="0599", name="无", keywords="", active=True)
    tree = admin.category_tree(s)
    assert [c["code"] for c in tree][:2] == ["01", "0101"] and not next(c for c in tree if c["code"] == "01")["leaf"]


def test_stopping_a_heading_stops_its_subcategories_and_starting_it_again_starts_the_heading_only(s):
    """A subcategory left in use under a stopped heading would still be offered at intake."""
    admin.edit_category(s, code="0302", name="供暖", keywords="暖气", active=False)  # stopped on its own
    heading, stopped = admin.edit_category(s, code="03", name="燃气与供暖", keywords="燃气", active=False)
    assert not heading.active and [c.code for c in stopped] == ["0301"]  # 0302 was already stopped
    cached = reference.snapshot(s).categories
    assert not any(cached[c].active for c in ("03", "0301", "0302"))
    with refused("^状态：上级分类 03 燃气与供暖 已停用，请先启用上级分类"):
        admin.edit_category(s, code="0301", name="燃气", keywords="燃气", active=True)
    heading, stopped = admin.edit_category(s, code="03", name="燃气与供暖", keywords="燃气", active=True)
    assert heading.active and stopped == []
    cached = reference.snapshot(s).categories
    assert cached["03"].active and not cached["0301"].active and not cached["0302"].active
    admin.edit_category(s, code="0301", name="燃气", keywords="燃气", active=True)
    assert reference.snapshot(s).categories["0301"].active and not reference.snapshot(s).categories["0302"].active


def test_a_second_active_category_of_the_same_name_under_one_parent_is_refused(s):
    """A ticket import names a category by its name: two 停水 under 供水 would make every such row ambiguous."""
    with refused("分类名称：「供水」下已有分类「停水」（0101），请换一个名称"):
        admin.add_category(s, parent_code="01", code="0109", name="停水")
    with refused("分类名称：已有一级分类「供水」（01）"):
        admin.add_category(s, code="16", name="供水")
    with refused("分类名称：「供水」下已有分类「停水」（0101）"):
        admin.edit_category(s, code="0102", name="停水", keywords="", active=True)
    assert admin.add_category(s, parent_code="02", code="0209", name="停水").parent_code == "02"  # another parent
    admin.edit_category(s, code="0101", name="停水", keywords="停水", active=False)
    assert admin.add_category(s, parent_code="01", code="0109", name="停水").active  # the old one is stopped


# ---------------------------------------------------------------- time limits


@pytest.mark.parametrize("amount, unit, message", [
    ("0", "hours", "须大于 0"), (-3, "hours", "须大于 0"), ("三", "hours", "不是整数"), ("2.5", "hours", "不是整数"),
    ("2161", "hours", "过长（最多 2160小时）"), ("366", "days", "过长"), ("251", "working_days", "过长"),
    ("5", "weeks", "时限单位：未知单位 weeks"), ("", "hours", "^时限不能为空"), ("  ", "days", "^时限不能为空"),
    (None, "hours", "^时限不能为空")])
def test_an_absurd_time_limit_is_refused(s, amount, unit, message):
    with refused(message):
        admin.add_time_limit(s, stage="reply", category_code="0502", amount=amount, unit=unit)


def test_a_time_limit_is_added_edited_and_deleted_and_the_snapshot_follows(s):
    row = admin.add_time_limit(s, stage="reply", category_code="0502", urgency="", kind="complaint", amount="7",
                               unit="working_days")
    assert (row.stage, row.category_code, row.urgency, row.kind) == (Stage.reply, "0502", None, "complaint")
    assert reference.LimitRow("reply", "0502", None, "complaint", 7, "working_days") in reference.snapshot(s).limits
    with refused("适用范围：已有相同环节和范围的时限"):
        admin.add_time_limit(s, stage="reply", category_code="0502", kind="complaint", amount=3, unit="days")
    with refused("环节：未知环节 finish"):
        admin.add_time_limit(s, stage="finish", amount=3, unit="days")
    with refused("紧急程度：未知值 very"):
        admin.add_time_limit(s, stage="reply", urgency="very", amount=3, unit="days")
    with refused("诉求类型：未知类型 rant"):
        admin.add_time_limit(s, stage="reply", kind="rant", amount=3, unit="days")
    with refused("分类：分类编码 0599 不存在"):
        admin.add_time_limit(s, stage="reply", category_code="0599", amount=3, unit="days")
    admin.edit_time_limit(s, limit_id=row.id, amount="10", unit="hours")
    assert reference.LimitRow("reply", "0502", None, "complaint", 10, "hours") in reference.snapshot(s).limits
    shown = next(r for r in admin.limit_rows(s) if r["id"] == row.id)
    assert (shown["stage_name"], shown["amount_text"], shown["category_name"]) == ("反馈", "10 小时", "公厕")
    admin.delete_time_limit(s, limit_id=row.id)
    assert s.get(TimeLimit, row.id) is None
    assert all(r.category_code != "0502" for r in reference.snapshot(s).limits)
    with pytest.raises(NotFound):
        admin.edit_time_limit(s, limit_id=row.id, amount="1", unit=LimitUnit.hours.value)


def test_the_urgencies_are_the_tickets():
    assert tuple(u.value for u in Urgency) == admin.URGENCIES


# ---------------------------------------------------------------- dispatch catalogue


def test_a_catalogue_rule_decides_the_suggestion_until_it_is_deleted(s):
    before = suggest_units(s, category_code="0502", region_code=ZHULV)
    housing, water = unit_id(s, "xiaxian-housing"), unit_id(s, "xiaxian-water")
    assert before.lead_unit_id != housing
    rule = admin.add_rule(s, category_code="0502", region_code=ZHULV, lead_unit_code="xiaxian-housing",
                          co_unit_codes="xiaxian-water xiaxian-water", note="村内公厕由住建局牵头")
    found = suggest_units(s, category_code="0502", region_code=ZHULV)
    assert (found.lead_unit_id, found.co_unit_ids, found.rule_id) == (housing, [water], rule.id)
    admin.edit_rule(s, rule_id=rule.id, category_code="0502", region_code=ZHULV, lead_unit_code="xiaxian-water")
    assert suggest_units(s, category_code="0502", region_code=ZHULV).lead_unit_id == water
    admin.delete_rule(s, rule_id=rule.id)
    assert suggest_units(s, category_code="0502", region_code=ZHULV) == before


def test_a_bad_or_duplicate_rule_is_refused(s):
    good = dict(category_code="0502", region_code=ZHULV, lead_unit_code="xiaxian-housing")
    with refused("事项分类：分类编码 0599 不存在"):
        admin.add_rule(s, **{**good, "category_code": "0599"})
    with refused("行政区划：行政区划代码 140828999999 不存在"):
        admin.add_rule(s, **{**good, "region_code": "140828999999"})
    with refused("主办单位：单位 nobody 不存在"):
        admin.add_rule(s, **{**good, "lead_unit_code": "nobody"})
    with refused("协办单位：单位 nobody 不存在"):
        admin.add_rule(s, **good, co_unit_codes="xiaxian-water nobody")
    with refused("协办单位：夏县住房和城乡建设局 已是主办单位"):
        admin.add_rule(s, **good, co_unit_codes="xiaxian-housing")
    with refused(f"事项分类与行政区划：0103 × {ZHULV} 已有派单规则"):
        admin.add_rule(s, **{**good, "category_code": "0103"})
    with refused("主办单位：运城市12345热线中心是热线中心，不承办工单；请选择职能部门、乡镇等承办单位"):
        admin.add_rule(s, **{**good, "lead_unit_code": "yuncheng-12345"})
    with refused("协办单位：运城市12345热线中心是热线中心，不承办工单"):
        admin.add_rule(s, **good, co_unit_codes="yuncheng-12345")
    rule = admin.add_rule(s, **good)
    with refused("已有派单规则"):
        admin.edit_rule(s, rule_id=rule.id, **{**good, "category_code": "0103"})
    admin.edit_rule(s, rule_id=rule.id, **good, note="同一条规则保存两次不算重复")
    with pytest.raises(NotFound):
        admin.delete_rule(s, rule_id=2**31)


def test_a_rule_naming_a_unit_that_does_not_serve_its_region_is_refused_naming_the_units_area(s):
    lichengxian = "140426"  # 黎城县, 长治市: 夏县水利局 serves 夏县 (运城市) only
    with refused("主办单位：夏县水利局的服务地区是运城市夏县（140828），不含长治市黎城县（140426）"):
        admin.add_rule(s, category_code="0102", region_code=lichengxian, lead_unit_code="xiaxian-water")
    with refused("协办单位：夏县水利局的服务地区是运城市夏县（140828），不含长治市黎城县（140426）"):
        admin.add_rule(s, category_code="0102", region_code=lichengxian, lead_unit_code="changzhi-gov",
                       co_unit_codes="xiaxian-water")
    # a village-level unit does not cover the whole county
    with refused("协办单位：夏县朱吕集中供水站的服务地区是运城市夏县裴介镇.*等 6 个地区，不含运城市夏县（140828）"):
        admin.add_rule(s, category_code="0502", region_code="140828", lead_unit_code="xiaxian-water",
                       co_unit_codes="xiaxian-water-zhulv")
    admin.add_unit(s, code="nowhere-office", name="无地区办公室", kind="bureau")
    with refused("主办单位：无地区办公室未设置服务地区"):
        admin.add_rule(s, category_code="0502", region_code=ZHULV, lead_unit_code="nowhere-office")
    rule = admin.add_rule(s, category_code="0102", region_code=lichengxian, lead_unit_code="changzhi-gov")
    # a city-wide or province-wide unit covers every place below it
    admin.edit_rule(s, rule_id=rule.id, category_code="0502", region_code=ZHULV, lead_unit_code="yuncheng-gov",
                    co_unit_codes="xiaxian-water-zhulv")
    with refused("主办单位：长治市人民政府的服务地区是长治市（1404），不含运城市夏县裴介镇朱吕村"):
        admin.edit_rule(s, rule_id=rule.id, category_code="0502", region_code=ZHULV, lead_unit_code="changzhi-gov")


def test_every_rule_of_the_shipped_catalogue_names_units_that_serve_its_region(s):
    for rule in s.scalars(select(DispatchRule)):
        for uid in [rule.lead_unit_id, *(rule.co_unit_ids or [])]:
            admin._serves(s, s.get(Unit, uid), rule.region_code, "单位")


def test_the_catalogue_is_listed_by_category_and_region_a_page_at_a_time(s):
    total = s.query(DispatchRule).count()
    rows, count = admin.rule_rows(s, per_page=50)
    assert count == total and len(rows) == 50
    page2, _ = admin.rule_rows(s, per_page=50, page=2)
    assert not {r["id"] for r in rows} & {r["id"] for r in page2}
    rows, count = admin.rule_rows(s, category_code="01", region_code="140828")
    assert count >= 9 and all(r["category_code"].startswith("01") and r["region_code"].startswith("140828")
                              for r in rows)
    zhulv = next(r for r in rows if r["category_code"] == "0103" and r["region_code"] == ZHULV)
    assert (zhulv["lead_name"], zhulv["co_names"], zhulv["region_name"]) == ("夏县水利局", ["夏县朱吕集中供水站"],
                                                                             "夏县裴介镇朱吕村")


def test_a_name_note_or_keyword_with_a_control_character_is_refused_naming_the_field(s):
    with refused(r"^单位名称含有不可见的控制字符（U\+0000）"):
        admin.add_unit(s, code="xiaxian-forest", name="夏县\x00林业局", kind="bureau")
    with refused(r"^分类名称含有不可见的控制字符（U\+001B）"):
        admin.edit_category(s, code="0502", name="公厕\x1b", keywords="", active=True)
    with refused(r"^关键词含有不可见的控制字符（U\+0009）"):
        admin.add_category(s, parent_code="01", code="0105", name="二次供水", keywords=["水\t箱"])
    with refused(r"^备注含有不可见的控制字符（U\+0000）"):
        admin.add_rule(s, category_code="0502", region_code=ZHULV, lead_unit_code="xiaxian-housing", note="a\x00")
