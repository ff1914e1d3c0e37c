"""Reading a table a person hands over: a CSV or an XLSX workbook, told apart by content, not name (a decrypted temporary file or a pipe has no telling suffix; ``-``
is standard input). A CSV is read as UTF-8 (with or without BOM) when it is valid UTF-8, else as
GBK/GB18030: what Excel in China saves as 「CSV（逗号分隔）」. Every problem is a
:class:`TableError` whose message says what to do."""

from __future__ import annotations

import csv
import io
import sys
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

__all__ = ["RowProblem", "TableError", "decode_csv", "find_columns", "heading", "read_rows", "unknown_columns"]

ZIP_MAGIC = b"PK\x03\x04"  # an .xlsx workbook is a zip archive
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # a legacy .xls workbook


class TableError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _read_bytes(p: Path) -> bytes:
    """The whole file, read once, so a pipe works too: ``--data <(gpg -d ...)``."""
    if str(p) == "-":
        return sys.stdin.buffer.read()
    try:
        return p.read_bytes()
    except FileNotFoundError:
        raise TableError(f"文件不存在：{p}") from None
    except IsADirectoryError:
        raise TableError(f"{p} 是目录，不是文件") from None
    except PermissionError:
        raise TableError(f"没有权限读取 {p}") from None


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):  # an Excel date: to the minute or second, without microseconds
        return value.replace(microsecond=0).isoformat(sep=" ")
    return str(value)


def decode_csv(data: bytes) -> str | None:
    """The text of a CSV file: UTF-8 (a BOM dropped) when the bytes are valid UTF-8, else GB18030
    (which includes GBK and GB2312, Excel's 「CSV（逗号分隔）」 on a Chinese Windows); None when
    it is neither. Chinese text in GBK is almost never valid UTF-8, so the order tells them apart."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        return None


def read_rows(path: Path | str) -> tuple[list[str] | None, list[list[str]]]:
    """The header (None for an empty file) and the rows, every cell as text."""
    p = Path(path)
    data = _read_bytes(p)
    if data.startswith(ZIP_MAGIC):
        import openpyxl

        try:
            wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception:  # noqa: BLE001 - any unreadable workbook is the same to the user
            # A cut-off download, a .docx or a zip renamed: openpyxl's own words mean nothing to them.
            raise TableError(f"{p.name} 不是有效的 Excel（.xlsx）文件（可能已损坏或是其他格式）："
                             "请重新导出为 .xlsx 或 UTF-8 编码的 CSV") from None
        it = wb.worksheets[0].iter_rows(values_only=True)
        header = next(it, None)
        rows = [[_cell(v) for v in r] for r in it]
        wb.close()
        return (None if header is None else [_cell(h) for h in header]), rows
    if data.startswith(OLE_MAGIC) or p.suffix.lower() == ".xls":
        raise TableError(f"{p.name} 是旧版 Excel（.xls）文件：请另存为 .xlsx 或 UTF-8 编码的 CSV")
    if p.suffix.lower() in (".xlsx", ".xlsm"):
        raise TableError(f"{p.name} 不是有效的 Excel（.xlsx）文件：请重新导出为 .xlsx 或 UTF-8 编码的 CSV")
    text = decode_csv(data)
    if text is None:
        raise TableError(f"{p.name} 不是 UTF-8 或 GBK 编码的 CSV：请在 Excel 中另存为「CSV UTF-8（逗号分隔）」或 .xlsx")
    if "\x00" in text:
        raise TableError(f"{p.name} 不是 CSV 文本文件：请用 .csv（UTF-8）或 .xlsx")
    reader = csv.reader(text.splitlines(keepends=True))
    return next(reader, None), list(reader)


@dataclass
class RowProblem:
    """Why one row of an imported sheet was refused."""
    row: int  # as the spreadsheet numbers it: the heading is row 1
    message: str


def heading(text: str) -> str:
    """A column title as compared: full-width characters made plain (（） → ()), spaces removed,
    lower case."""
    return "".join(unicodedata.normalize("NFKC", text or "").split()).lower()


def find_columns(header: Sequence[str], columns: Mapping[str, Sequence[str]], required: Iterable[str],
                 example: str) -> dict[str, int]:
    """Where each known column is in ``header``: a column is found by any of its titles (Chinese or
    English, spaces, width and case ignored); a missing required one is refused with its first
    title and an ``example`` of the heading row (e.g. 诉求内容、发生地、事项分类)."""
    from hotline.kit.errors import Invalid

    names = [heading(h) for h in header]
    found: dict[str, int] = {}
    for key, titles in columns.items():
        for t in titles:
            if heading(t) in names:
                found[key] = names.index(heading(t))
                break
    missing = [columns[k][0] for k in required if k not in found]
    if missing:
        raise Invalid(f"缺少列：{'、'.join(missing)}（第一行须为列名，如 {example}）", code="missing_columns")
    return found


def unknown_columns(header: Sequence[str], columns: Mapping[str, Sequence[str]],
                    ignored: Iterable[str] = ()) -> tuple[list[str], list[tuple[str, str]]]:
    """The headings of ``header`` that are none of ``columns``' titles (nor ``ignored``), as
    written, and the pairs of headings naming one column twice (the second would be dropped)."""
    owner = {heading(t): key for key, titles in columns.items() for t in titles}
    skip = {heading(t) for t in ignored}
    unknown, first, twice = [], {}, []
    for title in header:
        name = heading(title)
        if not name or name in skip:
            continue
        key = owner.get(name)
        if key is None:
            unknown.append(title.strip())
        elif key in first:
            twice.append((first[key], title.strip()))
        else:
            first[key] = title.strip()
    return unknown, twice
