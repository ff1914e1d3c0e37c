"""A small labelled set written by the demo's text generator, and a model trained on it once."""

from __future__ import annotations

import random

import pytest

from hotline.classification.model import TextClassifier
from hotline.demo.texts import Place, compose, leaf_categories

PLACES = [Place("夏县", "裴介镇", "朱吕村"), Place("夏县", "瑶峰镇", None), Place("夏县", "水头镇", "王村"),
          Place("黎城县", "黎侯镇", "北关村"), Place("夏县", None, None)]
LEAK = "夏县裴介镇朱吕村村东的供水闸阀井漏水了"


def generated(per_leaf: int, seed: int = 7) -> list[tuple[str, str, str, str]]:
    """``(text, category_code, kind, urgency)`` for ``per_leaf`` texts of every leaf category."""
    rng = random.Random(seed)
    out = []
    for code in leaf_categories():
        for i in range(per_leaf):
            t = compose(rng, PLACES[i % len(PLACES)], category_code=code, style=("agent", "citizen")[i % 2])
            out.append((f"{t.title}。{t.content}", t.category_code, t.kind, t.urgency))
    return out


@pytest.fixture(scope="session")
def small_set() -> list[tuple[str, str, str, str]]:
    return generated(8)


@pytest.fixture(scope="session")
def category_model(small_set) -> TextClassifier:
    return TextClassifier().fit([r[0] for r in small_set], [r[1] for r in small_set])
