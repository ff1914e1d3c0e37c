"""Duplicates at intake: the open tickets most likely about the same problem as the request being
typed, offered to the agent for merging (并单).

Candidates: tickets still being handled (the statuses ``merge`` accepts as a master) in the same
township as the new request (any village of it, or the township itself: a township's codes share
their first nine digits, a village's twelve begin with them), received in the last ``window_days``,
that the user's scope may see. Their ids are chosen on the partial index of the open tickets
``tickets (region_code, received_at) WHERE status IN (...)`` (migration 0009; closed tickets, most
of a year's, are not in it), the same village first, then the newest, at most ``MAX_CANDIDATES``; then only
those rows are read, with the first ``TEXT_CHARS`` characters of their content, as plain rows (no ORM
objects until the few offered).

Score (0..~1.2): the cosine of the two texts as character and character-bigram TF-IDF vectors,
after a small table of synonyms (没水/断水 -> 停水, 跑水 -> 漏水, ...) is applied (bigrams suit
Chinese without a word list and survive paraphrase: 闸阀井 / 阀门井 still share 阀井; the IDF
table, :mod:`hotline.assist.duplicate_idf`, makes the hotline's boilerplate — 来电人反映, 请尽快,
相关部门 — weigh little and names and landmarks much; and within the candidate's leaf category the
grams every ticket of that category uses weigh less again: two 供水 tickets both saying 停水 and
来水 is no sign of one problem, both saying 小学 is), plus small bonuses for the same leaf
category (or only the same first level), the same village and a recent ticket. Offered: score
>= ``THRESHOLD`` and within ``MARGIN`` of the best; when none reaches it, the best alone when it
scores at least ``CLEAR_FLOOR`` and ``CLEAR_LEAD`` more than the next candidate, and the texts
alone reach ``CLEAR_TEXT`` (callers who tell one problem in their own words share few characters,
but their ticket still stands out among the township's others; a lone ticket sharing only the
place and the category is not offered). The first three were chosen on the dev half of the paraphrase set of
``bench/duplicates.py`` (figures on its test half in README.md).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from itertools import repeat
from operator import add, mul

from sqlalchemy import Integer, bindparam, case, func, select
from sqlalchemy.orm import Session

from hotline.accounts.scope import Scope
from hotline.directory import reference
from hotline.tickets.models import MERGEABLE_STATUSES, Ticket
from hotline.tickets.queries import visible
from hotline.tickets.states import Status

MERGEABLE = tuple(Status(s) for s in MERGEABLE_STATUSES)  # what ``merge`` accepts as a master
WINDOW_DAYS = 30
MAX_CANDIDATES = 100
TEXT_CHARS = 300  # of a stored ticket's content scored (its start says what and where)
THRESHOLD = 0.26  # offered from here (see the module doc and bench/duplicates.py)
CLEAR_FLOOR, CLEAR_LEAD = 0.14, 0.04  # below THRESHOLD: the best alone, this far ahead of the next,
CLEAR_TEXT = 0.05  # and its text this close: place and category alone offer no lone ticket
SAME_CATEGORY, SAME_GROUP, SAME_VILLAGE, RECENT = 0.08, 0.04, 0.04, 0.03
UNIGRAM = 0.5
MARGIN = 0.06  # offered: within this of the best candidate too (one clear match, not five near ones)


@dataclass(frozen=True)
class Candidate:
    """What scoring needs of a stored ticket (a plain row; ``ticket`` is filled for the offered)."""
    id: int
    region_code: str
    category_code: str
    text: str
    received_at: datetime


@dataclass(frozen=True)
class Match:
    ticket: Ticket
    score: float
    reasons: tuple[str, ...]  # shown to the agent: 同村同类, 同村, 同类, 内容相近 0.62, ...


@dataclass(frozen=True)
class Scored:
    candidate: Candidate
    score: float
    reasons: tuple[str, ...]
    text: float = 0.0  # the texts' cosine alone, without the bonuses


# Words callers use for the same thing, each mapped to one spelling before scoring (the bigrams of
# 没水 and 停水 share nothing). General hotline vocabulary, not the phrases of the paraphrase set.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "停水": ("不来水", "没水了", "没有水", "断水", "没水", "无水", "不出水", "停止供水"),
    "漏水": ("跑水", "渗水", "淌水"),
    "爆管": ("水管爆裂", "管道爆裂", "水管破裂", "爆裂"),
    "停电": ("没有电", "没电", "断电"),
    "路灯不亮": ("路灯坏了", "路灯坏", "路灯不亮了"),
    "噪音": ("噪声", "太吵", "很吵"),
    "欠薪": ("拖欠工资", "不给工资", "不发工资", "欠工资", "拖欠工钱", "欠工钱"),
}
_VARIANT = {v: k for k, vs in SYNONYMS.items() for v in vs}
_NOT_ALNUM = re.compile(r"[\W_]+")  # what str.isalnum() rejects
_VARIANTS = re.compile("|".join(sorted(map(re.escape, _VARIANT), key=len, reverse=True)))


def normalise(text: str) -> str:
    """``text`` with the variants of :data:`SYNONYMS` replaced by their one spelling."""
    return _VARIANTS.sub(lambda m: _VARIANT[m.group()], text)


def grams(text: str) -> Counter[str]:
    """Characters and character bigrams of the letters and digits of ``text`` (punctuation and
    spaces dropped), counted."""
    chars = _NOT_ALNUM.sub("", text)
    found = Counter(chars)
    found.update(map(str.__add__, chars, chars[1:]))
    return found


@lru_cache(maxsize=1)
def _idf() -> tuple[dict[str, float], float]:
    from hotline.assist import duplicate_idf

    table: dict[str, float] = {}
    for entry in "".join(duplicate_idf.TABLE).split():
        gram, _, weight = entry.rpartition(":")
        table[gram] = float(weight)
    return table, duplicate_idf.CEILING


@lru_cache(maxsize=1)
def _weights() -> tuple[dict[str, float], float, dict[str, float], float]:
    """IDF x the unigram factor of the characters and of the bigrams, each with the weight of an
    unknown one; then the same squared."""
    idf, ceiling = _idf()
    uni = {g: w * UNIGRAM for g, w in idf.items() if len(g) == 1}
    bi = {g: w for g, w in idf.items() if len(g) != 1}
    return uni, ceiling * UNIGRAM, bi, ceiling


_TF = [0.0] + [1.0 + math.log(n) for n in range(1, 4097)]  # sublinear term frequency


@lru_cache(maxsize=64)
def _category_factors(category_code: str) -> dict[str, float]:
    """The factors of the grams common in tickets of ``category_code`` (a leaf code; empty for a
    category the table does not know: every gram keeps its weight)."""
    from hotline.assist import duplicate_idf

    table = duplicate_idf.CATEGORY_FACTORS.get(category_code, "")
    out: dict[str, float] = {}
    for entry in table.split():
        gram, _, factor = entry.rpartition(":")
        out[gram] = float(factor)
    return out


@lru_cache(maxsize=8192)
def profile(text: str, category_code: str = "") -> tuple[dict[str, float], float]:
    """The characters and bigrams of ``text`` (after :func:`normalise`) with their TF-IDF weights
    (sublinear term frequency; a single character counts ``UNIGRAM`` of a bigram), each times its
    factor in ``category_code`` (what every ticket of that category says weighs little when two of
    them are compared), and the L2 norm of those. Cached: the open tickets of a township are scored
    again at every keystroke pause of the intake form. Do not modify the result."""
    if category_code:
        weights, norm = profile(text)
        factors = _category_factors(category_code)
        shared = weights.keys() & factors.keys()
        if not shared:
            return weights, norm
        weights = dict(weights)
        for g in shared:
            weights[g] *= factors[g]
    else:
        chars = _NOT_ALNUM.sub("", normalise(text[:4000]))
        uni, bi = Counter(chars), Counter(map(add, chars, chars[1:]))
        uw, du, bw, db = _weights()
        tf = _TF.__getitem__
        weights = dict(zip(uni, map(mul, map(tf, uni.values()), map(uw.get, uni, repeat(du))), strict=True))
        weights.update(zip(bi, map(mul, map(tf, bi.values()), map(bw.get, bi, repeat(db))), strict=True))
    values = weights.values()
    return weights, math.sqrt(sum(map(mul, values, values)))


def vector(text: str, category_code: str = "") -> dict[str, float]:
    """The L2-normalised TF-IDF vector of ``text``'s characters and bigrams, weighted for
    comparison within ``category_code`` (see :func:`profile`)."""
    weights, norm = profile(text, category_code)
    return {g: w / norm for g, w in weights.items()} if norm else {}


def similarity(query: dict[str, float], text: str, category_code: str = "") -> float:
    """The cosine of a :func:`vector` (made for the same ``category_code``) and the vector of
    ``text`` (no vector of ``text`` is built: a product per shared gram)."""
    weights, norm = profile(text, category_code)
    if not norm or not query:
        return 0.0
    return sum(query[g] * weights[g] for g in query.keys() & weights.keys()) / norm


_PLACE_SUFFIX = re.compile(r"(村民委员会|居民委员会|村委会|居委会|社区|村)$")


def with_place(text: str, place: tuple[str, str] | None) -> str:
    """``text`` as though the caller had named the place picked in the form: ``place`` is the
    picked village's (township, village) names; the village's is put before the text when the text
    does not name the village (by its name without 村 or 社区: 朱吕 for 朱吕村). Stored tickets name their village,
    so without it a caller who never says where (家里没水了) matches another village's ticket told in
    similar words as well as their own village's."""
    if not place or not place[1]:
        return text
    township, village = place
    stem = _PLACE_SUFFIX.sub("", village)
    if (stem if len(stem) >= 2 else village) in text:
        return text
    return f"{village}。{text}"


def rank(candidates: list[Candidate], *, region_code: str, category_code: str | None, text: str,
         now: datetime, window_days: int = WINDOW_DAYS, place: tuple[str, str] | None = None) -> list[Scored]:
    """Every candidate scored (see the module doc), best first; no threshold applied. ``place``: the
    names of the village ``region_code`` is, (township, village): when the text does not name the
    village, it is scored as though it did (:func:`with_place`), against the candidates of that
    village and the same category only (the picked place is as good as one named; bench/duplicates.py:
    applied to every candidate it cost precision, restricted so it changes no wrong offer there)."""
    placed = with_place(text, place) if len(region_code) > 9 and category_code else text
    queries: dict[tuple[str, bool], dict[str, float]] = {}  # the query's vector per category, place added or not
    group = (category_code or "")[:2]
    out: list[Scored] = []
    for c in candidates:
        key = (c.category_code, c.region_code == region_code and c.category_code == category_code)
        query = queries.get(key)
        if query is None:
            query = queries[key] = vector(placed if key[1] else text, c.category_code)
        sim = similarity(query, c.text, c.category_code) if query else 0.0
        same_cat = bool(category_code) and c.category_code == category_code
        same_group = bool(group) and c.category_code[:2] == group
        same_village = c.region_code == region_code and len(region_code) > 9
        age = max(0.0, (now - c.received_at).total_seconds() / 86400)
        score = (sim + (SAME_CATEGORY if same_cat else SAME_GROUP if same_group else 0.0)
                 + (SAME_VILLAGE if same_village else 0.0) + RECENT * max(0.0, 1 - age / window_days))
        label = ("同村" if same_village else "") + ("同类" if same_cat or same_group else "")
        reasons = ((label,) if label else ()) + ((f"内容相近 {sim:.2f}",) if sim >= 0.2 else ())
        out.append(Scored(c, round(score, 3), reasons, sim))
    out.sort(key=lambda s: (-s.score, -s.candidate.received_at.timestamp()))
    return out


def offered(ranked: list[Scored], threshold: float = THRESHOLD, margin: float = MARGIN,
            floor: float = CLEAR_FLOOR, lead: float = CLEAR_LEAD) -> list[Scored]:
    """The ranked candidates offered (see :func:`offered_count`)."""
    return ranked[:offered_count([(s.score, s.text) for s in ranked], threshold, margin, floor, lead)]


def offered_count(scored: list[tuple[float, float]], threshold: float = THRESHOLD, margin: float = MARGIN,
                  floor: float = CLEAR_FLOOR, lead: float = CLEAR_LEAD, text: float = CLEAR_TEXT) -> int:
    """How many of the best-first ``scored`` (score, text cosine) are offered: those at least
    ``threshold`` and within ``margin`` of the best; if none, the best alone when it scores at least
    ``floor`` and ``lead`` more than the next (or than nothing) and its text cosine is at least
    ``text``."""
    if not scored:
        return 0
    top, top_text = scored[0]
    if top >= threshold:
        return sum(1 for s, _ in scored if s >= threshold and s >= top - margin)
    runner_up = scored[1][0] if len(scored) > 1 else 0.0
    return 1 if top >= floor and top - runner_up >= lead and top_text >= text else 0


def township_range(region_code: str) -> tuple[str, str]:
    """The codes of a region's township (9 digits) and its villages (12 digits): the range
    [township, township + "999"] in string order."""
    stem = region_code[:9]
    return stem, stem + "999"


def candidate_query(scope: Scope, region_code: str, since: datetime, limit: int = MAX_CANDIDATES):  # noqa: ANN201
    """The SELECT of the candidate rows (also what the benchmark times bare). The ids are chosen on
    the partial index of the open tickets alone (``ix_tickets_open_region_received``: its predicate
    is repeated literally, so both SQLite and PostgreSQL see that it holds), the same village first,
    then the newest; only those rows are read, and only the start of their content."""
    low, high = township_range(region_code)
    return _statement(scope).params(low=low, high=high, region=region_code, since=since, limit=limit)


def candidate_rows(session: Session, scope: Scope, region_code: str, since: datetime,
                   limit: int = MAX_CANDIDATES) -> list:
    """The rows of :func:`candidate_query`, fetched (the statement built once, parameters passed)."""
    low, high = township_range(region_code)
    return session.execute(_statement(scope), {"low": low, "high": high, "region": region_code, "since": since,
                                               "limit": limit}).all()


@lru_cache(maxsize=256)
def _statement(scope: Scope):  # noqa: ANN202
    """The candidate SELECT of ``scope``, with parameters (built once: it is the same at every call)."""
    mergeable = bindparam("mergeable", list(MERGEABLE_STATUSES), expanding=True, literal_execute=True)
    ids = (
        select(Ticket.id)
        .where(Ticket.region_code >= bindparam("low"), Ticket.region_code <= bindparam("high"),
               Ticket.received_at >= bindparam("since", type_=Ticket.received_at.type),
               Ticket.status.in_(mergeable), visible(scope))
        .order_by(case((Ticket.region_code == bindparam("region"), 0), else_=1), Ticket.received_at.desc())
        .limit(bindparam("limit", type_=Integer))
    )
    return select(Ticket.id, Ticket.region_code, Ticket.category_code, Ticket.title,
                  func.substr(Ticket.content, 1, TEXT_CHARS).label("content"), Ticket.received_at
                  ).where(Ticket.id.in_(ids.scalar_subquery()))


def candidates(session: Session, scope: Scope, *, region_code: str, now: datetime,
               window_days: int = WINDOW_DAYS) -> list[Candidate]:
    rows = candidate_rows(session, scope, region_code, now - timedelta(days=window_days))
    return [Candidate(r.id, r.region_code, r.category_code, f"{r.title}。{r.content}", r.received_at) for r in rows]


def place_names(session: Session, region_code: str) -> tuple[str, str] | None:
    """(township, village) names of a village's code, from the reference data; None for a township
    or a code it does not know."""
    if len(region_code) <= 9:
        return None
    regions = reference.snapshot(session).regions
    village = regions.get(region_code)
    township = regions.get(village[2] or "") if village else None
    return (township[0] if township else "", village[0]) if village else None


def find(session: Session, scope: Scope, *, region_code: str, category_code: str | None, text: str,
         now: datetime, limit: int = 5, window_days: int = WINDOW_DAYS,
         threshold: float = THRESHOLD, exclude_id: int | None = None) -> list[Match]:
    """The open tickets offered for merging with a new request, best first (at most ``limit``);
    ``exclude_id``: a stored ticket looking for its own master, left out of its candidates."""
    pool = [c for c in candidates(session, scope, region_code=region_code, now=now, window_days=window_days)
            if c.id != exclude_id]
    ranked = rank(pool, region_code=region_code, category_code=category_code, text=text[:2000], now=now,
                  window_days=window_days, place=place_names(session, region_code))
    found = offered(ranked, threshold)[:limit]
    if not found:
        return []
    tickets = {t.id: t for t in session.scalars(select(Ticket).where(Ticket.id.in_([s.candidate.id for s in found])))}
    return [Match(tickets[s.candidate.id], s.score, s.reasons) for s in found if s.candidate.id in tickets]
