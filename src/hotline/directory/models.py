"""Reference tables. Admins edit them; tickets point at them."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.kit.db import Base, UTCDateTime


class RegionLevel(enum.IntEnum):
    province = 1
    city = 2
    county = 3
    township = 4
    village = 5


class Region(Base):
    """An administrative division by its 2023 statistical code (2/4/6/9/12 digits)."""

    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    short_name: Mapped[str] = mapped_column(String(80), index=True)
    level: Mapped[int] = mapped_column(Integer)
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"), index=True)
    population: Mapped[int | None] = mapped_column(Integer)
    population_estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    aliases: Mapped[list[Any]] = mapped_column(JSON, default=list)

    parent: Mapped[Region | None] = relationship(remote_side=[code])


class UnitKind(enum.StrEnum):
    hotline_center = "hotline_center"
    government = "government"
    bureau = "bureau"
    township = "township"
    village_committee = "village_committee"
    company = "company"


class Unit(Base):
    """A handling unit (承办单位). Units form a tree; each serves a set of regions."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[UnitKind] = mapped_column(Enum(UnitKind, native_enum=False, length=20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"), index=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    parent: Mapped[Unit | None] = relationship(remote_side=[id])
    regions: Mapped[list[UnitRegion]] = relationship(cascade="all, delete-orphan")


class UnitRegion(Base):
    __tablename__ = "unit_regions"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), primary_key=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), primary_key=True, index=True)


class RequestKind(enum.StrEnum):
    consultation = "consultation"
    help = "help"
    complaint = "complaint"
    report = "report"
    suggestion = "suggestion"
    praise = "praise"


class Category(Base):
    """A node of the category taxonomy (事项分类); codes nest: ``01`` → ``0101``."""

    __tablename__ = "categories"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("categories.code"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    default_kind: Mapped[RequestKind] = mapped_column(Enum(RequestKind, native_enum=False, length=20))
    keywords: Mapped[list[Any]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Stage(enum.StrEnum):
    dispatch = "dispatch"
    accept = "accept"
    contact = "contact"
    reply = "reply"


class LimitUnit(enum.StrEnum):
    hours = "hours"
    days = "days"
    working_days = "working_days"


class TimeLimit(Base):
    """Time allowed for one stage. Empty match fields are wildcards; the most specific row wins
    (urgency beats category beats kind; a category matches its descendants and a deeper category
    beats its parent; see ``tickets.sla.resolve_limit``)."""

    __tablename__ = "time_limits"
    __table_args__ = (UniqueConstraint("stage", "category_code", "urgency", "kind", name="uq_time_limits_match"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stage: Mapped[Stage] = mapped_column(Enum(Stage, native_enum=False, length=20))
    category_code: Mapped[str | None] = mapped_column(ForeignKey("categories.code"))
    urgency: Mapped[str | None] = mapped_column(String(20))
    kind: Mapped[str | None] = mapped_column(String(20))
    amount: Mapped[int] = mapped_column(Integer)
    unit: Mapped[LimitUnit] = mapped_column(Enum(LimitUnit, native_enum=False, length=20))


class DispatchRule(Base):
    """The dispatch catalogue (派单目录): category × region → lead unit and co-handling units."""

    __tablename__ = "dispatch_rules"
    __table_args__ = (UniqueConstraint("category_code", "region_code", name="uq_dispatch_rules_match"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("categories.code"))
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    lead_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    co_unit_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    note: Mapped[str | None] = mapped_column(Text)


class Holiday(Base):
    """A day where the weekend rule is wrong: a weekday off, or a 调休 weekend that is worked."""

    __tablename__ = "holidays"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str | None] = mapped_column(String(40))


class HolidayYear(Base):
    """A year whose holiday data has been entered. Deadlines in other years are flagged."""

    __tablename__ = "holiday_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


Index("ix_dispatch_rules_lookup", DispatchRule.category_code, DispatchRule.region_code)


class Setting(Base):
    """An operating rule admins can change (warning share, escalation delays, callback rules).

    Only values that differ from the shipped defaults (``directory/settings.py``) are stored.
    """

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
