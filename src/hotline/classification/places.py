"""Place extraction: the most specific region a request text names, down to the village.

The region tree of the reference snapshot (``Snapshot.regions``) gives every name; from it this
module derives the forms callers use — the short name (朱吕村, 裴介镇, 夏县), the committee's full
name (朱吕村委会, 朱吕村民委员会, 鼓楼社区居委会), the county without its suffix (盐湖, 尧都) and, as
*weak* forms, the bare stem of a township or village (裴介, 朱吕). The forms are the user dictionary
of a private jieba tokenizer, so a name is found only where the text segments into it (全村 in
"全村停水" is a common word, not the village 全村 of 胡张乡).

Resolution prefers the deepest consistent chain: each candidate region is supported by the
mentions of itself and of its ancestors ("夏县裴介镇朱吕村": 朱吕村 has three), and the best
candidate has the most support, then the deepest level. A weak form, or a 2-character village name
(西村, 王村: common words and repeated across townships), counts only when an ancestor is named too.
A name that several regions share and nothing else decides is reported as ambiguous at their lowest
common region, when that is a county or below; otherwise no place is returned.

The index is built once per region tree (about a second: jieba's own dictionary is loaded) and
cached; extraction then takes a fraction of a millisecond.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import jieba

from hotline.directory import reference

__all__ = ["PlaceIndex", "PlaceMatch", "extract", "index_for"]

# Suffixes stripped to get a region's bare stem.
_SUFFIXES = {3: ("自治县", "县", "区", "市"), 4: ("街道", "镇", "乡"), 5: ("社区", "村")}
NAME_FREQ = 200_000  # jieba frequency of a place name: high enough to win over the words around it

jieba.setLogLevel(logging.WARNING)


@dataclass(frozen=True)
class PlaceMatch:
    code: str
    level: int
    label: str  # reference.region_label: '夏县裴介镇朱吕村'
    span: tuple[int, int]  # text[span[0]:span[1]] covers the names that decided it
    matched: str
    confidence: float
    reason: str
    ambiguous: bool = False
    candidates: tuple[str, ...] = ()  # the regions a shared name could mean (ambiguous only)


@dataclass
class PlaceIndex:
    """Every name form -> the regions it may mean, each with whether the form is strong alone."""

    names: dict[str, list[tuple[str, bool]]] = field(default_factory=dict)
    tokenizer: jieba.Tokenizer | None = None

    def add(self, word: str, code: str, strong: bool) -> None:
        if len(word) < 2:
            return
        entries = self.names.setdefault(word, [])
        for i, (c, s) in enumerate(entries):
            if c == code:
                entries[i] = (c, s or strong)
                return
        entries.append((code, strong))


def _stem(name: str, level: int) -> str:
    for suffix in _SUFFIXES.get(level, ()):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _forms(short: str, level: int, parent_stem: str | None,
           is_word: Callable[[str], bool]) -> Iterable[tuple[str, bool]]:
    """The name forms of one region and whether each may stand alone."""
    if level == 5:
        # 西村, 全村, 上村 are words before they are villages; 辕村, 师村 are only villages.
        yield short, len(short) > 2 or not is_word(short)
        if short.endswith("社区"):
            yield short + "居委会", True
            yield short + "居民委员会", True
        elif short.endswith("村"):
            yield short + "委会", True  # 朱吕村委会
            yield short + "民委员会", True  # 朱吕村民委员会
            yield short + "村委会", True  # 朱吕村村委会
            stem = _stem(short, level)
            # 朱吕 next to 裴介镇; but not 洪井 of 洪井村 (洪井中学 is the town's), nor 学府 of 学府社区
            if stem != short and len(stem) >= 2 and stem != parent_stem:
                yield stem, False
    elif level == 4:
        yield short, True
        stem = _stem(short, level)
        if stem != short and len(stem) >= 2:
            yield stem, False
        if short.endswith("街道"):
            yield short + "办事处", True
    elif level == 3:
        yield short, True
        stem = _stem(short, level)
        if stem != short and len(stem) >= 2:
            yield stem, True  # 盐湖, 尧都, 永济: county stems are distinctive
    elif level == 2:
        yield short, True
        stem = _stem(short, 3)
        if stem != short and len(stem) >= 2:
            yield stem, True


def build_index(regions: dict[str, tuple[str, int, str | None]],
                extra: Iterable[tuple[str, str, bool]] = ()) -> PlaceIndex:
    """The index of a region tree; ``extra`` adds (word, code, strong) forms (full names, aliases)."""
    tk = jieba.Tokenizer()
    tk.initialize()

    def is_word(w: str) -> bool:
        return bool(tk.FREQ.get(w))

    index = PlaceIndex()
    for code, (short, level, parent) in regions.items():
        if level < 2:
            continue
        parent_stem = _stem(regions[parent][0], level - 1) if parent in regions else None
        for word, strong in _forms(short, level, parent_stem, is_word):
            index.add(word, code, strong)
    for word, code, strong in extra:
        if code in regions:
            index.add(word, code, strong)
    for word in index.names:
        tk.add_word(word, NAME_FREQ)
    index.tokenizer = tk
    return index


_lock = threading.Lock()
_by_snapshot: dict[int, tuple[reference.Snapshot, PlaceIndex]] = {}
_by_content: dict[int, PlaceIndex] = {}


def index_for(snap: reference.Snapshot) -> PlaceIndex:
    """The snapshot's index: built once per region tree, whatever the snapshot object."""
    hit = _by_snapshot.get(id(snap))
    if hit is not None and hit[0] is snap:
        return hit[1]
    key = hash(frozenset(snap.regions.items()))
    with _lock:
        index = _by_content.get(key)
        if index is None:
            index = build_index(snap.regions)
            if len(_by_content) > 4:
                _by_content.clear()
            _by_content[key] = index
        if len(_by_snapshot) > 16:
            _by_snapshot.clear()
        _by_snapshot[id(snap)] = (snap, index)
    return index


@dataclass
class _Mention:
    start: int
    end: int
    word: str
    candidates: list[tuple[str, bool]]


def _mentions(index: PlaceIndex, text: str) -> list[_Mention]:
    assert index.tokenizer is not None
    out: list[_Mention] = []
    pos = 0
    for token in index.tokenizer.cut(text, HMM=False):
        entries = index.names.get(token)
        if entries:
            out.append(_Mention(pos, pos + len(token), token, entries))
        pos += len(token)
    return out


def extract(snap: reference.Snapshot, text: str) -> PlaceMatch | None:
    """The most specific region ``text`` names, or ``None`` when it names none (or none surely)."""
    if not text:
        return None
    index = index_for(snap)
    mentions = _mentions(index, text)
    if not mentions:
        return None
    regions = snap.regions
    # code -> (support, strong, first mention, supporting mention indexes)
    scored: dict[str, tuple[int, bool, int, list[int]]] = {}
    for i, m in enumerate(mentions):
        for code, strong in m.candidates:
            if code in scored:
                continue
            path = set(reference.region_path(snap, code))
            support = [j for j, other in enumerate(mentions) if any(c in path for c, _ in other.candidates)]
            if not strong and len(support) < 2:
                continue  # a weak form alone: a common word as likely as a place
            scored[code] = (len(support), strong, i, support)
    if not scored:
        return None

    def key(code: str) -> tuple[int, int, int]:
        support, strong, first, _ = scored[code]
        return support, regions[code][1], int(strong)

    best_key = max(key(c) for c in scored)
    tied = [c for c in scored if key(c) == best_key]
    first = min(scored[c][2] for c in tied)
    tied = sorted(c for c in tied if scored[c][2] == first)  # two places named: the first one
    support = sorted({j for c in tied for j in scored[c][3]})
    span = (mentions[support[0]].start, max(mentions[j].end for j in support))
    matched = text[span[0]:span[1]]
    if len(tied) == 1:
        code = tied[0]
        n = scored[code][0]
        level = regions[code][1]
        confidence = 0.95 if n >= 2 else (0.85 if level <= 4 or len(mentions[first].word) > 2 else 0.7)
        others = {c for m in mentions for c, _ in m.candidates} - set(reference.region_path(snap, code))
        if others:
            confidence -= 0.1
        names = "、".join(dict.fromkeys(mentions[j].word for j in scored[code][3]))
        reason = f"文中提及「{names}」" + ("，层级一致" if n >= 2 else "")
        return PlaceMatch(code, level, reference.region_label(snap, code), span, matched, round(confidence, 2),
                          reason)
    common = _common_ancestor(snap, tied)
    if common is None or regions[common][1] < 3:
        return None
    word = mentions[first].word
    labels = "、".join(reference.region_label(snap, c) for c in tied)
    return PlaceMatch(common, regions[common][1], reference.region_label(snap, common), span, matched, 0.4,
                      f"「{word}」有{len(tied)}处（{labels}），取共同上级", ambiguous=True, candidates=tuple(tied))


def _common_ancestor(snap: reference.Snapshot, codes: list[str]) -> str | None:
    paths = [list(reversed(reference.region_path(snap, c))) for c in codes]
    common = None
    for level_codes in zip(*paths, strict=False):
        if len(set(level_codes)) != 1:
            break
        common = level_codes[0]
    return common
