"""Writing rows into an Excel workbook (openpyxl) so that people's text stays text.

openpyxl writes any string starting with ``=`` as a live formula: a citizen's request
``=HYPERLINK("http://…","点击")`` typed on the portal would become a link in every export that
holds it, and a title cut with ``…`` a broken formula. Every workbook writer appends its rows
through :func:`row` (or makes single cells with :func:`cell`): text is always a string cell
(``data_type`` 's', never 'f'), and text that a spreadsheet would read as a formula or a command
(starting with = + - @, their full-width forms, a tab or a carriage return; OWASP's list for CSV
injection) is also marked "quote prefix", the workbook's own form of the leading apostrophe: Excel
and WPS show it exactly as typed, and keep it text when someone edits the cell. The text itself is
not changed, so a file exported and imported again reads the same.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from openpyxl.cell import Cell

__all__ = ["RISKY_STARTS", "cell", "risky", "row"]

RISKY_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def risky(text: str) -> bool:
    """Whether a spreadsheet program could take ``text`` for a formula."""
    return text.startswith(RISKY_STARTS)


def cell(sheet: Any, value: Any) -> Any:
    """``value`` as a cell of ``sheet`` (a normal or a write-only worksheet): a string cell with a quote
    prefix for risky text, the value itself otherwise (a plain string is a string cell already)."""
    if not isinstance(value, str) or not risky(value):
        return value
    made = Cell(sheet, row=1, column=1, value=value)  # placed where ``append`` puts it, as WriteOnlyCell
    made.data_type = "s"  # openpyxl made it a formula ('f') when it starts with '='
    made.quotePrefix = True
    return made


def row(sheet: Any, values: Iterable[Any]) -> list[Any]:
    """The values of one row, ready for ``sheet.append``: every risky text a safe string cell."""
    return [cell(sheet, v) for v in values]
