"""Incident detection on generated traffic: scenarios found, detection delay, false alarms per week,
against a fixed-threshold baseline in the same run.

What is measured
----------------
A SQLite file in a temp dir is migrated and the reference data loaded. Normal traffic is generated
with the demo generator's own pieces (``hotline.demo.caseload``: places weighted by population over
the demo jurisdiction, the daily and weekly rhythm, the category mix and the request texts) for
``--history-weeks`` (4; quick 2) of history and ``--weeks`` (4; quick 1) of evaluation, about
``--per-day`` tickets a day (400; quick 200). Into the evaluation weeks ``--scenarios-per-week``
(4) scenarios are injected at random daytime moments (07:00–21:00), each one of

* **water**: a water station fails: 8–20 calls from 3–6 villages of one township over 1–3 h
  (停水, 没水, 不来水 … in varied wording; category 停水 0101, some 水压 0102 or 漏水 0103);
* **power**: a power cut: 6–15 calls from 3–8 villages of one township over 0.5–2 h (停电 0201,
  some 电压 0202);
* **road**: a road collapse with few calls: 3–5 calls from 1–2 villages over 1–3 h (道路损坏 0701).

Tickets are inserted as rows (received time, region, category, text); the detection then runs as
the worker runs it (``hotline.worker.jobs.detect_incidents``: one transaction, ``detect``) every
5 minutes of simulated time over the evaluation weeks, the clock at each run's moment. A scenario is
**detected** when a proposed incident holds one of its tickets; its **delay** is from the
scenario's first ticket to the first run that put one of its tickets into an incident. A **false
alarm** is an incident holding no scenario ticket. Nobody confirms or dismisses during the run.

**Baseline** (same tickets, same 5-minute runs): an alarm whenever ≥ ``--baseline-n`` (5) tickets of
one first-level category came from one township within the last 2 h; consecutive firings of the
same township × category are one alarm. Matched to scenarios the same way.

Reported: scenarios detected / total (overall and by kind), delay median and p90 (minutes),
false alarms per week, for detection and baseline; **members**: of the alarms holding scenario
tickets, the share of their tickets that are their scenario's (precision: a stray call gathered into
an incident gets linked to it when the incident is confirmed) and of the found scenarios' tickets,
the share gathered (recall); tickets generated; detection run time p50/p95.

Run
---
    .venv/bin/python bench/incidents.py            # 4 + 4 weeks, 400 a day
    .venv/bin/python bench/incidents.py --quick    # 2 + 1 weeks, 200 a day; under a minute

The last line of output is one JSON object with every figure.
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import emit, parser, pct
from sqlalchemy import insert, select

from hotline.demo import caseload
from hotline.demo.bursts import POWER, ROAD, WATER  # the callers' words, shared with the demo
from hotline.demo.caseload import World
from hotline.directory.loader import load_reference_data
from hotline.directory.models import Region, RegionLevel
from hotline.incidents.models import Incident, IncidentTicket
from hotline.kit import clock
from hotline.kit.db import Database
from hotline.migrations import upgrade
from hotline.tickets.models import Ticket
from hotline.worker.jobs import detect_incidents

STEP = timedelta(minutes=5)

KINDS = {  # kind: (texts, categories with weights, calls, villages, span hours)
    "water": (WATER, (("0101", 8), ("0102", 1), ("0103", 1)), (8, 20), (3, 6), (1.0, 3.0)),
    "power": (POWER, (("0201", 9), ("0202", 1)), (6, 15), (3, 8), (0.5, 2.0)),
    "road": (ROAD, (("0701", 1),), (3, 5), (1, 2), (1.0, 3.0)),
}


@dataclass
class Scenario:
    kind: str
    township: str
    start: datetime
    ticket_ids: set[int] = field(default_factory=set)


@dataclass
class Row:
    received_at: datetime
    region_code: str
    category_code: str
    content: str
    scenario: int | None = None


def normal_traffic(w: World, start: datetime, days: int, per_day: int) -> list[Row]:
    """The demo generator's rhythm, places and texts, ``per_day`` tickets a day on average."""
    w.now, w.days = start + timedelta(days=days), days
    rows = []
    for received in caseload._received_times(w, per_day * days):
        where = w.pick_place()
        style = "agent" if w.rng.random() < 0.7 else "citizen"
        text, _ = caseload._text(w, where, style)
        rows.append(Row(received, where.code, text.category_code, text.content))
    return rows


def townships(session) -> dict[str, tuple[str, list[tuple[str, str]]]]:
    """Townships with at least 6 villages: code → (name, [(village code, name)])."""
    regions = session.execute(select(Region.code, Region.short_name, Region.level, Region.parent_code)).all()
    names = {r.code: r.short_name for r in regions}
    villages: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for r in regions:
        if r.level == RegionLevel.village:
            villages[r.parent_code].append((r.code, r.short_name))
    return {t: (names[t], vs) for t, vs in sorted(villages.items()) if len(vs) >= 6}


def inject(rng: random.Random, towns: dict, start: datetime, weeks: int, per_week: int) -> list[tuple[Scenario, list[Row]]]:
    out = []
    codes = list(towns)
    tz = clock.tz()
    for i in range(weeks * per_week):
        kind = ("water", "power", "road")[i % 3] if i < 3 else rng.choice(["water", "water", "power", "road"])
        texts, cats, calls, nvil, span = KINDS[kind]
        town = rng.choice(codes)
        tname, vills = towns[town]
        day = start + timedelta(days=rng.uniform(0, weeks * 7 - 1))
        local = day.astimezone(tz).replace(hour=rng.randint(7, 20), minute=rng.randrange(60))
        first = local.astimezone(UTC)
        chosen = rng.sample(vills, rng.randint(*nvil))
        hours = rng.uniform(*span)
        n = rng.randint(*calls)
        offsets = sorted([0.0] + [rng.uniform(0, hours) for _ in range(n - 1)])
        rows = []
        for off in offsets:
            vcode, vname = rng.choice(chosen)
            cat = rng.choices([c for c, _ in cats], weights=[x for _, x in cats])[0]
            rows.append(Row(first + timedelta(hours=off), vcode, cat, rng.choice(texts).format(v=vname, t=tname), i))
        out.append((Scenario(kind, town, first), rows))
    return out


def insert_rows(db: Database, rows: list[Row]) -> list[int]:
    rows.sort(key=lambda r: r.received_at)
    with db.transaction() as s:
        values = [{"number": f"B{i:09d}", "query_code": "000000", "version": 1, "channel": "phone", "kind": "help",
                   "category_code": r.category_code, "urgency": "normal", "status": "registered",
                   "region_code": r.region_code, "title": r.content[:30], "content": r.content,
                   "received_at": r.received_at, "updated_at": r.received_at, "due_basis": {},
                   "caller_confidential": False, "caller_anonymous": False, "suspended_seconds": 0,
                   "extension_count": 0, "dispatch_count": 0, "reopen_count": 0, "callback_attempts": 0}
                  for i, r in enumerate(rows)]
        for k in range(0, len(values), 5000):
            s.execute(insert(Ticket), values[k:k + 5000])
        ids = {n: i for n, i in s.execute(select(Ticket.number, Ticket.id))}
    return [ids[f"B{i:09d}"] for i in range(len(rows))]


def baseline(rows: list[Row], ids: list[int], start: datetime, end: datetime, n: int) -> list[tuple[datetime, set[int]]]:
    """Fixed threshold: ≥ n tickets of one first-level category from one township in the last 2 h.
    Returns the alarms: (first firing, tickets seen while firing)."""
    by_key: dict[tuple[str, str], list[tuple[datetime, int]]] = defaultdict(list)
    for r, tid in zip(rows, ids, strict=True):
        if len(r.region_code) >= 9:
            by_key[(r.category_code[:2], r.region_code[:9])].append((r.received_at, tid))
    alarms = []
    for series in by_key.values():
        times = [t for t, _ in series]
        current: tuple[datetime, set[int]] | None = None
        lo = 0
        t = start
        idx = 0
        while t < end:
            while idx < len(times) and times[idx] <= t:
                idx += 1
            while lo < idx and times[lo] <= t - timedelta(hours=2):
                lo += 1
            if idx - lo >= n:
                tickets = {tid for _, tid in series[lo:idx]}
                if current is None:
                    current = (t, tickets)
                    alarms.append(current)
                else:
                    current[1].update(tickets)
            else:
                current = None
            t += STEP
        # series with fewer than n tickets never fire: skip quickly
    return alarms


def score(scenarios: list[Scenario], alarms: list[tuple[datetime, set[int]]], weeks: float) -> dict:
    owner = {tid: i for i, sc in enumerate(scenarios) for tid in sc.ticket_ids}
    found: dict[int, datetime] = {}
    false = 0
    for at, tickets in alarms:
        hit = {owner[t] for t in tickets if t in owner}
        if not hit:
            false += 1
        for i in hit:
            found[i] = min(found.get(i, at), at)
    delays = [(found[i] - scenarios[i].start).total_seconds() / 60 for i in found]
    kinds: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for i, sc in enumerate(scenarios):
        kinds[sc.kind][1] += 1
        kinds[sc.kind][0] += i in found
    return {"detected": len(found), "scenarios": len(scenarios),
            "by_kind": {k: f"{a}/{b}" for k, (a, b) in sorted(kinds.items())},
            "delay_min_median": round(statistics.median(delays), 1) if delays else None,
            "delay_min_p90": round(pct(delays, 0.9), 1) if delays else None,
            "false_alarms": false, "false_alarms_per_week": round(false / weeks, 2)}


def detection_alarms(db: Database, scenarios: list[Scenario]) -> list[tuple[datetime, set[int]]]:
    """Each incident as an alarm: per scenario ticket, when a run added it (the first run counts)."""
    with db.transaction(write=False) as s:
        links = s.execute(select(IncidentTicket.incident_id, IncidentTicket.ticket_id, IncidentTicket.added_at)).all()
        detected = {i: at for i, at in s.execute(select(Incident.id, Incident.detected_at))}
    owner = {tid: i for i, sc in enumerate(scenarios) for tid in sc.ticket_ids}
    alarms: list[tuple[datetime, set[int]]] = []
    by_incident: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for iid, tid, added in links:
        by_incident[iid].append((added, tid))
    for iid, items in by_incident.items():
        plain = [tid for _, tid in items if tid not in owner]
        per_scenario: dict[int, datetime] = {}
        for added, tid in items:
            if tid in owner:
                per_scenario[owner[tid]] = min(per_scenario.get(owner[tid], added), added)
        if not per_scenario:
            alarms.append((detected[iid], set(plain)))
        for i, at in per_scenario.items():
            alarms.append((at, {next(iter(scenarios[i].ticket_ids))}))
    return alarms


def membership(groups: list[set[int]], scenarios: list[Scenario]) -> dict:
    """How well the tickets an alarm gathers are its scenario's: of the alarms holding scenario
    tickets, the share of their tickets that belong to their main scenario (precision), and of the
    tickets of the scenarios found, the share gathered into an alarm of theirs (recall)."""
    owner = {tid: i for i, sc in enumerate(scenarios) for tid in sc.ticket_ids}
    total = right = 0
    gathered: dict[int, set[int]] = defaultdict(set)
    for tickets in groups:
        hits = defaultdict(int)
        for t in tickets:
            if t in owner:
                hits[owner[t]] += 1
        if not hits:
            continue
        main = max(hits, key=hits.get)
        total += len(tickets)
        right += hits[main]
        gathered[main] |= tickets & scenarios[main].ticket_ids
    wanted = sum(len(scenarios[i].ticket_ids) for i in gathered)
    return {"precision": round(right / total, 3) if total else None,
            "recall": round(sum(len(g) for g in gathered.values()) / wanted, 3) if wanted else None,
            "tickets": total, "strays": total - right}


def incident_groups(db: Database) -> list[set[int]]:
    with db.transaction(write=False) as s:
        groups: dict[int, set[int]] = defaultdict(set)
        for iid, tid in s.execute(select(IncidentTicket.incident_id, IncidentTicket.ticket_id)):
            groups[iid].add(tid)
    return list(groups.values())


def main() -> int:
    p = parser(__doc__, "2 weeks of history, 1 evaluated, 200 a day: under a minute")
    p.add_argument("--weeks", type=int, default=4)
    p.add_argument("--history-weeks", type=int, default=4)
    p.add_argument("--per-day", type=int, default=400)
    p.add_argument("--scenarios-per-week", type=int, default=4)
    p.add_argument("--baseline-n", type=int, default=5)
    p.add_argument("--seed", type=int, default=12345)
    a = p.parse_args()
    if a.quick:
        a.weeks, a.history_weeks, a.per_day = 1, 2, 200
    rng = random.Random(a.seed)
    workdir = Path(tempfile.mkdtemp(prefix="bench-incidents-"))
    url = f"sqlite:///{workdir / 'incidents.db'}"
    upgrade(url)
    db = Database(url)
    eval_start = datetime(2026, 3, 2, tzinfo=UTC) - timedelta(hours=8)  # a Monday, 00:00 local
    start = eval_start - timedelta(weeks=a.history_weeks)
    end = eval_start + timedelta(weeks=a.weeks)
    t0 = time.perf_counter()
    with db.transaction() as s:
        load_reference_data(s)
        w = World(s, rng, end, (end - start).days)
        rows = normal_traffic(w, start, (end - start).days, a.per_day)
        towns = townships(s)
    injected = inject(rng, towns, eval_start, a.weeks, a.scenarios_per_week)
    all_rows = rows + [r for _, rs in injected for r in rs]
    ids = insert_rows(db, all_rows)
    scenarios = [sc for sc, _ in injected]
    for r, tid in zip(all_rows, ids, strict=True):
        if r.scenario is not None:
            scenarios[r.scenario].ticket_ids.add(tid)
    setup_s = time.perf_counter() - t0
    print(f"generated {len(all_rows)} tickets ({len(rows)} normal, {len(all_rows) - len(rows)} in "
          f"{len(scenarios)} scenarios) in {setup_s:.1f} s", flush=True)

    runs: list[float] = []
    t = eval_start
    while t < end:
        t += STEP
        clock.freeze(t)
        t1 = time.perf_counter()
        detect_incidents(db, now=t)
        runs.append((time.perf_counter() - t1) * 1000)
    clock.freeze(None)
    weeks = float(a.weeks)
    detection = score(scenarios, detection_alarms(db, scenarios), weeks)
    detection["members"] = membership(incident_groups(db), scenarios)
    base_alarms = baseline(all_rows, ids, eval_start, end, a.baseline_n)
    base = score(scenarios, base_alarms, weeks)
    base["members"] = membership([tickets for _, tickets in base_alarms], scenarios)
    print(f"detection: {detection}", flush=True)
    print(f"baseline (>= {a.baseline_n} same category, one township, 2 h): {base}", flush=True)
    summary = {"bench": "incidents", "quick": a.quick, "weeks": a.weeks, "history_weeks": a.history_weeks,
               "per_day": a.per_day, "tickets": len(all_rows), "scenario_tickets": len(all_rows) - len(rows),
               "runs": len(runs), "run_ms_p50": round(statistics.median(runs), 2), "run_ms_p95": round(pct(runs, 0.95), 2),
               "setup_s": round(setup_s, 1), "detection": detection, "baseline": base, "baseline_n": a.baseline_n,
               "seed": a.seed, "ok": True}
    db.dispose()
    emit(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
