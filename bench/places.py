"""Place extraction: exact accuracy at county, township and village level, against a baseline.

What is measured
----------------
The labelled set of ``bench/places_cases.py``: the hand-written cases (varied phrasing, with and
without county, township only, village only, shared names, no place, distractors) and
``--generated`` texts (default 3,000; ``--quick`` 600) written by the demo's text generator about a
place drawn over every township and village of the shipped region tree.

For each case and each method the predicted region is compared with the expected one at three
levels: the county (the prediction's county equals the expected county; a case with no place
expects no county), the township and the village, each counted over the cases that have a place
at that level (plus the no-place cases, where "no prediction" is the right answer).

* **extract**: ``hotline.classification.places.extract`` (region tree, jieba user dictionary,
  deepest consistent chain, shared names resolved or reported at their common region);
* **baseline**: longest substring match of region names (short names and committee full names),
  no tree logic: the longest name found anywhere in the text wins, first region of that name.

Latency: ``extract`` per text (index built beforehand), p50/p95 in milliseconds, one core.
The target: county level ≥ 95% exact on both sets; village level reported.

Run
---
    .venv/bin/python bench/places.py [--quick] [--generated N]

The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import common  # noqa: I001 - sets sys.path for the src layout
from places_cases import Case, generated_cases, hand_cases, reference_snapshot

from hotline.classification import places
from hotline.directory import reference


def _at_level(snap: reference.Snapshot, code: str | None, level: int) -> str | None:
    if code is None:
        return None
    for c in reference.region_path(snap, code):
        if snap.regions[c][1] == level:
            return c
    return None


class Baseline:
    """Longest substring match of region names, no tree logic."""

    def __init__(self, snap: reference.Snapshot):
        self.names: dict[str, str] = {}
        for code, (short, level, _p) in sorted(snap.regions.items()):
            if level < 3:
                continue
            forms = [short]
            if level == 5 and short.endswith("村"):
                forms += [short + "委会", short + "民委员会"]
            for f in forms:
                self.names.setdefault(f, code)
        self.by_len = sorted(self.names, key=len, reverse=True)

    def __call__(self, text: str) -> str | None:
        for name in self.by_len:
            if name in text:
                return self.names[name]
        return None


def score(snap: reference.Snapshot, cases: list[Case], predict: Any) -> dict[str, Any]:
    hits: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    exact = 0
    for case in cases:
        got = predict(case.text)
        exact += got == case.expected
        for name, level in (("county", 3), ("township", 4), ("village", 5)):
            want = _at_level(snap, case.expected, level)
            if case.expected is not None and want is None:
                continue  # the case has no place at this level
            totals[name] += 1
            hits[name] += _at_level(snap, got, level) == want
    out = {name: round(hits[name] / totals[name], 4) if totals[name] else None for name in ("county", "township",
                                                                                               "village")}
    out["exact"] = round(exact / len(cases), 4) if cases else None
    out["n"] = {"cases": len(cases), **dict(totals)}
    return out


def main() -> None:
    p = common.parser(__doc__, "600 generated texts instead of 3,000")
    p.add_argument("--generated", type=int, default=None)
    args = p.parse_args()
    n_gen = args.generated or (600 if args.quick else 3000)

    snap = reference_snapshot()
    t0 = time.perf_counter()
    places.index_for(snap)
    build_s = time.perf_counter() - t0
    baseline = Baseline(snap)

    def extract(text: str) -> str | None:
        m = places.extract(snap, text)
        return m.code if m else None

    sets = {"hand": hand_cases(snap), "generated": generated_cases(snap, n_gen)}
    summary: dict[str, Any] = {"bench": "places", "quick": args.quick, "index_build_s": round(build_s, 2)}
    for name, cases in sets.items():
        summary[name] = {"extract": score(snap, cases, extract), "baseline": score(snap, cases, baseline)}
        e, b = summary[name]["extract"], summary[name]["baseline"]
        print(f"{name:9s} n={len(cases):5d}  extract county {e['county']:.3f} township {e['township']:.3f} "
              f"village {e['village']:.3f}  | baseline county {b['county']:.3f} township {b['township']:.3f} "
              f"village {b['village']:.3f}", flush=True)

    misses = [(c.text, c.expected, extract(c.text)) for c in sets["hand"] if extract(c.text) != c.expected]
    for text, want, got in misses:
        print(f"  hand miss: {text}  expected {want}  got {got}")
    summary["hand_misses"] = [{"text": t, "expected": w, "got": g} for t, w, g in misses]

    texts = [c.text for cases in sets.values() for c in cases]
    lat = []
    for text in texts:
        t = time.perf_counter()
        places.extract(snap, text)
        lat.append((time.perf_counter() - t) * 1000)
    summary["latency_ms"] = {"p50": round(common.pct(lat, 0.5), 3), "p95": round(common.pct(lat, 0.95), 3),
                             "max": round(max(lat), 3), "n": len(lat)}
    print(f"latency p50 {summary['latency_ms']['p50']} ms  p95 {summary['latency_ms']['p95']} ms", flush=True)
    summary["target_met"] = all(summary[s]["extract"]["county"] >= 0.95 for s in sets)
    common.emit(summary)


if __name__ == "__main__":
    main()
