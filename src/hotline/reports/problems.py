"""每月一题 candidates: recurring high-volume problems of one area, proposed for a month's focused
treatment.

**Definition.** A *problem* is one category (the ticket's own category code, e.g. 0101 停水) in one
township (the first 9 digits of the ticket's region code; a ticket placed only at county level
counts under the county). Over the :data:`MONTHS` (3) assessment months ending with the report's
month (the report's month counted up to the report's last day), each problem's tickets received
are counted per month. Counted: requests that report a problem (求助, 投诉, 举报, 建议; merged
duplicates too: each is a caller reporting it). Left out: consultations and praise (咨询, 表扬:
:data:`NOT_PROBLEMS`) and tickets ruled invalid or malicious (``assessment_exclusion``).

A problem is *among the top* of a month when it has at least :data:`MIN_TICKETS` (3) tickets that
month and no more than ``TOP - 1`` problems have more (the top :data:`TOP` (10), ties included).
A problem is a **candidate** when it is among the top in at least :data:`MIN_MONTHS` (2) of the 3
months. Candidates are ordered by the months among the top, then by total tickets, then by the
latest month's tickets.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.analytics import facts
from hotline.directory import reference
from hotline.reports.periods import Period
from hotline.tickets.models import Ticket

MONTHS = 3
TOP = 10
MIN_TICKETS = 3
MIN_MONTHS = 2
NOT_PROBLEMS = ("consultation", "praise")

T = Ticket.__table__.c


@dataclass
class Candidate:
    category_code: str
    category: str  # 供水 / 停水
    township_code: str
    township: str  # 夏县裴介镇
    months: list[str]  # the months' labels, oldest first (2026-01, 2026-02, 2026-03)
    counts: list[int]  # tickets per month, same order
    in_top: list[bool] = field(default_factory=list)  # among the top that month

    @property
    def total(self) -> int:
        return sum(self.counts)

    @property
    def months_in_top(self) -> int:
        return sum(self.in_top)

    @property
    def label(self) -> str:
        return f"{self.township}·{self.category}"


def monthly_counts(session: Session, month: Period, last_day: date | None = None) -> dict[tuple[str, str], int]:
    """Tickets per (category, township) received in the month (up to ``last_day`` when given)."""
    last = min(month.last, last_day) if last_day else month.last
    start, end = facts.day_start(month.first), facts.day_start(last + timedelta(days=1))
    township = facts.dimension_key("township")
    q = (select(T.category_code, township, func.count())
         .where(T.received_at >= start, T.received_at < end, T.assessment_exclusion.is_(None),
                T.kind.not_in(NOT_PROBLEMS))
         .group_by(T.category_code, township))
    return {(str(c), str(t)): int(n) for c, t, n in session.execute(q)}


def top_of(counts: dict[tuple[str, str], int], top: int = TOP, min_tickets: int = MIN_TICKETS) -> set[tuple[str, str]]:
    """The problems among the top of one month (ties with the last place included)."""
    eligible = sorted((n for n in counts.values() if n >= min_tickets), reverse=True)
    if not eligible:
        return set()
    floor = eligible[min(top, len(eligible)) - 1]
    return {k for k, n in counts.items() if n >= max(floor, min_tickets)}


def _category_label(snap: reference.Snapshot, code: str) -> str:
    path = reference.category_path(snap, code)
    return " / ".join(snap.categories[c].name for c in reversed(path)) or code


def candidates(session: Session, months: list[Period], *, last_day: date | None = None, top: int = TOP,
               min_tickets: int = MIN_TICKETS, min_months: int = MIN_MONTHS) -> list[Candidate]:
    """The 每月一题 candidates over ``months`` (oldest first; module docstring)."""
    per_month = [monthly_counts(session, m, last_day) for m in months]
    tops = [top_of(c, top, min_tickets) for c in per_month]
    hits: dict[tuple[str, str], int] = defaultdict(int)
    for chosen in tops:
        for key in chosen:
            hits[key] += 1
    snap = reference.snapshot(session)
    out = []
    for key, n in hits.items():
        if n < min_months:
            continue
        cat, town = key
        out.append(Candidate(
            category_code=cat, category=_category_label(snap, cat), township_code=town,
            township=reference.region_label(snap, town) if town in snap.regions else town,
            months=[m.label for m in months], counts=[c.get(key, 0) for c in per_month],
            in_top=[key in t for t in tops]))
    out.sort(key=lambda c: (-c.months_in_top, -c.total, -c.counts[-1], c.township_code, c.category_code))
    return out
