"""An incident's summary, recomputed from its tickets: category, area, affected regions and their
population (each person counted once), time span, count, title."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.classification.text import tokens
from hotline.directory import reference
from hotline.directory.models import Region
from hotline.incidents.models import Incident, IncidentState, IncidentTicket
from hotline.tickets.models import Ticket


def common_area(codes: list[str]) -> str:
    """The deepest township or county (or city, province) every region lies in."""
    for n in (9, 6, 4, 2):
        heads = {c[:n] for c in codes if len(c) >= n}
        if len(heads) == 1 and all(len(c) >= n for c in codes):
            return heads.pop()
    return codes[0][:2]


def affected(codes: set[str]) -> list[str]:
    """The regions without those already covered by another in the set (a township named by one
    caller covers the villages named by others)."""
    return sorted(c for c in codes if not any(o != c and c.startswith(o) for o in codes))


def population(session: Session, codes: list[str]) -> int:
    if not codes:
        return 0
    return sum(p or 0 for p in session.scalars(select(Region.population).where(Region.code.in_(codes))))


def counted(incident: Incident):  # noqa: ANN201 (an SQL condition)
    """The incident's tickets that count: all but those a supervisor took out (kept, marked removed,
    so that the detection does not bring them back). In a confirmed or ended incident these are the
    linked ones."""
    return IncidentTicket.removed_at.is_(None)


def refresh(session: Session, incident: Incident, *, now: datetime) -> None:
    """Recompute the summary from the incident's tickets. A dismissed incident keeps the category and
    title the supervisor dismissed (later calls it absorbs change its counts, area and time span only),
    so the list still names what was judged."""
    rows = session.execute(
        select(Ticket.region_code, Ticket.category_code, Ticket.received_at)
        .join(IncidentTicket, IncidentTicket.ticket_id == Ticket.id)
        .where(IncidentTicket.incident_id == incident.id, counted(incident))).all()
    if not rows:
        return
    regions = affected({r.region_code for r in rows})
    leaves = {r.category_code for r in rows}
    first_level = incident.category_code[:2]
    decided = incident.state == IncidentState.dismissed
    if not decided:
        incident.category_code = leaves.pop() if len(leaves) == 1 else first_level
    incident.area_code = common_area([r.region_code for r in rows])
    incident.region_codes = regions
    incident.population = population(session, regions)
    incident.first_ticket_at = min(r.received_at for r in rows)
    incident.last_ticket_at = max(r.received_at for r in rows)
    incident.ticket_count = len(rows)
    incident.updated_at = now
    if decided and incident.title:
        return
    snap = reference.snapshot(session)
    area = reference.region_label(snap, incident.area_code) if incident.area_code in snap.regions else ""
    category = snap.categories.get(incident.category_code)
    if category is None:
        what = first_level
    else:  # the shared leaf (停水) as it is; a first-level heading (供水) as a kind of problem
        what = category.name if len(incident.category_code) > 2 else f"{category.name}问题"
    incident.title = f"{area}{len(regions)}处集中反映{what}"[:120]


def readable_keywords(texts: Iterable[str], seeds: Iterable[str], *, limit: int = 5) -> list[str]:
    """The words of ``texts`` (jieba) that hold one of the detector's shared character pairs
    (``seeds``), most texts first: what a supervisor reads as the calls' common words. The pairs
    themselves often straddle two words (从今 of 从今天, 到停 of 等到停水) and mean nothing alone."""
    pairs = set(seeds)
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update({w for w in tokens(text or "") if len(w) >= 2 and any(p in w for p in pairs)})
    return [w for w, _ in sorted(counts.items(), key=lambda wc: (-wc[1], wc[0]))[:limit]]
