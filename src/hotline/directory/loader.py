"""Load the shipped reference data (CSV files in ``data/``) into the database.

Idempotent and additive: ``hotline init`` runs again at every upgrade and only inserts the rows the
database lacks (by natural key), so it never duplicates anything nor undoes what admins changed,
deactivated or deleted. Regions, public facts no admin edits, are the exception: they are updated.
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


def load_categories(session: Session) -> set[str]:
    """Insert the shipped categories whose code the table does not have; the codes inserted.

    A category already there is the admins' from then on: its name, keywords and whether it is
    active stay as they made them (a release never re-activates or renames one)."""
    existing = set(session.scalars(select(Category.code)))
    added: set[str] = set()
    for row in read_csv("categories.csv"):  # parents come before children in the file
        if row["code"] in existing:
            continue
        parent = _none(row["parent_code"])
        session.add(Category(code=row["code"], name=row["name"], parent_code=parent,
                             level=1 if not parent else 2 if len(row["code"]) == 4 else 3,
                             default_kind=RequestKind(row["default_kind"]), keywords=_split(row.get("keywords")),
                             active=True))
        existing.add(row["code"])
        added.add(row["code"])
        session.flush()
    return added


def load_units(session: Session, new_regions: set[str] | frozenset[str] = frozenset()) -> set[str]:
    """Insert the shipped units whose code the table does not have; the codes inserted.

    A unit already there keeps its name, phone, parent, kind and served regions as admins left
    them; it only gains the regions of ``new_regions`` (regions this run added, so no admin can
    have taken them away) that the file says it serves."""
    existing = {u.code: u for u in session.scalars(select(Unit))}
    rows = list(read_csv("units.csv"))
    added: set[str] = set()
    for row in rows:
        if row["code"] in existing:
            continue
        unit = Unit(code=row["code"], active=True, name=row["name"], kind=UnitKind(row["kind"]),
                    region_code=_none(row["region_code"]), phone=_none(row.get("phone")))
        session.add(unit)
        existing[row["code"]] = unit
        added.add(row["code"])
    session.flush()
    for row in rows:
        unit = existing[row["code"]]
        is_new = row["code"] in added
        parent = _none(row["parent_code"])
        if is_new and parent:
            if parent not in existing:
                raise Invalid(f"units.csv: 单位 {row['code']} 的上级 {parent} 不存在")
            unit.parent_id = existing[parent].id
        have = {ur.region_code for ur in unit.regions}
        for code in _split(row["serves"]):
            if code not in have and (is_new or code in new_regions):
                unit.regions.append(UnitRegion(region_code=code))
    session.flush()
    return added


def load_time_limits(session: Session, new_categories: set[str], *, fresh: bool) -> int:
    """Insert shipped time limits that cannot have been deleted by an admin; the number inserted.

    A deleted limit leaves no trace, so "never loaded" and "deleted" look alike. Limits are
    therefore inserted only for categories this run added, and the general ones (no category) only
    into a ``fresh`` database (its first ``init``). An existing limit keeps its amount."""
    existing = {(t.stage.value, t.category_code, t.urgency, t.kind) for t in session.scalars(select(TimeLimit))}
    added = 0
    for row in read_csv("time_limits.csv"):
        key = (row["stage"], _none(row["category_code"]), _none(row["urgency"]), _none(row["kind"]))
        if key in existing or not (fresh if key[1] is None else key[1] in new_categories):
            continue
        session.add(TimeLimit(stage=Stage(key[0]), category_code=key[1], urgency=key[2], kind=key[3],
                              amount=int(row["amount"]), unit=LimitUnit(row["unit"])))
        existing.add(key)
        added += 1
    session.flush()
    return added


def load_dispatch_catalogue(session: Session, new_categories: set[str], new_regions: set[str]) -> int:
    """Insert the shipped dispatch rules for categories or regions this run added; the number inserted.

    Admins edit and delete rules, and a deleted rule leaves no trace, so a rule missing for an old
    category and region may be one an admin removed on purpose: it is not brought back. A rule for
    a category or region that did not exist before this run cannot have been deleted, so it is
    inserted (on a first ``init`` every category is new, so the whole catalogue loads). A rule
    already there keeps the lead, co-handlers and note the admins gave it. The price: a later
    release's new rules for old categories in old regions are left to the admins to add."""
    units = {code: uid for code, uid in session.execute(select(Unit.code, Unit.id))}
    existing = {(r.category_code, r.region_code) for r in session.scalars(select(DispatchRule))}
    added = 0
    for row in read_csv("dispatch_catalogue.csv"):
        key = (row["category_code"], row["region_code"])
        if key in existing or not (key[0] in new_categories or key[1] in new_regions):
            continue
        try:
            lead, co = units[row["lead_unit_code"]], [units[c] for c in _split(row.get("co_unit_codes"))]
        except KeyError as missing:
            raise Invalid(f"dispatch_catalogue.csv: 未知单位 {missing}") from None
        session.add(DispatchRule(category_code=key[0], region_code=key[1], lead_unit_id=lead, co_unit_ids=co,
                                 note=_none(row.get("note"))))
        existing.add(key)
        added += 1
    session.flush()
    return added


def load_reference_data(session: Session) -> dict[str, int]:
    """Everything ``hotline init`` loads: regions, categories, units, time limits, the dispatch
    catalogue, and the holiday table seeded from ``chinesecalendar``; the number of rows each added
    (regions: the number in the file, as they are public facts kept up to date).

    On a database that already has reference data only what is missing is added (codes a newer
    release ships); what admins changed or deleted stays so (see each loader)."""
    regions_before = set(session.scalars(select(Region.code)))
    fresh = session.scalar(select(Category.code).limit(1)) is None
    regions = load_regions(session, list(read_csv("regions.csv")))
    new_regions = set(session.scalars(select(Region.code))) - regions_before
    new_categories = load_categories(session)
    counts = {
        "regions": regions,
        "categories": len(new_categories),
        "units": len(load_units(session, new_regions)),
        "time_limits": load_time_limits(session, new_categories, fresh=fresh),
        "dispatch_rules": load_dispatch_catalogue(session, new_categories, new_regions),
        "holiday_days": holidays.seed_from_chinesecalendar(session),
    }
    reference.invalidate(session)
    return counts
