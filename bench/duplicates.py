"""Duplicates at intake: precision and recall of "offered for merging" on a paraphrase set, against
two baselines, then the lookup time with 1,000,000 tickets stored, against a bare SELECT.

What is measured
----------------
**Quality** (no database: the candidates of each query are the stored tickets of its township, as
``duplicates.candidates`` would return them, scored by ``duplicates.rank``). The set is
``bench/duplicate_cases.py``: 99 hand-written problems at real villages of 夏县, each told 3 to 5
times (several share a village and a leaf category: the hard negatives), 28 new problems where
another problem of the same category is open in the same village ("loners", nothing to offer), and
``--generated`` problems (default 300; quick 120) from the demo generator, told 2 to 4 times. The
first telling of each problem is stored as an open ticket (received 0 to 20 days ago) together with
``--distractors`` other generated tickets per village of the set (default 40, as 400 over the
10 villages of the first set were; quick 15); every
other telling, and every loner, is a query at "now". A query's *offers* are the candidates scoring
at least the threshold (at most 5, as the page shows). Precision = offers that are the query's own
problem / all offers; recall = queries whose own problem is offered / queries that have one.
Problems fall in ``dev`` or ``test`` by a hash of their key; the threshold is the one with the best
F1 on ``dev``, and the figures are reported on ``test`` (all of it, and its hand-written part).
Baselines in the same run: the old rule of ``tickets/nearby.py`` (same township, 30 days, same
first-level category, or character-bigram overlap >= 0.25; its top 5 offered) and plain character-
bigram Jaccard with its own threshold chosen on ``dev`` (plus the category and village bonuses
nothing: text only).

**Lookup time**: a database is migrated, the reference data loaded and ``--tickets`` tickets
(default 1,000,000; quick 100,000) bulk-generated in SQL over the past year over every village of
the reference data, the newest ``--open-share`` (10%) open; then ANALYZE. ``--lookups`` (300;
quick 100) calls of ``duplicates.find`` at random villages with texts of the set, each alternating
with the bare SELECT of the same candidate rows (``duplicates.candidate_rows``, the same session,
rows fetched); every stored text ends with its own number, so no two are alike (no cache hits): p50/p95 of both, the rows read, and the query plan. SQLite and PostgreSQL.

Run
---
    .venv/bin/python bench/duplicates.py             # full
    .venv/bin/python bench/duplicates.py --quick     # under a minute
    .venv/bin/python bench/duplicates.py --write-idf # regenerate src/hotline/assist/duplicate_idf.py

The last line of output is one JSON object with every figure.
"""

from __future__ import annotations

import math
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duplicate_cases as cases
from common import (
    ROOT,
    BulkSQL,
    backend_list,
    emit,
    is_pg,
    loadavg,
    parser,
    run_backends,
    scratch_database,
    stats,
)

TARGET_PRECISION, TARGET_RECALL, TARGET_MS = 0.9, 0.8, 20.0
YEAR = 365 * 86400
PLACE_WEIGHT = 1.0
# dropped before the bulk insert and created again after it (as the migrations define them)
LOOKUP_INDEXES = "('ix_tickets_region_received', 'ix_tickets_open_region_received')"


# ------------------------------------------------------------------ quality


@dataclass
class Query:
    group: str  # the problem this telling is about ("" for none stored)
    split: str
    hand: bool
    region_code: str
    category_code: str
    text: str


def build_set(n_generated: int, n_distractors: int, now: datetime, seed: int = 7) -> tuple[list[Any], list[Query]]:
    """The stored tickets and the queries; ``n_distractors`` other tickets drawn per village of the set."""
    from hotline.assist.duplicates import Candidate
    from hotline.demo.texts import Place, compose

    rng = random.Random(seed)
    stored: list[tuple[str, Any]] = []
    queries: list[Query] = []
    groups = [(g, True) for g in cases.GROUPS] + [(g, False) for g in cases.generated(n_generated)]
    for i, (g, hand) in enumerate(groups):
        at = now - timedelta(days=rng.uniform(0, 20))
        stored.append((g.key, Candidate(i + 1, g.region_code, g.category_code, g.texts[0], at)))
        queries += [Query(g.key, cases.split(g), hand, g.region_code, g.category_code, t) for t in g.texts[1:]]
    queries += [Query("", cases.split(g), True, g.region_code, g.category_code, g.texts[0]) for g in cases.LONERS]
    villages = sorted({g.region_code for g, _ in groups})
    names = cases.PLACES
    used = cases.used_problems(n_generated)
    for j in range(n_distractors * len(villages)):
        code = rng.choice(villages)
        t = compose(rng, Place("夏县", *names[code]))
        if (code[:9], t.category_code, t.meta[:2]) in used:  # the same problem told again is no distractor
            continue
        used.add((code[:9], t.category_code, t.meta[:2]))
        stored.append((f"noise-{j}", Candidate(10_000 + j, code, t.category_code, t.title + "。" + t.content,
                                               now - timedelta(days=rng.uniform(0, 29)))))
    return stored, queries


def _bigram_set(text: str) -> set[str]:
    chars = [c for c in text if c.isalnum()]
    return {a + b for a, b in zip(chars, chars[1:], strict=False)}


def score_all(stored: list[tuple[str, Any]], queries: list[Query], now: datetime) -> dict[str, list[list[tuple]]]:
    """Per method, per query: its candidates as (score, is_own_problem), best first (the detector's
    with the texts' cosine third)."""
    from hotline.assist.duplicates import rank

    by_town: dict[str, list[tuple[str, Any]]] = {}
    for key, c in stored:
        by_town.setdefault(c.region_code[:9], []).append((key, c))
    keys = {c.id: key for key, c in stored}
    out: dict[str, list[list[tuple]]] = {"detector": [], "old_rule": [], "jaccard": []}
    for q in queries:
        pool = by_town.get(q.region_code[:9], [])
        ranked = rank([c for _, c in pool], region_code=q.region_code, category_code=q.category_code,
                      text=q.text, now=now, place=cases.PLACES.get(q.region_code))  # the village as picked
        out["detector"].append([(s.score, keys[s.candidate.id] == q.group, s.text) for s in ranked])
        qset = _bigram_set(q.text)
        old, jac = [], []
        for key, c in pool:
            cset = _bigram_set(c.text)
            inter = len(qset & cset)
            overlap = inter / min(len(qset), len(cset)) if qset and cset else 0.0
            same_group = c.category_code[:2] == q.category_code[:2]
            if same_group or overlap >= 0.25:  # the old rule: offered, ranked by overlap and category
                rank_old = overlap + (0.2 if c.category_code == q.category_code else 0) + \
                    (0.1 if c.region_code == q.region_code else 0)
                old.append((round(rank_old, 3) + 10, key == q.group))  # +10: every one passes "threshold" 0
            jac.append((inter / len(qset | cset) if qset or cset else 0.0, key == q.group))
        out["old_rule"].append(sorted(old, key=lambda x: -x[0]))
        out["jaccard"].append(sorted(jac, key=lambda x: -x[0]))
    return out


def measure(ranked: list[list[tuple]], queries: list[Query], threshold: float, pick: Any,
            margin: float = 9.0, clear: tuple[float, float] = (9.0, 9.0)) -> dict[str, Any]:
    """Precision and recall of the offers (``duplicates.offered_count``: ``threshold``, ``margin``
    and the clear best's ``clear`` = (floor, lead); (9, 9) leaves that rule out) on the queries
    ``pick`` takes."""
    from hotline.assist.duplicates import offered_count

    offers = correct = found = own = first = 0
    n = 0
    for q, cands in zip(queries, ranked, strict=True):
        if not pick(q):
            continue
        n += 1
        shown = cands[:min(5, offered_count([(c[0], c[2] if len(c) > 2 else 0.0) for c in cands], threshold, margin, *clear))]
        offers += len(shown)
        correct += sum(1 for c in shown if c[1])
        if q.group:
            own += 1
            found += any(c[1] for c in shown)
            first += bool(shown) and shown[0][1]
    p = correct / offers if offers else 1.0
    r = found / own if own else 0.0
    return {"queries": n, "with_duplicate": own, "offers": offers, "right": correct, "found": found, "precision": round(p, 3), "recall": round(r, 3),
            "f1": round(2 * p * r / (p + r), 3) if p + r else 0.0,
            "first_is_right": round(first / own, 3) if own else 0.0}


def choose(ranked: list[list[tuple]], queries: list[Query], margin: float) -> float:
    """The threshold with the best F1 on dev (ties: the higher threshold)."""
    best = (-1.0, 0.0)
    for i in range(5, 101):
        t = i / 100
        f1 = measure(ranked, queries, t, lambda q: q.split == "dev", margin)["f1"]
        if f1 >= best[0]:
            best = (f1, t)
    return best[1]


def quality(args: Any) -> dict[str, Any]:
    from hotline.assist.duplicates import CLEAR_FLOOR, CLEAR_LEAD, MARGIN, THRESHOLD

    now = datetime(2026, 3, 10, 9, tzinfo=UTC)
    t0 = time.perf_counter()
    stored, queries = build_set(args.generated, args.distractors, now)
    scored = score_all(stored, queries, now)
    scored["detector_threshold_only"] = scored["detector"]
    result: dict[str, Any] = {"stored": len(stored), "queries": len(queries),
                              "hand_groups": len(cases.GROUPS), "loners": len(cases.LONERS),
                              "generated_groups": args.generated}
    clear = (CLEAR_FLOOR, CLEAR_LEAD)
    for method, ranked in scored.items():
        m = MARGIN if method.startswith("detector") else 9.0
        if method == "detector":  # as shipped: threshold, margin and the clear best
            t, c = THRESHOLD, clear
        else:  # the others: their threshold chosen on dev (the old rule has none)
            t, c = (0.0 if method == "old_rule" else choose(ranked, queries, m)), (9.0, 9.0)
        result[method] = {
            "threshold": t,
            "clear_best": list(c) if c != (9.0, 9.0) else None,
            **{name: measure(ranked, queries, t, pick, m, c) for name, pick in SPLITS.items()},
        }
    m = result["detector"]["test"]
    h = result["detector"]["test_hand_written"]
    result["target_met"] = m["precision"] >= TARGET_PRECISION and m["recall"] >= TARGET_RECALL
    result["target_met_hand_written"] = h["precision"] >= TARGET_PRECISION and h["recall"] >= TARGET_RECALL
    result["seconds"] = round(time.perf_counter() - t0, 1)
    for method in scored:
        x = result[method]
        print(f"  {method:23s} threshold {x['threshold']:.2f}  test: P {x['test']['precision']:.3f} "
              f"R {x['test']['recall']:.3f} F1 {x['test']['f1']:.3f}  | hand-written test: "
              f"P {x['test_hand_written']['precision']:.3f} R {x['test_hand_written']['recall']:.3f} "
              f"F1 {x['test_hand_written']['f1']:.3f}", flush=True)
    return result


SPLITS = {
    "dev": lambda q: q.split == "dev",
    "test": lambda q: q.split == "test",
    "dev_hand_written": lambda q: q.split == "dev" and q.hand,
    "test_hand_written": lambda q: q.split == "test" and q.hand,
}


def tune(args: Any) -> dict[str, Any]:
    """How THRESHOLD, CLEAR_FLOOR and CLEAR_LEAD were chosen: on the hand-written dev queries of
    seeds 1–3 of the generated problems and distractors, pooled, the highest recall whose precision
    is no lower than that of the threshold alone (0.23, the rule before); then the hand-written test
    queries of seeds 4–7 (7 is the one the figures use), which took no part in the choice.
    ``CLEAR_TEXT`` is not tuned: it keeps a lone ticket that shares only the place and the category
    from being offered (the sparse villages of real traffic, which the dense set does not show)."""
    from hotline.assist.duplicates import MARGIN

    now = datetime(2026, 3, 10, 9, tzinfo=UTC)
    runs = {}
    for seed in (1, 2, 3, 4, 5, 6, 7):
        stored, queries = build_set(args.generated, args.distractors, now, seed=seed)
        runs[seed] = (score_all(stored, queries, now)["detector"], queries)

    def pooled(seeds: tuple[int, ...], split: str, t: float, clear: tuple[float, float]) -> dict[str, float]:
        tot = Counter()
        for seed in seeds:
            x = measure(*runs[seed], t, SPLITS[split], MARGIN, clear)
            tot.update(offers=x["offers"], right=x["right"], found=x["found"], own=x["with_duplicate"])
        p = tot["right"] / tot["offers"] if tot["offers"] else 1.0
        r = tot["found"] / tot["own"]
        return {"precision": round(p, 3), "recall": round(r, 3), "f1": round(2 * p * r / (p + r), 3) if p + r else 0.0}

    tuning, unseen = (1, 2, 3), (4, 5, 6, 7)
    before = (0.23, (9.0, 9.0))
    floor_p = pooled(tuning, "dev_hand_written", *before)["precision"]
    grid = [(t / 100, (f / 100, g / 100)) for t in range(21, 27) for f in (*range(14, 23), 900)
            for g in (0, 2, 3, 4, 5, 6, 8, 10)]
    scored = [(pooled(tuning, "dev_hand_written", *p), p) for p in grid]
    ok = [(x, p) for x, p in scored if x["precision"] >= floor_p]
    best_dev, (t, clear) = max(ok, key=lambda xp: (xp[0]["recall"], xp[0]["precision"]))
    out = {"chosen": {"threshold": t, "clear_floor": clear[0], "clear_lead": clear[1]},
           "tuning_dev_hand_written": best_dev, "tuning_dev_hand_written_before": pooled(tuning, "dev_hand_written", *before),
           "unseen_test_hand_written": pooled(unseen, "test_hand_written", t, clear),
           "unseen_test_hand_written_before": pooled(unseen, "test_hand_written", *before),
           "per_seed_test_hand_written": {s: {"chosen": measure(*runs[s], t, SPLITS["test_hand_written"], MARGIN, clear),
                                              "before": measure(*runs[s], *before[:1], SPLITS["test_hand_written"],
                                                                MARGIN)} for s in (*tuning, *unseen)}}
    print(f"  chosen on seeds 1-3 (dev, hand-written): threshold {t}, clear best from {clear[0]} when "
          f"{clear[1]} ahead: dev P {best_dev['precision']} R {best_dev['recall']} (threshold 0.23 alone: "
          f"P {out['tuning_dev_hand_written_before']['precision']} R {out['tuning_dev_hand_written_before']['recall']})",
          flush=True)
    u, b = out["unseen_test_hand_written"], out["unseen_test_hand_written_before"]
    print(f"  seeds 4-7, hand-written test: P {u['precision']} R {u['recall']} F1 {u['f1']} "
          f"(threshold 0.23 alone: P {b['precision']} R {b['recall']} F1 {b['f1']})", flush=True)
    return out


# ------------------------------------------------------------------ lookup time


def generate(backend: str, url: str, path: Path | None, n: int, open_share: float, now: datetime,
             lists: dict[str, list[Any]]) -> None:
    import sqlite3

    from sqlalchemy import create_engine, text

    sql = BulkSQL(backend, now, (now - timedelta(seconds=YEAR)).date(), lists)
    per_day = -(-n // 365)
    first_open = n - round(n * open_share)
    recv = f"(-{YEAR} + (g - 1) * {YEAR} / {n})"
    status = (f"CASE WHEN g <= {first_open} THEN 'closed' WHEN g % 10 = 0 THEN 'registered' "
              "WHEN g % 10 < 4 THEN 'dispatched' WHEN g % 10 < 8 THEN 'in_progress' ELSE 'replied' END")
    cols = ("id, number, query_code, version, channel, kind, category_code, urgency, status, caller_phone, "
            "caller_confidential, caller_anonymous, region_code, title, content, received_at, due_basis, "
            "suspended_seconds, extension_count, dispatch_count, reopen_count, callback_attempts, updated_at")
    select = (
        f"SELECT g, {sql.number(f'(g - 1) / {per_day}', f'(g - 1) % {per_day} + 1')}, "
        f"{sql.pad6('(g * 7919) % 1000000')}, 1, 'phone', 'help', {sql.pick('category', 'g * 13')}, 'normal', "
        f"{status}, '138' || {sql.pad6('(g * 31) % 1000000')} || (g % 100), {sql.false}, {sql.false}, "
        f"{sql.pick('region', '(g * 7) / 3')}, {sql.pick('title', 'g * 11')}, {sql.pick('text', 'g * 11')} || '（来电人' || g || '）', "
        f"{sql.at(recv)}, {sql.json_empty}, 0, 0, 0, 0, 0, {sql.at(recv)} FROM {sql.source(n)}"
    )
    if is_pg(backend):
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as c:
            c.execute(text("SET session_replication_role = replica"))
            ddl = c.execute(text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'tickets' "
                                 f"AND indexname IN {LOOKUP_INDEXES}")).all()
            for name, _ in ddl:
                c.execute(text(f"DROP INDEX {name}"))
            c.execute(text(f"INSERT INTO tickets ({cols}) {select}"), sql.params)
            for _, create in ddl:
                c.execute(text(create))
            c.execute(text("SET session_replication_role = DEFAULT"))
            c.execute(text("VACUUM ANALYZE tickets"))
        engine.dispose()
        return
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=DELETE")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("BEGIN")

    def run(q: str, rows: Any) -> None:
        con.executemany(q, rows) if rows is not None else con.execute(q)

    sql.load(run)
    ddl = con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tickets' "
                      f"AND name IN {LOOKUP_INDEXES}").fetchall()
    for name, _ in ddl:
        con.execute(f"DROP INDEX {name}")
    con.execute(f"INSERT INTO tickets ({cols}) {select}")
    for _, create in ddl:
        con.execute(create)
    con.execute("COMMIT")
    con.execute("ANALYZE")
    con.execute("PRAGMA journal_mode=WAL")
    con.close()


def latency(backend: str, args: Any, workdir: Path) -> dict[str, Any]:
    from sqlalchemy import select, text

    from hotline.accounts.scope import SYSTEM
    from hotline.assist import duplicates
    from hotline.directory.loader import load_reference_data
    from hotline.directory.models import Category, Region
    from hotline.kit.db import Database
    from hotline.migrations import upgrade

    now = datetime.now(UTC).replace(microsecond=0)
    texts = [(g.region_code, g.category_code, t) for g in cases.GROUPS for t in g.texts]
    with scratch_database(backend, workdir, "duplicates") as (url, path):
        t0 = time.perf_counter()
        upgrade(url)
        db = Database(url)
        with db.transaction() as session:
            load_reference_data(session)
        with db.transaction(write=False) as session:
            cats = list(session.scalars(select(Category.code).where(Category.level == 2).order_by(Category.code)))
            villages = list(session.scalars(select(Region.code).where(Region.level == 5).order_by(Region.code)))
        lists = {"category": cats, "region": villages, "text": [t for _, _, t in texts],
                 "title": [t[:20] for _, _, t in texts]}
        db.dispose()
        generate(backend, url, path, args.tickets, 0.1, now, lists)
        db = Database(url)
        setup_s = time.perf_counter() - t0
        rng = random.Random(11)
        found_ms, bare_ms, rows, offered = [], [], [], []
        with db.transaction(write=False) as session:
            q0 = duplicates.candidate_query(SYSTEM, villages[0], now - timedelta(days=30))
            compiled = q0.compile(db.engine, compile_kwargs={"literal_binds": True})
            explain = "EXPLAIN (ANALYZE, BUFFERS) " if is_pg(backend) else "EXPLAIN QUERY PLAN "
            plan = [" ".join(str(x) for x in r) for r in session.execute(text(explain + str(compiled)))]
            for i in range(args.lookups + 10):
                village = rng.choice(villages)
                _, cat, body = rng.choice(texts)
                if i % 2:
                    ms_b, got = _bare(session, village, now)
                    ms_f, hits = _find(session, village, cat, body, now)
                else:
                    ms_f, hits = _find(session, village, cat, body, now)
                    ms_b, got = _bare(session, village, now)
                if i >= 10:  # warm-up
                    found_ms.append(ms_f)
                    bare_ms.append(ms_b)
                    rows.append(got)
                    offered.append(len(hits))
            counts = dict(session.execute(text(
                "SELECT 'tickets', count(*) FROM tickets UNION ALL "
                "SELECT 'open', count(*) FROM tickets WHERE status <> 'closed'")).all())
        db.dispose()
    find_s = stats(found_ms)
    result = {"tickets": int(counts["tickets"]), "open": int(counts["open"]), "setup_s": round(setup_s, 1),
              "find": find_s, "bare_select": stats(bare_ms), "lookups": len(found_ms),
              "candidate_rows_mean": round(sum(rows) / len(rows), 1), "candidate_rows_max": max(rows),
              "offered_mean": round(sum(offered) / len(offered), 2), "plan": plan,
              "target_met": find_s["p95_ms"] < TARGET_MS}
    print(f"  {result['tickets']:,} tickets ({result['open']:,} open), setup {setup_s:.0f} s; find p50 "
          f"{find_s['p50_ms']} ms p95 {find_s['p95_ms']} ms; bare SELECT p50 {result['bare_select']['p50_ms']} ms "
          f"p95 {result['bare_select']['p95_ms']} ms; {result['candidate_rows_mean']} candidate rows on average",
          flush=True)
    for line in plan:
        print(f"    plan: {line}", flush=True)
    return result


def _find(session: Any, village: str, cat: str, body: str, now: datetime) -> tuple[float, list[Any]]:
    from hotline.accounts.scope import SYSTEM
    from hotline.assist import duplicates

    t0 = time.perf_counter()
    hits = duplicates.find(session, SYSTEM, region_code=village, category_code=cat, text=body, now=now)
    return (time.perf_counter() - t0) * 1000, hits


def _bare(session: Any, village: str, now: datetime) -> tuple[float, int]:
    from hotline.accounts.scope import SYSTEM
    from hotline.assist import duplicates

    t0 = time.perf_counter()
    got = duplicates.candidate_rows(session, SYSTEM, village, now - timedelta(days=30))
    return (time.perf_counter() - t0) * 1000, len(got)


# ------------------------------------------------------------------ the IDF table


def write_idf(n: int = 8000, min_df: int = 16) -> None:
    """Regenerate ``src/hotline/assist/duplicate_idf.py`` from ``n`` demo texts at every village of
    夏县 (seed 2026: not a seed of the paraphrase set)."""
    import csv
    import unicodedata

    from hotline.assist.duplicates import grams
    from hotline.demo.texts import Place, compose

    rows = (ROOT / "src/hotline/directory/data/regions.csv").read_text(encoding="utf-8").splitlines()
    regions = {r[0]: r for r in csv.reader(rows)}
    places = [Place("夏县", regions[c[:9]][2], r[2]) for c, r in regions.items()
              if c.startswith("140828") and len(c) == 12 and c[:9] in regions]
    places += [Place("夏县"), Place("夏县", "裴介镇"), Place("夏县", "水头镇")]
    rng = random.Random(2026)
    df: Counter[str] = Counter()
    by_category: dict[str, Counter[str]] = {}
    for _ in range(n):
        t = compose(rng, rng.choice(places), style=rng.choice(("agent", "citizen")))
        found = set(grams(t.title + "。" + t.content))
        df.update(found)
        by_category.setdefault(t.category_code, Counter()).update(found)
        by_category[t.category_code]["\0"] += 1  # the category's number of texts
    keep = sorted(((g, math.log((n + 1) / (d + 1))) for g, d in df.items() if d >= min_df), key=lambda x: (x[1], x[0]))
    ceiling = math.log((n + 1) / (min_df + 1))
    # place names: the region code already says where; the same village named in both texts is no
    # sign of the same problem (a different one there names it too)
    place_words = {g for r in regions.values() if r[0].startswith("14") for name in (r[1], r[2])
                   for g in grams(name.removesuffix("村委会").removesuffix("居委会"))}
    keep = sorted(((g, min(v, PLACE_WEIGHT) if g in place_words and len(g) > 1 else v) for g, v in keep),
                  key=lambda x: (x[1], x[0]))

    def width(s: str) -> int:
        return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)

    lines, line = [], ""
    for g, v in keep:
        entry = f"{g}:{v:.2f} "
        if width(line + entry) > 96:
            lines.append(line)
            line = ""
        line += entry
    lines.append(line)
    out = ['"""IDF weights of the common character bigrams of hotline requests, for ``duplicates``.', "",
           f"Generated by ``bench/duplicates.py --write-idf`` from {n:,} texts of the demo generator",
           "(``hotline.demo.texts.compose``, seed 2026, every village of 夏县): ``log((N + 1) / (df + 1))`` of",
           f"each bigram found in at least {min_df} texts; rarer bigrams (names, landmarks: what tells one",
           "problem from another) take ``CEILING``; bigrams of place names at most 1.0 (the region code says where).",
           "Characters and bigrams; entries are ``<gram>:<weight>``, space-separated.", "",
           "``CATEGORY_FACTORS``: per leaf category of the same texts, the factor its common grams are",
           "weighted by when two tickets of that category are compared (停水 in two 供水 tickets says little;",
           "小学 says much). See ``bench/duplicates.py`` ``category_factors``.", '"""', "",
           f"CEILING = {ceiling:.2f}", f"N_TEXTS = {n}", "TABLE = ("]
    out += [f'    "{x}"' for x in lines] + [")", ""]
    out += category_factors(by_category)
    target = ROOT / "src/hotline/assist/duplicate_idf.py"
    target.write_text("\n".join(out), encoding="utf-8")
    print(f"wrote {target}: {len(keep)} bigrams, ceiling {ceiling:.2f}")


def category_factors(by_category: dict[str, Counter[str]], min_texts: int = 50, exponent: float = 0.35,
                     keep_below: float = 0.8) -> list[str]:
    """The lines of ``CATEGORY_FACTORS``: per leaf category with at least ``min_texts`` texts, the
    grams common in it, each with ``(log((n + 1) / (df + 1)) / log(n + 1)) ** exponent`` (1 for a
    gram the category's texts never use, near 0 for one all of them use); factors of ``keep_below``
    and more are left out (read as 1). The exponent is the one with the best F1 on the dev half of
    the paraphrase set (0.2, 0.35, 0.5, 0.75, 1 tried at two seeds: 0.35 both times)."""
    lines = [f"CATEGORY_EXPONENT = {exponent}", "CATEGORY_FACTORS = {"]
    for code in sorted(by_category):
        counts = by_category[code]
        texts = counts.pop("\0")
        if texts < min_texts:
            continue
        factors = []
        for g, d in counts.items():
            f = (math.log((texts + 1) / (d + 1)) / math.log(texts + 1)) ** exponent
            if f < keep_below:
                factors.append((f, g))
        entries = " ".join(f"{g}:{f:.2f}" for f, g in sorted(factors))
        lines.append(f'    "{code}": "{entries}",  # {texts} texts')
    return lines + ["}", ""]


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__, "120 generated problems, 100,000 tickets, 100 lookups; under a minute")
    p.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    p.add_argument("--tickets", type=int, help="tickets stored for the lookup time (1,000,000; quick 100,000)")
    p.add_argument("--lookups", type=int, help="timed lookups per backend (300; quick 100)")
    p.add_argument("--generated", type=int, help="generated problems in the set (300; quick 120)")
    p.add_argument("--distractors", type=int, help="other generated tickets stored per village of the set (40; quick 15)")
    p.add_argument("--write-idf", action="store_true", help="regenerate the IDF table and stop")
    p.add_argument("--tune", action="store_true",
                   help="choose the threshold and the clear-best rule again (seeds 1-7) and stop")
    args = p.parse_args(argv)
    if args.write_idf:
        write_idf()
        return 0
    if args.tune:
        args.generated = args.generated if args.generated is not None else 300
        args.distractors = args.distractors if args.distractors is not None else 40
        emit({"tune": tune(args)})
        return 0
    args.tickets = args.tickets or (100_000 if args.quick else 1_000_000)
    args.lookups = args.lookups or (100 if args.quick else 300)
    args.generated = args.generated if args.generated is not None else (120 if args.quick else 300)
    args.distractors = args.distractors if args.distractors is not None else (15 if args.quick else 40)
    print(f"duplicates benchmark: quality on the paraphrase set, then lookups over {args.tickets:,} tickets; "
          f"load average {loadavg()}", flush=True)
    t0 = time.perf_counter()
    print("[quality]", flush=True)
    summary: dict[str, Any] = {"quality": quality(args)}
    lat, failed = run_backends(backend_list(args.db), lambda b, w: latency(b, args, w), "hotline-bench-dup-")
    summary["lookup"] = lat
    summary.update(targets={"precision": TARGET_PRECISION, "recall": TARGET_RECALL, "p95_ms": TARGET_MS},
                   total_s=round(time.perf_counter() - t0, 1))
    emit(summary)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
