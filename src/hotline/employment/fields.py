"""Reading what a person typed (a form, a spreadsheet row) into ledger values, or ``Invalid`` with a
message naming the field. Shared by the pages, the API and the ledger import, so all three refuse
the same things in the same words."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from hotline.employment.models import (
    EDUCATION,
    EMPLOYMENT_LABELS,
    GENDER_LABELS,
    WORKING,
    WORKPLACE_LABELS,
    Gender,
    WorkPlace,
)
from hotline.kit.errors import Invalid

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")
NOTE_LIMIT = 500  # a worker's 备注
RECORD_LIMIT = 1000  # an assistance record's 内容
YES = ("是", "需要", "1", "true", "yes", "on", "y")
NO = ("否", "不需要", "0", "false", "no", "off", "n", "")


def id_checksum(first17: str) -> str:
    """The check character of a resident ID number (GB 11643-1999)."""
    return ID_CHECK[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def mask_id(number: str | None) -> str:
    """``1427**********1234``: the first four and last four characters, the rest hidden."""
    if not number:
        return ""
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def id_query(text: str | None) -> str | None:
    """The resident ID number a search text is, or None. Only a whole, well-shaped number counts
    (spaces removed, full-width characters and a lower-case x made plain): the ledger is never
    searched by a fragment of an ID number, so nobody can be found by guessing part of one."""
    number = "".join(unicodedata.normalize("NFKC", text or "").split()).upper()
    return number if re.fullmatch(r"[0-9]{17}[0-9X]", number) else None


ID_DIGITS = re.compile(r"[0-9]{15,}[0-9X]?")


def id_digits(text: str | None) -> str | None:
    """The run of 15 or more digits a search text holds (most of a resident ID number: one digit
    missing, one too many, or the whole number among other words), spaces removed, or None. Such
    a text is treated like an ID number: it is kept out of addresses and shown masked, and the
    ledger is not searched by it (``id_query``)."""
    compact = "".join(unicodedata.normalize("NFKC", text or "").split()).upper()
    found = ID_DIGITS.search(compact)
    return found.group(0) if found and id_query(compact) is None else None


def check_id(value: str) -> str:
    """A valid 18-character resident ID number, upper-cased, or ``Invalid``."""
    number = value.strip().upper()
    if not re.fullmatch(r"\d{17}[\dX]", number):
        # Never echoed whole: a mistyped number is still mostly someone's ID number.
        shown = f"「{mask_id(number)}」" if len(number) > 8 else ""
        raise Invalid(f"身份证号{shown}格式不对：应为 18 位（最后一位可为 X）", details={"field": "id_number"})
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise Invalid(f"身份证号「{mask_id(number)}」中的出生日期无效", details={"field": "id_number"}) from None
    if id_checksum(number[:17]) != number[17]:
        raise Invalid(f"身份证号「{mask_id(number)}」校验位不对，请核对", details={"field": "id_number"})
    return number


def choice(value: str, labels: Mapping[Any, str], what: str, field: str) -> Any:
    """An enum member by its code or its Chinese label."""
    text = value.strip()
    for member, label in labels.items():
        if text in (member.value, label):
            return member
    raise Invalid(f"{what}「{value}」无效，可填：{'、'.join(labels.values())}", details={"field": field})


def whole_number(value: Any, what: str, field: str, *, low: int, high: int) -> int:
    """A count typed as text or sent as a number, within ``low``–``high`` (say so when it is not)."""
    text = unicodedata.normalize("NFKC", str(value if value is not None else "")).strip()
    if isinstance(value, bool) or not re.fullmatch(r"[+-]?[0-9]+", text):
        raise Invalid(f"{what}「{text}」应为 {low}–{high} 之间的整数", details={"field": field})
    number = int(text)
    if not low <= number <= high:
        raise Invalid(f"{what}应在 {low}–{high} 之间（填的是 {number}）", details={"field": field})
    return number


def please_fill(missing: list[tuple[str, str]]) -> Invalid:
    """The refusal naming every required field left empty at once: (field, its Chinese name)."""
    return Invalid(f"请填写{'、'.join(what for _field, what in missing)}",
                   details={"field": missing[0][0], "fields": [field for field, _what in missing]})


class Problems:
    """Every problem of one typed row, collected rather than stopping at the first: a person fixing a
    spreadsheet row (or a form) learns at once all that is wrong with it."""

    def __init__(self) -> None:
        self.found: list[Invalid] = []

    def add(self, problem: Invalid) -> None:
        self.found.append(problem)

    def run(self, read: Callable[..., Any], *args: Any, default: Any = None, **kwargs: Any) -> Any:
        """``read(*args, **kwargs)``, or ``default`` with its ``Invalid`` kept."""
        try:
            return read(*args, **kwargs)
        except Invalid as problem:
            self.found.append(problem)
            return default

    def check(self) -> None:
        """Raise the problems found as one ``Invalid`` (the only one as it is)."""
        if self.found:
            raise together(self.found)


def together(problems: list[Invalid]) -> Invalid:
    """Several refusals as one, their messages joined by 「；」, every field named in ``details``."""
    if len(problems) == 1:
        return problems[0]
    fields = [f for p in problems for f in (p.details.get("fields") or [p.details.get("field")]) if f]
    return Invalid("；".join(p.message for p in problems),
                   details={"field": fields[0] if fields else None, "fields": fields,
                            "problems": [{"field": p.details.get("field"), "message": p.message} for p in problems]})


def _birth_year(value: str, today: date) -> int | None:
    if not value.strip():
        return None
    try:
        year = int(value.strip().removesuffix("年"))
    except ValueError:
        raise Invalid(f"出生年份「{value}」应为四位数字，如 1978", details={"field": "birth_year"}) from None
    if not 1930 <= year <= today.year - 16:
        raise Invalid(f"出生年份 {year} 不在 1930–{today.year - 16} 之间（劳动力须年满 16 周岁）",
                      details={"field": "birth_year"})
    return year


def _text(values: Mapping[str, Any], key: str, limit: int) -> str | None:
    text = " ".join(str(values.get(key) or "").split())
    return text[:limit] or None


def _identity(values: Mapping[str, Any], today: date, problems: Problems) -> dict[str, Any]:
    """Gender and birth year, taken from the ID number when not typed, and checked against it. A
    field left empty is named by ``missing_worker_fields``; one typed wrong is a problem here."""
    raw_id = str(values.get("id_number") or "").strip()
    number = problems.run(check_id, raw_id) if raw_id else None
    typed_year = str(values.get("birth_year") or "")
    year = problems.run(_birth_year, typed_year, today)
    raw_gender = str(values.get("gender") or "").strip()
    gender = problems.run(choice, raw_gender, GENDER_LABELS, "性别", "gender") if raw_gender else None
    if number:
        id_year, id_gender = int(number[6:10]), Gender.male if int(number[16]) % 2 else Gender.female
        if year is not None and year != id_year:
            problems.add(Invalid(f"出生年份 {year} 与身份证号（{id_year} 年）不符", details={"field": "birth_year"}))
        if gender is not None and gender != id_gender:
            problems.add(Invalid("性别与身份证号不符", details={"field": "gender"}))
        if not typed_year.strip():
            year = problems.run(_birth_year, str(id_year), today)
        gender = gender or id_gender
    return {"id_number": number, "gender": gender, "birth_year": year}


def needs_help(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value or "").strip().lower()
    if text in YES:
        return True
    if text in NO:
        return False
    raise Invalid(f"是否需要帮扶「{value}」应填 是 或 否", details={"field": "needs_help"})


def _phone(values: Mapping[str, Any]) -> str | None:
    phone = "".join(str(values.get("phone") or "").split())
    if phone and not PHONE.fullmatch(phone):
        raise Invalid(f"联系电话「{phone}」无效：填 11 位手机号或带区号的固话", details={"field": "phone"})
    return phone or None


def _education(values: Mapping[str, Any]) -> str | None:
    education = _text(values, "education", 20)
    if education and education not in EDUCATION:
        raise Invalid(f"文化程度「{education}」无效，可填：{'、'.join(EDUCATION)}", details={"field": "education"})
    return education


def worker_fields(values: Mapping[str, Any], *, today: date, stored_note: str | None = None) -> dict[str, Any]:
    """The ledger columns of one worker from typed text (codes or Chinese labels accepted). Every
    problem of the row is named at once (fields left empty first), in one ``Invalid``.

    ``stored_note``: the 备注 on record when a worker is edited. Kept as it is, it passes whatever its
    length: notes written before the limit stay, and the rest of the row can still be changed."""
    problems = Problems()
    if missing := missing_worker_fields(values):
        problems.add(please_fill(missing))
    out: dict[str, Any] = {"name": _text(values, "name", 40), **_identity(values, today, problems)}
    out["phone"] = problems.run(_phone, values)
    out["education"] = problems.run(_education, values)
    raw_status = str(values.get("employment_status") or "").strip()
    status = problems.run(choice, raw_status, EMPLOYMENT_LABELS, "就业状态", "employment_status") if raw_status else None
    raw_place = str(values.get("work_place") or "").strip()
    working = status in WORKING
    # Only people in work have a workplace and an employer.
    out["work_place"] = (problems.run(choice, raw_place, WORKPLACE_LABELS, "就业地点", "work_place")
                         if raw_place and working else None)
    out["employer"] = _text(values, "employer", 120) if working else None
    out.update(employment_status=status, skills=_text(values, "skills", 200),
               job_intention=_text(values, "job_intention", 120),
               needs_help=problems.run(needs_help, values.get("needs_help"), default=False),
               note=problems.run(long_text, values.get("note"), "备注", "note", NOTE_LIMIT, stored=stored_note))
    problems.check()
    return out


def missing_worker_fields(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The required fields of a worker left empty, in the form's order: gender and birth year are
    not needed when an ID number (which gives them) is typed."""
    def empty(key: str) -> bool:
        return not str(values.get(key) or "").strip()
    by_id = not empty("id_number")
    return [(key, what) for key, what in (("name", "姓名"), ("gender", "性别（男/女）"), ("birth_year", "出生年份"),
                                          ("employment_status", "就业状态"))
            if empty(key) and not (by_id and key in ("gender", "birth_year"))]


def long_text(value: Any, what: str, field: str, limit: int, *, stored: str | None = None) -> str | None:
    """A free text (a note, an assistance record), refused rather than cut when over ``limit`` (unless
    it is the ``stored`` text, unchanged)."""
    text = str(value or "").strip()
    if len(text) > limit and text != (stored or "").strip():
        raise Invalid(f"{what}不能超过 {limit} 字（现有 {len(text)} 字），请精简", details={"field": field})
    return text or None


def work_place_between(home: str, job: str) -> WorkPlace:
    """Where a job lies seen from a worker's village: same county, same province, or beyond."""
    if home[:6] == job[:6]:
        return WorkPlace.in_county
    return WorkPlace.out_county if home[:2] == job[:2] else WorkPlace.out_province
