"""A place typed into a form field, resolved to one township or village: the citizen portal's
诉求发生地 and Open311's ``address_string``. Names are read the way the agent's place extraction
reads them (``places``: the same index and tokenizer), so "裴介镇 朱吕村", "朱吕村" and "裴介，朱吕"
all land on 朱吕村; a name several places share comes back with those places to choose from, a
county with its townships."""

from __future__ import annotations

import re
from dataclasses import dataclass

from hotline.classification import places
from hotline.directory import lookup, reference
from hotline.directory.models import RegionLevel
from hotline.kit.errors import DomainError

__all__ = ["MAX_HINTS", "MAX_LISTED", "NOT_FOUND", "Place", "resolve_place"]

MAX_LISTED = 15  # up to this many places to choose from are all offered
MAX_HINTS = 8  # of more, the first this many are offered, and the rest counted (「…等 25 个」)
NOT_FOUND = "找不到地点「{}」，请从提示中选择乡镇或村"
_NOT_NAME = re.compile(r"[\W_]+")  # spaces and punctuation, ASCII or full-width


@dataclass(frozen=True)
class Place:
    """What the location field resolves to: one township or village (``code``), or a ``problem``
    with the ``options`` (code, label) the citizen may choose from: all ``total`` of them, or the
    first ``MAX_HINTS`` when there are more than ``MAX_LISTED``."""

    code: str | None = None
    problem: str | None = None
    options: tuple[tuple[str, str], ...] = ()
    total: int = 0

    @property
    def choices(self) -> str:
        """The options in one line ('瑶峰镇、…、祁家河乡'), saying so when some are left out
        ('…等 25 个'): a list that stops without a word reads as the only places allowed."""
        labels = "、".join(label for _code, label in self.options)
        return f"{labels}等 {self.total} 个" if self.total > len(self.options) else labels


def _level(snap: reference.Snapshot, code: str) -> int:
    return snap.regions[code][1]


def _options(snap: reference.Snapshot, codes: list[str]) -> list[tuple[str, str]]:
    return [(c, reference.region_label(snap, c)) for c in sorted(codes)]


def _offer(problem: str, options: list[tuple[str, str]]) -> Place:
    """The problem with the places to choose from, cut to the first ``MAX_HINTS`` when many."""
    shown = options if len(options) <= MAX_LISTED else options[:MAX_HINTS]
    return Place(problem=problem, options=tuple(shown), total=len(options))


def _too_broad(snap: reference.Snapshot, text: str, code: str) -> Place:
    """A county (its townships offered) or a city named: the ticket needs a township or village."""
    townships = [c for c, (_n, level, parent) in snap.regions.items()
                 if parent == code and level == RegionLevel.township]
    return _offer(f"「{text}」范围太大，请写明乡镇或村",
                  _options(snap, townships) if _level(snap, code) == RegionLevel.county else [])


def _named(snap: reference.Snapshot, compact: str) -> list[str]:
    """The regions the names in ``compact`` agree on best, deepest first kept.

    The place index's name forms (朱吕村, 朱吕村委会, 裴介镇, the stems 裴介 and 朱吕; 夏县, 盐湖) are
    found by its tokenizer, as in ``places.extract``; every region any of them may mean is a
    candidate, supported by the names of itself and of its ancestors. The most supported win (a
    full name over a bare stem when still tied), then an ancestor gives way to its descendant. In a
    field that holds only a place, a bare stem or a two-character village name counts alone too."""
    index = places.index_for(snap)
    assert index.tokenizer is not None
    mentions = [index.names[t] for t in index.tokenizer.cut(compact, HMM=False) if t in index.names]
    scored: dict[str, tuple[int, bool]] = {}
    for entries in mentions:
        for code, strong in entries:
            path = set(reference.region_path(snap, code))
            support = sum(1 for other in mentions if any(c in path for c, _s in other))
            scored[code] = (support, strong or scored.get(code, (0, False))[1])
    if not scored:
        return []
    best = max(scored.values())
    tied = [c for c, key in scored.items() if key == best]
    return [c for c in tied if not any(o != c and c in reference.region_path(snap, o) for o in tied)]


def resolve_place(snap: reference.Snapshot, typed: str) -> Place:
    """The township or village a citizen means by what they typed in the location field.

    Accepted: a region code, a label picked from the hints ('夏县裴介镇朱吕村'), or names as people
    say them, spaces and punctuation ignored ('裴介镇 朱吕村', '朱吕村', '裴介，朱吕') when they
    resolve to exactly one township or village. A name several places share is answered with those
    places to choose from; a county with its townships; nothing found with the places whose label
    contains what was typed."""
    text = typed.strip()
    if not text:
        return Place(problem="请填写诉求发生地（乡镇或村名）")
    try:
        code = lookup.resolve_region(snap, text)
    except DomainError:
        code = None
    if code is not None:
        return Place(code) if _level(snap, code) >= RegionLevel.township else _too_broad(snap, text, code)
    compact = _NOT_NAME.sub("", text)
    hits = lookup.search_regions(snap, compact, limit=len(snap.regions)) if compact else []
    exact = [c for c, label in hits if label == compact]
    if len(exact) == 1:
        return Place(exact[0])
    named = _named(snap, compact) if compact else []
    deep = [c for c in named if _level(snap, c) >= RegionLevel.township]
    if len(named) == 1:
        return Place(named[0]) if deep else _too_broad(snap, text, named[0])
    if deep:
        return _offer(f"「{text}」对应 {len(deep)} 处地点，请写明是哪一处", _options(snap, deep))
    return _offer(NOT_FOUND.format(text), hits)
