"""Finding bursts of related tickets and proposing them as incidents.

A burst is many tickets of one first-level category (供水, 供电, 交通运输 …) from one township or
one county within a short window (2 h or 6 h), far more than that area's own history for the
category predicts, and about the same thing (the texts share words their background does not).

* **Counting.** For each window and each (category, township) and (category, county), the recent
  tickets are counted. The expected count is the area × category rate over the past four weeks
  (plus a small prior, so a quiet area is not alarmed by two calls) times the window, times a
  peak factor for daytime hours. A count whose Poisson tail ``P(X ≥ k)`` is below ``alpha`` and
  that reaches ``min_count`` is a candidate.
* **Coherence.** Character bigrams of the candidate's texts, place names removed, are compared
  with the same category's texts in the county over the past weeks: bigrams shared by a good part
  of the burst and rare in the background (停水 across several villages) make it coherent; the
  tickets carrying them are the burst, which must pass the count test again.
* **Merging.** Candidates of one category that share tickets (a township burst inside its county's
  burst, the 2 h burst inside the 6 h one) become one proposal, its area the common ancestor of its
  tickets' regions.
* **Once.** A proposal that shares tickets with, or lies in the same area as, a proposed or
  confirmed incident still running updates that incident instead; tickets of a dismissed incident
  are left out, so a dismissed burst is never proposed again for the same tickets, and more calls
  of it within the lookback join the dismissed incident quietly (not linked, nothing proposed)
  instead of coming back as a new proposal half an hour after the supervisor said no, unless the
  new calls are twice as many as the supervisor saw when dismissing it: then it is proposed again.
  An ended incident takes no more calls: its own are left out, and new ones make a new proposal
  (merged into it if it is reopened: ``service.reopen``). A call a supervisor took out of an
  incident is left out of that incident only: it may start or join another burst. The incident a
  burst continues is locked (``service.lock``, as the supervisors' decisions lock it) and read
  afresh before its calls are added, so a call found while the proposal is being confirmed is linked.
  A confirmed incident of one leaf category (停电) is joined only by calls of that category.
* **Members.** Every ticket sharing one of the burst's words counts towards it (the count tests
  above); the tickets it gathers into the incident are the clear members: those carrying its
  commonest word, or whose shared words weigh at least half as much as a typical member's. A call
  sharing only 请尽快派人 with a power cut is counted, not linked to it.

All of it runs in the caller's transaction; the worker commits (``hotline.worker.jobs``).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from hotline.directory import reference
from hotline.incidents.models import Incident, IncidentState, IncidentTicket
from hotline.incidents.service import lock, tell_linked
from hotline.incidents.summary import common_area, readable_keywords, refresh
from hotline.kit import clock
from hotline.kit.errors import NotFound
from hotline.tickets.models import Ticket

HAN = re.compile(r"[\u4e00-\u9fff]+")


@dataclass(frozen=True)
class Params:
    windows: tuple[timedelta, ...] = (timedelta(hours=2), timedelta(hours=6))
    history: timedelta = timedelta(days=28)
    min_count: int = 4  # tickets in a burst, at least
    alpha: float = 1e-4  # Poisson tail below which a count is a burst
    peak_factor: float = 2.5  # daytime hours carry about this multiple of the average hourly rate
    prior_per_week: float = 1.0  # tickets a week assumed on top of the history (quiet areas)
    min_share: float = 0.25  # a shared word appears in at least this share of the burst
    max_background: float = 0.08  # … and in at most this share of the background
    background_limit: int = 800  # background texts read per (category, county)


@dataclass
class Recent:
    id: int
    region_code: str
    category_code: str
    received_at: datetime
    words: frozenset[str]


@dataclass
class Burst:
    category: str  # first level
    ids: set[int]  # the tickets it gathers (clear members: see ``_members``)
    keywords: list[str] = field(default_factory=list)
    count: int = 0  # the tickets sharing any of its words: what the count tests judge


@dataclass
class Result:
    proposed: int = 0
    updated: int = 0
    candidates: int = 0


def bigrams(text: str, drop: Iterable[str] = ()) -> frozenset[str]:
    """The character bigrams of the Chinese runs of ``text``, with the names in ``drop`` cut out
    first (so 姚村村民 leaves 村民, not the pair 村村 that every village's name would make)."""
    for name in sorted(drop, key=len, reverse=True):
        if len(name) > 1:
            text = text.replace(name, " ")
    return frozenset(run[i:i + 2] for run in HAN.findall(text) for i in range(len(run) - 1))


def _members(tickets: list[Recent], df: dict[str, int], words: set[str], commonest: set[str]) -> set[int]:
    """The tickets of a burst: those carrying its commonest word (停电), and those whose shared words
    weigh (each by how many of the tickets have it) at least half as much as a typical such ticket's.
    A call sharing only a phrase every request may use (请尽快派人 is the pairs 请尽, 尽快, 快派, 派人)
    is no part of a power cut just because a few of the cut's callers said it too."""
    weight = {t.id: sum(df[w] for w in t.words & words) for t in tickets}
    typical = sorted(weight[t.id] for t in tickets if t.words & commonest)
    floor = typical[len(typical) // 2] / 2 if typical else 0
    return {t.id for t in tickets if t.words & commonest or (weight[t.id] and weight[t.id] >= floor)}


def areas(region_code: str) -> list[str]:
    """The township (9 digits) and county (6 digits) a region lies in, as far as it is that deep."""
    return [region_code[:n] for n in (9, 6) if len(region_code) >= n]


def within(column, prefix: str):
    """``column`` starts with the digit code ``prefix`` (a range, so the index serves it)."""
    return column.between(prefix, prefix + "9" * (12 - len(prefix)))


def poisson_tail(k: int, mu: float) -> float:
    """``P(X ≥ k)`` for ``X ~ Poisson(mu)``."""
    if k <= 0:
        return 1.0
    term = math.exp(-mu)
    below = term
    for i in range(1, k):
        term *= mu / i
        below += term
    return max(0.0, 1.0 - below)


class Detector:
    """One detection run at ``now``; the per-run caches (baselines, backgrounds, names) live here."""

    def __init__(self, session: Session, now: datetime, params: Params):
        self.session, self.now, self.p = session, now, params
        self.snap = reference.snapshot(session)
        self._names: dict[str, list[str]] = {}
        self._background: dict[tuple[str, str], tuple[int, dict[str, int]]] = {}

    def names(self, region_code: str) -> list[str]:
        if region_code not in self._names:
            path = reference.region_path(self.snap, region_code) if region_code in self.snap.regions else []
            self._names[region_code] = [self.snap.regions[c][0] for c in path]
        return self._names[region_code]

    def recent(self) -> list[Recent]:
        since = self.now - max(self.p.windows)
        # Calls a supervisor judged (dismissed) or whose incident is over (ended) start no burst again;
        # a call taken out of such an incident was judged no part of it, and may start another.
        dismissed = (select(IncidentTicket.ticket_id).join(Incident, Incident.id == IncidentTicket.incident_id)
                     .where(Incident.state.in_([IncidentState.dismissed, IncidentState.ended]),
                            IncidentTicket.removed_at.is_(None)))
        rows = self.session.execute(
            select(Ticket.id, Ticket.region_code, Ticket.category_code, Ticket.received_at, Ticket.content)
            .where(Ticket.received_at > since, Ticket.received_at <= self.now, Ticket.id.not_in(dismissed)))
        return [Recent(r.id, r.region_code, r.category_code, r.received_at,
                       bigrams(r.content, self.names(r.region_code))) for r in rows]

    def expected(self, category: str, area: str, window: timedelta) -> float:
        """Tickets the area's history predicts in ``window`` at a busy hour."""
        start = self.now - window
        count = self.session.scalar(
            select(func.count(Ticket.id)).where(
                within(Ticket.region_code, area), within(Ticket.category_code, category),
                Ticket.received_at > start - self.p.history, Ticket.received_at <= start)) or 0
        weeks = self.p.history / timedelta(days=7)
        per_hour = (count + self.p.prior_per_week * weeks) / (self.p.history / timedelta(hours=1))
        return per_hour * (window / timedelta(hours=1)) * self.p.peak_factor

    def background(self, category: str, county: str) -> tuple[int, dict[str, int]]:
        """How many of the category's past texts in the county carry each bigram (and how many texts)."""
        key = (category, county)
        if key not in self._background:
            end = self.now - max(self.p.windows)
            rows = self.session.execute(
                select(Ticket.content, Ticket.region_code).where(
                    within(Ticket.region_code, county), within(Ticket.category_code, category),
                    Ticket.received_at > end - self.p.history, Ticket.received_at <= end)
                .order_by(Ticket.received_at.desc()).limit(self.p.background_limit))
            df: dict[str, int] = defaultdict(int)
            n = 0
            for content, region in rows:
                n += 1
                for w in bigrams(content, self.names(region)):
                    df[w] += 1
            self._background[key] = (n, df)
        return self._background[key]

    def coherent(self, category: str, area: str, tickets: list[Recent]) -> Burst | None:
        """The tickets sharing words their background rarely has, when they are enough."""
        n_bg, df_bg = self.background(category, area[:6])
        df: dict[str, int] = defaultdict(int)
        for t in tickets:
            for w in t.words:
                df[w] += 1
        floor = max(2, math.ceil(self.p.min_share * len(tickets)))
        words = [w for w, c in df.items()
                 if c >= floor and df_bg.get(w, 0) / max(n_bg, 20) <= self.p.max_background]
        if not words:
            return None
        words.sort(key=lambda w: (-df[w], df_bg.get(w, 0), w))
        top = df[words[0]]
        chosen = set(words)
        sharing = [t for t in tickets if t.words & chosen]
        if len(sharing) < self.p.min_count or top < max(3, math.ceil(0.4 * len(sharing))):
            return None
        ids = _members(sharing, df, chosen, {w for w in words if df[w] == top})
        return Burst(category, ids, words[:3], count=len(sharing))

    def candidates(self, recent: list[Recent]) -> list[Burst]:
        found: list[Burst] = []
        for window in self.p.windows:
            buckets: dict[tuple[str, str], list[Recent]] = defaultdict(list)
            for t in recent:
                if t.received_at > self.now - window:
                    for area in areas(t.region_code):
                        buckets[(t.category_code[:2], area)].append(t)
            for (category, area), tickets in sorted(buckets.items()):
                if len(tickets) < self.p.min_count:
                    continue
                # The count test first (cheap); the coherent part must then pass it on its own.
                expected = self.expected(category, area, window)
                if poisson_tail(len(tickets), expected) > self.p.alpha:
                    continue
                burst = self.coherent(category, area, tickets)
                if burst is not None and poisson_tail(burst.count, expected) <= self.p.alpha:
                    found.append(burst)
        return found


def merge(bursts: list[Burst]) -> list[Burst]:
    """Bursts of one category that share tickets, as one (keywords of the biggest first)."""
    groups: list[Burst] = []
    for b in sorted(bursts, key=lambda b: -len(b.ids)):
        into = next((g for g in groups if g.category == b.category and g.ids & b.ids), None)
        if into is None:
            groups.append(Burst(b.category, set(b.ids), list(b.keywords)))
            continue
        into.ids |= b.ids
        into.keywords += [w for w in b.keywords if w not in into.keywords]
    changed = True
    while changed:  # a group that grew may now share tickets with another
        changed = False
        for i, g in enumerate(groups):
            other = next((h for h in groups[i + 1:] if h.category == g.category and h.ids & g.ids), None)
            if other is not None:
                g.ids |= other.ids
                g.keywords += [w for w in other.keywords if w not in g.keywords]
                groups.remove(other)
                changed = True
                break
    return groups


def _running(session: Session, burst: Burst, areas_of_burst: set[str], since: datetime) -> Incident | None:
    """The incident the burst continues: shared tickets, or the same category in an overlapping area
    with tickets in the lookback window. A dismissed one counts too (the first found wins, oldest
    first, a running one before a dismissed one): more calls of a burst a supervisor has just
    dismissed join it quietly rather than proposing it again under another name."""
    dismissed_last = case((Incident.state == IncidentState.dismissed, 1), else_=0)
    rows = list(session.scalars(
        select(Incident).where(within(Incident.category_code, burst.category), Incident.state != IncidentState.ended,
                               Incident.last_ticket_at > since).order_by(dismissed_last, Incident.id)))
    for incident in rows:
        linked = set(session.scalars(select(IncidentTicket.ticket_id).where(
            IncidentTicket.incident_id == incident.id, IncidentTicket.removed_at.is_(None))))
        if linked & burst.ids or any(a.startswith(incident.area_code) or incident.area_code.startswith(a)
                                     for a in areas_of_burst):
            # Locked, as a supervisor's decision locks it, and read afresh: a call joining a proposal
            # being confirmed at this moment waits for the confirmation and is linked with the others.
            try:
                lock(session, incident)
            except NotFound:  # merged into the incident it continued, reopened meanwhile
                continue
            if incident.state != IncidentState.ended:  # ended meanwhile: it takes no more calls
                return incident
    return None




def _of_leaf(session: Session, ids: set[int], leaf: str) -> set[int]:
    """The tickets of ``ids`` filed under the category ``leaf``. A supervisor who confirmed a 停电
    confirmed power cuts: a county-wide burst that continues it may also hold calls of the same
    first level that are no part of it (咨询电价 from another township, hours before the cut), which
    would widen its area and blur its title; those the supervisor adds by hand if they belong."""
    if not ids:
        return ids
    return set(session.scalars(select(Ticket.id).where(Ticket.id.in_(ids), Ticket.category_code == leaf)))


def upsert(session: Session, burst: Burst, *, now: datetime, lookback: timedelta) -> bool:
    """Propose the burst, or add its new tickets to the incident it continues. True when new."""
    found = session.execute(select(Ticket.region_code, Ticket.content).where(Ticket.id.in_(burst.ids))).all()
    codes = [r.region_code for r in found]
    words = readable_keywords([r.content for r in found], burst.keywords)
    incident = _running(session, burst, {a for c in codes for a in areas(c)[:1]}, now - lookback)
    if incident is not None and incident.state == IncidentState.dismissed:
        judged = session.scalar(select(func.count()).select_from(IncidentTicket).where(
            IncidentTicket.incident_id == incident.id, IncidentTicket.added_at <= incident.decided_at)) or 0
        if len(burst.ids) < 2 * judged:  # more of what was dismissed: absorbed quietly
            have = set(session.scalars(select(IncidentTicket.ticket_id).where(IncidentTicket.incident_id == incident.id)))
            for tid in sorted(burst.ids - have):  # a call taken out of it stays out
                session.add(IncidentTicket(incident_id=incident.id, ticket_id=tid, linked=False, added_at=now))
            session.flush()
            refresh(session, incident, now=now)
            return False
        incident = None  # twice as many new calls as the supervisor judged: proposed again
    created = incident is None
    if incident is None:
        incident = Incident(state=IncidentState.proposed, category_code=burst.category, title="",
                            area_code=common_area(codes),
                            region_codes=[], population=0, keywords=words, first_ticket_at=now,
                            last_ticket_at=now, ticket_count=0, detected_at=now, updated_at=now)
        session.add(incident)
        session.flush()
    have = set(session.scalars(select(IncidentTicket.ticket_id).where(IncidentTicket.incident_id == incident.id)))
    new = burst.ids - have
    if incident.state == IncidentState.confirmed and len(incident.category_code) > 2:
        new = _of_leaf(session, new, incident.category_code)
    if not new and not created:
        return False
    linked = incident.state == IncidentState.confirmed
    for tid in sorted(new):
        session.add(IncidentTicket(incident_id=incident.id, ticket_id=tid, linked=linked, added_at=now))
    incident.keywords = list(dict.fromkeys([*incident.keywords, *words]))[:5]
    session.flush()
    refresh(session, incident, now=now)
    if linked:  # joined a confirmed incident: its timeline says so, as at confirmation
        tell_linked(session, incident, sorted(new), actor=None, at=now)
        session.flush()
    return created


def detect(session: Session, *, now: datetime | None = None, params: Params | None = None) -> Result:
    """One detection run: propose new bursts, update the incidents they continue."""
    p = params or Params()
    at = now or clock.now()
    detector = Detector(session, at, p)
    bursts = detector.candidates(detector.recent())
    result = Result(candidates=len(bursts))
    for burst in merge(bursts):
        if upsert(session, burst, now=at, lookback=max(p.windows)):
            result.proposed += 1
        else:
            result.updated += 1
    session.flush()
    return result
