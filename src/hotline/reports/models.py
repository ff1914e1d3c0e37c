"""Stored briefings: one row per (kind, label) holding the printable page and the workbook.

In the database rather than in files, so that every web and worker process, on whichever machine,
sees the same reports. ``created_at`` is when this version was made (a report made again on
demand replaces the row and its time).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hotline.kit.db import Base, UTCDateTime


class ReportRecord(Base):
    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("kind", "label"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # daily | weekly | monthly
    label: Mapped[str] = mapped_column(String(12))  # 2026-03-11, 2026-W11, 2026-03
    period_first: Mapped[date] = mapped_column(Date)
    period_last: Mapped[date] = mapped_column(Date)  # inclusive
    html: Mapped[str] = mapped_column(Text)
    xlsx: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
