"""工单导出: the tickets of a search (the ticket list's filters, within the person's data scope) as
one Excel workbook, newest first, for the meetings and checks staff do outside the console.

Sheet 工单 has one row per ticket with times as real Excel dates (local time, sortable); the caller's
name and phone appear only where the scope shows them on screen (``views.caller``). Sheet 说明 says
what was exported, when, by which filters, and whether the list was cut at ``LIMIT`` rows.
The workbook is written in openpyxl's write-only mode and the rows read in batches, so memory
stays flat however many tickets match.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.directory import reference
from hotline.kit import clock
from hotline.tickets.models import Ticket
from hotline.tickets.queries import Scope, TicketFilter, filtered
from hotline.tickets.sla import STAGE_LABELS, stage_states
from hotline.tickets.states import STATUS_LABELS
from hotline.tickets.views import CHANNEL_LABELS, KIND_LABELS, SATISFACTION_LABELS, URGENCY_LABELS, caller

__all__ = ["COLUMNS", "LIMIT", "workbook"]

LIMIT = 20_000  # rows in one export; a wider search is cut (and 说明 says so)
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


def workbook(session: Session, scope: Scope, f: TicketFilter, *, filters_text: str = "",
             now: datetime | None = None, limit: int = LIMIT) -> tuple[bytes, int, int]:
    """(the .xlsx file, rows written, tickets matching): the search's tickets, newest first."""
    now = now or clock.now()
    snap = reference.snapshot(session)
    query = filtered(scope, f)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    wb = Workbook(write_only=True)
    sheet = wb.create_sheet("工单")
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
    written = 0
    rows = session.scalars(query.order_by(Ticket.received_at.desc(), Ticket.id.desc()).limit(limit)
                           .execution_options(yield_per=1000))
    for ticket in rows:
        values = _row(snap, scope, ticket, now)
        for i in DATE_COLUMNS:
            if values[i] is not None:
                values[i] = WriteOnlyCell(sheet, value=values[i])
                values[i].number_format = "yyyy-mm-dd hh:mm"
        sheet.append(values)
        written += 1
    about = wb.create_sheet("说明")
    about.column_dimensions["A"].width = 12
    about.column_dimensions["B"].width = 60
    about.append(["导出时间", _local(now).strftime("%Y-%m-%d %H:%M")])
    about.append(["筛选条件", filters_text or "全部工单（本人权限范围内）"])
    about.append(["符合条件", f"{total} 件"])
    about.append(["本表列出", f"{written} 件" + (f"（最多导出 {limit} 件，按受理时间从新到旧；请缩小筛选范围后分批导出）"
                                                if total > written else "")])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue(), written, int(total)
