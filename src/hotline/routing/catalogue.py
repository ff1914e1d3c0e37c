"""Look up the dispatch catalogue: category × region → lead and co-handling units.

The most specific place wins (a village rule beats the county rule), and within a place the most
specific category. With no rule at all, the county government of the place takes the ticket (兜底).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.directory import reference
from hotline.directory.models import DispatchRule, RegionLevel, Unit, UnitKind


@dataclass(frozen=True)
class Suggestion:
    lead_unit_id: int | None
    co_unit_ids: list[int] = field(default_factory=list)
    source: str = "none"  # "catalogue", "fallback" or "none"
    rule_id: int | None = None
    note: str | None = None


def suggest_units(session: Session, *, category_code: str, region_code: str) -> Suggestion:
    snap = reference.snapshot(session)
    regions = reference.region_path(snap, region_code)
    categories = reference.category_path(snap, category_code)
    if regions and categories:
        rules = session.scalars(
            select(DispatchRule).where(DispatchRule.region_code.in_(regions), DispatchRule.category_code.in_(categories))
        ).all()
        by_key = {(r.region_code, r.category_code): r for r in rules}
        for region in regions:
            for category in categories:
                rule = by_key.get((region, category))
                if rule is not None and _active(snap, rule.lead_unit_id):
                    co = [u for u in rule.co_unit_ids or [] if _active(snap, u)]  # a stopped co-handler is left out
                    return Suggestion(rule.lead_unit_id, co, "catalogue", rule.id, rule.note)
    return _fallback(session, snap, regions)


def _active(snap: reference.Snapshot, unit_id: int) -> bool:
    return bool(snap.units.get(unit_id, ("", "", False))[2])


def _fallback(session: Session, snap: reference.Snapshot, regions: list[str]) -> Suggestion:
    """兜底: the government of the nearest county (or city) above the place."""
    for code in regions:
        if snap.regions[code][1] > RegionLevel.county:
            continue
        unit_id = session.scalar(
            select(Unit.id).where(Unit.region_code == code, Unit.kind == UnitKind.government, Unit.active.is_(True))
            .order_by(Unit.id)
        )
        if unit_id is not None:
            return Suggestion(unit_id, [], "fallback", note=f"派单目录无匹配，由{snap.units[unit_id][1]}兜底")
    return Suggestion(None, [], "none", note="派单目录无匹配，且未找到兜底单位")
