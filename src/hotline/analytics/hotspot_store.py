"""Stored hot-spot snapshots: the top hot spots of each standard period and area, written by
``hotspots.refresh_snapshots`` (a worker job) so that dashboards read them in milliseconds.

One row per (period, area, rank); a refresh replaces a period's rows in one transaction.
``area_code`` is '' for the whole platform, else a county code. ``detail`` holds the keywords, the
heat's components, the callers, the township of the block, the first and last ticket times and the
cohesion (JSON).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.kit.db import Base, UTCDateTime


class HotSpotSnapshot(Base):
    __tablename__ = "hotspot_snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period: Mapped[str] = mapped_column(String(12))  # 'yesterday' | '7d' | '30d'
    area_code: Mapped[str] = mapped_column(String(12))  # '' = the whole platform; else a county
    rank: Mapped[int] = mapped_column(Integer)
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    label: Mapped[str] = mapped_column(String(120))
    heat: Mapped[float] = mapped_column(Float)
    category_code: Mapped[str] = mapped_column(String(8))  # first level
    place: Mapped[str] = mapped_column(String(60))
    ticket_count: Mapped[int] = mapped_column(Integer)
    ticket_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


Index("ix_hotspot_snapshots_period_area_rank", HotSpotSnapshot.period, HotSpotSnapshot.area_code,
      HotSpotSnapshot.rank)


def stored(session: Any, *, period: str = "30d", area_code: str = "") -> list[HotSpotSnapshot]:
    """The stored top hot spots of a standard period and area (the city: ''), best first."""
    from sqlalchemy import select

    return list(session.scalars(select(HotSpotSnapshot).where(HotSpotSnapshot.period == period,
                                                             HotSpotSnapshot.area_code == area_code)
                                .order_by(HotSpotSnapshot.rank)))
