"""Checks of what a person typed, with messages they can act on."""

from __future__ import annotations

import functools
from datetime import date, datetime, time

import phonenumbers

from hotline.directory.models import RegionLevel
from hotline.directory.reference import Snapshot
from hotline.kit import clock, phones
from hotline.kit.errors import Invalid
from hotline.tickets.models import Satisfaction, Urgency

MAX_CONTENT_CHARS = 5000
MAX_TITLE_CHARS = 100
# What people see for each choice (the pages, exports, and the messages refusing a choice).
KIND_LABELS = {"consultation": "咨询", "help": "求助", "complaint": "投诉", "report": "举报", "suggestion": "建议",
               "praise": "表扬"}
URGENCY_LABELS = {"normal": "一般", "urgent": "紧急", "emergency": "特急"}
SATISFACTION_LABELS = {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意",
                       "not_reached": "未联系上"}
CHANNEL_LABELS = {"phone": "电话", "web": "网站", "mobile": "移动端", "letter": "来信", "open311": "开放接口",
                  "system": "系统", "import": "导入"}
KINDS = tuple(KIND_LABELS)
EMERGENCY_SERVICES = {"110": "公安", "119": "消防", "120": "急救", "122": "交警"}
# No hotline ticket is older (the platform's data begins then; the briefings take it as their floor
# too): an earlier 受理时间 is a typing error, and one before 1901 would take a 5-digit year into the
# ticket number and a local-mean-time offset (+08:05:43) into every time shown.
EARLIEST_RECEIVED = date(2000, 1, 1)


def normalize_phone(raw: str | None) -> str | None:
    """A Chinese mobile or landline number in E.164 (+8613800000000), or ``Invalid``."""
    if raw is None or not raw.strip():
        return None
    number = phones.parse(raw, field="caller_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@functools.lru_cache(maxsize=4096)
def display_phone(e164: str | None) -> str | None:
    """How a stored number is shown (13803590001, 0359-1234567); cached, callers repeat."""
    if not e164:
        return None
    if e164.startswith("+861") and len(e164) == 14 and e164[1:].isdigit():  # a mobile: its 11 digits
        return e164[3:]
    number = phonenumbers.parse(e164, "CN")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL).replace(" ", "")


def check_received(received: datetime) -> None:
    """A 受理时间 (timezone-aware) on or after :data:`EARLIEST_RECEIVED`, local time."""
    if received < datetime.combine(EARLIEST_RECEIVED, time(0), tzinfo=clock.tz()):
        raise Invalid(f"受理时间不能早于 {EARLIEST_RECEIVED}", code="invalid_datetime",
                      details={"field": "received_at"})


def require_text(value: str | None, field: str, label: str, *, max_chars: int, required: bool = True) -> str | None:
    text = (value or "").strip()
    if "\x00" in text:  # PostgreSQL text cannot hold it; refuse it on every backend alike
        raise Invalid(f"{label}含有空字符", code="nul_character", details={"field": field})
    if not text:
        if required:
            raise Invalid(f"{label}不能为空", code="empty", details={"field": field})
        return None
    if len(text) > max_chars:
        raise Invalid(
            f"{label}过长：{len(text)} 字，最多 {max_chars} 字", code="too_long", details={"field": field, "max": max_chars}
        )
    return text


def check_category(snap: Snapshot, code: str) -> None:
    """A category a new ticket can have: known, active, and a leaf (供水 is a heading: its 停水,
    水压水质 … say what the problem is, and the catalogue, the time limits and the statistics are
    kept by them). The one rule for the pages, the API, Open311 and the import."""
    if not code:
        raise Invalid("请选择事项分类", code="category_required", details={"field": "category_code"})
    cat = snap.categories.get(code)
    if cat is None:
        raise Invalid(f"未知事项分类「{code}」", code="unknown_category", details={"field": "category_code"})
    if not cat.active:
        raise Invalid(f"事项分类 {code}「{cat.name}」已停用", code="inactive_category", details={"field": "category_code"})
    children = sorted(c for c, child in snap.categories.items() if child.parent_code == code and child.active)
    if children or any(child.parent_code == code for child in snap.categories.values()):
        example = "、".join(f"{c}「{snap.categories[c].name}」" for c in children[:3])
        raise Invalid(f"事项分类 {code}「{cat.name}」是大类，请选择其下的具体分类" + (f"（如 {example}）" if example else ""),
                      code="category_not_leaf", details={"field": "category_code"})


def check_region(snap: Snapshot, code: str, *, broadest: RegionLevel = RegionLevel.township) -> None:
    """A region a new ticket can happen in: known, and a township or a village (a county, a city
    or the province is too broad to send anyone to), with the words the place field uses.
    ``broadest`` county: a call the centre settles at once (answered directly, not accepted), where
    the caller's county is place enough."""
    region = snap.regions.get(code)
    if region is None:
        raise Invalid(f"未知行政区划代码 {code}", code="unknown_region", details={"field": "region_code"})
    if region[1] < broadest:
        where = "县（区）、乡镇或村" if broadest == RegionLevel.county else "乡镇或村"
        raise Invalid(f"「{region[0]}」（{code}）范围太大，请写明{where}", code="region_too_broad",
                      details={"field": "region_code"})


UNIT_ROLE_WORDS = {"lead_unit_id": "主办单位", "co_unit_ids": "协办单位"}


def is_hotline_center(snap: Snapshot, unit_id: int | None) -> bool:
    """The hotline centre registers and dispatches tickets; it never handles one."""
    return unit_id is not None and snap.unit_kinds.get(unit_id) == "hotline_center"


def check_unit(snap: Snapshot, unit_id: int, field: str = "unit_id") -> None:
    """A unit a ticket can be given to (as lead or co-handler): known, active and a handling unit,
    not the hotline centre (no handler answers for it, so the ticket would stay there). The one rule
    for the pages, the API and the import."""
    unit = snap.units.get(unit_id)
    if unit is None:
        raise Invalid(f"未知承办单位 {unit_id}", code="unknown_unit", details={"field": field})
    if is_hotline_center(snap, unit_id):
        raise Invalid(f"「{unit[1]}」是热线中心，不承办工单，不能作为{UNIT_ROLE_WORDS.get(field, '承办单位')}；"
                      "请选择职能部门、乡镇等承办单位", code="not_a_handling_unit", details={"field": field})
    if not unit[2]:
        raise Invalid(f"承办单位「{unit[1]}」已停用", code="inactive_unit", details={"field": field})


def _choices(labels: dict[str, str], codes: tuple[str, ...] | None = None) -> str:
    """'咨询（consultation）、求助（help）…': the words people see, with the code an API or a CLI sends."""
    return "、".join(f"{labels[c]}（{c}）" for c in (codes or tuple(labels)))


def check_caller(name: str | None, phone: str | None, *, anonymous: bool) -> None:
    if not anonymous and not (name or phone):
        raise Invalid("非匿名诉求须留下来电人姓名或电话；不愿留名请选择匿名", code="caller_required",
                      details={"field": "caller_phone"})


def check_kind(kind: str) -> None:
    if not kind:
        raise Invalid("请选择诉求类型", code="unknown_kind", details={"field": "kind"})
    if kind not in KINDS:
        raise Invalid(f"未知诉求类型「{kind}」，可选：{_choices(KIND_LABELS)}", code="unknown_kind",
                      details={"field": "kind"})


def check_urgency(urgency: str) -> Urgency:
    if not urgency:
        raise Invalid("请选择紧急程度", code="unknown_urgency", details={"field": "urgency"})
    try:
        return Urgency(urgency)
    except ValueError:
        raise Invalid(f"未知紧急程度「{urgency}」，可选：{_choices(URGENCY_LABELS)}", code="unknown_urgency",
                      details={"field": "urgency"}) from None


def check_satisfaction(satisfaction: str | None) -> Satisfaction:
    """The caller's verdict at a callback that reached them: 满意, 基本满意 or 不满意."""
    verdicts = (Satisfaction.satisfied, Satisfaction.basically_satisfied, Satisfaction.dissatisfied)
    if not satisfaction:
        raise Invalid("请选择满意度", code="invalid_satisfaction", details={"field": "satisfaction"})
    if satisfaction == Satisfaction.not_reached:
        raise Invalid("已联系上来电人时不能记为未联系上", code="invalid_satisfaction", details={"field": "satisfaction"})
    if satisfaction not in verdicts:
        raise Invalid(f"未知满意度「{satisfaction}」，可选：{_choices(SATISFACTION_LABELS, verdicts)}",
                      code="invalid_satisfaction", details={"field": "satisfaction"})
    return Satisfaction(satisfaction)


def check_coordinates(lat: float | None, lon: float | None) -> None:
    if (lat is None) != (lon is None):
        raise Invalid("经纬度须同时提供", code="invalid_coordinates", details={"field": "latitude"})
    if lat is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise Invalid("经纬度超出范围", code="invalid_coordinates", details={"field": "latitude"})
