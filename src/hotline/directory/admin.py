"""Admins' changes to the directory: units, categories, time limits and the dispatch catalogue.

Every function is keyword-only, checks what it is given, raises ``Invalid`` with a message naming
the field (in Chinese) and flushes; the edge commits. Each change drops the reference snapshot of
this database (``reference.invalidate``), so the next read in this process sees it; the edge drops
it once more after the commit (a snapshot loaded between the flush and the commit would hold
uncommitted rows). Counting a unit's open tickets belongs to ``tickets``, a layer above: the caller
passes the number in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from hotline.directory import reference
from hotline.directory.models import (
    Category,
    DispatchRule,
    LimitUnit,
    Region,
    RequestKind,
    Stage,
    TimeLimit,
    Unit,
    UnitKind,
    UnitRegion,
)
from hotline.kit import phones
from hotline.kit.errors import Invalid, NotFound
from hotline.kit.text import no_control_characters

UNIT_KIND_NAMES = {UnitKind.hotline_center: "热线中心", UnitKind.government: "人民政府", UnitKind.bureau: "职能部门",
                   UnitKind.township: "乡镇（街道）", UnitKind.village_committee: "村（居）委会",
                   UnitKind.company: "公共服务企业"}
STAGE_NAMES = {Stage.dispatch: "派单", Stage.accept: "签收", Stage.contact: "联系来电人", Stage.reply: "反馈"}
LIMIT_UNIT_NAMES = {LimitUnit.hours: "小时", LimitUnit.days: "天", LimitUnit.working_days: "工作日"}
# The longest limit that makes sense per unit: beyond it a typo (240 for 24) is more likely than intent.
LIMIT_MAX = {LimitUnit.hours: 24 * 90, LimitUnit.days: 365, LimitUnit.working_days: 250}
# Ticket urgencies (``tickets.models.Urgency``, a layer above; a test keeps the two equal).
URGENCIES = ("normal", "urgent", "emergency")

_UNIT_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
_KEYWORD_SPLIT = re.compile(r"[|,，、;；\s]+")
MAX_KEYWORDS, MAX_KEYWORD_LEN = 40, 20


def _changed(session: Session) -> None:
    session.flush()
    reference.invalidate(session)


def _text(value: str | None, field: str, *, most: int, required: bool = True) -> str | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise Invalid(f"请填写{field}", details={"field": field})
        return None
    if len(text) > most:
        raise Invalid(f"{field}过长（最多 {most} 字）", details={"field": field})
    return no_control_characters(text, field)


# ---------------------------------------------------------------- units


def _phone(value: str | None) -> str | None:
    """A unit's phone: a valid landline or mobile number, or a service number such as 12345."""
    text = _text(value, "电话", most=40, required=False)
    try:
        return phones.checked(text, field="电话", service_numbers=True)
    except Invalid as exc:
        raise Invalid(f"电话：{exc.message}（填座机如 0359-1234567、手机号或 12345 这样的服务号码）",
                      code=exc.code, details=exc.details) from None


def unit_by_code(session: Session, code: str, field: str = "单位编码") -> Unit:
    unit = session.scalar(select(Unit).where(Unit.code == (code or "").strip()))
    if unit is None:
        raise Invalid(f"{field}：单位 {code.strip() or '（空）'} 不存在", details={"field": field})
    return unit


def _region(session: Session, code: str | None, field: str) -> str | None:
    code = (code or "").strip()
    if not code:
        return None
    if session.get(Region, code) is None:
        raise Invalid(f"{field}：行政区划代码 {code} 不存在", details={"field": field})
    return code


def _parent(session: Session, unit: Unit | None, parent_code: str | None) -> int | None:
    """The parent's id; refuses an unknown parent and a parent below the unit itself (a cycle)."""
    if not (parent_code or "").strip():
        return None
    parent = unit_by_code(session, parent_code or "", "上级单位")
    if unit is None:
        return parent.id
    seen: set[int] = set()
    node: Unit | None = parent
    while node is not None and node.id not in seen:
        if node.id == unit.id:
            raise Invalid(f"上级单位：{parent.name} 是 {unit.name} 本身或其下级，会形成循环", details={"field": "上级单位"})
        seen.add(node.id)
        node = node.parent
    return parent.id


def parse_regions(text: str | Iterable[str]) -> list[str]:
    """Region codes from a list or from text separated by commas, spaces or new lines."""
    items = _KEYWORD_SPLIT.split(text) if isinstance(text, str) else list(text)
    return list(dict.fromkeys(c.strip() for c in items if c and c.strip()))


def add_unit(session: Session, *, code: str, name: str, kind: str, parent_code: str | None = None,
             region_code: str | None = None, phone: str | None = None, serves: Iterable[str] | str = ()) -> Unit:
    """A new active unit. The code is its permanent key (lower-case letters, digits, hyphens); with
    no regions listed it serves the region it sits in."""
    code = (code or "").strip()
    if not _UNIT_CODE.match(code):
        raise Invalid("单位编码须为 2–40 位小写字母、数字或连字符（如 xiaxian-water）", details={"field": "单位编码"})
    if session.scalar(select(Unit.id).where(Unit.code == code)) is not None:
        raise Invalid(f"单位编码：{code} 已被使用，请换一个", code="duplicate", details={"field": "单位编码"})
    try:
        unit_kind = UnitKind(kind)
    except ValueError:
        raise Invalid(f"单位类型：未知类型 {kind}", details={"field": "单位类型"}) from None
    unit_name = _text(name, "单位名称", most=120)
    parent_id, region = _parent(session, None, parent_code), _region(session, region_code, "所在地区")
    _no_namesake(session, unit_name or "", None)
    unit = Unit(code=code, name=unit_name, kind=unit_kind, active=True, parent_id=parent_id, region_code=region,
                phone=_phone(phone))
    session.add(unit)
    session.flush()
    wanted = parse_regions(serves)
    set_unit_regions(session, code=code, regions=wanted or ([unit.region_code] if unit.region_code else []))
    return unit


def edit_unit(session: Session, *, code: str, name: str, phone: str | None, parent_code: str | None,
              region_code: str | None, active: bool, open_tickets: int) -> Unit:
    """Rename, move or (de)activate a unit. A unit with open tickets (``open_tickets``, counted by
    the caller) cannot be deactivated: nobody would answer them. Nor can a unit that catalogue rules
    name, as lead or co-handler: the catalogue would keep suggesting it and dispatching would fail."""
    unit = unit_by_code(session, code)
    if unit.active and not active and open_tickets > 0:
        raise Invalid(f"状态：{unit.name}还有 {open_tickets} 张未办结的工单，不能停用；请先改派或办结这些工单",
                      code="unit_has_open_tickets", details={"field": "状态", "open_tickets": open_tickets})
    if unit.active and not active:
        _not_in_catalogue(session, unit)
    new_name = _text(name, "单位名称", most=120) or unit.name
    if active and (new_name != unit.name or not unit.active):
        _no_namesake(session, new_name, unit.id)
    unit.name = new_name
    unit.phone = _phone(phone)
    unit.parent_id = _parent(session, unit, parent_code)
    unit.region_code = _region(session, region_code, "所在地区")
    unit.active = active
    _changed(session)
    return unit


def _no_namesake(session: Session, name: str, other_than: int | None) -> None:
    """Active units have different names: dispatchers pick a unit by its name."""
    query = select(Unit).where(Unit.name == name, Unit.active)
    if other_than is not None:
        query = query.where(Unit.id != other_than)
    same = session.scalars(query.limit(1)).first()
    if same is not None:
        raise Invalid(f"单位名称：已有同名单位 {same.name}（{same.code}），请换一个名称", code="duplicate",
                      details={"field": "单位名称", "code": same.code})


def set_unit_regions(session: Session, *, code: str, regions: Iterable[str] | str) -> Unit:
    """The regions a unit serves, replacing the old list. A change that would leave catalogue rules
    naming the unit (as lead or co-handler) outside its area is refused, naming those rules."""
    unit = unit_by_code(session, code)
    wanted = parse_regions(regions)
    for region in wanted:
        _region(session, region, "服务地区")
    _keeps_its_rules(session, unit, wanted)
    unit.regions[:] = [r for r in unit.regions if r.region_code in wanted]
    have = {r.region_code for r in unit.regions}
    unit.regions.extend(UnitRegion(region_code=c) for c in wanted if c not in have)
    _changed(session)
    return unit


SHOWN_RULES = 5  # rules named in a refusal; the rest are counted


def _keeps_its_rules(session: Session, unit: Unit, wanted: list[str]) -> None:
    """Refuses new service regions under which a catalogue rule naming the unit, covered by the old
    regions, would no longer be covered (``covers``, the catalogue's own test). A rule already
    outside the old area is not this change's doing and does not block it."""
    old = [r.region_code for r in unit.regions]
    if set(old) <= set(wanted):  # nothing removed: the area can only grow
        return
    snap = reference.snapshot(session)
    stranded: list[tuple[str, str, bool]] = []
    for rule in session.execute(select(DispatchRule.category_code, DispatchRule.region_code,
                                       DispatchRule.lead_unit_id, DispatchRule.co_unit_ids)
                                .order_by(DispatchRule.region_code, DispatchRule.category_code)):
        lead = rule.lead_unit_id == unit.id
        if not (lead or unit.id in (rule.co_unit_ids or [])):
            continue
        if covers(snap, old, rule.region_code) and not covers(snap, wanted, rule.region_code):
            stranded.append((rule.category_code, rule.region_code, lead))
    if not stranded:
        return
    raise Invalid(f"服务地区：改后{unit.name}将不再服务派单目录中由它主办或协办的这些规则的地区：{_rule_names(snap, stranded)}；"
                  f"请先在派单目录中将这些规则改派给服务该地区的单位或删除，再缩小服务地区",
                  code="unit_regions_used_by_catalogue",
                  details={"field": "服务地区", "unit": unit.code, "rules": len(stranded),
                           "shown": [{"category_code": c, "region_code": r, "lead": lead}
                                     for c, r, lead in stranded[:SHOWN_RULES]]})


def _rule_names(snap: reference.Snapshot, rules: list[tuple[str, str, bool]]) -> str:
    """'「供水 × 运城市夏县（140828）」（主办）、…等 12 条': the first few rules named, the rest counted."""
    return "、".join(
        f"「{snap.categories[c].name if c in snap.categories else c} × {_place(snap, r)}」（{'主办' if lead else '协办'}）"
        for c, r, lead in rules[:SHOWN_RULES]) + (f"等 {len(rules)} 条" if len(rules) > SHOWN_RULES else "")


def _not_in_catalogue(session: Session, unit: Unit) -> None:
    """Refuses to stop a unit that catalogue rules name (as lead or co-handler), naming the rules."""
    named: list[tuple[str, str, bool]] = []
    for rule in session.execute(select(DispatchRule.category_code, DispatchRule.region_code,
                                       DispatchRule.lead_unit_id, DispatchRule.co_unit_ids)
                                .order_by(DispatchRule.region_code, DispatchRule.category_code)):
        lead = rule.lead_unit_id == unit.id
        if lead or unit.id in (rule.co_unit_ids or []):
            named.append((rule.category_code, rule.region_code, lead))
    if not named:
        return
    snap = reference.snapshot(session)
    raise Invalid(f"状态：派单目录中还有由{unit.name}主办或协办的规则：{_rule_names(snap, named)}；"
                  f"请先在派单目录中将这些规则改派给其他单位或删除，再停用",
                  code="unit_used_by_catalogue",
                  details={"field": "状态", "unit": unit.code, "rules": len(named),
                           "shown": [{"category_code": c, "region_code": r, "lead": lead}
                                     for c, r, lead in named[:SHOWN_RULES]]})


def unit_rows(session: Session, *, q: str = "", kind: str = "", open_counts: dict[int, int] | None = None,
              ) -> list[dict[str, Any]]:
    """Units in code order with parent, region, served regions and (if given) open tickets."""
    query = select(Unit).order_by(Unit.code)
    if q.strip():
        term = q.strip()
        query = query.where(or_(Unit.name.contains(term, autoescape=True), Unit.code.contains(term, autoescape=True)))
    if kind in UnitKind.__members__:
        query = query.where(Unit.kind == UnitKind(kind))
    units = list(session.scalars(query))
    names = {uid: code for uid, code in session.execute(select(Unit.id, Unit.code))}
    serves: dict[int, list[str]] = {}
    for uid, region in session.execute(select(UnitRegion.unit_id, UnitRegion.region_code)
                                       .order_by(UnitRegion.region_code)):
        serves.setdefault(uid, []).append(region)
    counts = open_counts or {}
    return [{"id": u.id, "code": u.code, "name": u.name, "kind": u.kind.value, "kind_name": UNIT_KIND_NAMES[u.kind],
             "parent_code": names.get(u.parent_id, "") if u.parent_id else "", "region_code": u.region_code or "",
             "phone": u.phone or "", "active": u.active, "serves": serves.get(u.id, []),
             "open": counts.get(u.id, 0)} for u in units]


# ---------------------------------------------------------------- categories


def parse_keywords(text: str | Iterable[str]) -> list[str]:
    items = _KEYWORD_SPLIT.split(text) if isinstance(text, str) else list(text)
    words = list(dict.fromkeys(w.strip() for w in items if w and w.strip()))
    if len(words) > MAX_KEYWORDS:
        raise Invalid(f"关键词最多 {MAX_KEYWORDS} 个", details={"field": "关键词"})
    for word in words:
        no_control_characters(word, "关键词")
        if len(word) > MAX_KEYWORD_LEN:
            raise Invalid(f"关键词「{word[:30]}」过长（每个最多 {MAX_KEYWORD_LEN} 字）", details={"field": "关键词"})
    return words


def category(session: Session, code: str, field: str = "分类") -> Category:
    found = session.get(Category, (code or "").strip()) if len((code or "").strip()) <= 12 else None
    if found is None:
        raise Invalid(f"{field}：分类编码 {(code or '').strip() or '（空）'} 不存在", details={"field": field})
    return found


def add_category(session: Session, *, code: str, name: str, parent_code: str | None = None,
                 default_kind: str = "", keywords: str | Iterable[str] = "") -> Category:
    """A new category. Codes nest two digits a level: a top-level ``16``, its child ``1601``."""
    code = (code or "").strip()
    parent = category(session, parent_code or "", "上级分类") if (parent_code or "").strip() else None
    prefix = parent.code if parent else ""
    if not re.fullmatch(re.escape(prefix) + r"\d\d", code):
        shape = f"{prefix}加两位数字（如 {prefix}01）" if parent else "两位数字（如 16）"
        raise Invalid(f"分类编码：须为{shape}", details={"field": "分类编码"})
    if len(code) > 12:
        raise Invalid("分类编码：最多 6 级（12 位）", details={"field": "分类编码"})
    if session.get(Category, code) is not None:
        raise Invalid(f"分类编码：{code} 已存在", code="duplicate", details={"field": "分类编码"})
    try:
        kind = RequestKind(default_kind) if default_kind else (parent.default_kind if parent else RequestKind.help)
    except ValueError:
        raise Invalid(f"默认诉求类型：未知类型 {default_kind}", details={"field": "默认诉求类型"}) from None
    category_name = _text(name, "分类名称", most=80) or ""
    _no_sibling_namesake(session, category_name, parent.code if parent else None, None)
    row = Category(code=code, name=category_name, parent_code=parent.code if parent else None,
                   level=parent.level + 1 if parent else 1, default_kind=kind, keywords=parse_keywords(keywords),
                   active=True)
    session.add(row)
    _changed(session)
    return row


def edit_category(session: Session, *, code: str, name: str, keywords: str | Iterable[str], active: bool,
                  default_kind: str | None = None) -> tuple[Category, list[Category]]:
    """Rename, re-word or (de)activate a category; returns it and the subcategories its change
    stopped. Tickets keep their category either way; a deactivated one is no longer offered at intake.

    Stopping a heading stops every category below it (a subcategory of a stopped heading would
    still be offered and accepted). Starting it again starts the heading only: subcategories stay
    as they are, as the admin may have stopped some of them on purpose. A subcategory cannot be
    started under a stopped heading."""
    row = category(session, code)
    new_name = _text(name, "分类名称", most=80) or row.name
    if active and not row.active and row.parent_code:
        parent = category(session, row.parent_code, "上级分类")
        if not parent.active:
            raise Invalid(f"状态：上级分类 {parent.code} {parent.name} 已停用，请先启用上级分类",
                          code="parent_category_inactive", details={"field": "状态", "parent": parent.code})
    if active and (new_name != row.name or not row.active):
        _no_sibling_namesake(session, new_name, row.parent_code, row.code)
    stopped: list[Category] = []
    if row.active and not active:
        stopped = [c for c in descendants(session, row.code) if c.active]
        for child in stopped:
            child.active = False
    row.name = new_name
    row.keywords = parse_keywords(keywords)
    row.active = active
    if default_kind:
        try:
            row.default_kind = RequestKind(default_kind)
        except ValueError:
            raise Invalid(f"默认诉求类型：未知类型 {default_kind}", details={"field": "默认诉求类型"}) from None
    _changed(session)
    return row, stopped


def descendants(session: Session, code: str) -> list[Category]:
    """Every category below ``code``, in code order (a child's code extends its parent's)."""
    return list(session.scalars(select(Category).where(Category.code.startswith(code, autoescape=True),
                                                       Category.code != code).order_by(Category.code)))


def _no_sibling_namesake(session: Session, name: str, parent_code: str | None, other_than: str | None) -> None:
    """Active categories under one parent have different names: an import or a form names a
    category by its name, and two alike would make every such row ambiguous."""
    query = select(Category).where(Category.name == name, Category.active,
                                   Category.parent_code.is_(None) if parent_code is None
                                   else Category.parent_code == parent_code)
    if other_than is not None:
        query = query.where(Category.code != other_than)
    same = session.scalars(query.limit(1)).first()
    if same is None:
        return
    parent = session.get(Category, parent_code) if parent_code else None
    where = f"「{parent.name}」下已有" if parent else "已有一级"
    raise Invalid(f"分类名称：{where}分类「{same.name}」（{same.code}），请换一个名称", code="duplicate",
                  details={"field": "分类名称", "code": same.code})


def category_tree(session: Session) -> list[dict[str, Any]]:
    """Every category in code order (parents before their children), with its level."""
    rows = list(session.scalars(select(Category).order_by(Category.code)))
    children = {c.parent_code for c in rows if c.parent_code}
    return [{"code": c.code, "name": c.name, "parent_code": c.parent_code or "", "level": c.level,
             "default_kind": c.default_kind.value, "keywords": list(c.keywords or []), "active": c.active,
             "leaf": c.code not in children} for c in rows]


# ---------------------------------------------------------------- time limits


def parse_amount(amount: int | str, unit: str) -> tuple[int, LimitUnit]:
    try:
        limit_unit = LimitUnit(unit)
    except ValueError:
        raise Invalid(f"时限单位：未知单位 {unit}，可选：小时、天、工作日", details={"field": "时限单位"}) from None
    text = str(amount if amount is not None else "").strip()
    if not text:
        raise Invalid("时限不能为空：请填写一个整数（如 24）", details={"field": "时限"})
    if not re.fullmatch(r"-?\d{1,9}", text):
        raise Invalid(f"时限：「{text[:20]}」不是整数", details={"field": "时限"})
    value = int(text)
    if value <= 0:
        raise Invalid("时限：须大于 0", details={"field": "时限"})
    if value > LIMIT_MAX[limit_unit]:
        raise Invalid(f"时限：{value}{LIMIT_UNIT_NAMES[limit_unit]}过长（最多 {LIMIT_MAX[limit_unit]}"
                      f"{LIMIT_UNIT_NAMES[limit_unit]}），请检查是否多输了一位", details={"field": "时限"})
    return value, limit_unit


def _scope(session: Session, stage: str, category_code: str | None, urgency: str | None,
           kind: str | None) -> tuple[Stage, str | None, str | None, str | None]:
    try:
        the_stage = Stage(stage)
    except ValueError:
        raise Invalid(f"环节：未知环节 {stage}", details={"field": "环节"}) from None
    cat = category(session, category_code or "").code if (category_code or "").strip() else None
    urgency = (urgency or "").strip() or None
    if urgency is not None and urgency not in URGENCIES:
        raise Invalid(f"紧急程度：未知值 {urgency}", details={"field": "紧急程度"})
    kind = (kind or "").strip() or None
    if kind is not None and kind not in RequestKind.__members__:
        raise Invalid(f"诉求类型：未知类型 {kind}", details={"field": "诉求类型"})
    return the_stage, cat, urgency, kind


def _limit(session: Session, limit_id: int) -> TimeLimit:
    row = session.get(TimeLimit, limit_id) if 0 < limit_id < 2**31 else None
    if row is None:
        raise NotFound(f"时限规则 {limit_id} 不存在")
    return row


def add_time_limit(session: Session, *, stage: str, amount: int | str, unit: str, category_code: str | None = None,
                   urgency: str | None = None, kind: str | None = None) -> TimeLimit:
    """A time limit for one stage; empty scope fields match everything. Tickets registered before
    keep their due times: a change applies to stages that start afterwards."""
    the_stage, cat, urg, knd = _scope(session, stage, category_code, urgency, kind)
    value, limit_unit = parse_amount(amount, unit)
    clash = session.scalar(select(TimeLimit.id).where(
        TimeLimit.stage == the_stage, _same(TimeLimit.category_code, cat), _same(TimeLimit.urgency, urg),
        _same(TimeLimit.kind, knd)))
    if clash is not None:
        raise Invalid(f"适用范围：已有相同环节和范围的时限（第 {clash} 条），请直接修改它", code="duplicate",
                      details={"field": "适用范围", "id": clash})
    row = TimeLimit(stage=the_stage, category_code=cat, urgency=urg, kind=knd, amount=value, unit=limit_unit)
    session.add(row)
    _changed(session)
    return row


def _same(column: Any, value: str | None) -> Any:
    return column.is_(None) if value is None else column == value


def edit_time_limit(session: Session, *, limit_id: int, amount: int | str, unit: str) -> TimeLimit:
    row = _limit(session, limit_id)
    row.amount, row.unit = parse_amount(amount, unit)
    _changed(session)
    return row


def delete_time_limit(session: Session, *, limit_id: int) -> None:
    """Remove a limit; the next less specific one (or the built-in default) applies instead."""
    session.delete(_limit(session, limit_id))
    _changed(session)


def limit_rows(session: Session) -> list[dict[str, Any]]:
    """Every limit, general ones first, with its scope and amount in words."""
    names = {code: name for code, name in session.execute(select(Category.code, Category.name))}
    rows = session.scalars(select(TimeLimit).order_by(TimeLimit.category_code.is_not(None), TimeLimit.category_code,
                                                      TimeLimit.urgency.is_not(None), TimeLimit.urgency,
                                                      TimeLimit.kind.is_not(None), TimeLimit.kind, TimeLimit.stage))
    return [{"id": t.id, "stage": t.stage.value, "stage_name": STAGE_NAMES[t.stage],
             "category_code": t.category_code or "", "category_name": names.get(t.category_code or "", ""),
             "urgency": t.urgency or "", "kind": t.kind or "", "amount": t.amount, "unit": t.unit.value,
             "amount_text": f"{t.amount} {LIMIT_UNIT_NAMES[t.unit]}"} for t in rows]


# ---------------------------------------------------------------- dispatch catalogue


def _rule(session: Session, rule_id: int) -> DispatchRule:
    row = session.get(DispatchRule, rule_id) if 0 < rule_id < 2**31 else None
    if row is None:
        raise NotFound(f"派单目录第 {rule_id} 条不存在")
    return row


def _rule_fields(session: Session, category_code: str, region_code: str, lead_unit_code: str,
                 co_unit_codes: str | Iterable[str]) -> tuple[str, str, int, list[int]]:
    if not (category_code or "").strip():
        raise Invalid("请选择事项分类", details={"field": "事项分类"})
    cat = category(session, category_code, "事项分类").code
    region = _region(session, region_code, "行政区划")
    if region is None:
        raise Invalid("行政区划：请填写行政区划代码", details={"field": "行政区划"})
    if not (lead_unit_code or "").strip():
        raise Invalid("请选择主办单位", details={"field": "主办单位"})
    lead = unit_by_code(session, lead_unit_code, "主办单位")
    if not lead.active:
        raise Invalid(f"主办单位：{lead.name} 已停用", details={"field": "主办单位"})
    _handles(lead, "主办单位")
    _serves(session, lead, region, "主办单位")
    co_ids: list[int] = []
    for code in parse_regions(co_unit_codes):  # the same separators as region lists
        co = unit_by_code(session, code, "协办单位")
        if not co.active:
            raise Invalid(f"协办单位：{co.name} 已停用", details={"field": "协办单位"})
        if co.id == lead.id:
            raise Invalid(f"协办单位：{lead.name} 已是主办单位，不能同时协办", details={"field": "协办单位"})
        _handles(co, "协办单位")
        _serves(session, co, region, "协办单位")
        if co.id not in co_ids:
            co_ids.append(co.id)
    return cat, region, lead.id, co_ids


def _handles(unit: Unit, field: str) -> None:
    """The hotline centre dispatches tickets and handles none: a rule sending tickets to it would
    leave them where no handler answers (dispatch refuses it too, tickets/validation.check_unit)."""
    if unit.kind == UnitKind.hotline_center:
        raise Invalid(f"{field}：{unit.name}是热线中心，不承办工单；请选择职能部门、乡镇等承办单位",
                      code="not_a_handling_unit", details={"field": field})


def _serves(session: Session, unit: Unit, region_code: str, field: str) -> None:
    """Refuses a unit whose service area (``unit_regions``) does not cover the rule's region: a unit
    serves the regions listed and everything below them (a city-wide unit serves its villages), so
    one of them must be the region itself or above it."""
    snap = reference.snapshot(session)
    served = sorted(r.region_code for r in unit.regions)
    if covers(snap, served, region_code):
        return
    place = _place(snap, region_code)
    if not served:
        raise Invalid(f"{field}：{unit.name}未设置服务地区，不能负责{place}的事项；请先在单位管理中填写它的服务地区",
                      code="unit_does_not_serve_region", details={"field": field, "unit": unit.code})
    areas = "、".join(_place(snap, c) for c in served[:3]) + (f"等 {len(served)} 个地区" if len(served) > 3 else "")
    raise Invalid(f"{field}：{unit.name}的服务地区是{areas}，不含{place}；请选择服务该地区的单位，"
                  f"或先在单位管理中调整它的服务地区", code="unit_does_not_serve_region",
                  details={"field": field, "unit": unit.code, "serves": served})


def covers(snap: reference.Snapshot, served: Iterable[str], region_code: str) -> bool:
    """Whether a unit serving ``served`` serves ``region_code``: a unit serves the regions listed and
    everything below them (a county-wide unit its townships and villages, a city-wide one all of its
    counties), so one of them must be the region itself or above it. The one test of a unit's area,
    for a catalogue rule (``_serves``) and for a change of the area (``set_unit_regions``)."""
    return bool(set(served) & set(reference.region_path(snap, region_code)))


def _place(snap: reference.Snapshot, code: str) -> str:
    """'长治市黎城县（140426）': the city named too, as a unit of another city is the likely mistake."""
    path = reference.region_path(snap, code)
    city = next((snap.regions[c][0] for c in path if snap.regions[c][1] == 2), "")
    label = region_name(snap, code)
    return f"{'' if label.startswith(city) else city}{label}（{code}）"


def _no_duplicate(session: Session, category_code: str, region_code: str, other_than: int | None) -> None:
    query = select(DispatchRule.id).where(DispatchRule.category_code == category_code,
                                          DispatchRule.region_code == region_code)
    if other_than is not None:
        query = query.where(DispatchRule.id != other_than)
    clash = session.scalar(query)
    if clash is not None:
        raise Invalid(f"事项分类与行政区划：{category_code} × {region_code} 已有派单规则（第 {clash} 条），请直接修改它",
                      code="duplicate", details={"field": "事项分类", "id": clash})


def add_rule(session: Session, *, category_code: str, region_code: str, lead_unit_code: str,
             co_unit_codes: str | Iterable[str] = (), note: str | None = None) -> DispatchRule:
    """One catalogue entry: category × region → lead unit (and co-handling units)."""
    cat, region, lead, co = _rule_fields(session, category_code, region_code, lead_unit_code, co_unit_codes)
    _no_duplicate(session, cat, region, None)
    row = DispatchRule(category_code=cat, region_code=region, lead_unit_id=lead, co_unit_ids=co,
                       note=_text(note, "备注", most=500, required=False))
    session.add(row)
    _changed(session)
    return row


def edit_rule(session: Session, *, rule_id: int, category_code: str, region_code: str, lead_unit_code: str,
              co_unit_codes: str | Iterable[str] = (), note: str | None = None) -> DispatchRule:
    row = _rule(session, rule_id)
    cat, region, lead, co = _rule_fields(session, category_code, region_code, lead_unit_code, co_unit_codes)
    _no_duplicate(session, cat, region, row.id)
    row.category_code, row.region_code, row.lead_unit_id, row.co_unit_ids = cat, region, lead, co
    row.note = _text(note, "备注", most=500, required=False)
    _changed(session)
    return row


def delete_rule(session: Session, *, rule_id: int) -> None:
    session.delete(_rule(session, rule_id))
    _changed(session)


def rule_rows(session: Session, *, category_code: str = "", region_code: str = "", page: int = 1,
              per_page: int = 50) -> tuple[list[dict[str, Any]], int]:
    """One page of the catalogue and the number of matching rules. A filter matches its
    descendants too: category ``01`` lists ``0103``, region ``140828`` lists its villages."""
    where = []
    if category_code.strip():
        where.append(DispatchRule.category_code.startswith(category_code.strip(), autoescape=True))
    if region_code.strip():
        where.append(DispatchRule.region_code.startswith(region_code.strip(), autoescape=True))
    total = session.scalar(select(func.count()).select_from(DispatchRule).where(*where)) or 0
    rules = list(session.scalars(select(DispatchRule).where(*where)
                                 .order_by(DispatchRule.region_code, DispatchRule.category_code, DispatchRule.id)
                                 .offset((max(page, 1) - 1) * per_page).limit(per_page)))
    snap = reference.snapshot(session)
    codes = {uid: u[0] for uid, u in snap.units.items()}
    return [{"id": r.id, "category_code": r.category_code,
             "category_name": snap.categories[r.category_code].name if r.category_code in snap.categories else "",
             "region_code": r.region_code, "region_name": region_name(snap, r.region_code),
             "lead_code": codes.get(r.lead_unit_id, ""), "lead_name": unit_name(snap, r.lead_unit_id),
             "co_codes": [codes.get(u, "") for u in r.co_unit_ids or []],
             "co_names": [unit_name(snap, u) for u in r.co_unit_ids or []],
             "note": r.note or ""} for r in rules], total


def unit_name(snap: reference.Snapshot, unit_id: int | None) -> str:
    found = snap.units.get(unit_id or 0)
    return (found[1] + ("" if found[2] else "（已停用）")) if found else ""


def region_name(snap: reference.Snapshot, code: str) -> str:
    """'夏县裴介镇朱吕村', or the city's or province's own name above the county level."""
    return reference.region_label(snap, code)
