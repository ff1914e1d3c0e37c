"""Employment stations: server time of the full-employment village standard, the 充分就业村 page, the
station home, the ledger list with a status filter, and a job's matching candidates over a
county-scale labour ledger, against a bare GROUP BY of the same rows and bare renders.

What is measured
----------------
A scratch database (SQLite file or PostgreSQL) is migrated (``hotline.migrations.upgrade``), the
reference data is loaded (regions, units, categories), and the ledger is bulk-inserted (Core
``INSERT`` of many rows): a station in each of ``--villages`` villages of 黎城县 (default 200; the
county has 186 villages in ``regions.csv``, so the default uses all of them and says so; ``--quick``
30), ``--workers`` ledger workers per village (default 300; quick 200) with statuses spread so that
some villages meet the standard and others fall short, one assistance record for every other
worker, 0 to 2 activities of each of the six kinds (六个一) per village this year, and one open job
posted at the first village's township with the first village's unemployed job seekers (up to 20) already recommended to it. Then ANALYZE.
A handler of 黎城县人力资源和社会保障局 (``licheng-hrss``, the whole county in scope) is added and
signs in through ``POST /login``. Setup is timed and printed, not measured.

Measured (server time, ms, p50 / p95):

* **standard**: ``employment.standard.villages`` for the county (the function behind
  ``/employment/villages``), in its own read transaction; baseline: a bare
  ``SELECT village_code, employment_status, count(*) ... GROUP BY`` of the same table;
* **candidates**: ``employment.queries.candidates`` for the job (the matching on its page); baseline:
  a bare indexed ``SELECT`` of the county's seeking workers with a job intention, nearest village
  first, ``LIMIT 50``;
* pages as the 人社局 handler: **villages** ``/employment/villages``, **home** ``/employment``,
  **workers** ``/employment/workers?status=unemployed`` (first page of 50), and **job**
  ``/employment/jobs/{id}`` (with its candidates); baseline: the same template rendered through the
  same ``env`` with the captured context of one real request (``bench/pages.py``'s bare pages).

Functions and their baselines alternate (baseline first on even rounds); pages are called through
Starlette's ``TestClient`` and timed from the request's arrival to the last body message. After
``--warmup`` untimed rounds (default 5), ``--rounds`` timed rounds (default 100; quick 30).

Run
---
    .venv/bin/python bench/employment.py                      # SQLite; 186 villages x 300 workers
    .venv/bin/python bench/employment.py --backend both       # SQLite and PostgreSQL
    .venv/bin/python bench/employment.py --quick              # 30 villages x 200 workers
    .venv/bin/python bench/employment.py --backend sqlite --villages 100 --workers 500

The last line of output is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from common import (
    backend_list,
    elapsed_ms,
    emit,
    loadavg,
    migrated_with_user,
    parser,
    print_plans,
    run_backends,
    scratch_database,
    statement_plans,
    timing_table,
)
from pages import Capture, Timed, bare_app

COUNTY = "140426"  # 黎城县
HR_UNIT = "licheng-hrss"
PASSWORD = "bench password 12345"
SLOW_MS = 200.0
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ["建国", "秀英", "志强", "丽娟", "海燕", "国庆", "玉兰", "晓东", "春梅", "文斌", "桂芳", "小军"]
SKILLS = ["电焊", "驾驶", "家政", "厨师", "瓦工", "电工", "种植", "养殖", "", ""]
INTENTIONS = ["县内务工", "建筑工地", "家政服务", "餐饮服务", "物流配送", "扶贫车间", "外出务工"]
EMPLOYERS = ["黎城县建筑公司", "潞安集团", "县城家政中心", "太原物流园", "扶贫车间"]


def county_villages() -> list[str]:
    import csv

    path = Path(__file__).resolve().parents[1] / "src/hotline/directory/data/regions.csv"
    with path.open(encoding="utf-8") as fh:
        return sorted(r["code"] for r in csv.DictReader(fh) if r["level"] == "5" and r["code"].startswith(COUNTY))


def status_of(v: int, j: int) -> str:
    """A worker's status: villages differ in how many are out of work (v % 13 out of 100 more)."""
    r = (j * 37 + v * 11) % 100
    if r < 4:
        return "unwilling"
    if r < 8:
        return "unable"
    if r < 12 + v % 13:
        return "unemployed"
    return ("stable", "stable", "flexible", "seasonal")[j % 4]


def generate(url: str, codes: list[str], per_village: int, now: datetime) -> dict[str, Any]:
    from sqlalchemy import insert, text

    from hotline.employment.models import Activity, Assistance, JobPosting, Referral, Station, Worker
    from hotline.kit.db import Database

    db = Database(url)
    year = now.year
    today = now.date()
    first = date(year, 1, 1)
    span = max(1, (today - first).days)
    n = {"stations": 0, "workers": 0, "assistance": 0, "activities": 0}
    with db.transaction() as session:
        session.execute(insert(Station), [
            {"village_code": c, "name": f"村劳动保障服务站{i:03d}", "phone": f"0355-66{i:05d}",
             "opened_on": first, "created_at": now} for i, c in enumerate(codes)])
        n["stations"] = len(codes)
        wid = 0
        batch: list[dict[str, Any]] = []
        helped: list[dict[str, Any]] = []
        for v, code in enumerate(codes):
            for j in range(per_village):
                wid += 1
                status = status_of(v, j)
                seeking = status in ("unemployed", "flexible", "seasonal")
                batch.append({
                    "id": wid, "village_code": code, "name": SURNAMES[(wid * 7) % len(SURNAMES)] + GIVEN[wid % len(GIVEN)],
                    "gender": "male" if wid % 2 else "female", "birth_year": 1960 + wid % 45,
                    "phone": f"139{wid:08d}", "id_number": None, "education": ("初中", "高中/中专", "小学及以下")[wid % 3],
                    "skills": SKILLS[wid % len(SKILLS)] or None, "employment_status": status,
                    "work_place": None if status in ("unemployed", "unwilling", "unable") else
                    ("in_county", "out_county", "out_province")[wid % 3],
                    "employer": EMPLOYERS[wid % len(EMPLOYERS)] if status == "stable" else None,
                    "job_intention": INTENTIONS[wid % len(INTENTIONS)] if seeking and wid % 3 else None,
                    "needs_help": status == "unemployed" and wid % 2 == 0, "note": None,
                    "created_at": now - timedelta(days=wid % 300), "updated_at": now - timedelta(days=wid % 30),
                    "updated_by_id": None})
                if wid % 2 == 0:
                    helped.append({"worker_id": wid, "kind": ("guidance", "referral", "training", "policy")[wid % 4],
                                   "on_day": first + timedelta(days=wid % span), "note": "电话回访，介绍县内岗位",
                                   "activity_id": None, "recorded_by_id": None, "recorded_at": now})
                if len(batch) >= 5000:
                    session.execute(insert(Worker), batch)
                    n["workers"] += len(batch)
                    batch = []
        if batch:
            session.execute(insert(Worker), batch)
            n["workers"] += len(batch)
        for k in range(0, len(helped), 5000):
            session.execute(insert(Assistance), helped[k:k + 5000])
        n["assistance"] = len(helped)
        acts = []
        kinds = ("troupe", "ledger", "venue", "guidance", "training", "job_fair")
        for v, code in enumerate(codes):
            for ki, kind in enumerate(kinds):
                for m in range((v + ki) % 3 if v % 4 else 1):  # every 4th village holds all six
                    acts.append({"village_code": code, "kind": kind, "on_day": first + timedelta(days=(v * 7 + ki * 13 + m) % span),
                                 "title": f"{kind} 活动", "participants": 20 + m, "recorded_by_id": None,
                                 "recorded_at": now})
        session.execute(insert(Activity), acts)
        n["activities"] = len(acts)
        job_id = session.execute(insert(JobPosting).returning(JobPosting.id), [{
            "employer": "黎城县扶贫车间", "workshop": True, "region_code": codes[0][:9], "title": "缝纫工",
            "openings": 30, "pay": "3000元/月", "requirements": None, "state": "open", "created_by_id": None,
            "created_at": now, "updated_at": now}]).scalar_one()
        seekers = session.scalars(text(
            "SELECT id FROM employment_workers WHERE village_code = :v AND employment_status = 'unemployed' "
            "AND job_intention IS NOT NULL ORDER BY id LIMIT 20"), {"v": codes[0]}).all()
        session.execute(insert(Referral), [{"job_id": job_id, "worker_id": w, "state": "recommended",
                                            "recommended_by_id": None, "recommended_at": now} for w in seekers])
        if db.engine.dialect.name == "postgresql":
            session.execute(text("SELECT setval(pg_get_serial_sequence('employment_workers', 'id'), "
                                 "(SELECT max(id) FROM employment_workers))"))
    with db.engine.connect() as conn:
        if db.engine.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
        else:
            conn.execute(text("ANALYZE"))
            conn.commit()
    db.dispose()
    return {**n, "job_id": job_id, "referrals": len(seekers)}


def prepare(url: str, codes: list[str], per_village: int, now: datetime) -> dict[str, Any]:
    reference_s = migrated_with_user(url, username="bench-hrss", display_name="黎城人社", unit_code=HR_UNIT,
                                     password=PASSWORD)
    t1 = time.perf_counter()
    info = generate(url, codes, per_village, now)
    return {"reference_s": reference_s, "generate_s": time.perf_counter() - t1, **info}


def run(backend: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    with scratch_database(backend, workdir, "employment") as (url, _path):
        return _run(backend, url, args, workdir)


def _run(backend: str, url: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from fastapi.testclient import TestClient
    from sqlalchemy import select, text

    from hotline.accounts.models import User
    from hotline.config import Settings
    from hotline.employment import queries, standard
    from hotline.employment.models import JobPosting
    from hotline.employment.scope import ledger_scope
    from hotline.kit.db import Database
    from hotline.web.app import create_site

    now = datetime.now(UTC).replace(microsecond=0)
    setup = prepare(url, args.codes, args.workers, now)
    print(f"  set up: migrate + reference data {setup['reference_s']:.1f} s; {setup['stations']} stations, "
          f"{setup['workers']:,} workers, {setup['assistance']:,} assistance records, {setup['activities']:,} "
          f"activities, 1 job with {setup['referrals']} referrals generated in {setup['generate_s']:.1f} s", flush=True)

    db = Database(url)
    with db.transaction(write=False) as session:
        user = session.scalars(select(User).where(User.username == "bench-hrss")).one()
        scope = ledger_scope(session, user)
    if scope.prefixes != (COUNTY,):
        raise RuntimeError(f"the 人社局 handler's scope is {scope}, not the county {COUNTY}")
    job_id = setup["job_id"]
    county = COUNTY
    seeking = ("unemployed", "flexible", "seasonal")

    def f_standard() -> Any:
        with db.transaction(write=False) as session:
            return standard.villages(session, scope)

    def b_standard() -> Any:
        with db.transaction(write=False) as session:
            return session.execute(text(
                "SELECT village_code, employment_status, count(*) FROM employment_workers "
                "GROUP BY village_code, employment_status")).all()

    def f_candidates() -> Any:
        with db.transaction(write=False) as session:
            job = session.get(JobPosting, job_id)
            return queries.candidates(session, scope, job)

    def b_candidates() -> Any:
        with db.transaction(write=False) as session:
            return session.execute(text(
                "SELECT id, village_code, name FROM employment_workers WHERE village_code LIKE :c "
                "AND employment_status IN ('unemployed', 'flexible', 'seasonal') AND job_intention <> '' "
                "ORDER BY village_code, name, id LIMIT 50"), {"c": county + "%"}).all()

    functions = {"standard": (f_standard, b_standard), "candidates": (f_candidates, b_candidates)}
    got_standard = f_standard()
    got_candidates = f_candidates()
    problems: list[str] = []
    if len(got_standard) != setup["stations"]:
        problems.append(f"standard: {len(got_standard)} villages, not {setup['stations']}")
    meets = sum(1 for v in got_standard if v.meets)
    if not 0 < meets < len(got_standard):
        problems.append(f"standard: {meets} of {len(got_standard)} villages meet it; expected some, not all")
    if len(got_candidates) != 50 or any(w.employment_status.value not in seeking for w, _d in got_candidates):
        problems.append(f"candidates: {len(got_candidates)} found, expected 50 seeking")

    site = Timed(create_site(Settings(data_dir=workdir, database_url=url), database=db))
    gc.collect()
    gc.freeze()
    client = TestClient(site, follow_redirects=False)
    r = client.post("/login", data={"username": "bench-hrss", "password": PASSWORD})
    if r.status_code != 303:
        raise RuntimeError(f"sign-in refused: {r.status_code} {r.text[:300]}")
    pages = {
        "villages_page": ("/employment/villages", "充分就业村"),
        "home_page": ("/employment", "就业服务站"),
        "workers_page": ("/employment/workers?status=unemployed", "劳动力台账"),
        "job_page": (f"/employment/jobs/{job_id}", "缝纫工"),
    }
    captured: dict[str, dict[str, Any]] = {}
    shown: dict[str, Any] = {}
    for name, (path, must) in pages.items():
        client.get(path)
        with Capture() as cap:
            r = client.get(path)
        if r.status_code != 200 or must not in r.text:
            raise RuntimeError(f"{path}: {r.status_code}, {must!r} not in the page: {r.text[:300]}")
        captured[name] = cap.got
        ctx = cap.got["context"]
        shown[name] = {"html_kb": round(len(r.content) / 1024, 1)}
        if name == "villages_page":
            shown[name]["villages"] = len(ctx["figures"])
        elif name == "workers_page":
            shown[name].update(rows=len(ctx["items"]), total=ctx["total"])
        elif name == "job_page":
            shown[name]["candidates"] = len(ctx["candidates"])
    bare = Timed(bare_app(captured))
    bare_client = TestClient(bare)

    def hit(c: Any, app: Timed, path: str) -> float:
        r = c.get(path)
        if r.status_code != 200:
            raise RuntimeError(f"{path}: {r.status_code} {r.text[:300]}")
        return app.last_ms

    t: dict[str, dict[str, list[float]]] = {k: {"main": [], "bare": []} for k in (*functions, *pages)}
    for i in range(args.warmup + args.rounds):
        keep = i >= args.warmup
        for name, (fn, base) in functions.items():
            order = ((fn, "main"), (base, "bare")) if i % 2 else ((base, "bare"), (fn, "main"))
            for f, which in order:
                x = elapsed_ms(f)
                if keep:
                    t[name][which].append(x)
        for name, (path, _must) in pages.items():
            order = (((client, site, path), "main"), ((bare_client, bare, f"/bare/{name}"), "bare"))
            for (c, app, p), which in (order if i % 2 else order[::-1]):
                x = hit(c, app, p)
                if keep:
                    t[name][which].append(x)

    # the statements the standard and the candidates send (one call each, captured) and their plans
    plans = {name: statement_plans(db.engine, backend, fn) for name, (fn, _base) in functions.items()}
    db.dispose()

    out = timing_table(t, shown, SLOW_MS)
    print(f"  shown: {shown}; {meets} of {len(got_standard)} villages meet the standard", flush=True)
    for name, ps in plans.items():
        print_plans(name, ps)
    for p_ in problems:
        print(f"  PROBLEM: {p_}", flush=True)
    out.update(setup={k: (round(v, 1) if isinstance(v, float) else v) for k, v in setup.items()},
               meets=meets, plans=plans, problems=problems, ok=not problems)
    return out


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__, "30 villages x 200 workers instead of 200 x 300, 30 rounds; under a minute")
    p.add_argument("--backend", choices=["sqlite", "postgres", "postgresql", "both"], default="sqlite",
                   help="SQLite (default), PostgreSQL on 127.0.0.1:5432, or both")
    p.add_argument("--villages", type=int, help="station villages (default 200, quick 30; 黎城县 has 186)")
    p.add_argument("--workers", type=int, help="ledger workers per village (default 300, quick 200)")
    p.add_argument("--rounds", type=int, help="timed rounds (default 100, quick 30)")
    p.add_argument("--warmup", type=int, default=5, help="untimed rounds first (5)")
    args = p.parse_args(argv)
    asked = args.villages or (30 if args.quick else 200)
    args.workers = args.workers or (200 if args.quick else 300)
    args.rounds = max(2, args.rounds or (30 if args.quick else 100))
    found = county_villages()
    if asked > len(found):
        print(f"黎城县 has {len(found)} villages, fewer than the {asked} asked: using all {len(found)}", flush=True)
    args.codes = found[:asked]
    backends = ["postgresql" if b == "postgres" else b for b in backend_list(args.backend)]
    print(f"employment benchmark: {len(args.codes)} villages x {args.workers} workers = "
          f"{len(args.codes) * args.workers:,} on {' and '.join(backends)}; {args.rounds} timed rounds after "
          f"{args.warmup} warm-up; {os.cpu_count()} CPUs, load average {loadavg()}", flush=True)
    t0 = time.perf_counter()
    summary, failed = run_backends(backends, lambda backend, workdir: run(backend, args, workdir),
                                   "hotline-bench-employment-")
    summary.update(villages=len(args.codes), villages_asked=asked, workers_per_village=args.workers,
                   rounds=args.rounds, warmup=args.warmup, total_s=round(time.perf_counter() - t0, 1))
    emit(summary)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
