"""Unit suggestion for dispatch: the catalogue first, unless its row keeps being returned; then
what history says, then the 兜底 unit.

1. The dispatch catalogue (``hotline.routing.catalogue.suggest_units``): when a rule covers the
   category and the place, it is the answer — unless the row is stale there (1a).
1a. A stale row (duties moved, the catalogue not yet updated): in the ticket's township, over the
   past ``STALE_WINDOW_DAYS``, the row's unit asked to return at least ``STALE_MIN_RETURNS``
   tickets of the category that one other unit then resolved, and that other unit resolved more
   tickets of the category in the township than the row's unit did (a return the centre rejected,
   the unit made to keep the ticket, counts for the row's unit). Then the other unit is suggested,
   from history, with a reason naming the row's unit so that the catalogue gets corrected. The
   evidence is the ticket's own category, else (when the row is for a parent category) the row's
   whole category in the township. Random returns (a few per hundred tickets) never add up to
   this; a township whose duties moved returns every ticket the row sends it. The override ends
   by itself when the row's unit resolves more than the other unit again, and when the catalogue
   row is corrected (a different unit, no returns of its own).
2. History: the unit that resolved tickets of the same category in the same place — the same
   region, else its township, else its county — *without a return*: the ticket's final lead unit,
   counted only when that unit never asked to return it (a ticket returned and re-dispatched teaches
   the unit it was re-dispatched to, never the one that sent it back), and only tickets the unit
   brought to a reply the centre accepted (callback pending or done, closed, archived) that the
   caller did not call unresolved. Each ticket weighs by closeness of place (same region 3,
   township 2, county 1) and recency (half-life ``HALF_LIFE_DAYS``). Only tickets received before
   ``now`` count, so an evaluation never learns from the future.
3. The catalogue's fallback: the county government.

One indexed query for the catalogue; when a rule matched, one for the township's resolved tickets
of the row's category in the window (through the region index, a township's codes being one
range); one for history (tickets of the category received before ``now`` in the county, newest
first, at most ``HISTORY_LIMIT``).
"""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, bindparam, exists, func, or_, select
from sqlalchemy.orm import Session

from hotline.directory import reference
from hotline.directory.models import DispatchRule, RegionLevel
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
STALE_MIN_RETURNS = 3  # returns by a row's unit, resolved by one other unit, before history overrides the row
STALE_WINDOW_DAYS = 365.0  # by then the catalogue should have been corrected


def _resolved() -> Any:
    """The ticket's status is one of ``RESOLVED``, written so that no planner answers it from the
    status index instead of the place and category ones: SQLite did, even with statistics, reading
    every resolved ticket of the year (16 ms a suggestion on the demo's 20,000 tickets against 2 ms;
    most of the dispatch queue's second, which suggests a unit for every waiting ticket)."""
    return func.coalesce(Ticket.status, "").in_([s.value for s in RESOLVED])


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
        moved = _stale_row(session, catalogue.rule_id, catalogue.lead_unit_id, category_code, region_code, now)
        if moved is not None:
            return moved
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
            _resolved(),
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


_RULE_CATEGORY = select(DispatchRule.category_code).where(DispatchRule.id == bindparam("rule_id"))
# At least STALE_MIN_RETURNS returns by the row's unit since the window opened, of tickets in the
# township: a necessary condition of the override (its returned tickets were received in the window,
# so returned after it opened), read from the unit's returns (ix_ticket_requests_unit_type_requested)
# before the year of the township's tickets is.
_RETURNS_SINCE = select(func.count()).select_from(
    select(TicketRequest.id).join(Ticket, Ticket.id == TicketRequest.ticket_id)
    .where(TicketRequest.unit_id == bindparam("row_unit"), TicketRequest.type == RequestType.return_,
           TicketRequest.requested_at >= bindparam("since", type_=TicketRequest.requested_at.type),
           Ticket.region_code.between(bindparam("first"), bindparam("last")))
    .limit(STALE_MIN_RETURNS).subquery())


@functools.cache
def _stale_query() -> Select[Any]:
    """Resolved tickets of some categories in a township in a window, each with whether the row's
    unit asked to return it and whether its final lead unit did (built once: it runs per suggestion)."""
    returned_by = exists().where(TicketRequest.ticket_id == Ticket.id, TicketRequest.type == RequestType.return_)
    return (
        select(Ticket.category_code, Ticket.lead_unit_id,
               returned_by.where(TicketRequest.unit_id == bindparam("row_unit")).label("by_row"),
               returned_by.where(TicketRequest.unit_id == Ticket.lead_unit_id).label("by_lead"))
        .where(
            Ticket.category_code.in_(bindparam("categories", expanding=True)),
            Ticket.region_code.between(bindparam("first"), bindparam("last")),  # the region index
            Ticket.received_at < bindparam("now"),
            Ticket.received_at >= bindparam("since"),
            Ticket.lead_unit_id.is_not(None),
            _resolved(),
            or_(Ticket.resolved.is_(None), Ticket.resolved.is_(True)),
        )
    )


def _stale_row(session: Session, rule_id: int | None, row_unit: int | None, category_code: str, region_code: str,
               now: datetime | None) -> UnitSuggestion | None:
    """The unit that takes over from a catalogue row its unit keeps returning in this township (rule
    1a of the module docstring), or None while the row holds."""
    if rule_id is None or row_unit is None:
        return None
    snap = reference.snapshot(session)
    township = next((c for c in reference.region_path(snap, region_code)
                     if snap.regions[c][1] == RegionLevel.township), None)
    if township is None:
        return None
    now = clock.aware(now) if now is not None else clock.now()
    since, last = now - timedelta(days=STALE_WINDOW_DAYS), township + "9" * (12 - len(township))
    if session.scalar(_RETURNS_SINCE, {"row_unit": row_unit, "since": since, "first": township,
                                       "last": last}) < STALE_MIN_RETURNS:
        return None  # the usual case: the row's unit has not returned enough here to be overridden
    rule_category = session.scalar(_RULE_CATEGORY, {"rule_id": rule_id})
    if rule_category is None:
        return None
    scope = rule_category if category_code.startswith(rule_category) else category_code
    rows = session.execute(_stale_query(), {
        "categories": [c for c in snap.categories if c.startswith(scope)], "row_unit": row_unit,
        "first": township, "last": last,  # a township's codes are one range
        "now": now, "since": since,
    }).all()
    scopes = [("同类", [r for r in rows if r.category_code == category_code])]
    if scope != category_code:
        scopes.append(("同一目录大类", rows))
    for what, scoped in scopes:
        found = _moved_to(snap, scoped, row_unit)
        if found is None:
            continue
        unit, moved, kept, resolved = found
        row_name, name = snap.units[row_unit][1], snap.units[unit][1]
        reason = (f"派单目录规则的{row_name}在本乡镇退回{what}工单，其中{moved}件改派{name}后办结"
                  f"（{name}共办结{resolved}件，{row_name}办结{kept}件）；请核对派单目录")
        confidence = round(min(0.85, resolved / (resolved + kept) * (1 - math.exp(-moved / 3))), 2)
        return UnitSuggestion(unit, [], "history", confidence, reason, resolved)
    return None


def _moved_to(snap: reference.Snapshot, rows: list[Any], row_unit: int) -> tuple[int, int, int, int] | None:
    """When the row is stale: ``(unit, moved, kept, resolved)`` — the unit taking over, the tickets
    the row's unit returned that it then resolved, the tickets the row's unit resolved itself, and
    all the tickets the unit resolved without a return of its own. None while the row holds."""
    moved: dict[int, int] = defaultdict(int)
    resolved: dict[int, int] = defaultdict(int)
    kept = 0
    for _category, lead, by_row, by_lead in rows:
        if lead == row_unit:
            kept += 1  # a return rejected still says the row was right
        elif not by_lead:
            resolved[lead] += 1
            if by_row:
                moved[lead] += 1
    candidates = [u for u in moved if snap.units.get(u, ("", "", False))[2]]
    if not candidates:
        return None
    best = max(candidates, key=lambda u: (moved[u], resolved[u], -u))
    if moved[best] < STALE_MIN_RETURNS or resolved[best] <= kept:
        return None
    return best, moved[best], kept, resolved[best]
