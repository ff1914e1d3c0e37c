"""Stored briefings: ``<data_dir>/reports/<kind>/<label>.html`` and ``.xlsx``.

Writing is idempotent and atomic: each file is written beside its final name and renamed over it,
so a reader (the web page, a download) never sees half a file, and two workers writing the same
report at once leave one whole copy. :func:`ensure` writes only when a report is missing (the
worker); :func:`save` always writes (on demand: the numbers as they are now).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from hotline.kit.errors import NotFound
from hotline.reports import excel, html, periods
from hotline.reports.build import Report

FORMATS = ("html", "xlsx")


@dataclass(frozen=True)
class StoredReport:
    kind: str
    label: str
    html: Path
    xlsx: Path
    written_at: datetime  # the newer file's modification time (UTC)

    @property
    def kind_label(self) -> str:
        return periods.KIND_LABELS[self.kind]


def root(data_dir: Path) -> Path:
    return Path(data_dir) / "reports"


def kind_dir(data_dir: Path, kind: str) -> Path:
    return root(data_dir) / periods.check_kind(kind)


def path_of(data_dir: Path, kind: str, label: str, fmt: str) -> Path:
    """Where the report's file of format ``fmt`` lives (labels are checked: they name files)."""
    if fmt not in FORMATS:
        raise NotFound(f"没有 {fmt} 格式的报表")
    return kind_dir(data_dir, kind) / f"{periods.check_label(kind, label)}.{fmt}"


def exists(data_dir: Path, kind: str, label: str) -> bool:
    return all(path_of(data_dir, kind, label, fmt).is_file() for fmt in FORMATS)


def _atomic(path: Path, write: Callable[[Path], object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide the report from other readers
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_files(report: Report, directory: Path) -> tuple[Path, Path]:
    """Write ``<label>.html`` and ``<label>.xlsx`` into ``directory``; returns their paths."""
    directory = Path(directory)
    page, book = directory / f"{report.period.label}.html", directory / f"{report.period.label}.xlsx"
    text = html.render(report)
    _atomic(page, lambda p: p.write_text(text, encoding="utf-8"))
    _atomic(book, lambda p: excel.write(report, p))
    return page, book


def save(data_dir: Path, report: Report) -> StoredReport:
    """Write (or overwrite) the report's two files under the data directory."""
    write_files(report, kind_dir(data_dir, report.kind))
    found = get(data_dir, report.kind, report.period.label)
    assert found is not None
    return found


def ensure(data_dir: Path, kind: str, label: str, make: Callable[[], Report]) -> bool:
    """Build and save the report only when its files are missing; returns whether it wrote."""
    if exists(data_dir, kind, label):
        return False
    save(data_dir, make())
    return True


def get(data_dir: Path, kind: str, label: str) -> StoredReport | None:
    page, book = path_of(data_dir, kind, label, "html"), path_of(data_dir, kind, label, "xlsx")
    if not (page.is_file() and book.is_file()):
        return None
    mtime = max(page.stat().st_mtime, book.stat().st_mtime)
    return StoredReport(kind, label, page, book, datetime.fromtimestamp(mtime, UTC))


def listing(data_dir: Path, kind: str | None = None) -> list[StoredReport]:
    """The stored reports (both files present), by kind (daily, weekly, monthly), newest period first."""
    out: list[StoredReport] = []
    for k in [kind] if kind else periods.KINDS:
        folder = kind_dir(data_dir, k)
        if not folder.is_dir():
            continue
        labels = {p.stem for p in folder.glob("*.html") if periods.LABEL_PATTERNS[k].fullmatch(p.stem)}
        found = [get(data_dir, k, label) for label in sorted(labels, reverse=True)]
        out += [f for f in found if f is not None]
    return out
