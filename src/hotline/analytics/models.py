"""Rollup tables: per-day sums the dashboards read instead of the raw tickets.

Each row is one local day (Asia/Shanghai, ``grain`` 'd') or one calendar month (``grain`` 'm', ``day``
its first day: the sum of its day rows) × one key. ``rollups.rebuild`` fills them from the raw
tables; ``rollups.refresh`` (the worker, every few minutes) recomputes the days that changed since
its last run and their months. A query reads month rows for the whole months of its range and day
rows for the ends (``rollups.span``), so a year costs twelve months' rows whatever the history's size.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.kit.db import Base, UTCDateTime


class IntakeByChannel(Base):
    """Tickets received per day by channel, request kind and urgency (volume charts)."""

    __tablename__ = "rollup_intake_channel"

    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    channel: Mapped[str] = mapped_column(String(12), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    urgency: Mapped[str] = mapped_column(String(12), primary_key=True)
    tickets: Mapped[int] = mapped_column(Integer)


class IntakeByCounty(Base):
    """Tickets received per day by county, channel, request kind and urgency: the volume charts of a
    county picked on the dashboard (the city's read ``IntakeByChannel``, a county's rows would be
    its scan's bulk). ``county_code``: the ticket's region code cut to six digits, the whole code when
    shorter (a ticket placed at city level only). Keyed county first, so a county's days are one
    range of the primary key."""

    __tablename__ = "rollup_intake_county"

    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    county_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    channel: Mapped[str] = mapped_column(String(12), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    urgency: Mapped[str] = mapped_column(String(12), primary_key=True)
    tickets: Mapped[int] = mapped_column(Integer)


class IntakeByArea(Base):
    """Tickets received per day by township (or the most specific region above it) and first-level
    category (heat map, county map, hot areas)."""

    __tablename__ = "rollup_intake_area"

    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    township_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    category_top: Mapped[str] = mapped_column(String(12), primary_key=True)
    tickets: Mapped[int] = mapped_column(Integer)


class Assessment(Base):
    """The counts behind 三率 per day for one dimension (``unit``, ``township``, ``category``,
    ``all``) and key. Order counts (orders, responded, pending, returned, replied, replied_on_time)
    fall on the day the order was dispatched; callback counts (evaluated, resolved, satisfied) on the
    day of the callback; so a ticket dispatched on 31 January and called back on 2 February counts
    in January's response rate and February's satisfaction rate."""

    __tablename__ = "rollup_assessment"
    # a county's rows of the county × unit dimension (keys "140828:12") as one range, whatever the days
    __table_args__ = (Index("ix_rollup_assessment_key", "dimension", "key", "grain", "day"),)

    dimension: Mapped[str] = mapped_column(String(10), primary_key=True)
    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    key: Mapped[str] = mapped_column(String(20), primary_key=True)
    # Orders (派单 to one unit) dispatched that day, approved returns apart so the rule that
    # excludes them can change without a rebuild; tickets ruled invalid or malicious and merged
    # duplicates are never counted.
    orders: Mapped[int] = mapped_column(Integer, default=0)
    responded: Mapped[int] = mapped_column(Integer, default=0)  # signed (and lead: caller contacted) in time
    pending: Mapped[int] = mapped_column(Integer, default=0)  # not responded yet, limit not yet passed
    returned: Mapped[int] = mapped_column(Integer, default=0)  # orders given back by an approved return
    returned_responded: Mapped[int] = mapped_column(Integer, default=0)
    replied: Mapped[int] = mapped_column(Integer, default=0)  # lead orders answered
    replied_on_time: Mapped[int] = mapped_column(Integer, default=0)
    # Callbacks that day on lead orders (every round: a reopened ticket's first verdict stands).
    evaluated: Mapped[int] = mapped_column(Integer, default=0)
    resolved: Mapped[int] = mapped_column(Integer, default=0)
    satisfied: Mapped[int] = mapped_column(Integer, default=0)
    basically_satisfied: Mapped[int] = mapped_column(Integer, default=0)


class RollupState(Base):
    """Where the refresh left off: tickets changed after ``watermark`` are looked at next time."""

    __tablename__ = "rollup_state"

    name: Mapped[str] = mapped_column(String(30), primary_key=True)
    watermark: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rebuilt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the clock of the last run
