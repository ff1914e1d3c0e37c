"""Uploaded spreadsheets held on disk for the importers, under the name they were uploaded with, so
that a message about the file (不是 UTF-8 编码的 CSV …) names 朱吕村台账.csv, not a temporary name."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["held_as_uploaded", "upload_name"]


def upload_name(filename: str | None) -> str:
    """The uploaded file's own name, or 上传的文件 (with its suffix) when it cannot serve as one."""
    given = Path((filename or "").replace("\\", "/")).name.strip()
    usable = given and not given.startswith(".") and "\x00" not in given and len(given.encode()) <= 200
    return given if usable else "上传的文件" + Path(given).suffix.lower()[:10].replace("\x00", "")


@contextmanager
def held_as_uploaded(filename: str | None, data: bytes) -> Iterator[Path]:
    """``data`` written to a private temporary folder as :func:`upload_name`; removed afterwards."""
    with tempfile.TemporaryDirectory() as folder:
        held = Path(folder) / upload_name(filename)
        held.write_bytes(data)
        yield held
