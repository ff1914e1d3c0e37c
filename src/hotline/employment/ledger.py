"""The labour ledger as a spreadsheet: import (劳动力台账导入) and export (导出).

Import reads a CSV (UTF-8) or XLSX file (``kit.tables.read_rows``); columns are found by their
Chinese or English heading (:data:`COLUMNS`, common variants such as 身份证, 手机号, 帮扶 among them);
a heading that is none of them is refused, named, rather than its column dropped. 村, 姓名, 就业状态
are required, and 性别 and 出生年份 unless the 身份证号 gives them. Every problem of a row is named at
once. 村 is a station village's code or name (信社村, 洪井镇信社村).
A row that is a person already on the ledger, or the same person as an earlier row of the file, is
refused: the same 身份证号, or, where either has none, the same village, name, birth year and phone
(an import adds people; importing a file again must not list everyone twice). A 身份证号 masked as
the export writes it (``1404**********2079``) is refused with what to do: the full number cannot
be recovered from it, and dropping it silently would lose the number the person meant to give.

All or nothing: every row is added in the caller's transaction; if any row is refused, every
refused row is reported with its spreadsheet row number and reason, and the caller rolls back so
nothing is kept. ``dry_run`` checks every row the same way and keeps nothing either.

Export writes the ledger rows of a search (within the person's scope) to one workbook; ID
numbers are masked there as on screen.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy.orm import Session

from hotline.accounts.models import User
from hotline.directory import reference
from hotline.employment import queries, service
from hotline.employment.fields import Problems, mask_id, worker_fields
from hotline.employment.models import EMPLOYMENT_LABELS, GENDER_LABELS, WORKPLACE_LABELS, Worker
from hotline.employment.scope import LedgerScope
from hotline.kit import clock, sheets
from hotline.kit.errors import DomainError, Invalid
from hotline.kit.tables import RowProblem, TableError, find_columns, read_rows, unknown_columns

__all__ = ["COLUMNS", "REQUIRED", "ImportResult", "RowProblem", "import_file", "workbook"]

COLUMNS: dict[str, tuple[str, ...]] = {
    "village": ("村", "所在村", "村（社区）", "所在村（社区）", "村名", "village", "village_code"),
    "name": ("姓名", "name"),
    "gender": ("性别", "gender"),
    "birth_year": ("出生年份", "出生年", "birth_year"),
    "phone": ("联系电话", "电话", "手机", "手机号", "手机号码", "电话号码", "联系方式", "phone"),
    "id_number": ("身份证号", "身份证号码", "身份证", "公民身份号码", "id_number"),
    "education": ("文化程度", "学历", "education"),
    "skills": ("技能特长", "技能", "特长", "skills"),
    "employment_status": ("就业状态", "就业情况", "employment_status"),
    "work_place": ("就业地点", "务工地点", "work_place"),
    "employer": ("就业单位", "用工单位", "工作单位", "务工单位", "employer"),
    "job_intention": ("就业意向", "求职意向", "job_intention"),
    "needs_help": ("是否需要帮扶", "需要帮扶", "帮扶", "是否帮扶", "needs_help"),
    "note": ("备注", "note"),
}
# Headings a ledger sheet may carry that hold nothing to import: a row number, and the export's own
# 更新时间 (an exported ledger can be imported again).
IGNORED = ("序号", "更新时间")
REQUIRED = ("village", "name", "employment_status")
MAX_ROWS = 5000
MASKED_ID = re.compile(r"\d{4}\*{6,}\d{3}[\dXx]")  # as ``fields.mask_id`` writes it in the export


@dataclass
class ImportResult:
    added: list[int] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    rows: int = 0
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


def _columns(header: list[str]) -> dict[str, int]:
    """Where each column is. A heading that is none of :data:`COLUMNS` is refused, naming it and the
    headings taken, and so is one column headed twice: its cells would otherwise be dropped without
    a word (手机号 instead of 联系电话 lost every phone number while the page said 已导入)."""
    where = find_columns(header, COLUMNS, REQUIRED, "村、姓名、性别、出生年份、就业状态")
    unknown, twice = unknown_columns(header, COLUMNS, IGNORED)
    said = []
    if unknown:
        said.append(f"无法识别的列名：{'、'.join(f'「{t}」' for t in unknown)}")
    if twice:
        said.append("同一列出现两次：" + "、".join(f"「{a}」和「{b}」" for a, b in twice))
    if said:
        taken = "、".join(titles[0] for titles in COLUMNS.values())
        raise Invalid(f"{'；'.join(said)}。这些列的内容无法导入，整个文件未导入：请把列名改为 {taken} 之一"
                      f"（不需要的列请删除）", code="unknown_columns",
                      details={"unknown": unknown, "twice": [list(p) for p in twice]})
    return where


def village_names(session: Session, scope: LedgerScope) -> dict[str, list[str]]:
    """Every way of naming a station village in scope → the village codes so named."""
    snap = reference.snapshot(session)
    names: dict[str, list[str]] = {}
    for station in queries.stations(session, scope):
        code = station.village_code
        name, _level, parent = snap.regions.get(code, (code, 5, None))
        township = snap.regions[parent][0] if parent in snap.regions else ""
        for key in {code, name, township + name, reference.region_label(snap, code)}:
            names.setdefault(key, []).append(code)
    return names


def resolve_village(names: dict[str, list[str]], text: str) -> str:
    key = "".join(text.split())
    codes = names.get(key, [])
    if len(codes) == 1:
        return codes[0]
    if codes:
        raise Invalid(f"村「{text}」有 {len(codes)} 个同名村，请写上乡镇（如 洪井镇信社村）或填区划编码")
    raise Invalid(f"村「{text}」不是您辖区内设有就业服务站的村")


def _fields(cells: dict[str, str], today: date) -> dict[str, Any]:
    """The row's ledger values, every problem of the row named at once; a masked ID number (an
    exported ledger) is refused with what to do."""
    raw_id = "".join(cells.get("id_number", "").split())
    if MASKED_ID.fullmatch(raw_id):
        problems = Problems()
        problems.add(Invalid(f"身份证号「{raw_id}」：导出文件中的身份证号已脱敏，请删除该列或填写完整号码",
                             details={"field": "id_number"}))
        problems.run(worker_fields, {**cells, "id_number": ""}, today=today)
        problems.check()
    return worker_fields(cells, today=today)


def _row_values(names: dict[str, list[str]], cells: dict[str, str], today: date) -> tuple[str, dict[str, Any]]:
    """The village and the ledger values of one row, or one ``Invalid`` naming all that is wrong."""
    problems = Problems()
    village = cells.get("village", "")
    if not village:
        problems.add(Invalid("村不能为空", details={"field": "village"}))
    code = problems.run(resolve_village, names, village) if village else None
    fields = problems.run(_fields, cells, today)
    problems.check()
    return code, fields  # type: ignore[return-value] - set when nothing was found wrong


def import_file(session: Session, scope: LedgerScope, path: Path | str, *, actor: User | None,
                dry_run: bool = False) -> ImportResult:
    """Add every row of ``path`` to the ledger; the caller commits when ``result.ok`` and not
    ``dry_run``, and rolls back otherwise (nothing half-imported)."""
    scope.require_edit()
    try:
        header, rows = read_rows(path)
    except TableError as err:
        raise Invalid(err.message, code="unreadable_file") from None
    if not header:
        raise Invalid("文件是空的：第一行须为列名（村、姓名、性别、出生年份、就业状态 …）", code="empty_file")
    where = _columns(header)
    data = [(i + 2, r) for i, r in enumerate(rows) if any(c.strip() for c in r)]
    if len(data) > MAX_ROWS:
        raise Invalid(f"一次最多导入 {MAX_ROWS} 行，本文件 {len(data)} 行：请分成几个文件", code="too_many_rows")
    if not data:
        raise Invalid("文件只有列名，没有数据行", code="no_rows")
    result = ImportResult(rows=len(data), dry_run=dry_run)
    names, today, seen, known = village_names(session, scope), service.today(), {}, service.KnownPeople(session)
    people: dict[tuple[Any, ...], tuple[int, str | None]] = {}  # (village, name, year, phone) -> (row, ID number)
    for number, row in data:
        cells = {key: (row[i].strip() if i < len(row) else "") for key, i in where.items()}
        try:
            with session.begin_nested():  # a refused row leaves nothing behind, the others go on
                village, fields = _row_values(names, cells, today)
                if fields["id_number"] in seen:
                    raise Invalid(f"身份证号与第 {seen[fields['id_number']]} 行重复")
                person = (village, fields["name"], fields["birth_year"], fields["phone"])
                if person in people and None in (people[person][1], fields["id_number"]):
                    raise Invalid(f"与第 {people[person][0]} 行是同一人（村、姓名、出生年份、电话相同），同一人不能重复导入")
                worker = service.add_worker(session, scope, actor=actor, village_code=village, fields=fields,
                                            known=known)
            if fields["id_number"]:
                seen[fields["id_number"]] = number
            people.setdefault(person, (number, fields["id_number"]))
            result.added.append(worker.id)
        except DomainError as err:
            result.problems.append(RowProblem(number, err.message))
    return result


EXPORT = ("村", "姓名", "性别", "出生年份", "联系电话", "身份证号", "文化程度", "技能特长", "就业状态", "就业地点",
          "就业单位", "就业意向", "是否需要帮扶", "备注", "更新时间")
WIDTHS = (18, 8, 5, 8, 13, 20, 10, 20, 10, 9, 22, 18, 10, 24, 17)
LIMIT = 50_000


def _row(snap: reference.Snapshot, w: Worker) -> list[Any]:
    name, _level, parent = snap.regions.get(w.village_code, (w.village_code, 5, None))
    township = snap.regions[parent][0] if parent in snap.regions else ""
    return [township + name, w.name, GENDER_LABELS[w.gender], w.birth_year, w.phone or "", mask_id(w.id_number),
            w.education or "", w.skills or "", EMPLOYMENT_LABELS[w.employment_status],
            WORKPLACE_LABELS[w.work_place] if w.work_place else "", w.employer or "", w.job_intention or "",
            "是" if w.needs_help else "否", w.note or "",
            clock.local(w.updated_at).replace(tzinfo=None, microsecond=0)]


def workbook(session: Session, scope: LedgerScope, f: queries.WorkerFilter, *, filters_text: str = "") -> bytes:
    """The ledger rows of a search as an .xlsx file (sheet 劳动力台账, and 说明 saying what it holds)."""
    snap = reference.snapshot(session)
    rows = queries.all_workers(session, scope, f, limit=LIMIT)
    wb = Workbook(write_only=True)
    sheet = wb.create_sheet("劳动力台账")
    for i, width in enumerate(WIDTHS):
        sheet.column_dimensions[get_column_letter(i + 1)].width = width
    sheet.freeze_panes = "C2"
    bold = Font(bold=True)
    header = []
    for name in EXPORT:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for w in rows:
        sheet.append(sheets.row(sheet, _row(snap, w)))  # notes and skills as typed, never a formula
    about = wb.create_sheet("说明")
    stations = len({w.village_code for w in rows})
    for line in (("导出时间", clock.local().strftime("%Y-%m-%d %H:%M")), ("筛选条件", filters_text or "全部"),
                 ("人数", len(rows)), ("服务站数", stations),
                 ("说明", "身份证号已脱敏（仅显示前 4 位和后 4 位）" + ("；已截断" if len(rows) >= LIMIT else ""))):
        about.append(sheets.row(about, line))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()

