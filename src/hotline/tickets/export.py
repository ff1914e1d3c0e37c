"""工单导出: the tickets of a search (the ticket list's filters, within the person's data scope) as
one Excel workbook, newest first, for the meetings and checks staff do outside the console.

Sheet 工单 has one row per ticket with times as real Excel dates (local time, sortable); the caller's
name and phone appear only where the scope shows them on screen (``views.caller``). Sheet 说明 says
what was exported, when, by which filters, and how many matching tickets were left out when the
search is wider than one sheet holds (``MAX_ROWS``, Excel's limit) or than a ``limit`` asked for.

Memory stays flat however many tickets match: the rows are read ``batch`` at a time through a
server-side cursor (``yield_per``), each row is written as it comes by openpyxl's write-only sheet
(which keeps its XML in a temporary file, strings inline) and the workbook is saved to a file, not
to memory (:func:`write`, :func:`temporary_file`; ``bench/export.py`` measures it).
"""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.directory import reference
from hotline.kit import clock, sheets
from hotline.tickets.models import Ticket
from hotline.tickets.queries import Scope, TicketFilter, filtered
from hotline.tickets.sla import STAGE_LABELS, stage_states
from hotline.tickets.states import STATUS_LABELS
from hotline.tickets.views import CHANNEL_LABELS, KIND_LABELS, SATISFACTION_LABELS, URGENCY_LABELS, caller

__all__ = ["BATCH", "COLUMNS", "MAX_ROWS", "Written", "describe", "temporary_file", "workbook", "write"]

# An Excel sheet holds 1,048,576 rows, one of them the heading: a wider search is cut there (and
# 说明 says how many were left out). Not a memory bound: memory does not grow with the rows.
MAX_ROWS = 1_048_575
BATCH = 1000  # rows fetched at a time: enough to make round trips rare, few enough to keep memory small
COLUMNS = ("工单号", "受理时间", "渠道", "诉求类型", "紧急程度", "事项分类", "发生地", "详细地址", "标题", "诉求内容",
           "来电人", "联系电话", "状态", "主办单位", "反馈时限", "超期环节", "反馈时间", "办结时间", "是否解决", "满意度")
DATE_COLUMNS = tuple(i for i, name in enumerate(COLUMNS) if name.endswith(("时间", "时限")))
WIDTHS = (16, 17, 7, 8, 8, 14, 22, 20, 24, 60, 10, 14, 9, 22, 17, 12, 17, 17, 8, 9)


def _local(moment: datetime | None) -> datetime | None:
    """Local wall-clock time without a zone: Excel has no time zones."""
    return clock.local(moment).replace(tzinfo=None, microsecond=0) if moment else None


def _row(snap: reference.Snapshot, scope: Scope, t: Ticket, now: datetime) -> list[Any]:
    category = snap.categories.get(t.category_code)
    who = caller(scope, t)
    stages = stage_states(t, now)
    late = [STAGE_LABELS[s] for s, v in stages.items() if v["state"] == "overdue"]
    return [
        t.number, _local(t.received_at), CHANNEL_LABELS.get(t.channel.value, t.channel.value),
        KIND_LABELS.get(t.kind, t.kind), URGENCY_LABELS.get(t.urgency.value, t.urgency.value),
        category.name if category else t.category_code, reference.region_label(snap, t.region_code), t.address or "",
        t.title, t.content,
        who["name"] or ("匿名" if t.caller_anonymous else "保密" if t.caller_confidential else ""), who["phone"] or "",
        STATUS_LABELS[t.status], snap.units.get(t.lead_unit_id, ("", "", False))[1] if t.lead_unit_id else "",
        _local(t.reply_due_at), "、".join(late), _local(t.replied_at), _local(t.closed_at),
        "" if t.resolved is None else ("是" if t.resolved else "否"),
        SATISFACTION_LABELS.get(t.satisfaction.value, "") if t.satisfaction else "",
    ]


@dataclass(frozen=True)
class Written:
    """What an export wrote: ``written`` of the ``total`` tickets that match (newest first)."""

    written: int
    total: int

    @property
    def left_out(self) -> int:
        return self.total - self.written


def describe(f: TicketFilter, region_label: str = "") -> str:
    """The filters as 说明 shows them: 关键词「路灯」；状态：待签收；只看超期 (empty: no filter)."""
    said = [f"关键词「{f.q}」" if f.q else "",
            "状态：" + "、".join("在办" if s == "open" else STATUS_LABELS.get(s, s) for s in f.status) if f.status else "",
            "只看超期" if f.overdue else "", f"发生地：{region_label or f.region_code}" if f.region_code else "",
            f"受理时间自 {_local(f.received_from):%Y-%m-%d %H:%M}" if f.received_from else "",
            f"受理时间早于 {_local(f.received_to):%Y-%m-%d %H:%M}" if f.received_to else ""]
    return "；".join(w for w in said if w)


def write(session: Session, scope: Scope, f: TicketFilter, target: str | Path | IO[bytes], *,
          filters_text: str = "", now: datetime | None = None, limit: int | None = None,
          batch: int = BATCH) -> Written:
    """Write the search's tickets, newest first, as an .xlsx workbook into ``target`` (a path or a
    binary file): at most ``limit`` rows (and never more than ``MAX_ROWS``), read ``batch`` at a time."""
    now = now or clock.now()
    cap = min(limit, MAX_ROWS) if limit is not None else MAX_ROWS
    snap = reference.snapshot(session)
    query = filtered(scope, f)
    total = int(session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0)
    wb = Workbook(write_only=True)
    sheet = wb.create_sheet("工单")
    _heading(sheet)
    written = 0
    rows = session.scalars(query.order_by(Ticket.received_at.desc(), Ticket.id.desc()).limit(cap)
                           .execution_options(yield_per=batch))
    for ticket in rows:
        # An empty cell is no cell at all (an empty string would be written as one, and cost time).
        # Citizens' text (content, title, name, address) stays text: never a formula (kit.sheets).
        values = sheets.row(sheet, (None if v == "" else v for v in _row(snap, scope, ticket, now)))
        for i in DATE_COLUMNS:
            if values[i] is not None:
                values[i] = WriteOnlyCell(sheet, value=values[i])
                values[i].number_format = "yyyy-mm-dd hh:mm"
        sheet.append(values)
        written += 1
    done = Written(written, total)
    _about(wb, now, filters_text, done, cap)
    wb.save(target)
    return done


def _heading(sheet: Any) -> None:
    for i, width in enumerate(WIDTHS):
        sheet.column_dimensions[get_column_letter(i + 1)].width = width
    sheet.freeze_panes = "B2"
    bold = Font(bold=True)
    header = []
    for name in COLUMNS:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        header.append(cell)
    sheet.append(header)


def _about(wb: Workbook, now: datetime, filters_text: str, done: Written, cap: int) -> None:
    """Sheet 说明: when, which filters, how many match, how many are listed and how many left out."""
    about = wb.create_sheet("说明")
    about.column_dimensions["A"].width = 12
    about.column_dimensions["B"].width = 60
    about.append(["导出时间", _local(now).strftime("%Y-%m-%d %H:%M")])
    about.append(sheets.row(about, ["筛选条件", filters_text or "全部工单（本人权限范围内）"]))  # a keyword as typed
    about.append(["符合条件", f"{done.total} 件"])
    if not done.left_out:
        about.append(["本表列出", f"{done.written} 件"])
        return
    why = "Excel 一张表最多容纳" if cap == MAX_ROWS else "本次最多导出"
    about.append(["本表列出", f"{done.written} 件（{why} {cap} 件，按受理时间从新到旧；请缩小筛选范围后分批导出）"])
    about.append(["未列出", f"{done.left_out} 件（受理时间较早的 {done.left_out} 件未导出）"])


def workbook(session: Session, scope: Scope, f: TicketFilter, *, filters_text: str = "",
             now: datetime | None = None, limit: int | None = None, batch: int = BATCH) -> tuple[bytes, int, int]:
    """(the .xlsx file, rows written, tickets matching), in memory: for small exports and tests;
    anything that may be large goes through :func:`temporary_file` or :func:`write` to a path."""
    buffer = io.BytesIO()
    done = write(session, scope, f, buffer, filters_text=filters_text, now=now, limit=limit, batch=batch)
    return buffer.getvalue(), done.written, done.total


def temporary_file(session: Session, scope: Scope, f: TicketFilter, *, filters_text: str = "",
                   batch: int = BATCH) -> tuple[Path, Written]:
    """The export written to a new temporary ``.xlsx`` file, which the caller removes after use
    (removed here if writing fails)."""
    handle, name = tempfile.mkstemp(prefix="hotline-export-", suffix=".xlsx")
    os.close(handle)
    path = Path(name)
    try:
        return path, write(session, scope, f, path, filters_text=filters_text, batch=batch)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
