"""Hot spots on real citizen messages: the top 5 hot issues of ``messages_with_likes.csv`` (2020
Teddy Cup, problem C: 4,312 messages of 2019, with likes and dislikes) by the heat index of
``hotline.analytics.hotspots``, against two baselines measured in the same run, and the platform
path's time on a generated database.

What is measured
----------------
* **Clustering and ranking** of the whole file (``--quick``: the first 1,500 messages by time):
  the top 5 clusters with label, heat, components, size, callers, period, places and 3 example
  message ids; the time taken.
* **Baselines**: the top 5 by raw volume of identical titles, and the top 5 single messages by likes.
* **Quality**: cohesion (mean pairwise cosine of the clusters' texts, character n-gram TF-IDF) of
  the top 5 and of all clusters, against random groups of the same sizes; and the purity of the top
  5 by a hand reading, kept in ``PURITY`` below (10 messages of each read; see docs/hotspots.md).
* **Platform path** (``--tickets N``, default 50,000; quick 8,000): a SQLite database is migrated,
  the reference data loaded and N tickets of the demo generator's texts bulk-inserted over 30 days
  across every village, plus three planted bursts; ``hot_spots`` for the whole month is timed and the
  planted bursts looked for in its top 5. ``first_call``: the first and second ``hot_spots`` of a
  fresh process, ``cold`` (loading its libraries on the way, as a web process's first on-demand hot
  spots did) and ``preloaded`` (after ``hotspots.preload``, which a web process now runs as it
  starts), with the preload's own time.

Run
---
    .venv/bin/python bench/hotspots.py            # full
    .venv/bin/python bench/hotspots.py --quick    # under a minute

The last line of output is one JSON object with every figure. The data stay in ``../shared``.
"""

from __future__ import annotations

import csv
import os
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from common import ROOT, emit, parser

DATA = ROOT.parent / "shared" / "data" / "teddy2020c" / "messages_with_likes.csv"
CN = timedelta(hours=8)


def parse_time(s: str) -> datetime:
    s = s.strip().replace("-", "/")
    for fmt in ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d"):
        try:
            return (datetime.strptime(s, fmt) - CN).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise ValueError(s)


def load(path: Path = DATA) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        r["at"] = parse_time(r["留言时间"])
    return rows


def messages(rows: list[dict[str, Any]]) -> list[Any]:
    from hotline.analytics.hotspots import Message, areas_of

    out = []
    for r in rows:
        area = (areas_of(r["留言主题"]) or areas_of(r["留言详情"]) or [None])[0]
        out.append(Message(int(r["留言编号"]), r["留言主题"], r["留言详情"], r["at"], r["留言用户"], area, area,
                           float(int(r["点赞数"] or 0) + int(r["反对数"] or 0))))
    return out


def run_csv(rows: list[dict[str, Any]], p: Any = None) -> tuple[list[Any], list[Any], float, tuple[datetime, datetime]]:
    from hotline.analytics.hotspots import Params, cluster, rank

    ms = messages(rows)
    start = sorted(m.at for m in ms)[len(ms) // 200]  # a few stray old dates are not the period
    end = max(m.at for m in ms) + timedelta(seconds=1)
    t0 = time.perf_counter()
    p = p or Params(severity="sum")
    ranked = rank(cluster(ms, p), ms, start=start, end=end, params=p)
    return ranked, ms, time.perf_counter() - t0, (start, end)


def baselines(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Top 5 by identical titles, and top 5 single messages by likes."""
    titles = Counter(r["留言主题"].strip() for r in rows)
    likes = sorted(rows, key=lambda r: -int(r["点赞数"] or 0))[:5]
    return {"identical_titles": [[t, n] for t, n in titles.most_common(5)],
            "likes_only": [[r["留言主题"], int(r["点赞数"])] for r in likes]}


def random_cohesion(ms: list[Any], sizes: list[int], seed: int = 1) -> float:
    """Mean pairwise text cosine of random groups of the given sizes (the chance level)."""
    from hotline.analytics.hotspots import Params, similarity

    rng = random.Random(seed)
    vals = []
    for n in sizes:
        group = rng.sample(ms, n)
        _, s_text, _, _ = similarity(group, Params())
        vals.append(float((s_text.sum() - n) / (n * (n - 1))))
    return round(sum(vals) / len(vals), 3)


def platform(n: int, workdir: Path) -> dict[str, Any]:
    """``hot_spots`` over a month of ``n`` generated tickets in a migrated SQLite database."""
    import sqlite3

    from hotline.analytics.hotspots import hot_spots
    from hotline.demo.texts import Place, compose
    from hotline.directory.loader import load_reference_data
    from hotline.kit.db import Database
    from hotline.migrations import upgrade

    url = f"sqlite:///{workdir / 'hot.db'}"
    upgrade(url)
    db = Database(url)
    with db.transaction() as session:
        load_reference_data(session)
        from hotline.directory import reference
        snap = reference.snapshot(session)
    villages = [c for c, (_, level, _p) in snap.regions.items() if level == 5]
    rng = random.Random(5)
    end = datetime(2026, 4, 1, tzinfo=UTC)
    rows = []
    burst_ids: list[set[int]] = [set(), set(), set()]
    for g in range(1, n + 1):
        code = rng.choice(villages)
        village, town, county = (snap.regions[c][0] for c in (code, code[:9], code[:6]))
        t = compose(rng, Place(county, town, village))
        at = end - timedelta(seconds=rng.uniform(0, 30 * 86400))
        rows.append((g, t.category_code, t.kind, t.urgency, code, t.title, t.content, at))
    planted = [("0101", "{v}停水好几天了，自来水一直不来，全村吃水困难，请尽快恢复供水"),
               ("0601", "{v}旁边搅拌站夜里施工噪音粉尘严重扰民，请环保部门查处"),
               ("0204", "{v}一到晚上就停电，电压不稳，家里电器都烧坏了")]
    for k, (cat, text) in enumerate(planted):
        code = villages[(k * 97) % len(villages)]
        v = snap.regions[code][0]
        for j in range(12 + 4 * k):
            g = len(rows) + 1
            burst_ids[k].add(g)
            at = end - timedelta(seconds=rng.uniform(0, 6 * 86400))
            rows.append((g, cat, "complaint", "urgent", code, f"{v}{text[3:13]}", text.format(v=v) + f"（{j}）", at))
    con = sqlite3.connect(workdir / "hot.db")
    con.executemany(
        "INSERT INTO tickets (id, number, query_code, version, channel, kind, category_code, urgency, status, "
        "caller_phone, caller_confidential, caller_anonymous, region_code, title, content, received_at, due_basis, "
        "suspended_seconds, extension_count, dispatch_count, reopen_count, callback_attempts, updated_at) "
        "VALUES (?, ?, '000000', 1, 'phone', ?, ?, ?, 'registered', ?, 0, 0, ?, ?, ?, ?, '{}', 0, 0, 0, 0, 0, ?)",
        [(g, f"T{g:09d}", kind, cat, urg, f"138{g:08d}", code, title[:100], content,
          at.strftime("%Y-%m-%d %H:%M:%S.%f"), at.strftime("%Y-%m-%d %H:%M:%S.%f"))
         for g, cat, kind, urg, code, title, content, at in rows])
    con.commit()
    con.execute("ANALYZE")
    con.close()
    with db.session() as session:
        t0 = time.perf_counter()
        spots = hot_spots(session, start=end - timedelta(days=30), end=end, top=5)
        secs = time.perf_counter() - t0
    db.dispose()
    found = [max((len(b & set(s.ticket_ids)) / len(b) for s in spots), default=0) for b in burst_ids]
    for s in spots:
        print(f"   {s.label} heat={s.heat} n={s.size} area={s.area_code} cat={s.category_code}")
    first = {kind: first_call(url, end, preload=kind == "preloaded") for kind in ("cold", "preloaded")}
    print(f"   first call of a fresh process: {first}")
    return {"tickets": len(rows), "seconds": round(secs, 2), "planted_recall_in_top5": [round(f, 2) for f in found],
            "first_call": first}


FIRST_CALL = """
import json, sys, time
from datetime import datetime, timedelta
from hotline.analytics import hotspots
from hotline.kit.db import Database
url, end, preload = sys.argv[1], datetime.fromisoformat(sys.argv[2]), sys.argv[3] == "1"
t0 = time.perf_counter()
if preload:
    hotspots.preload()
t1 = time.perf_counter()
with Database(url).session() as session:
    hotspots.hot_spots(session, start=end - timedelta(days=30), end=end, top=5)
t2 = time.perf_counter()
with Database(url).session() as session:
    hotspots.hot_spots(session, start=end - timedelta(days=30), end=end, top=5)
print(json.dumps({"preload_seconds": round(t1 - t0, 2), "first_seconds": round(t2 - t1, 2),
                  "second_seconds": round(time.perf_counter() - t2, 2)}))
"""


def first_call(url: str, end: datetime, *, preload: bool) -> dict[str, float]:
    """The first and second ``hot_spots`` of a fresh process (the month): ``cold``, loading
    scikit-learn, SciPy's clustering and jieba's dictionary on the way (what the first on-demand
    hot spots of a web process did); ``preloaded``, after ``hotspots.preload`` (what a web process
    now does in the background as it starts, ``web.app.warm_up``)."""
    import json
    import subprocess

    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run([sys.executable, "-c", FIRST_CALL, url, end.isoformat(), "1" if preload else "0"],
                          env=env, capture_output=True, text=True, check=True, timeout=600)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__, "a subset (1,500 messages, 8,000 tickets): under a minute")
    ap.add_argument("--tickets", type=int, default=None)
    args = ap.parse_args(argv)
    if not DATA.exists():
        print(f"no data: {DATA} is absent", flush=True)
        return 1
    t_all = time.perf_counter()
    rows = sorted(load(), key=lambda r: r["at"])
    if args.quick:
        rows = rows[:1500]
    ranked, ms, secs, (start, end) = run_csv(rows)
    by_id = {int(r["留言编号"]): r for r in rows}
    print(f"{len(rows)} messages {start:%Y-%m-%d}..{end:%Y-%m-%d}, {len(ranked)} clusters, {secs:.1f} s")
    top = []
    for i, c in enumerate(ranked[:5], 1):
        ex = c.ids[:: max(1, c.size // 3)][:3]
        print(f"{i}. {c.label} heat={c.heat} n={c.size} callers={c.callers} cohesion={c.cohesion} {c.components}"
              f" {c.first_at:%Y-%m-%d}..{c.last_at:%Y-%m-%d} places={c.places[:3]} examples={ex}")
        for j in ex:
            print("     ", j, by_id[j]["留言主题"])
        top.append({"label": c.label, "heat": c.heat, "components": c.components, "messages": c.size,
                    "callers": c.callers, "likes": c.severity, "period": f"{c.first_at:%Y-%m-%d}..{c.last_at:%Y-%m-%d}",
                    "places": c.places[:3], "examples": ex, "cohesion": c.cohesion, "purity": PURITY.get(i)})
    base = baselines(rows)
    print("baseline, identical titles:", base["identical_titles"])
    print("baseline, likes only:", base["likes_only"])
    coh_top = round(sum(c.cohesion for c in ranked[:5]) / max(1, len(ranked[:5])), 3)
    coh_all = round(sum(c.cohesion for c in ranked) / max(1, len(ranked)), 3)
    coh_rand = random_cohesion(ms, [c.size for c in ranked[:5]])
    print(f"cohesion: top 5 {coh_top}, all clusters {coh_all}, random groups of the top 5's sizes {coh_rand}")
    n = args.tickets or (8000 if args.quick else 50_000)
    print(f"platform path: {n} tickets")
    with tempfile.TemporaryDirectory() as d:
        plat = platform(n, Path(d))
    print(f"   {plat}")
    emit({"bench": "hotspots", "quick": args.quick, "messages": len(rows), "clusters": len(ranked),
          "csv_seconds": round(secs, 2), "top5": top, "baselines": base, "cohesion_top5": coh_top,
          "cohesion_all": coh_all, "cohesion_random": coh_rand, "platform": plat,
          "total_seconds": round(time.perf_counter() - t_all, 1)})
    return 0


# Purity of the top 5 of the full run by a hand reading of 10 messages each (share about the one
# issue the label names); see docs/hotspots.md.
PURITY: dict[int, float] = {1: 1.0, 2: 0.8, 3: 0.8, 4: 0.3, 5: 0.4}

if __name__ == "__main__":
    sys.exit(main())
