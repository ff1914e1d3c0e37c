"""Open tickets about the same problem nearby: offered to the agent for merging (并单) at intake.

The rule: a ticket still being handled (one that ``merge`` accepts as a master), received in the
last ``days`` days, in the same township as the new request (any village of it, or the township
itself), in the same first-level category, or in another category when the words match well.
Candidates come from one index range on ``tickets.region_code`` (a township's codes share their
first nine digits, a village's twelve begin with them); they are ranked by how much of the new text they share (character bigrams,
which suit Chinese without a word list) and by the same leaf category.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.accounts.scope import Scope
from hotline.tickets.models import Ticket
from hotline.tickets.queries import visible
from hotline.tickets.states import Status

MERGEABLE = (Status.registered, Status.dispatched, Status.accepted, Status.in_progress, Status.suspended,
             Status.return_requested, Status.replied)
MAX_CANDIDATES = 300
TEXT_ONLY_SCORE = 0.25  # another category is offered only when the words overlap this much


@dataclass(frozen=True)
class Nearby:
    ticket: Ticket
    score: float
    same_category: bool
    same_place: bool


def bigrams(text: str) -> set[str]:
    """Character bigrams of the letters and digits of ``text`` (punctuation and spaces dropped)."""
    chars = [c for c in text if c.isalnum()]
    return {a + b for a, b in zip(chars, chars[1:], strict=False)}


def overlap(a: set[str], b: set[str]) -> float:
    """Share of the smaller text's bigrams found in the other (0..1): a short call about the same
    problem still scores high against a long written request."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def township_range(region_code: str) -> tuple[str, str]:
    """The codes of a region's township (9 digits) and its villages (12 digits, the township's code
    and three more): the range [township, township + 999] in string order."""
    stem = region_code[:9]
    return stem, stem + "999"


def open_nearby(session: Session, scope: Scope, *, region_code: str, category_code: str | None,
                text: str, now: datetime, days: int = 30, limit: int = 5) -> list[Nearby]:
    """The open tickets most likely about the same problem, best first (see the module rule)."""
    low, high = township_range(region_code)
    rows = session.scalars(
        select(Ticket)
        .where(Ticket.region_code >= low, Ticket.region_code <= high,
               Ticket.status.in_(MERGEABLE), Ticket.received_at >= now - timedelta(days=days),
               visible(scope))
        .order_by(Ticket.received_at.desc())
        .limit(MAX_CANDIDATES)
    ).all()
    words = bigrams(text)
    group = (category_code or "")[:2]
    found: list[Nearby] = []
    for t in rows:
        score = overlap(words, bigrams(t.title + t.content))
        same_cat = bool(category_code) and t.category_code == category_code
        same_group = bool(group) and t.category_code.startswith(group)
        if not same_group and score < TEXT_ONLY_SCORE:
            continue
        rank = score + (0.2 if same_cat else 0.0) + (0.1 if t.region_code == region_code else 0.0)
        found.append(Nearby(t, round(rank, 3), same_cat, t.region_code == region_code))
    found.sort(key=lambda n: (-n.score, -n.ticket.received_at.timestamp()))
    return found[:limit]
