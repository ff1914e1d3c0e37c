"""A briefing as one Excel workbook (openpyxl): sheets 概况, 单位排名, 乡镇排名, 热点, 每月一题; each
with a styled, frozen header row, set column widths, and rates as numbers in percent format (so a
reader can sort and compute with them)."""

from __future__ import annotations

from copy import copy
from io import BytesIO
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from hotline.analytics.rates import Figures
from hotline.kit import clock, sheets
from hotline.reports.build import Report

SHEETS = ("概况", "单位排名", "乡镇排名", "热点", "每月一题")
PERCENT = "0.0%"
SCORE = "0.00"

_HEAD_FONT = Font(bold=True, color="FFFFFF")
_HEAD_FILL = PatternFill("solid", fgColor="C53030")
_THIN = Side(style="thin", color="A0AEC0")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


def _sheet(ws: Worksheet, headers: list[tuple[str, int, str | None]], rows: list[list[Any]]) -> None:
    """Write a header row (name, width, number format of the column) and the rows below it."""
    ws.append(sheets.row(ws, [h for h, _, _ in headers]))
    for col, (_, width, _) in enumerate(headers, start=1):
        cell = ws.cell(row=1, column=col)
        cell.font, cell.fill, cell.border = _HEAD_FONT, _HEAD_FILL, _BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(col)].width = width
    # Setting a style looks the Border up by its (deep) hash in the workbook's list of borders, and
    # ws.max_row walks every cell: done per cell, 0.9 s of a month's 450 ranking rows. A column's
    # first plain cell is styled the usual way and the column's other plain cells take a copy of its
    # style (as openpyxl copies a sheet), so the file is the same; a risky text's cell (quote
    # prefix, ``sheets.row``) is styled the usual way, keeping its prefix.
    styled: dict[int, StyleArray] = {}
    for at, row in enumerate(rows, start=2):
        ws.append(sheets.row(ws, row))  # hot-spot titles and keywords come from citizens' words
        for col, (_, _, fmt) in enumerate(headers, start=1):
            cell = ws.cell(row=at, column=col)
            if col in styled and not cell.has_style:
                cell._style = copy(styled[col])
                continue
            plain = not cell.has_style
            cell.border = _BORDER
            if fmt:
                cell.number_format = fmt
            if plain:
                styled[col] = copy(cell._style)
    ws.freeze_panes = "A2"
    ws.row_dimensions[1].height = 22


def _overview(ws: Worksheet, r: Report) -> None:
    c, p = r.centre, r.previous_centre

    def rate(f: Figures | None, name: str) -> float | None:
        return getattr(f, name) if f else None

    rows: list[list[Any]] = [
        ["报表", r.kind_label, None, None, r.period.title],
        ["统计期", f"{r.period.first} 至 {r.period.last}", f"{r.previous.first} 至 {r.previous.last}", None, "上期为对比期"],
        ["受理量", r.volume.total.count, r.volume.total.previous, r.volume.total.change, "合计"],
    ]
    rows += [[f"渠道：{s.label}", s.count, s.previous, s.change, None] for s in r.volume.by_channel]
    rows += [[f"类型：{s.label}", s.count, s.previous, s.change, None] for s in r.volume.by_kind]
    start = len(rows) + 2  # the first rate row (header is row 1)
    for label, name in (("响应率", "response_rate"), ("解决率", "resolution_rate"),
                        ("满意率", "satisfaction_rate"), ("按时反馈率", "on_time_rate")):
        now, before = rate(c, name), rate(p, name)
        rows.append([label, now, before, now - before if now is not None and before is not None else None, "热线中心"])
    rows.append(["综合得分", rate(c, "score"), rate(p, "score"),
                 c.score - p.score if c and p and c.score is not None and p.score is not None else None, "满分 100"])
    rows.append(["生成时间", clock.local(r.generated_at).strftime("%Y-%m-%d %H:%M"), None, None, None])
    _sheet(ws, [("项目", 20, None), ("本期", 22, None), ("上期", 22, None), ("增减", 12, None), ("说明", 30, None)], rows)
    for row in range(start, start + 4):
        for col in (2, 3, 4):
            ws.cell(row=row, column=col).number_format = PERCENT
    for col in (2, 3, 4):
        ws.cell(row=start + 4, column=col).number_format = SCORE


def _ranking(ws: Worksheet, rows: list[Figures], name: str) -> None:
    """The columns of the 考核排名 page, in its order: each rate beside the counts it is made of."""
    headers = [("排名", 7, None), (name, 30, None), ("派单量", 8, None), ("按时响应", 9, None), ("未按时响应", 10, None),
               ("响应率", 9, PERCENT), ("回访评价", 9, None), ("已解决", 8, None), ("解决率", 9, PERCENT),
               ("满意", 8, None), ("满意率", 9, PERCENT), ("按时反馈", 9, None), ("按时反馈率", 11, PERCENT),
               ("综合得分", 10, SCORE), ("备注", 30, None)]
    _sheet(ws, headers, [[f.rank, f.label, f.response_base, f.responded, f.not_responded, f.response_rate,
                          f.counts.get("evaluated", 0), f.counts.get("resolved", 0), f.resolution_rate, f.satisfied,
                          f.satisfaction_rate, f.counts.get("replied_on_time", 0), f.on_time_rate, f.score,
                          "；".join(f.notes) or None]
                         for f in rows])


def _hot_spots(ws: Worksheet, r: Report) -> None:
    headers = [("序号", 7, None), ("热点", 36, None), ("类别", 14, None), ("区域", 22, None), ("工单数", 8, None),
               ("热度", 8, "0.0"), ("关键词", 28, None), ("工单号", 60, None)]
    _sheet(ws, headers, [[h.rank, h.label, h.category, h.area, h.size, h.heat, "、".join(h.keywords),
                          "、".join(h.ticket_numbers)] for h in r.hot_spots])
    if not r.hot_spots:  # an empty sheet reads like a broken export
        ws.append(sheets.row(ws, [None, "本期无热点（没有达到热度门槛的集中诉求）"]))


def _problems(ws: Worksheet, r: Report) -> None:
    headers = [("序号", 7, None), ("乡镇（街道）", 24, None), ("诉求类别", 22, None)]
    headers += [(f"{m.label} 件数", 12, None) for m in r.problem_months]
    headers += [("合计", 8, None), ("上榜月数", 9, None), ("上榜月份", 24, None)]
    _sheet(ws, headers, [[i, p.township, p.category, *p.counts, p.total, p.months_in_top,
                          "、".join(m for m, top in zip(p.months, p.in_top, strict=True) if top)]
                         for i, p in enumerate(r.problems, start=1)])
    if not r.problems:
        ws.append(sheets.row(ws, [None, "暂无“每月一题”候选"]))


def workbook(report: Report) -> Workbook:
    wb = Workbook()
    sheets = [wb.active] + [wb.create_sheet() for _ in SHEETS[1:]]
    for ws, title in zip(sheets, SHEETS, strict=True):
        ws.title = title
    _overview(sheets[0], report)
    _ranking(sheets[1], report.units, "承办单位")
    _ranking(sheets[2], report.townships, "乡镇（街道）")
    _hot_spots(sheets[3], report)
    _problems(sheets[4], report)
    wb.properties.title = report.title
    wb.properties.creator = "12345 接诉即办平台"
    return wb


def write(report: Report, path: Path) -> Path:
    workbook(report).save(path)
    return path


def to_bytes(report: Report) -> bytes:
    buf = BytesIO()
    workbook(report).save(buf)
    return buf.getvalue()
