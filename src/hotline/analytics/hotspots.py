"""Hot spots (热点): clusters of related citizen requests, ranked by a heat index.

**Clustering** (:func:`cluster`, pure: no database). Each message is read as

* its *text*: character bigrams of title (twice) and the body's first 300 characters, after
  :func:`hotline.classification.text.normalise`, TF-IDF weighted (sublinear tf; plain tf in a group of fewer than 50 texts): robust to jieba's
  segmentation of invented names and fast enough for a city's month;
* its *places*: the named estate, road, school, company, village … the text mentions, found
  generically (:func:`extract_places`: a name of 2–6 characters before a place suffix such as 小区,
  花园, 苑, 路, 中学, 公司, 村), compared by the character bigrams of their names, so 伊景园滨河苑
  and 滨河苑 match while 魅力之城 and 丽发新城 do not;
* its *area*: a hard key (the district 'A5区' named in the text, or a township code): two messages
  of different areas are never in one cluster.

Similarity = ``(1 - w)·cos(text) + w·cos(places)`` when both messages name places (w =
``Params.place_weight``); times ``Params.conflict`` when both name places and share none (the same
problem at two estates is two hot spots), and 0 across areas. Clusters are the groups of an
average-linkage agglomeration cut at similarity ``Params.min_similarity``; groups smaller than
``Params.min_size`` are dropped. Work is O(n²) in a group of messages, so callers bound n (the
platform path clusters within blocks, :func:`hot_spots`).

**Heat index** (:func:`rank`), for a cluster of ``n`` messages in the period [start, end)::

    heat = 100 · (0.35·V + 0.15·G + 0.20·C + 0.10·P + 0.20·S)

    V (volume)  = ln(1 + n) / ln(1 + n_max)
    G (growth)  = q / (1 + q),  q = (r + ½) / ((e + ½) · Wr / We)
                  r, e: messages in the recent window (the last third of the period, length Wr) and
                  in the earlier two thirds (We); G = ½ at a steady rate, → 1 for a new burst
    C (callers) = ln(1 + distinct callers) / ln(1 + callers_max)
    P (places)  = ln(1 + distinct regions) / ln(1 + regions_max)
    S (severity)= ln(1 + Σ severity) / ln(1 + Σ_max)    ("sum" mode: likes + dislikes, votes)
                  or the mean per-message severity in 0..1 ("mean" mode: urgency, kind, category)

``*_max`` are the largest values among the run's clusters, so every component lies in 0..1 and the
heat in 0..100; heats compare clusters of one run (one period and area), not across runs.

**Platform path** (:func:`hot_spots`): tickets of the period (and area) are counted in SQL by block
(first-level category × township); only the biggest blocks are clustered (at most
``Limits.max_blocks`` blocks, ``Limits.max_tickets`` tickets in all, the newest
``Limits.block_cap`` of a block), so a city's month costs a bounded few seconds.
:func:`refresh_snapshots` stores the top hot spots of the standard periods for the city and each
county (``hotspot_store``), for dashboards to read.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from hotline.classification.text import load_segmenter, normalise, tokens
from hotline.directory import reference
from hotline.tickets.models import Ticket

__all__ = [
    "Cluster", "HotSpot", "Limits", "Message", "Params", "PERIODS", "cluster", "extract_places",
    "hot_spots", "preload", "rank", "refresh_snapshots", "ticket_severity",
]


def preload() -> None:
    """Load what clustering loads on first use: scikit-learn's TF-IDF, SciPy's hierarchical
    clustering and jieba's dictionary (the keywords). Some 3–4 s and 100 MB, which the first on-demand
    hot spots or briefing of a process used to wait for (5.4 s on the demo instead of 0.75 s); a web
    process calls this as it starts (``web.app.warm_up``)."""
    import scipy.cluster.hierarchy  # noqa: F401
    import scipy.spatial.distance  # noqa: F401
    import sklearn.feature_extraction.text  # noqa: F401

    load_segmenter()


# ------------------------------------------------------------------ places

TEXT_CHARS = 300  # of a message's body read (its start says what and where)
_IDF_FROM = 50

_SUFFIXES = sorted(["小区", "花园", "家园", "新村", "公寓", "大厦", "广场", "山庄", "公馆", "府", "苑", "城", "园", "湾", "庭", "郡", "中学", "小学", "学校", "学院", "大学", "幼儿园", "医院", "卫生院", "公司", "集团", "村", "社区", "街道", "镇", "乡", "路", "街", "大道", "巷", "市场", "商场", "工业园", "园区", "项目", "楼盘", "车站", "地铁站", "公园", "酒店", "银行", "物业", "加油站", "菜市场", "宿舍", "工地", "搅拌站", "厂"], key=len, reverse=True)
_PLACE = re.compile("(" + "|".join(_SUFFIXES) + ")")
_ADMIN = ("镇", "乡", "村", "社区", "街道")  # a division: what follows it names a place inside it
_ESTATE_CHAR = frozenset(["府", "苑", "城", "园", "湾", "庭", "郡"])  # suffixes that are also a name's first character
_RUN = re.compile(r"[\u4e00-\u9fffa-z0-9]+$")
# what ends the name on its left: district codes and administrative words, verbs and particles of the
# frame around a place ("反映A5区魅力之城小区…"), so the name is the part after the last of them
_LEFT = re.compile(r"^.*(?:a\d*[市区县]|[省市区县镇乡村]|西地省|在|于|的|和|与|对|向|及|是|了|到|有|从|近|旁|"
                   r"我们|我家|反映|投诉|举报|关于|咨询|建议|请问|请|位于|地处|座落|坐落|附近|门口|对面|周边|一带)")
_AREA = re.compile(r"a\d{1,2}[区县]")
_JUNK = re.compile(r"[a-z0-9]+[市区县]?|[0-9a-z]*[区县市]")  # codes of pseudonymised areas, numbers
_GENERIC = frozenset(["我们", "你们", "他们", "这个", "那个", "本", "该", "此", "这", "那", "一个", "整个", "全", "各", "每", "多个", "城市", "县城", "农村", "公园", "学校", "医院", "公司", "路口", "马路", "道路", "市场", "小区", "社区", "街道", "园区", "项目", "工地", "宿舍", "银行", "物业"])


def extract_places(text: str) -> list[str]:
    """The named places of ``text`` (name + suffix, in order, unique): 魅力之城小区, 黄兴路, 金鼎村.

    Generic on purpose: it needs no gazetteer, so it works on pseudonymised data and on places the
    region tree does not hold (estates, roads, schools, companies). A name is 2–6 characters.
    """
    t = normalise(text)
    out: list[str] = []
    prev_end, prev_kept = 0, False
    for m in _PLACE.finditer(t):
        if m.start() == prev_end and prev_kept and out[-1].endswith(_ADMIN) and m.group() in _ESTATE_CHAR:
            continue  # 瑶峰镇 + 城南社区: the 城 starts the next name (瑶峰镇城 is no place); 瑶峰镇中学 is one
        if m.start() == prev_end and prev_kept:  # 碧水花园 + 小区, 魅力之城 + 小区: one place
            out[-1] += m.group()
            prev_end = m.end()
            continue
        left = _RUN.search(t[max(prev_end, m.start() - 10):m.start()])
        prev_end, prev_kept = m.end(), False
        if not left:
            continue
        name = _LEFT.sub("", left.group())[-6:].lstrip("0123456789")
        place = name + m.group()
        if len(name) >= 2 and place not in _GENERIC and name not in _GENERIC and place not in out:
            out.append(place)
            prev_kept = True
    return list(dict.fromkeys(out))


def _place_features(places: Iterable[str]) -> list[str]:
    """What two places are compared by: the bigrams of their names (the suffix left out)."""
    feats: list[str] = []
    for p in places:
        m = _PLACE.search(p, 2)
        name = p[:m.start()] if m else p
        feats += [name[i:i + 2] for i in range(len(name) - 1)]
    return feats


def areas_of(text: str) -> list[str]:
    """The districts a (pseudonymised) text names: 'a5区', 'a7县'."""
    return list(dict.fromkeys(_AREA.findall(normalise(text))))


# ------------------------------------------------------------------ messages and clusters


@dataclass(frozen=True)
class Message:
    """One request as clustering sees it.

    ``area``: a hard key (None: unknown, compatible with any); ``region``: what the places spread
    counts (a region code, a district); ``severity``: likes + dislikes (sum mode) or a 0..1 weight
    (mean mode)."""

    id: int | str
    title: str
    text: str
    at: datetime
    caller: str | None = None
    area: str | None = None
    region: str | None = None
    severity: float = 0.0


@dataclass(frozen=True)
class Params:
    min_similarity: float = 0.25  # average-linkage cut
    place_weight: float = 0.45
    text_floor: float = 0.2  # text cosine from which a shared place counts in full
    merge_place: float = 0.4  # groups whose place centroids are this alike …
    merge_text: float = 0.06  # … and whose texts share this much are one hot spot
    conflict: float = 0.35  # both name places, none shared
    min_size: int = 3
    severity: str = "sum"  # or "mean"
    recent_share: float = 1 / 3  # the recent window: this last share of the period
    weights: tuple[float, float, float, float, float] = (0.35, 0.15, 0.20, 0.10, 0.20)  # V G C P S


@dataclass
class Cluster:
    ids: list[int | str]
    keywords: list[str]
    place: str | None  # the place most of its messages name (or their area)
    places: list[str]
    first_at: datetime
    last_at: datetime
    callers: int
    regions: int
    severity: float  # summed or mean, as Params.severity says
    cohesion: float  # mean cosine of its messages' texts with their centroid
    recent: int = 0
    earlier: int = 0
    heat: float = 0.0
    components: dict[str, float] = field(default_factory=dict)
    block: str = ""

    @property
    def size(self) -> int:
        return len(self.ids)

    @property
    def label(self) -> str:
        """The place and the shared words, the words apart (瑶峰镇·停水、水管): run together they read as
        one made-up word (咨询补贴流转)."""
        words = "、".join(w for w in self.keywords[:3] if not self.place or w not in self.place)
        return f"{self.place}·{words}" if self.place else "·".join(self.keywords[:3])


def _vectors(messages: Sequence[Message]) -> tuple[np.ndarray, np.ndarray, Any, np.ndarray, list[list[str]]]:
    """Text cosines, place cosines, the place vectors (L2-normalised rows), whether each names a
    place, and the places."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    docs = [normalise(f"{m.title} {m.title} {m.text[:TEXT_CHARS]}") for m in messages]
    # IDF means little on a handful of texts (there the words all of them share, the problem
    # itself, would weigh least): below ``_IDF_FROM`` texts, plain (sublinear) term frequencies
    big = len(docs) >= _IDF_FROM
    text_vec = TfidfVectorizer(analyzer="char", ngram_range=(2, 2), sublinear_tf=True, use_idf=big,
                               max_df=0.5 if big else 1.0, dtype=np.float32)
    x_text = text_vec.fit_transform(docs)
    places = [extract_places(f"{m.title}。{m.text}") for m in messages]
    feats = [_place_features(p) or ["\0"] for p in places]  # "\0": no place (its column is dropped)
    has = np.array([f != ["\0"] for f in feats])
    x_place = TfidfVectorizer(analyzer=lambda f: f, binary=True, dtype=np.float32).fit_transform(feats)
    x_place = x_place.multiply(has[:, None]).tocsr()
    s_text = (x_text @ x_text.T).toarray()
    s_place = (x_place @ x_place.T).toarray()
    return s_text, s_place, x_place, has, places


def similarity(messages: Sequence[Message], params: Params) -> tuple[np.ndarray, np.ndarray, Any, list[list[str]]]:
    """The combined similarity matrix (module docstring), the text cosines, the place vectors and
    each message's places."""
    s_text, s_place, x_place, has, places = _vectors(messages)
    both = np.outer(has, has)
    w = params.place_weight
    # the place adds to texts that share something: a shared estate alone does not make one problem
    s = np.where(both, (1 - w) * s_text + w * s_place * np.minimum(1.0, s_text / params.text_floor), s_text)
    s = np.where(both & (s_place < 0.05), s * params.conflict, s)
    areas = np.array([m.area or "" for m in messages])
    known = areas != ""
    s = np.where(np.outer(known, known) & (areas[:, None] != areas[None, :]), 0.0, s)
    np.fill_diagonal(s, 1.0)
    return s, s_text, x_place, places


def _groups(s: np.ndarray, min_similarity: float) -> list[list[int]]:
    """Average-linkage groups of the similarity matrix ``s``, cut at ``min_similarity``."""
    n = len(s)
    if n == 1:
        return [[0]]
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    d = np.clip(1.0 - s, 0.0, 1.0)
    np.fill_diagonal(d, 0.0)
    z = linkage(squareform(d, checks=False), method="average")
    labels = fcluster(z, t=1.0 - min_similarity, criterion="distance")
    out: dict[int, list[int]] = defaultdict(list)
    for i, lab in enumerate(labels):
        out[int(lab)].append(i)
    return list(out.values())


def _merge_same_place(groups: list[list[int]], areas: list[str], s_text: np.ndarray, x_place: Any,
                      p: Params) -> list[list[int]]:
    """Groups about one place and one problem told in different words, as one: their place
    centroids alike (cosine >= ``p.merge_place``), their texts sharing something (mean cosine >=
    ``p.merge_text``), and not of two different areas."""
    big = [g for g in groups if len(g) >= 2]
    rest = [g for g in groups if len(g) < 2]
    if len(big) < 2:
        return groups
    cent = np.vstack([np.asarray(x_place[g].mean(axis=0)).ravel() for g in big])
    norms = np.linalg.norm(cent, axis=1)
    cent = cent / np.where(norms > 0, norms, 1.0)[:, None]
    pc = cent @ cent.T
    parent = list(range(len(big)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in zip(*np.nonzero(np.triu(pc >= p.merge_place, 1)), strict=True):
        a, b = big[i], big[j]
        if s_text[np.ix_(a, b)].mean() >= p.merge_text and len({areas[k] for k in a + b} - {""}) <= 1:
            parent[root(i)] = root(j)
    merged: dict[int, list[int]] = defaultdict(list)
    for i, g in enumerate(big):
        merged[root(i)] += g
    return list(merged.values()) + rest


# A word ending like a county, town or village (夏县, 南村, 全村) names a place or a part of one, not
# the problem (市 and 区 end problem words too: 超市, 景区; 乡 does in 城乡).
_DIVISION_END = ("县", "镇", "村")
_NOT_A_PLACE = frozenset(["农村", "乡村"])


def _problem_words(title: str, places: Iterable[str]) -> list[str]:
    """The words of a title once its places are cut out (瑶峰镇城南社区停电 → 停电, not 城南 or
    社区), without words ending like a division, generic places, stop words and codes."""
    text = normalise(title)
    for place in sorted(places, key=len, reverse=True):
        text = text.replace(place, "，")
    return [w for w in tokens(text) if len(w) >= 2 and not _JUNK.fullmatch(w) and w not in _GENERIC
            and (w in _NOT_A_PLACE or not w.endswith(_DIVISION_END))]


def _keywords(messages: Sequence[Message], places: Sequence[Sequence[str]] | None = None, k: int = 5) -> list[str]:
    """The words most of the messages' titles share (:func:`_problem_words`: each message's named
    places, ``places``, cut out first); words tied in count in the order they first appear (a
    ``set`` here gave each process its own order: hash randomisation)."""
    counts: Counter[str] = Counter()
    for i, m in enumerate(messages):
        named = places[i] if places is not None else extract_places(f"{m.title}。{m.text}")
        counts.update(dict.fromkeys(_problem_words(m.title or m.text[:60], named)).keys())
    return [w for w, c in counts.most_common(k)]


def cluster(messages: Sequence[Message], params: Params | None = None) -> list[Cluster]:
    """The clusters of at least ``params.min_size`` messages (biggest first), not yet ranked."""
    p = params or Params()
    if len(messages) < p.min_size:
        return []
    s, s_text, x_place, places = similarity(messages, p)
    out: list[Cluster] = []
    for idx in _merge_same_place(_groups(s, p.min_similarity), [m.area or "" for m in messages],
                                 s_text, x_place, p):
        if len(idx) < p.min_size:
            continue
        out.append(_describe([messages[i] for i in idx], [places[i] for i in idx], s_text[np.ix_(idx, idx)], p))
    out.sort(key=lambda c: -c.size)
    return out


def _describe(ms: list[Message], places: list[list[str]], s_text: np.ndarray, p: Params) -> Cluster:
    named: Counter[str] = Counter()
    for ps in places:
        named.update(dict.fromkeys(ps).keys())  # ties in the order first named, in every process
    main = named.most_common(1)[0][0] if named and named.most_common(1)[0][1] * 3 >= len(ms) else None
    areas = Counter(m.area for m in ms if m.area)
    if main is None and areas:
        main = areas.most_common(1)[0][0].upper()
    sev = [m.severity for m in ms]
    # cohesion: the mean cosine of each message with the others (the centroid's view without vectors)
    n = len(ms)
    cohesion = float((s_text.sum() - n) / (n * (n - 1))) if n > 1 else 1.0
    return Cluster(
        ids=[m.id for m in sorted(ms, key=lambda m: m.at)],
        keywords=_keywords(ms, places), place=main, places=[w for w, _ in named.most_common(5)],
        first_at=min(m.at for m in ms), last_at=max(m.at for m in ms),
        callers=len({m.caller or f"#{m.id}" for m in ms}), regions=len({m.region for m in ms if m.region}) or 1,
        severity=sum(sev) if p.severity == "sum" else sum(sev) / len(sev), cohesion=round(cohesion, 3),
    )


def _norm(x: float, top: float) -> float:
    return math.log1p(x) / math.log1p(top) if top > 0 else 0.0


def rank(clusters: list[Cluster], messages: Sequence[Message], *, start: datetime, end: datetime,
         params: Params | None = None) -> list[Cluster]:
    """The clusters with heat and components (module docstring), hottest first."""
    p = params or Params()
    if not clusters:
        return []
    at = {m.id: m.at for m in messages}
    cut = end - (end - start) * p.recent_share
    ratio = p.recent_share / (1 - p.recent_share)  # Wr / We
    n_max = max(c.size for c in clusters)
    c_max = max(c.callers for c in clusters)
    r_max = max(c.regions for c in clusters)
    s_max = max(c.severity for c in clusters)
    wv, wg, wc, wp, ws = p.weights
    for c in clusters:
        c.recent = sum(1 for i in c.ids if at[i] >= cut)
        c.earlier = c.size - c.recent
        q = (c.recent + 0.5) / ((c.earlier + 0.5) * ratio)
        comp = {
            "volume": _norm(c.size, n_max), "growth": q / (1 + q), "callers": _norm(c.callers, c_max),
            "places": _norm(c.regions, r_max),
            "severity": _norm(c.severity, s_max) if p.severity == "sum" else min(1.0, c.severity),
        }
        c.components = {k: round(v, 3) for k, v in comp.items()}
        c.heat = round(100 * (wv * comp["volume"] + wg * comp["growth"] + wc * comp["callers"]
                              + wp * comp["places"] + ws * comp["severity"]), 1)
    return sorted(clusters, key=lambda c: (-c.heat, -c.size))


# ------------------------------------------------------------------ the platform: tickets


@dataclass(frozen=True)
class Limits:
    """Bounds of one platform run: the work is at most ~max_tickets texts and block_cap² pairs."""

    max_blocks: int = 40
    max_tickets: int = 12_000
    block_cap: int = 1_200
    text_chars: int = 160  # of a ticket's content read (its start says what and where)


@dataclass
class HotSpot:
    """One hot spot of the platform: its tickets, label, heat and the components of the heat."""

    label: str
    keywords: list[str]
    place: str | None
    category_code: str  # first level
    area_code: str  # the township (or the coarser region) of its block
    heat: float
    components: dict[str, float]
    ticket_ids: list[int]
    size: int
    callers: int
    first_at: datetime
    last_at: datetime
    cohesion: float

    def as_dict(self) -> dict:
        d = dict(self.__dict__)
        d["first_at"], d["last_at"] = self.first_at.isoformat(), self.last_at.isoformat()
        return d


_URGENCY = {"normal": 0.2, "urgent": 0.6, "emergency": 1.0}
_KIND = {"complaint": 0.2, "report": 0.2, "help": 0.1}
_SEVERE_CATEGORIES = ("01", "02", "03", "13")  # water, power, gas and heating, public safety


def ticket_severity(urgency: str, kind: str, category_code: str) -> float:
    """A ticket's severity in 0..1: its urgency, plus a little for complaints and reports and for
    the utilities and public safety."""
    s = _URGENCY.get(str(urgency), 0.2) + _KIND.get(str(kind), 0.0)
    if category_code[:2] in _SEVERE_CATEGORIES:
        s += 0.2
    return min(1.0, s)


def _within(column, prefix: str):
    """``column`` starts with the digit code ``prefix`` (a range, so an index serves it)."""
    return column.between(prefix, prefix + "9" * (12 - len(prefix)))


def _blocks(session: Session, start: datetime, end: datetime, region_code: str | None,
            limits: Limits, min_size: int) -> list[tuple[str, str, int]]:
    """(category first level, township, tickets) of the biggest blocks, within the limits."""
    cat = func.substr(Ticket.category_code, 1, 2)
    town = func.substr(Ticket.region_code, 1, 9)
    q = (select(cat, town, func.count()).where(Ticket.received_at >= start, Ticket.received_at < end)
         .group_by(cat, town).having(func.count() >= min_size).order_by(func.count().desc()))
    if region_code:
        q = q.where(_within(Ticket.region_code, region_code))
    chosen: list[tuple[str, str, int]] = []
    total = 0
    for c, t, n in session.execute(q.limit(limits.max_blocks)):
        n = min(int(n), limits.block_cap)
        if chosen and total + n > limits.max_tickets:
            break
        chosen.append((c, t, n))
        total += n
    return chosen


def _block_messages(session: Session, block: tuple[str, str, int], start: datetime, end: datetime,
                    limits: Limits) -> list[tuple[Message, str]]:
    cat, town, n = block
    # a township's block holds its villages; a coarser code's block only the tickets placed there
    where_town = _within(Ticket.region_code, town) if len(town) >= 9 else Ticket.region_code == town
    rows = session.execute(
        select(Ticket.id, Ticket.title, func.substr(Ticket.content, 1, limits.text_chars), Ticket.received_at,
               Ticket.caller_phone, Ticket.region_code, Ticket.urgency, Ticket.kind, Ticket.category_code)
        .where(Ticket.received_at >= start, Ticket.received_at < end, where_town,
               _within(Ticket.category_code, cat))
        .order_by(Ticket.received_at.desc()).limit(n))
    return [(Message(r[0], r[1] or "", r[2] or "", r[3], r[4], None, r[5], ticket_severity(r[6], r[7], r[8])), r[8])
            for r in rows]


def clusters_of_tickets(session: Session, *, start: datetime, end: datetime, region_code: str | None = None,
                        params: Params | None = None, limits: Limits | None = None) -> list[Cluster]:
    """Every ranked cluster of the period (and area), block by block (module docstring)."""
    p = params or Params(severity="mean")
    lim = limits or Limits()
    found: list[Cluster] = []
    messages: list[Message] = []
    for block in _blocks(session, start, end, region_code, lim, p.min_size):
        rows = _block_messages(session, block, start, end, lim)
        ms = [m for m, _ in rows]
        messages += ms
        for c in cluster(ms, p):
            c.block = f"{block[0]}:{block[1]}"
            found.append(c)
    return rank(found, messages, start=start, end=end, params=p)


def _hot_spot(c: Cluster) -> HotSpot:
    cat, area = c.block.split(":")
    return HotSpot(label=c.label, keywords=c.keywords[:5], place=c.place, category_code=cat, area_code=area,
                   heat=c.heat, components=c.components, ticket_ids=[int(i) for i in c.ids], size=c.size,
                   callers=c.callers, first_at=c.first_at, last_at=c.last_at, cohesion=c.cohesion)


def hot_spots(session: Session, *, start: datetime, end: datetime, region_code: str | None = None, top: int = 5,
              params: Params | None = None, limits: Limits | None = None) -> list[HotSpot]:
    """The ``top`` hottest hot spots among tickets received in [start, end) in ``region_code``
    (any level; None: everywhere), each with its ticket ids (oldest first)."""
    ranked = clusters_of_tickets(session, start=start, end=end, region_code=region_code, params=params,
                                 limits=limits)
    return [_hot_spot(c) for c in ranked[:top]]


# ------------------------------------------------------------------ snapshots

PERIODS = {"yesterday": 1, "7d": 7, "30d": 30}


def _period(now: datetime, key: str) -> tuple[datetime, datetime]:
    """[start, end) of a standard period: whole days in Asia/Shanghai ending at today's midnight."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")
    midnight = now.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight - timedelta(days=PERIODS[key]), midnight


def _counties(session: Session, city: str | None) -> list[str]:
    snap = reference.snapshot(session)
    return sorted(code for code, (_, level, _p) in snap.regions.items()
                  if level == 3 and (city is None or code.startswith(city)))


def refresh_snapshots(session: Session, now: datetime, *, top: int = 5, city: str | None = None,
                      params: Params | None = None, limits: Limits | None = None) -> int:
    """Store the top hot spots of each standard period (:data:`PERIODS`) for the whole platform
    (``area_code`` '') and each county, replacing the earlier ones; returns the rows written.

    One clustering run per period serves every area: a county's hot spots are the city's clusters in
    its blocks, so the county list is as good as the blocks chosen (the biggest ones, :class:`Limits`).
    Runs in the caller's transaction; the worker commits.
    """
    from hotline.analytics.hotspot_store import HotSpotSnapshot

    counties = _counties(session, city)
    written = 0
    for key in PERIODS:
        start, end = _period(now, key)
        ranked = clusters_of_tickets(session, start=start, end=end, region_code=city, params=params, limits=limits)
        session.execute(delete(HotSpotSnapshot).where(HotSpotSnapshot.period == key))
        for area in ["", *counties]:
            mine = [c for c in ranked if c.block.split(":")[1].startswith(area)][:top]
            for i, c in enumerate(mine, 1):
                h = _hot_spot(c)
                session.add(HotSpotSnapshot(
                    period=key, area_code=area, rank=i, period_start=start, period_end=end, computed_at=now,
                    label=h.label[:120], heat=h.heat, category_code=h.category_code, place=(h.place or "")[:60],
                    ticket_count=h.size, ticket_ids=h.ticket_ids, detail={
                        "keywords": h.keywords, "components": h.components, "callers": h.callers,
                        "township": h.area_code, "first_at": h.first_at.isoformat(),
                        "last_at": h.last_at.isoformat(), "cohesion": h.cohesion}))
                written += 1
    session.flush()
    return written
