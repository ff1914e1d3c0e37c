"""Stored briefings: rows of the ``reports`` table, one per (kind, label), holding the printable
HTML and the Excel workbook, so that every web and worker process on every machine sees the same
reports (they used to be files under the data directory, invisible to other machines).

:func:`save` always writes (on demand: the numbers as they are now), replacing the row of the same
period in one statement (an upsert, so two writers at once leave one whole row). :func:`ensure`
makes a report only when it is missing or *interim*, made before its period ended (the worker,
which so replaces a report made on demand mid-period once the period is over): on PostgreSQL it first takes a transaction
lock on the report's key, so a second worker waits for the first one's commit and then finds the
row instead of building the report again; the insert itself ignores a row that appeared meanwhile.
Like every service here these functions only flush; the caller's edge commits.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hotline.kit import clock
from hotline.kit.errors import NotFound
from hotline.reports import excel, html, periods
from hotline.reports.build import Report
from hotline.reports.models import ReportRecord

FORMATS = ("html", "xlsx")
REPORTS_LOCK = 12345_0012  # first key of the (int, int) advisory locks taken by ensure
T = ReportRecord.__table__


@dataclass(frozen=True)
class StoredReport:
    """A stored report without its documents (what lists and notices need)."""

    kind: str
    label: str
    period_first: date
    period_last: date
    created_at: datetime  # when this version was made (UTC)

    @property
    def kind_label(self) -> str:
        return periods.KIND_LABELS[self.kind]

    @property
    def interim(self) -> bool:
        """Made before its period ended (its figures are the period's so far, 期中统计)."""
        return self.created_at < period_end(self.period_last)


def period_end(last: date) -> datetime:
    """Local midnight after a period's last day: a report made from then on is final."""
    return datetime.combine(last + timedelta(days=1), time(0), clock.tz())


@dataclass(frozen=True)
class Rendered:
    """A built report turned into its two documents, ready to store or to write as files."""

    kind: str
    label: str
    period_first: date
    period_last: date
    html: str
    xlsx: bytes
    generated_at: datetime  # the time its figures are as of (stored as the row's created_at)

    @classmethod
    def of(cls, report: Report) -> Rendered:
        p = report.period
        return cls(report.kind, p.label, p.first, p.last, html.render(report), excel.to_bytes(report),
                   report.generated_at)

    def write_files(self, directory: Path) -> tuple[Path, Path]:
        """Write ``<label>.html`` and ``<label>.xlsx`` into ``directory``; returns their paths."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        page, book = directory / f"{self.label}.html", directory / f"{self.label}.xlsx"
        page.write_text(self.html, encoding="utf-8")
        book.write_bytes(self.xlsx)
        return page, book


_SUMMARY = (T.c.kind, T.c.label, T.c.period_first, T.c.period_last, T.c.created_at)


def _summary(row: Any) -> StoredReport:
    return StoredReport(row.kind, row.label, row.period_first, row.period_last, row.created_at)


def _values(made: Rendered) -> dict[str, Any]:
    return {"kind": made.kind, "label": made.label, "period_first": made.period_first,
            "period_last": made.period_last, "html": made.html, "xlsx": made.xlsx,
            "created_at": made.generated_at}


def _insert(session: Session) -> Any:
    return (postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert)(T)


def save(session: Session, report: Report | Rendered) -> StoredReport:
    """Store the report, replacing a stored one of the same kind and period."""
    made = report if isinstance(report, Rendered) else Rendered.of(report)
    values = _values(made)
    statement = _insert(session).values(values)
    statement = statement.on_conflict_do_update(
        index_elements=["kind", "label"],
        set_={k: statement.excluded[k] for k in values if k not in ("kind", "label")})
    session.execute(statement)
    return StoredReport(made.kind, made.label, made.period_first, made.period_last, values["created_at"])


def _lock(session: Session, kind: str, label: str) -> None:
    """On PostgreSQL, hold the report's advisory lock until the transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        key = zlib.crc32(f"{kind}/{label}".encode()) - 2**31  # a signed int4
        session.execute(text("SELECT pg_advisory_xact_lock(:a, :b)"), {"a": REPORTS_LOCK, "b": key})


def ensure(session: Session, kind: str, label: str, make: Callable[[], Report | Rendered]) -> bool:
    """Build and store the report only when it is missing or interim (:attr:`StoredReport.interim`,
    replaced then); returns whether this call stored it."""
    _lock(session, kind, label)
    if final(session, kind, label):
        return False
    report = make()
    made = report if isinstance(report, Rendered) else Rendered.of(report)
    if (made.kind, made.label) != (kind, label):
        raise ValueError(f"made {made.kind}/{made.label} for {kind}/{label}")
    values = _values(made)
    statement = _insert(session).values(values)
    statement = statement.on_conflict_do_update(  # only over an interim one: a final row stays
        index_elements=["kind", "label"],
        set_={k: statement.excluded[k] for k in values if k not in ("kind", "label")},
        where=T.c.created_at < period_end(made.period_last))
    return session.execute(statement.returning(T.c.id)).scalar() is not None


def exists(session: Session, kind: str, label: str) -> bool:
    return session.scalar(select(func.count()).select_from(T).where(T.c.kind == kind, T.c.label == label)) > 0


def final(session: Session, kind: str, label: str) -> bool:
    """Whether the report is stored and was made after its period ended (not interim)."""
    found = get(session, kind, label)
    return found is not None and not found.interim


def get(session: Session, kind: str, label: str) -> StoredReport | None:
    """The stored report's summary (not its documents), or None."""
    row = session.execute(select(*_SUMMARY).where(T.c.kind == kind, T.c.label == label)).first()
    return _summary(row) if row is not None else None


def document(session: Session, kind: str, label: str, fmt: str) -> bytes:
    """The stored report's printable page (UTF-8) or workbook; ``NotFound`` when there is none
    (or the kind, label or format is not one a report can have)."""
    if fmt not in FORMATS:
        raise NotFound(f"没有 {fmt} 格式的报表")
    if kind not in periods.KINDS or not periods.LABEL_PATTERNS[kind].fullmatch(label):
        raise NotFound(f"没有找到报表 {kind}/{label}")
    found = session.scalar(select(T.c[fmt]).where(T.c.kind == kind, T.c.label == label))
    if found is None:
        raise NotFound(f"没有找到报表 {kind}/{label}.{fmt}")
    return found.encode("utf-8") if isinstance(found, str) else bytes(found)


def listing(session: Session, kind: str | None = None) -> list[StoredReport]:
    """The stored reports, by kind (daily, weekly, monthly), newest period first; the documents
    are not read."""
    order = {k: i for i, k in enumerate(periods.KINDS)}
    statement = select(*_SUMMARY).order_by(T.c.period_first.desc(), T.c.label.desc())
    if kind is not None:
        statement = statement.where(T.c.kind == periods.check_kind(kind))
    rows = [_summary(r) for r in session.execute(statement)]
    return sorted(rows, key=lambda r: order.get(r.kind, len(order)))  # stable: keeps newest first
