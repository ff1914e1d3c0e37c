"""Tests for the synthetic request text generator (hotline.demo.texts)."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

from hotline.demo.texts import KINDS, URGENCIES, Place, RequestText, compose, leaf_categories, paraphrase

CATEGORIES_CSV = Path(__file__).resolve().parents[2] / "src" / "hotline" / "directory" / "data" / "categories.csv"

PLACES = [
    Place("夏县", "裴介镇", "朱吕村"),
    Place("夏县", "瑶峰镇", "东街社区"),
    Place("夏县", "水头镇", None),
    Place("夏县", None, None),
    Place("黎城县", "黎侯镇", "北关村"),
]


def _csv_leaves() -> dict[str, str]:
    with CATEGORIES_CSV.open(encoding="utf-8") as f:
        return {row["code"]: row["default_kind"] for row in csv.DictReader(f) if len(row["code"]) == 4}


def _most_specific(place: Place) -> str:
    return place.village or place.township or place.county


def _check(text: RequestText, place: Place) -> None:
    assert 8 <= len(text.title) <= 30, text.title
    assert 40 <= len(text.content) <= 400, text.content
    assert _most_specific(place) in text.content, text.content
    assert text.kind in KINDS
    assert text.urgency in URGENCIES
    assert "{" not in text.content + text.title and "[" not in text.content + text.title


def test_every_csv_leaf_is_covered():
    leaves = _csv_leaves()
    assert leaves, "no leaf categories read"
    covered = leaf_categories()
    assert set(leaves) <= set(covered)
    assert all(len(code) == 4 for code in covered)


@pytest.mark.parametrize("code", sorted(_csv_leaves()))
def test_every_leaf_produces_text(code):
    rng = random.Random(code)
    for i in range(40):
        place = PLACES[i % len(PLACES)]
        style = "citizen" if i % 3 == 0 else "agent"
        text = compose(rng, place, category_code=code, style=style)
        assert text.category_code == code
        _check(text, place)


def test_default_kind_is_the_most_common():
    leaves = _csv_leaves()
    rng = random.Random(11)
    for code, default in leaves.items():
        counts: dict[str, int] = {}
        for _ in range(200):
            kind = compose(rng, PLACES[0], category_code=code).kind
            counts[kind] = counts.get(kind, 0) + 1
        assert max(counts, key=counts.get) == default, (code, counts)


@pytest.mark.parametrize("kind", KINDS)
def test_kind_is_honoured(kind):
    rng = random.Random(kind)
    for code in leaf_categories():
        for style in ("agent", "citizen"):
            place = PLACES[rng.randrange(len(PLACES))]
            text = compose(rng, place, category_code=code, kind=kind, style=style)
            assert text.kind == kind
            assert text.category_code == code
            _check(text, place)


def test_all_kinds_and_urgencies_occur_without_arguments():
    rng = random.Random(3)
    texts = [compose(rng, PLACES[i % len(PLACES)]) for i in range(5000)]
    assert {t.kind for t in texts} == set(KINDS)
    urgencies = [t.urgency for t in texts]
    assert set(urgencies) == set(URGENCIES)
    assert urgencies.count("normal") > 0.7 * len(texts)
    assert urgencies.count("emergency") < 0.05 * len(texts)


def test_deterministic_per_seed():
    def run(seed: int) -> list[RequestText]:
        rng = random.Random(seed)
        out = []
        for i in range(300):
            t = compose(rng, PLACES[i % len(PLACES)], style="citizen" if i % 4 == 0 else "agent")
            out.append(t)
            out.append(paraphrase(rng, t, PLACES[i % len(PLACES)]))
        return out

    a, b = run(42), run(42)
    assert [(t.category_code, t.kind, t.urgency, t.title, t.content) for t in a] == [
        (t.category_code, t.kind, t.urgency, t.title, t.content) for t in b
    ]
    assert a != run(43)


def test_paraphrase_keeps_problem_and_place_but_differs():
    rng = random.Random(5)
    for i in range(1000):
        place = PLACES[i % len(PLACES)]
        original = compose(rng, place)
        other = paraphrase(rng, original, place)
        assert other.category_code == original.category_code
        assert other.kind == original.kind
        assert other.urgency == original.urgency
        assert other.content != original.content
        _check(other, place)


def test_paraphrase_of_a_foreign_text():
    place = PLACES[0]
    foreign = RequestText("0103", "help", "urgent", "朱吕村供水管道漏水问题", "来电人反映：朱吕村村东供水站阀门井漏水，请尽快处理。")
    other = paraphrase(random.Random(1), foreign, place)
    assert other.category_code == "0103" and other.kind == "help"
    assert other.content != foreign.content
    _check(other, place)


def test_contents_are_varied():
    rng = random.Random(2024)
    contents = [compose(rng, PLACES[i % len(PLACES)]).content for i in range(2000)]
    assert len(set(contents)) >= 0.95 * len(contents)
    titles = [compose(rng, PLACES[0], category_code="0101").title for _ in range(200)]
    assert len(set(titles)) >= 20


def test_seed_scenario_is_among_leak_templates():
    rng = random.Random(0)
    contents = [compose(rng, PLACES[0], category_code="0103", kind="help").content for _ in range(300)]
    assert any(("闸阀井" in c or "阀门井" in c) and "供水站" in c for c in contents)


def test_citizen_style_is_first_person():
    rng = random.Random(8)
    texts = [compose(rng, PLACES[0], style="citizen") for _ in range(300)]
    assert sum("我" in t.content for t in texts) > 0.8 * len(texts)
    assert not any(t.content.startswith("来电人") for t in texts)


def test_rejects_unknown_arguments():
    rng = random.Random(0)
    with pytest.raises(ValueError):
        compose(rng, PLACES[0], category_code="01")
    with pytest.raises(ValueError):
        compose(rng, PLACES[0], kind="praising")
    with pytest.raises(ValueError):
        compose(rng, PLACES[0], style="poem")
