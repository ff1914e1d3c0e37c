"""Cached reads of reference data for the hot paths (intake, deadlines, dispatch).

Reference data changes rarely and only through admins; a small per-database cache with a short
time-to-live keeps every ticket write from re-reading it. Admin edits call ``invalidate()`` so the
editing process sees its change at once; other processes see it within ``TTL_SECONDS``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from hotline.directory import settings as rules_store
from hotline.directory.models import Category, Holiday, HolidayYear, Region, TimeLimit, Unit
from hotline.kit.calendar import WorkCalendar
from hotline.kit.errors import Invalid

TTL_SECONDS = 30.0


@dataclass(frozen=True)
class LimitRow:
    stage: str
    category_code: str | None
    urgency: str | None
    kind: str | None
    amount: int
    unit: str


@dataclass
class Snapshot:
    loaded_at: float
    calendar: WorkCalendar
    limits: list[LimitRow]
    categories: dict[str, Category] = field(default_factory=dict)
    units: dict[int, tuple[str, str, bool]] = field(default_factory=dict)  # id -> (code, name, active)
    regions: dict[str, tuple[str, int, str | None]] = field(default_factory=dict)  # code -> (name, level, parent)
    rules: dict[str, Any] = field(default_factory=dict)  # operating rules (directory/settings.py)
    unit_parents: dict[int, int | None] = field(default_factory=dict)
    unit_kinds: dict[int, str] = field(default_factory=dict)  # id -> UnitKind value


_lock = threading.Lock()
_cache: dict[str, Snapshot] = {}
_generation = 0  # counts invalidations: a snapshot read across one is used once, never cached


def _key(session: Session) -> str:
    return str(session.get_bind().url)


def invalidate(session: Session | None = None) -> None:
    """Forget the cached snapshot, and for an editing session forget it again when its transaction
    ends: a request reading between the edit and the commit (a page, the worker) would otherwise
    cache the old values for ``TTL_SECONDS``, and the editing session's own read after the edit
    would keep values a rollback undid."""
    key = None if session is None else _key(session)
    _forget(key)
    if session is not None and session.in_transaction():
        for ended in ("after_commit", "after_rollback"):
            event.listen(session, ended, lambda _s: _forget(key), once=True)


def _forget(key: str | None) -> None:
    global _generation
    with _lock:
        _generation += 1
        if key is None:
            _cache.clear()
        else:
            _cache.pop(key, None)


def snapshot(session: Session) -> Snapshot:
    key = _key(session)
    snap = _cache.get(key)
    if snap is not None and time.monotonic() - snap.loaded_at < TTL_SECONDS:
        return snap
    generation = _generation
    snap = _load(session)
    with _lock:
        if generation == _generation:  # not read before an edit that was made while it was being read
            _cache[key] = snap
    return snap


def _load(session: Session) -> Snapshot:
    calendar = WorkCalendar.build(
        [(d, w) for d, w in session.execute(select(Holiday.day, Holiday.is_workday))],
        list(session.scalars(select(HolidayYear.year))),
    )
    limits = [
        LimitRow(r.stage.value, r.category_code, r.urgency, r.kind, r.amount, r.unit.value)
        for r in session.scalars(select(TimeLimit))
    ]
    categories = {c.code: c for c in session.scalars(select(Category))}
    for c in categories.values():
        session.expunge(c)
    unit_rows = session.execute(select(Unit.id, Unit.code, Unit.name, Unit.active, Unit.parent_id, Unit.kind)).all()
    units = {u.id: (u.code, u.name, u.active) for u in unit_rows}
    unit_parents = {u.id: u.parent_id for u in unit_rows}
    unit_kinds = {u.id: u.kind.value for u in unit_rows}
    regions = {
        r.code: (r.short_name, r.level, r.parent_code)
        for r in session.execute(select(Region.code, Region.short_name, Region.level, Region.parent_code))
    }
    return Snapshot(time.monotonic(), calendar, limits, categories, units, regions, rules_store.load(session),
                    unit_parents, unit_kinds)


def category_path(snap: Snapshot, code: str) -> list[str]:
    """The category and its ancestors, most specific first."""
    path: list[str] = []
    while code and code in snap.categories and code not in path:
        path.append(code)
        code = snap.categories[code].parent_code or ""
    return path


def region_path(snap: Snapshot, code: str) -> list[str]:
    """The region and its ancestors, most specific first."""
    path: list[str] = []
    while code and code in snap.regions and code not in path:
        path.append(code)
        code = snap.regions[code][2] or ""
    return path


def check_region(snap: Snapshot, code: str, field: str = "region_code", label: str | None = None) -> str:
    """``code`` when it is a known region, else ``Invalid`` naming it (and the field, as
    「行政区划代码（region_code）：…」, when ``label`` is given)."""
    if code not in snap.regions:
        named = f"{label}（{field}）：" if label else ""
        raise Invalid(f"{named}没有编码为 {code} 的行政区划", code="unknown_region", details={"field": field})
    return code


def region_label(snap: Snapshot, code: str) -> str:
    """'夏县裴介镇朱吕村' from the county down (province and city omitted; a level whose name begins with
    its parent's, as 稷山县经济技术开发区, stands alone); a city or a province, with
    nothing at county level or below to name, by its own name ('长治市'), never an empty label."""
    names: list[str] = []
    for c in reversed(region_path(snap, code)):
        if snap.regions[c][1] < 3:
            continue
        name = snap.regions[c][0]
        if names and name.startswith(names[-1]):  # 稷山县经济技术开发区 names its county itself
            names[-1] = name
        else:
            names.append(name)
    return "".join(names) or (snap.regions[code][0] if code in snap.regions else "")
