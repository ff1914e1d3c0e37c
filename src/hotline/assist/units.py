"""Unit suggestion for dispatch: the catalogue first, then what history says, then the 兜底 unit.

1. The dispatch catalogue (``hotline.routing.catalogue.suggest_units``): when a rule covers the
   category and the place, it is the answer.
2. History: the unit that resolved tickets of the same category in the same place — the same
   region, else its township, else its county — *without a return*: the ticket's final lead unit,
   counted only when that unit never asked to return it (a ticket returned and re-dispatched teaches
   the unit it was re-dispatched to, never the one that sent it back), and only tickets the unit
   brought to a reply the centre accepted (callback pending or done, closed, archived) that the
   caller did not call unresolved. Each ticket weighs by closeness of place (same region 3,
   township 2, county 1) and recency (half-life ``HALF_LIFE_DAYS``). Only tickets received before
   ``now`` count, so an evaluation never learns from the future.
3. The catalogue's fallback: the county government.

One indexed query for the catalogue, one for history (tickets of the category received before
``now`` in the county, newest first, at most ``HISTORY_LIMIT``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from hotline.directory import reference
from hotline.directory.models import RegionLevel
from hotline.kit import clock
from hotline.routing.catalogue import suggest_units
from hotline.tickets.models import RequestType, Ticket, TicketRequest
from hotline.tickets.states import Status

__all__ = ["UnitSuggestion", "suggest_unit"]

HALF_LIFE_DAYS = 90.0
HISTORY_LIMIT = 400
MIN_SCORE = 0.25  # less than one county ticket of the last half-year: not enough to go on
RESOLVED = (Status.callback_pending, Status.callback_done, Status.closed, Status.archived)
PLACE_WEIGHT = {"region": 3.0, "township": 2.0, "county": 1.0}
PLACE_WORDS = {"region": "同一地点", "township": "同一乡镇", "county": "同一县区"}


@dataclass(frozen=True)
class UnitSuggestion:
    lead_unit_id: int | None
    co_unit_ids: list[int] = field(default_factory=list)
    source: str = "fallback"  # catalogue | history | fallback
    confidence: float = 0.0
    reason: str = ""
    evidence: int = 0  # tickets behind a history suggestion


def suggest_unit(session: Session, *, category_code: str, region_code: str, text: str | None = None,
                 now: datetime | None = None) -> UnitSuggestion:
    """The lead unit (and co units) for a ticket of ``category_code`` at ``region_code``.

    ``text`` is accepted for callers that have it; the suggestion does not read it yet."""
    catalogue = suggest_units(session, category_code=category_code, region_code=region_code)
    if catalogue.source == "catalogue":
        return UnitSuggestion(catalogue.lead_unit_id, list(catalogue.co_unit_ids), "catalogue", 0.9,
                              "派单目录规则" + (f"：{catalogue.note}" if catalogue.note else ""))
    learned = _from_history(session, category_code, region_code, now)
    if learned is not None:
        return learned
    if catalogue.lead_unit_id is not None:
        return UnitSuggestion(catalogue.lead_unit_id, [], "fallback", 0.3,
                              catalogue.note or "派单目录无匹配，由属地政府兜底")
    return UnitSuggestion(None, [], "fallback", 0.0, catalogue.note or "未找到可派单位")


def _from_history(session: Session, category_code: str, region_code: str,
                  now: datetime | None) -> UnitSuggestion | None:
    snap = reference.snapshot(session)
    path = reference.region_path(snap, region_code)
    county = next((c for c in path if snap.regions[c][1] == RegionLevel.county), None)
    if county is None:
        return None
    township = next((c for c in path if snap.regions[c][1] == RegionLevel.township), None)
    now = clock.aware(now) if now is not None else clock.now()
    returned_by_lead = exists().where(
        TicketRequest.ticket_id == Ticket.id,
        TicketRequest.type == RequestType.return_,
        TicketRequest.unit_id == Ticket.lead_unit_id,
    )
    rows = session.execute(
        select(Ticket.lead_unit_id, Ticket.region_code, Ticket.received_at)
        .where(
            Ticket.category_code == category_code,
            Ticket.received_at < now,
            Ticket.region_code.startswith(county, autoescape=True),
            Ticket.lead_unit_id.is_not(None),
            Ticket.status.in_(RESOLVED),
            or_(Ticket.resolved.is_(None), Ticket.resolved.is_(True)),
            ~returned_by_lead,
        )
        .order_by(Ticket.received_at.desc())
        .limit(HISTORY_LIMIT)
    ).all()
    if not rows:
        return None
    score: dict[int, float] = defaultdict(float)
    count: dict[int, int] = defaultdict(int)
    closest: dict[int, str] = {}
    for unit_id, code, received in rows:
        if code == region_code:
            place = "region"
        elif township is not None and code.startswith(township):
            place = "township"
        else:
            place = "county"
        if not snap.units.get(unit_id, ("", "", False))[2]:
            continue  # a unit since closed
        age_days = max(0.0, (now - clock.aware(received)).total_seconds() / 86400)
        score[unit_id] += PLACE_WEIGHT[place] * math.pow(0.5, age_days / HALF_LIFE_DAYS)
        count[unit_id] += 1
        if PLACE_WEIGHT[place] > PLACE_WEIGHT.get(closest.get(unit_id, ""), 0.0):
            closest[unit_id] = place
    if not score:
        return None
    best = max(score, key=lambda u: (score[u], -u))
    total = sum(score.values())
    if score[best] < MIN_SCORE:
        return None
    share = score[best] / total
    confidence = round(min(0.85, share * (1 - math.exp(-count[best] / 3))), 2)
    name = snap.units[best][1]
    reason = (f"历史：{PLACE_WORDS[closest[best]]}同类工单有{count[best]}件由{name}办结且未退单"
              f"（占加权{share:.0%}）")
    return UnitSuggestion(best, [], "history", confidence, reason, count[best])

