"""Load the shipped reference data (CSV files in ``data/``) into the database.

Idempotent: rows are inserted or updated by their natural key, so ``hotline init`` can run again
after an upgrade without duplicating anything or undoing admins' additions.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.directory import holidays, reference
from hotline.directory.models import (
    Category,
    DispatchRule,
    LimitUnit,
    Region,
    RequestKind,
    Stage,
    TimeLimit,
    Unit,
    UnitKind,
    UnitRegion,
)
from hotline.kit.errors import Invalid

DATA_DIR = Path(__file__).parent / "data"


def read_csv(name: str, directory: Path = DATA_DIR) -> Iterator[dict[str, str]]:
    with open(directory / name, encoding="utf-8", newline="") as fh:
        yield from csv.DictReader(fh)


def _split(value: str | None) -> list[str]:
    return [v for v in (value or "").split("|") if v]


def _none(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


def load_regions(session: Session, rows: list[dict[str, Any]]) -> int:
    """Upsert regions; parents must come before children."""
    existing = {r.code: r for r in session.scalars(select(Region))}
    for row in rows:
        region = existing.get(row["code"])
        if region is None:
            region = Region(code=row["code"])
            session.add(region)
            existing[row["code"]] = region
        region.name = row["name"]
        region.short_name = row.get("short_name") or row["name"]
        region.level = int(row["level"])
        region.parent_code = _none(row.get("parent_code"))
        pop = row.get("population")
        region.population = int(pop) if pop not in (None, "") else region.population
        region.population_estimated = str(row.get("population_estimated", "0")) in ("1", "true", "True")
        aliases = row.get("aliases")
        region.aliases = aliases if isinstance(aliases, list) else _split(aliases)
    session.flush()
    return len(rows)


def load_categories(session: Session) -> int:
    existing = {c.code: c for c in session.scalars(select(Category))}
    rows = list(read_csv("categories.csv"))
    for row in rows:
        cat = existing.get(row["code"]) or Category(code=row["code"])
        session.add(cat)
        cat.name = row["name"]
        cat.parent_code = _none(row["parent_code"])
        cat.level = 1 if not cat.parent_code else 2 if len(row["code"]) == 4 else 3
        cat.default_kind = RequestKind(row["default_kind"])
        cat.keywords = _split(row.get("keywords"))
        cat.active = True
        session.flush()
    return len(rows)


def load_units(session: Session) -> int:
    existing = {u.code: u for u in session.scalars(select(Unit))}
    rows = list(read_csv("units.csv"))
    for row in rows:
        unit = existing.get(row["code"])
        if unit is None:
            unit = Unit(code=row["code"], active=True)
            session.add(unit)
            existing[row["code"]] = unit
        unit.name = row["name"]
        unit.kind = UnitKind(row["kind"])
        unit.region_code = _none(row["region_code"])
        unit.phone = _none(row.get("phone"))
    session.flush()
    for row in rows:
        unit = existing[row["code"]]
        parent = _none(row["parent_code"])
        if parent and parent not in existing:
            raise Invalid(f"units.csv: 单位 {row['code']} 的上级 {parent} 不存在")
        unit.parent_id = existing[parent].id if parent else None
        wanted = set(_split(row["serves"]))
        have = {ur.region_code for ur in unit.regions}
        for code in wanted - have:
            unit.regions.append(UnitRegion(region_code=code))
    session.flush()
    return len(rows)


def load_time_limits(session: Session) -> int:
    existing = {(t.stage.value, t.category_code, t.urgency, t.kind): t for t in session.scalars(select(TimeLimit))}
    rows = list(read_csv("time_limits.csv"))
    for row in rows:
        key = (row["stage"], _none(row["category_code"]), _none(row["urgency"]), _none(row["kind"]))
        limit = existing.get(key)
        if limit is None:
            limit = TimeLimit(stage=Stage(key[0]), category_code=key[1], urgency=key[2], kind=key[3])
            session.add(limit)
        limit.amount = int(row["amount"])
        limit.unit = LimitUnit(row["unit"])
    session.flush()
    return len(rows)


def load_dispatch_catalogue(session: Session) -> int:
    units = {code: uid for code, uid in session.execute(select(Unit.code, Unit.id))}
    existing = {(r.category_code, r.region_code): r for r in session.scalars(select(DispatchRule))}
    rows = list(read_csv("dispatch_catalogue.csv"))
    for row in rows:
        key = (row["category_code"], row["region_code"])
        rule = existing.get(key)
        if rule is None:
            rule = DispatchRule(category_code=key[0], region_code=key[1])
            session.add(rule)
            existing[key] = rule
        try:
            rule.lead_unit_id = units[row["lead_unit_code"]]
            rule.co_unit_ids = [units[c] for c in _split(row.get("co_unit_codes"))]
        except KeyError as missing:
            raise Invalid(f"dispatch_catalogue.csv: 未知单位 {missing}") from None
        rule.note = _none(row.get("note"))
    session.flush()
    return len(rows)


def load_reference_data(session: Session) -> dict[str, int]:
    """Everything ``hotline init`` loads: regions, categories, units, time limits, the dispatch
    catalogue, and the holiday table seeded from ``chinesecalendar``."""
    counts = {
        "regions": load_regions(session, list(read_csv("regions.csv"))),
        "categories": load_categories(session),
        "units": load_units(session),
        "time_limits": load_time_limits(session),
        "dispatch_rules": load_dispatch_catalogue(session),
        "holiday_days": holidays.seed_from_chinesecalendar(session),
    }
    reference.invalidate(session)
    return counts
