"""Finding a place or a category by what a person types: the intake form's region search over the
five-level region tree, the category list grouped by parent, and reading back a picked region.

Labels ('夏县裴介镇朱吕村') are built once per reference snapshot, so a keystroke costs one pass
over prepared strings, not a walk up the tree for every region.
"""

from __future__ import annotations

import threading

from hotline.directory.models import RegionLevel
from hotline.directory.reference import Snapshot, region_label
from hotline.kit.errors import Invalid

MAX_REGION_HITS = 30

_lock = threading.Lock()
_labels: dict[int, tuple[Snapshot, list[tuple[str, str, str, int]]]] = {}


def _prepared(snap: Snapshot) -> list[tuple[str, str, str, int]]:
    """(code, label, own name, level) of every township and village, in code order."""
    held = _labels.get(id(snap))
    if held is not None and held[0] is snap:
        return held[1]
    rows = [(code, region_label(snap, code), name, level)
            for code, (name, level, _parent) in sorted(snap.regions.items()) if level >= RegionLevel.township]
    with _lock:
        if len(_labels) > 8:
            _labels.clear()
        _labels[id(snap)] = (snap, rows)
    return rows


def search_regions(snap: Snapshot, q: str = "", *, limit: int = MAX_REGION_HITS,
                   within: str | None = None) -> list[tuple[str, str]]:
    """(code, label) of townships and villages whose label (or code) contains every term of ``q``.

    Places whose own name starts with the last term come first, then townships before villages, so
    typing '裴介' shows 裴介镇 before the villages that merely lie in it. ``within`` keeps the
    places under one region (a code prefix, e.g. a county's first six digits)."""
    terms = q.split()
    prefix = within.rstrip("0") if within else ""
    hits: list[tuple[int, int, str, str]] = []
    for code, label, name, level in _prepared(snap):
        if prefix and not code.startswith(prefix):
            continue
        if all(t in label or code.startswith(t) for t in terms):
            starts = 0 if terms and name.startswith(terms[-1]) else 1
            hits.append((starts if terms else 0, level, code, label))
    if terms:
        hits.sort()
    return [(code, label) for _s, _l, code, label in hits[:limit]]


def leaf_categories(snap: Snapshot) -> list[tuple[str, list[tuple[str, str]]]]:
    """Active leaf categories grouped by their parent: [(parent name, [(code, name)])]."""
    cats = snap.categories
    parents = {c.parent_code for c in cats.values() if c.parent_code}
    groups: dict[str, list[tuple[str, str]]] = {}
    for code in sorted(cats):
        c = cats[code]
        if code in parents or not c.active:
            continue
        parent = cats.get(c.parent_code or "")
        groups.setdefault(parent.name if parent else "其他", []).append((code, c.name))
    return list(groups.items())


def resolve_region(snap: Snapshot, text: str) -> str:
    """The region code typed or picked: a code, a full label, or 'label（code）'."""
    text = text.strip()
    if not text:
        raise Invalid("请选择诉求发生地（乡镇或村）", code="region_required", details={"field": "region"})
    if text in snap.regions:
        return text
    if text.endswith("）") and "（" in text:
        code = text.rsplit("（", 1)[1][:-1]
        if code in snap.regions:
            return code
    matches = [code for code, label, _n, _l in _prepared(snap) if label == text]
    if len(matches) == 1:
        return matches[0]
    raise Invalid(f"找不到地点「{text}」，请从下拉提示中选择乡镇或村", code="unknown_region",
                  details={"field": "region"})


def _category_matches(snap: Snapshot, text: str) -> list[str]:
    """Leaf categories a typed word names: the one so named, else those whose name holds it
    ('漏水' → 供水管网漏水), else those listing it among their keywords ('欠薪' → 拖欠工资)."""
    leaves = [(code, name) for _group, items in leaf_categories(snap) for code, name in items]
    groups = {c.code for c in snap.categories.values() if c.name == text and c.code not in dict(leaves)}
    if groups:  # a group's name (供水) stands for all its leaves, not the one whose name holds it
        return [c for c, _n in leaves if _under(snap, c, groups)]
    for matches in ([c for c, n in leaves if n == text], [c for c, n in leaves if text in n],
                    [c for c, _n in leaves if text in (snap.categories[c].keywords or [])]):
        if matches:
            return matches
    return []


def _under(snap: Snapshot, code: str, groups: set[str]) -> bool:
    seen = 0
    while code and seen < 10:
        code, seen = snap.categories[code].parent_code or "", seen + 1
        if code in groups:
            return True
    return False


def _named_code(snap: Snapshot, text: str) -> tuple[str, str] | None:
    """('name', 'code') of a 'name（code）' choice whose code is known, else None."""
    if text.endswith("）") and "（" in text:
        name, code = text[:-1].rsplit("（", 1)
        if code in snap.categories:
            return name.strip(), code
    return None


def category_code_of(snap: Snapshot, text: str) -> str:
    """The category code in what was typed or picked: a code, 'name（code）', or a word naming one
    leaf category (its name, part of its name or one of its keywords). Anything else is returned as
    typed, for the ticket's own validation to refuse by name."""
    text = text.strip()
    if text in snap.categories:
        return text
    if (picked := _named_code(snap, text)) is not None:
        name, code = picked
        # a name that is not the code's (供水管网漏水（0104）, a code mistyped) is not taken for either
        return code if name in ("", snap.categories[code].name) else text
    named = _category_matches(snap, text) if text else []
    return named[0] if len(named) == 1 else text


def resolve_category(snap: Snapshot, text: str) -> str:
    """As ``category_code_of``, but a word several categories answer to is refused naming them."""
    code = category_code_of(snap, text)
    if code == text.strip() and (picked := _named_code(snap, code)) is not None:
        name, number = picked
        raise Invalid(f"「{code}」的名称与编号不符：{number} 是「{snap.categories[number].name}」，"
                      "请从下拉列表中重新选择", code="unclear_category", details={"field": "category_code"})
    if code == text.strip() and code not in snap.categories:
        named = _category_matches(snap, code) if code else []
        if len(named) > 1:
            names = "、".join(snap.categories[c].name for c in named[:8]) + ("等" if len(named) > 8 else "")
            raise Invalid(f"「{code}」对应 {len(named)} 个事项分类，请从下拉列表中选择：{names}",
                          code="unclear_category", details={"field": "category_code"})
    return code


def category_choice(snap: Snapshot, text: str) -> str:
    """What the category field shows for a value: 'name（code）' for a known code, else as typed."""
    code = category_code_of(snap, text)
    cat = snap.categories.get(code)
    return f"{cat.name}（{code}）" if cat is not None else text
