"""The ticket list's Excel export (``/tickets.xlsx``, ``hotline.tickets.export``): time and peak memory
of a county unit's year of tickets, against a bare export of the same rows measured in the same run.

What is measured
----------------
A scratch database (SQLite file or PostgreSQL) is migrated, the reference data loaded, and a
handler of 夏县水利局 (``xiaxian-water``) added. ``--tickets`` tickets (default 200,000; ``--quick``
20,000) are bulk-inserted in SQL (``INSERT ... SELECT``) over one year, every one with the unit as
its lead (a ``ticket_units`` row each), real request texts (``bench/duplicate_cases.py``), a caller
(every tenth confidential), statuses from 受理 to 办结 with reply deadlines, replies, callbacks.
Then ANALYZE. Setup is timed and printed, not measured.

Each measurement runs in a fresh Python process (``--child``) that imports, connects, then exports
into a file in the run's temporary directory, and reports the seconds the export took, its rows,
the file's size, the resident memory just before the export and the peak resident memory during it
(Linux ``VmHWM``, reset just before); *growth* is peak minus before. Measured, as the handler (its scope: an
``EXISTS`` on ``ticket_units``; confidential callers masked):

* **export**: ``hotline.tickets.export`` of every ticket received since a date (the
  ``TicketFilter`` the list builds, plus ``received_from``), written to a file, as the web route does;
* **bare xlsx**: the same rows (same ``WHERE`` and order, 19 raw columns) read with a server-side
  cursor in batches and appended to an openpyxl write-only sheet as they come (times made naive,
  nothing looked up, masked or formatted);
* **bare csv**: the same rows written with the ``csv`` module.

Each at two sizes: the newest tenth of the tickets and all of them. Memory that does not grow with
the number of rows shows as the same growth at both sizes.

Run
---
    .venv/bin/python bench/export.py                      # SQLite, 200,000 tickets
    .venv/bin/python bench/export.py --backend both       # SQLite and PostgreSQL
    .venv/bin/python bench/export.py --quick              # 20,000 tickets

The last line of output is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from common import (
    BulkSQL,
    backend_list,
    emit,
    is_pg,
    migrated_with_user,
    parser,
    run_backends,
    scratch_database,
)

UNIT = "xiaxian-water"
USERNAME = "bench-water"
PASSWORD = "bench password 12345"
YEAR = 365 * 86400
BARE_COLUMNS = ("number", "received_at", "channel", "kind", "urgency", "category_code", "region_code", "address",
                "title", "content", "caller_name", "caller_phone", "status", "lead_unit_id", "reply_due_at",
                "replied_at", "closed_at", "resolved", "satisfaction")
MODES = ("export", "bare_xlsx", "bare_csv")


# ------------------------------------------------------------------ data


def generate(backend: str, url: str, path: Path | None, n: int, now: datetime) -> dict[str, Any]:
    """``n`` tickets over the year before ``now``, the unit the lead of each; returns counts."""
    import sqlite3

    import duplicate_cases as cases
    from sqlalchemy import create_engine, select, text

    from hotline.directory.models import Category, Region, Unit
    from hotline.kit.db import Database

    db = Database(url)
    with db.transaction(write=False) as session:
        unit_id = session.scalar(select(Unit.id).where(Unit.code == UNIT))
        cats = list(session.scalars(select(Category.code).where(Category.level == 2).order_by(Category.code)))
        villages = list(session.scalars(select(Region.code).where(Region.level == 5, Region.code.startswith("140828"))
                                        .order_by(Region.code)))
    db.dispose()
    texts = [t for g in cases.GROUPS for t in g.texts]
    lists = {"category": cats, "region": villages, "text": texts, "title": [t[:20] for t in texts],
             "name": ["张先生", "李女士", "王先生", "赵女士", "刘先生", "陈女士"],
             "satisfaction": ["satisfied", "satisfied", "basically_satisfied", "dissatisfied", "not_reached"]}
    sql = BulkSQL(backend, now, (now - timedelta(seconds=YEAR)).date(), lists)
    per_day = -(-n // 365)
    recv = f"(-{YEAR} + (g - 1) * {YEAR} / {n})"
    # Older tickets are closed; the last weeks' are spread over the open states (some overdue).
    status = (f"CASE WHEN g <= {n - n // 20} THEN 'closed' WHEN g % 5 = 0 THEN 'dispatched' WHEN g % 5 = 1 "
              "THEN 'accepted' WHEN g % 5 = 2 THEN 'in_progress' WHEN g % 5 = 3 THEN 'replied' ELSE 'callback_pending' END")
    closed = f"g <= {n - n // 20}"
    cols = ("id, number, query_code, version, channel, kind, category_code, urgency, status, caller_name, "
            "caller_phone, caller_confidential, caller_anonymous, region_code, address, title, content, received_at, "
            "lead_unit_id, dispatched_at, reply_due_at, replied_at, closed_at, resolved, satisfaction, due_basis, "
            "suspended_seconds, extension_count, dispatch_count, reopen_count, callback_attempts, updated_at")
    true, false = ("true", "false") if sql.pg else ("1", "0")
    select_sql = (
        f"SELECT g, {sql.number(f'(g - 1) / {per_day}', f'(g - 1) % {per_day} + 1')}, "
        f"{sql.pad6('(g * 7919) % 1000000')}, 1, CASE WHEN g % 4 = 0 THEN 'web' ELSE 'phone' END, 'help', "
        f"{sql.pick('category', 'g * 13')}, CASE WHEN g % 17 = 0 THEN 'urgent' ELSE 'normal' END, {status}, "
        f"{sql.pick('name', 'g')}, '138' || {sql.pad6('(g * 31) % 1000000')} || (g % 100), "
        f"CASE WHEN g % 10 = 3 THEN {true} ELSE {false} END, {false}, {sql.pick('region', '(g * 7) / 3')}, "
        f"'村东' || (g % 50) || '号', {sql.pick('title', 'g * 11')}, {sql.pick('text', 'g * 11')} || '（来电' || g || '）', "
        f"{sql.at(recv)}, {unit_id}, {sql.at(recv + ' + 600')}, {sql.at(recv + f' + {15 * 86400}')}, "
        f"CASE WHEN {closed} OR g % 5 >= 3 THEN {sql.at(recv + f' + {5 * 86400}')} END, "
        f"CASE WHEN {closed} THEN {sql.at(recv + f' + {7 * 86400}')} END, "
        f"CASE WHEN {closed} THEN (CASE WHEN g % 3 = 0 THEN {false} ELSE {true} END) END, "
        f"CASE WHEN {closed} THEN {sql.pick('satisfaction', 'g')} END, {sql.json_empty}, 0, 0, 1, 0, 0, "
        f"{sql.at(recv)} FROM {sql.source(n)}"
    )
    units_sql = ("INSERT INTO ticket_units (ticket_id, unit_id, role, status, dispatched_at) "
                 f"SELECT id, {unit_id}, 'lead', CASE WHEN status = 'dispatched' THEN 'dispatched' ELSE 'accepted' END, "
                 "dispatched_at FROM tickets")
    if is_pg(backend):
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as c:
            c.execute(text(f"INSERT INTO tickets ({cols}) {select_sql}"), sql.params)
            c.execute(text(units_sql))
            c.execute(text("VACUUM ANALYZE"))
        engine.dispose()
    else:
        con = sqlite3.connect(path, isolation_level=None)
        con.execute("PRAGMA synchronous=OFF")
        con.execute("BEGIN")
        sql.load(lambda q, rows: con.executemany(q, rows) if rows is not None else con.execute(q))
        con.execute(f"INSERT INTO tickets ({cols}) {select_sql}")
        con.execute(units_sql)
        con.execute("COMMIT")
        con.execute("ANALYZE")
        con.close()
    return {"tickets": n, "unit_id": unit_id}


# ------------------------------------------------------------------ one measurement (a child process)


def memory_mb(field: str) -> float:
    """``VmRSS`` (resident now) or ``VmHWM`` (the peak since the last :func:`reset_peak`), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def reset_peak() -> None:
    """Start the peak from the memory resident now (Linux: ``5`` into ``clear_refs`` resets VmHWM), so
    that what importing and connecting touched and freed does not count."""
    Path("/proc/self/clear_refs").write_text("5")


def _bare_query(unit_id: int, since: datetime) -> Any:
    from sqlalchemy import exists, select

    from hotline.tickets.models import Ticket, TicketUnit

    cols = [Ticket.__table__.c[name] for name in BARE_COLUMNS]
    return (select(*cols).where(exists().where(TicketUnit.ticket_id == Ticket.id, TicketUnit.unit_id == unit_id,
                                               TicketUnit.status != "withdrawn"), Ticket.received_at >= since)
            .order_by(Ticket.received_at.desc(), Ticket.id.desc()))


def _bare_rows(session: Any, unit_id: int, since: datetime, batch: int) -> Any:
    """The same rows as plain tuples, times without their zone, through a server-side cursor."""
    result = session.execute(_bare_query(unit_id, since).execution_options(stream_results=True, yield_per=batch))
    for row in result:
        yield [v.replace(tzinfo=None) if isinstance(v, datetime) else v for v in row]


def child(mode: str, url: str, since: datetime, out: Path, batch: int) -> dict[str, Any]:
    import csv

    from openpyxl import Workbook
    from sqlalchemy import select

    from hotline.accounts.models import User
    from hotline.accounts.scope import scope_for
    from hotline.kit.db import Database
    from hotline.tickets import export, queries

    db = Database(url)
    with db.transaction(write=False) as session:
        user = session.scalar(select(User).where(User.username == USERNAME))
        scope, unit_id = scope_for(user), user.unit_id
        session.expunge(user)
    reset_peak()
    before = memory_mb("VmRSS")
    t0 = time.perf_counter()
    with db.transaction(write=False) as session:
        if mode == "export":
            f = queries.TicketFilter(received_from=since)
            rows = export.write(session, scope, f, out, filters_text=export.describe(f), batch=batch).written
        elif mode == "bare_xlsx":
            wb = Workbook(write_only=True)
            sheet = wb.create_sheet("工单")
            sheet.append(list(BARE_COLUMNS))
            rows = sum(1 for _ in map(sheet.append, _bare_rows(session, unit_id, since, batch)))
            wb.save(out)
        else:
            with out.open("w", newline="", encoding="utf-8") as fh:
                w = csv.writer(fh)
                w.writerow(BARE_COLUMNS)
                rows = sum(1 for _ in map(w.writerow, _bare_rows(session, unit_id, since, batch)))
    seconds = time.perf_counter() - t0
    peak = memory_mb("VmHWM")
    db.dispose()
    return {"seconds": round(seconds, 2), "rows": rows, "file_mb": round(out.stat().st_size / 2**20, 1),
            "rss_before_mb": round(before, 1), "rss_peak_mb": round(peak, 1), "growth_mb": round(peak - before, 1)}


def measure(mode: str, url: str, since: datetime, out: Path, batch: int) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", mode, "--url", url, "--since", since.isoformat(),
           "--out", str(out), "--batch", str(batch)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{mode} failed: {done.stderr.strip()[-1000:]}")
    out.unlink(missing_ok=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------ a backend


def run(backend: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    now = datetime.now(UTC).replace(microsecond=0)
    with scratch_database(backend, workdir, "export") as (url, path):
        t0 = time.perf_counter()
        reference_s = migrated_with_user(url, username=USERNAME, display_name="夏县水利局经办人", unit_code=UNIT,
                                         password=PASSWORD)
        t1 = time.perf_counter()
        info = generate(backend, url, path, args.tickets, now)
        print(f"  setup: reference data {reference_s:.1f} s, {args.tickets:,} tickets {time.perf_counter() - t1:.1f} s",
              flush=True)
        sizes = {"tenth": now - timedelta(seconds=YEAR // 10), "all": now - timedelta(seconds=YEAR + 86400)}
        figures: dict[str, Any] = {}
        print(f"  {'measured':10s} {'size':>6s} {'rows':>8s} {'seconds':>8s} {'rows/s':>8s} {'file MB':>8s} "
              f"{'RSS before':>10s} {'peak':>7s} {'growth MB':>9s}", flush=True)
        for size, since in sizes.items():
            for mode in MODES:
                m = measure(mode, url, since, workdir / f"{mode}-{size}.out", args.batch)
                figures.setdefault(mode, {})[size] = m
                print(f"  {mode:10s} {size:>6s} {m['rows']:8,d} {m['seconds']:8.1f} "
                      f"{m['rows'] / max(m['seconds'], 1e-9):8,.0f} {m['file_mb']:8.1f} {m['rss_before_mb']:10.0f} "
                      f"{m['rss_peak_mb']:7.0f} {m['growth_mb']:9.0f}", flush=True)
        return {"setup_s": round(time.perf_counter() - t0, 1), **info, "batch": args.batch, **figures}


def main() -> None:
    p = parser(__doc__, "20,000 tickets instead of 200,000 (same measurement)")
    p.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="sqlite")
    p.add_argument("--tickets", type=int, default=None, help="tickets generated (default 200,000; quick 20,000)")
    p.add_argument("--batch", type=int, default=None, help="rows read per batch (default: the export's own, 1,000)")
    p.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    p.add_argument("--url", help=argparse.SUPPRESS)
    p.add_argument("--since", help=argparse.SUPPRESS)
    p.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.url, datetime.fromisoformat(args.since), args.out, args.batch)))
        return
    args.tickets = args.tickets or (20_000 if args.quick else 200_000)
    if args.batch is None:
        from hotline.tickets.export import BATCH

        args.batch = BATCH
    summary, failed = run_backends(backend_list(args.backend), lambda b, d: run(b, args, d), "hotline-bench-export-")
    emit({"benchmark": "export", "quick": args.quick, "tickets": args.tickets, **summary})
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
