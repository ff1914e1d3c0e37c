"""People's text in a workbook stays text: a value typed as ``=HYPERLINK(...)`` (or starting with
+ - @, a tab or a carriage return) is written as a string cell marked with a quote prefix, so
Excel shows it as typed and never runs it; every workbook writer goes through ``kit.sheets``."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from hotline.kit import sheets

EVIL = ('=HYPERLINK("http://evil.example/x","点击")', "=1+1", "+1+2", "-2+3", "@SUM(1,2)", "\t=1+1", "\r=1+1",
        "＝1+1", '=HYPERLINK("http://evil.example/x","点…')
SRC = Path(__file__).resolve().parents[2] / "src" / "hotline"


def assert_no_formulas(data: bytes, *typed: str) -> None:
    """No cell of the workbook is a formula, its XML holds no <f> element, and every text in
    ``typed`` appears in some cell exactly as typed, a string cell with a quote prefix."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                xml = archive.read(name).decode("utf-8")
                assert not re.search(r"<(\w+:)?f[ >/]", xml), f"{name} holds a formula"
    book = load_workbook(io.BytesIO(data))
    seen: dict[str, object] = {}
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{ws.title}!{cell.coordinate} is a formula: {cell.value!r}"
                if isinstance(cell.value, str):
                    seen.setdefault(cell.value, cell)
    for text in typed:
        cell = next((c for v, c in seen.items() if text.replace("\r", "\n") in v), None)
        assert cell is not None, f"{text!r} is not in the workbook"
        assert cell.data_type == "s"
        if sheets.risky(cell.value):
            assert cell.quotePrefix, f"{cell.value!r} has no quote prefix"


@pytest.mark.parametrize("write_only", [False, True])
def test_risky_text_is_a_quoted_string_cell_and_other_values_are_left_alone(write_only):
    wb = Workbook(write_only=write_only)
    ws = wb.create_sheet("表") if write_only else wb.active
    ws.append(sheets.row(ws, ["标题", *EVIL]))
    ws.append(sheets.row(ws, ["村口路灯不亮", 3, None, 1.5, "a=b"]))
    out = io.BytesIO()
    wb.save(out)
    assert_no_formulas(out.getvalue(), *EVIL)
    ws = load_workbook(io.BytesIO(out.getvalue())).worksheets[0]
    # The text itself is not changed (a carriage return reads back as a line feed: XML's rule).
    assert [c.value for c in ws[1]][1:] == [v.replace("\r", "\n") for v in EVIL]
    assert [c.value for c in ws[2]] == ["村口路灯不亮", 3, None, 1.5, "a=b"] + [None] * (len(EVIL) - 4)
    assert not ws["A2"].quotePrefix and not ws["E2"].quotePrefix


def test_every_workbook_writer_appends_its_rows_through_kit_sheets():
    writers = [p for p in SRC.rglob("*.py") if re.search(r"from openpyxl import .*Workbook", p.read_text("utf-8"))]
    assert writers, "no workbook writer found"
    for path in writers:
        text = path.read_text("utf-8")
        assert "sheets.row(" in text, f"{path.relative_to(SRC)} writes a workbook without kit.sheets"
