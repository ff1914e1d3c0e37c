"""Emergency field work: server time of an operation's dashboard (the query and the page), the task
list filtered by state, and assigning a machine to a task and releasing it, over one operation of
5,000 tasks, against a bare GROUP BY of the tasks, bare renders and a bare conditional UPDATE.

What is measured
----------------
A scratch database (SQLite file or PostgreSQL) is migrated (``hotline.migrations.upgrade``), the
reference data is loaded, and one open operation of 瑶峰镇, 夏县 (``140828100``, 40 villages) is
bulk-inserted (Core ``INSERT`` of many rows): ``--tasks`` field tasks (default 5,000; ``--quick``
1,000) spread over the township's villages in every state (pending, scheduled, working, done,
cancelled; a fifth of the unfinished ones past their due day), each with its ``create`` event,
two progress reports for every task under way or done, ``--machines`` machines (default 500; quick
100) and ``--volunteers`` volunteers (default 2,000; quick 400) in the township's register, a third
of each on a scheduled or working task with its assignment row. Then ANALYZE. A handler of
瑶峰镇人民政府 (``xiaxian-yaofeng``, the township's coordinator) is added and signs in through
``POST /login``. Setup is timed and printed, not measured.

Measured (server time, ms, p50 / p95):

* **dashboard**: ``fieldwork.queries.dashboard`` for the operation as the coordinator, in its own
  read transaction; baseline: a bare ``SELECT village_code, state, count(*) ... GROUP BY`` of the
  operation's tasks;
* **dashboard_page** ``/fieldwork/operations/{id}`` and **tasks_page**
  ``/fieldwork/tasks?operation={id}&state=pending`` (the page shows up to 500 rows) as the
  coordinator; baseline: the same template rendered through the same ``env`` with the captured
  context of one real request (``bench/pages.py``'s bare pages);
* **assign** ``fieldwork.service.assign_machine`` (the conditional-UPDATE claim, the assignment, the
  task to 已安排, its event; committed) and **release** ``service.release`` (the machine freed, the
  assignment closed, the task back to 待安排; committed), alternately on one pending task and one
  free harvester, so the database ends as it began; baseline: a bare conditional ``UPDATE`` of the
  machine row (claim, committed; then free, committed).

Each measurement alternates with its baseline (baseline first on even rounds). Pages are called
through Starlette's ``TestClient`` and timed from the request's arrival to the last body message.
After ``--warmup`` untimed rounds (default 5), ``--rounds`` timed rounds (default 100; quick 30).

Run
---
    .venv/bin/python bench/fieldwork.py                       # SQLite; 5,000 tasks
    .venv/bin/python bench/fieldwork.py --backend both        # SQLite and PostgreSQL
    .venv/bin/python bench/fieldwork.py --quick               # 1,000 tasks, 100 machines, 400 people

The last line of output is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from datetime import UTC, datetime, timedelta
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

TOWNSHIP = "140828100"  # 瑶峰镇, 夏县
TOWN_UNIT = "xiaxian-yaofeng"
PASSWORD = "bench password 12345"
SLOW_MS = 200.0
STATES = ("pending", "scheduled", "working", "done", "cancelled")
KINDS = ("harvest", "harvest", "harvest", "drainage", "sowing", "road", "power")
MACHINE_KINDS = ("harvester", "harvester", "tractor", "pump", "seeder", "dryer", "truck", "generator")


def township_villages() -> list[str]:
    import csv

    path = Path(__file__).resolve().parents[1] / "src/hotline/directory/data/regions.csv"
    with path.open(encoding="utf-8") as fh:
        return sorted(r["code"] for r in csv.DictReader(fh) if r["level"] == "5" and r["parent_code"] == TOWNSHIP)


def generate(url: str, args: argparse.Namespace, now: datetime) -> dict[str, Any]:
    from sqlalchemy import insert, text

    from hotline.fieldwork.models import (
        Assignment,
        FieldTask,
        Machine,
        Operation,
        ProgressReport,
        TaskEvent,
        Volunteer,
    )
    from hotline.kit.db import Database

    villages = township_villages()
    today = now.date()
    db = Database(url)
    with db.transaction() as session:
        op_id = session.execute(insert(Operation).returning(Operation.id), [{
            "name": "瑶峰镇秋季抢收抢种", "township_code": TOWNSHIP, "crops": "玉米、谷子", "start_date": today - timedelta(days=10),
            "target_date": today + timedelta(days=10), "state": "open", "note": None, "created_by_id": None,
            "created_at": now - timedelta(days=10), "closed_at": None}]).scalar_one()
        tasks, task_events, reports = [], [], []
        for i in range(1, args.tasks + 1):
            state = STATES[(i * 7) % len(STATES)]
            kind = KINDS[i % len(KINDS)]
            area = None if kind in ("road", "power") else float(5 + i % 40)
            done = 0.0 if area is None or state in ("pending", "scheduled") else (
                area if state == "done" else round(area * ((i % 9) / 10), 1))
            unfinished = state in ("pending", "scheduled", "working")
            due = today - timedelta(days=1 + i % 3) if unfinished and i % 5 == 0 else today + timedelta(days=i % 10)
            tasks.append({
                "id": i, "operation_id": op_id, "village_code": villages[i % len(villages)], "plot": f"{i % 17 + 1}组东地",
                "farmer_name": "王建国", "farmer_phone": f"139{i:08d}", "crop": "玉米", "work_kind": kind, "area": area,
                "area_done": done, "priority": 1 + i % 3, "due_date": due, "state": state,
                "cancel_reason": "农户自行收割" if state == "cancelled" else None, "ticket_id": None, "note": None,
                "created_by_id": None, "created_at": now - timedelta(days=9, minutes=i), "updated_at": now - timedelta(minutes=i),
                "started_at": now - timedelta(days=2) if state in ("working", "done") else None,
                "finished_at": now - timedelta(days=1) if state == "done" else None})
            task_events.append({"task_id": i, "action": "create", "from_state": None, "to_state": "pending",
                                "actor_id": None, "at": now - timedelta(days=9, minutes=i), "note": None, "details": {}})
            if state in ("working", "done") and area:
                for k in (1, 2):
                    reports.append({"task_id": i, "area": round(done / 2, 1), "note": None, "reporter_id": None,
                                    "at": now - timedelta(days=2, hours=-k)})
        for k in range(0, len(tasks), 5000):
            session.execute(insert(FieldTask), tasks[k:k + 5000])
            session.execute(insert(TaskEvent), task_events[k:k + 5000])
        for k in range(0, len(reports), 5000):
            session.execute(insert(ProgressReport), reports[k:k + 5000])
        staffed = [t["id"] for t in tasks if t["state"] in ("scheduled", "working")]
        machines, volunteers, assignments = [], [], []
        for m in range(1, args.machines + 1):
            task = staffed[m % len(staffed)] if m % 3 == 0 and staffed else None
            machines.append({"id": m, "township_code": TOWNSHIP, "village_code": villages[m % len(villages)],
                             "kind": MACHINE_KINDS[m % len(MACHINE_KINDS)], "label": f"晋M{m:05d}",
                             "owner": f"瑶峰农机合作社{m % 20}", "owner_kind": "cooperative", "phone": f"138{m:08d}",
                             "state": "working" if task else ("repair" if m % 25 == 1 else "available"), "task_id": task,
                             "created_at": now - timedelta(days=30)})
            if task:
                assignments.append({"task_id": task, "machine_id": m, "volunteer_id": None, "assigned_by_id": None,
                                    "assigned_at": now - timedelta(days=3), "released_at": None})
        for v in range(1, args.volunteers + 1):
            task = staffed[(v * 3) % len(staffed)] if v % 3 == 0 and staffed else None
            volunteers.append({"id": v, "township_code": TOWNSHIP, "village_code": villages[v % len(villages)],
                               "name": f"志愿者{v}", "phone": f"137{v:08d}", "skills": "驾驶" if v % 4 == 0 else None,
                               "available": v % 10 != 1 or task is not None, "task_id": task,
                               "created_at": now - timedelta(days=30)})
            if task:
                assignments.append({"task_id": task, "machine_id": None, "volunteer_id": v, "assigned_by_id": None,
                                    "assigned_at": now - timedelta(days=3), "released_at": None})
        session.execute(insert(Machine), machines)
        for k in range(0, len(volunteers), 5000):
            session.execute(insert(Volunteer), volunteers[k:k + 5000])
        for k in range(0, len(assignments), 5000):
            session.execute(insert(Assignment), assignments[k:k + 5000])
        if db.engine.dialect.name == "postgresql":
            for table in ("fieldwork_tasks", "fieldwork_machines", "fieldwork_volunteers"):
                session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
    with db.engine.connect() as conn:
        if db.engine.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
        else:
            conn.execute(text("ANALYZE"))
            conn.commit()
    db.dispose()
    # the task and machine the assign/release measurement uses: a pending harvest task with nobody on
    # it, and a free harvester
    task = next(t["id"] for t in tasks if t["state"] == "pending" and t["work_kind"] == "harvest"
                and t["id"] not in set(staffed))
    machine = next(m["id"] for m in machines if m["kind"] == "harvester" and m["state"] == "available")
    return {"operation_id": op_id, "villages": len(villages), "tasks": len(tasks), "events": len(task_events),
            "progress": len(reports), "machines": len(machines), "volunteers": len(volunteers),
            "assignments": len(assignments), "task_id": task, "machine_id": machine,
            "pending": sum(1 for t in tasks if t["state"] == "pending")}


def prepare(url: str, args: argparse.Namespace, now: datetime) -> dict[str, Any]:
    reference_s = migrated_with_user(url, username="bench-town", display_name="瑶峰调度", unit_code=TOWN_UNIT,
                                     password=PASSWORD)
    t1 = time.perf_counter()
    info = generate(url, args, now)
    return {"reference_s": reference_s, "generate_s": time.perf_counter() - t1, **info}


def run(backend: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    with scratch_database(backend, workdir, "fieldwork") as (url, _path):
        return _run(backend, url, args, workdir)


def _run(backend: str, url: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from fastapi.testclient import TestClient
    from sqlalchemy import select, text

    from hotline.accounts.models import User
    from hotline.config import Settings
    from hotline.fieldwork import queries, service
    from hotline.fieldwork.access import field_scope
    from hotline.fieldwork.models import FieldTask, Machine, Operation
    from hotline.kit.db import Database
    from hotline.web.app import create_site

    now = datetime.now(UTC).replace(microsecond=0)
    setup = prepare(url, args, now)
    print(f"  set up: migrate + reference data {setup['reference_s']:.1f} s; 1 operation, {setup['tasks']:,} tasks "
          f"({setup['pending']:,} pending) over {setup['villages']} villages, {setup['events']:,} events, "
          f"{setup['progress']:,} progress reports, {setup['machines']:,} machines, {setup['volunteers']:,} volunteers, "
          f"{setup['assignments']:,} assignments generated in {setup['generate_s']:.1f} s", flush=True)

    db = Database(url)
    with db.transaction(write=False) as session:
        user_id = session.scalars(select(User.id).where(User.username == "bench-town")).one()
        scope = field_scope(session, session.get(User, user_id))
    if scope.townships != frozenset({TOWNSHIP}):
        raise RuntimeError(f"the township handler's scope is {scope}, not {TOWNSHIP}")
    op_id, task_id, machine_id = setup["operation_id"], setup["task_id"], setup["machine_id"]

    def f_dashboard() -> Any:
        with db.transaction(write=False) as session:
            return queries.dashboard(session, scope, session.get(Operation, op_id))

    def b_dashboard() -> Any:
        with db.transaction(write=False) as session:
            return session.execute(text(
                "SELECT village_code, state, count(*) FROM fieldwork_tasks WHERE operation_id = :op "
                "GROUP BY village_code, state"), {"op": op_id}).all()

    def f_assign() -> Any:
        with db.transaction() as session:
            return service.assign_machine(session, session.get(FieldTask, task_id), session.get(Machine, machine_id),
                                          actor=session.get(User, user_id))

    def f_release() -> Any:
        with db.transaction() as session:
            return service.release(session, session.get(FieldTask, task_id), actor=session.get(User, user_id),
                                   machine=session.get(Machine, machine_id))

    def b_claim() -> Any:
        with db.transaction() as session:
            won = session.execute(text(
                "UPDATE fieldwork_machines SET state = 'working', task_id = :t WHERE id = :m "
                "AND state = 'available' AND task_id IS NULL"), {"t": task_id, "m": machine_id}).rowcount
        if won != 1:
            raise RuntimeError("bare claim lost")

    def b_free() -> Any:
        with db.transaction() as session:
            session.execute(text("UPDATE fieldwork_machines SET state = 'available', task_id = NULL WHERE id = :m"),
                            {"m": machine_id})

    board = f_dashboard()
    problems: list[str] = []
    if board["tasks"] != setup["tasks"] or not board["overdue"]:
        problems.append(f"dashboard: {board['tasks']} tasks, {board['overdue']} overdue")
    with db.transaction(write=False) as session:
        if session.get(FieldTask, task_id).state.value != "pending":
            problems.append("the assign task is not pending")

    site = Timed(create_site(Settings(data_dir=workdir, database_url=url), database=db))
    gc.collect()
    gc.freeze()
    client = TestClient(site, follow_redirects=False)
    r = client.post("/login", data={"username": "bench-town", "password": PASSWORD})
    if r.status_code != 303:
        raise RuntimeError(f"sign-in refused: {r.status_code} {r.text[:300]}")
    pages = {
        "dashboard_page": (f"/fieldwork/operations/{op_id}", "瑶峰镇秋季抢收抢种"),
        "tasks_page": (f"/fieldwork/tasks?operation={op_id}&state=pending", "作业任务"),
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
        if name == "tasks_page":
            shown[name].update(rows=len(ctx["rows"]), total=ctx["total"])
        else:
            shown[name].update(villages=len(ctx["board"]["villages"]), overdue_shown=len(ctx["overdue"]))
    bare = Timed(bare_app(captured))
    bare_client = TestClient(bare)

    def hit(c: Any, app: Timed, path: str) -> float:
        r = c.get(path)
        if r.status_code != 200:
            raise RuntimeError(f"{path}: {r.status_code} {r.text[:300]}")
        return app.last_ms

    names = ("dashboard", "dashboard_page", "tasks_page", "assign", "release")
    t: dict[str, dict[str, list[float]]] = {k: {"main": [], "bare": []} for k in names}
    for i in range(args.warmup + args.rounds):
        keep = i >= args.warmup

        def put(name: str, which: str, x: float, keep: bool = keep) -> None:
            if keep:
                t[name][which].append(x)

        pairs = [((lambda: elapsed_ms(f_dashboard)), (lambda: elapsed_ms(b_dashboard)), "dashboard")]
        for name, (path, _must) in pages.items():
            pairs.append(((lambda p=path: hit(client, site, p)), (lambda n=name: hit(bare_client, bare, f"/bare/{n}")),
                          name))
        for main, base, name in pairs:
            if i % 2:
                put(name, "main", main())
                put(name, "bare", base())
            else:
                put(name, "bare", base())
                put(name, "main", main())
        # assign then release (the service), and the bare claim then free, in alternating order
        if i % 2:
            put("assign", "main", elapsed_ms(f_assign))
            put("release", "main", elapsed_ms(f_release))
            put("assign", "bare", elapsed_ms(b_claim))
            put("release", "bare", elapsed_ms(b_free))
        else:
            put("assign", "bare", elapsed_ms(b_claim))
            put("release", "bare", elapsed_ms(b_free))
            put("assign", "main", elapsed_ms(f_assign))
            put("release", "main", elapsed_ms(f_release))
    with db.transaction(write=False) as session:
        if session.get(FieldTask, task_id).state.value != "pending" or session.get(Machine, machine_id).task_id:
            problems.append("after assign/release the task is not pending or the machine not free")

    # the statements the dashboard sends (one call, captured) and their plans
    plans = statement_plans(db.engine, backend, f_dashboard)
    db.dispose()

    out = timing_table(t, shown, SLOW_MS)
    print(f"  shown: {shown}", flush=True)
    print_plans("the dashboard", plans)
    for p_ in problems:
        print(f"  PROBLEM: {p_}", flush=True)
    out.update(setup={k: (round(v, 1) if isinstance(v, float) else v) for k, v in setup.items()},
               plans=plans, problems=problems, ok=not problems)
    return out


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__, "1,000 tasks, 100 machines, 400 volunteers, 30 rounds; under a minute")
    p.add_argument("--backend", choices=["sqlite", "postgres", "postgresql", "both"], default="sqlite",
                   help="SQLite (default), PostgreSQL on 127.0.0.1:5432, or both")
    p.add_argument("--tasks", type=int, help="tasks of the operation (default 5,000, quick 1,000)")
    p.add_argument("--machines", type=int, help="machines in the register (default 500, quick 100)")
    p.add_argument("--volunteers", type=int, help="volunteers in the register (default 2,000, quick 400)")
    p.add_argument("--rounds", type=int, help="timed rounds (default 100, quick 30)")
    p.add_argument("--warmup", type=int, default=5, help="untimed rounds first (5)")
    args = p.parse_args(argv)
    args.tasks = max(50, args.tasks or (1_000 if args.quick else 5_000))
    args.machines = max(10, args.machines or (100 if args.quick else 500))
    args.volunteers = max(10, args.volunteers or (400 if args.quick else 2_000))
    args.rounds = max(2, args.rounds or (30 if args.quick else 100))
    backends = ["postgresql" if b == "postgres" else b for b in backend_list(args.backend)]
    print(f"fieldwork benchmark: {args.tasks:,} tasks, {args.machines:,} machines, {args.volunteers:,} volunteers on "
          f"{' and '.join(backends)}; {args.rounds} timed rounds after {args.warmup} warm-up; {os.cpu_count()} CPUs, "
          f"load average {loadavg()}", flush=True)
    t0 = time.perf_counter()
    summary, failed = run_backends(backends, lambda backend, workdir: run(backend, args, workdir),
                                   "hotline-bench-fieldwork-")
    summary.update(tasks=args.tasks, machines=args.machines, volunteers=args.volunteers, rounds=args.rounds,
                   warmup=args.warmup, total_s=round(time.perf_counter() - t0, 1))
    emit(summary)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
