"""Deadline sweep: time to find and claim the due tickets among a million open ones, against a bare
indexed SELECT of the same rows.

What is measured
----------------
For each backend (SQLite file in a temp dir; PostgreSQL on 127.0.0.1:5432 as user ``postgres``, a
fresh database created for the run and dropped after) a database is migrated
(``hotline.migrations.upgrade``), the reference data is loaded (categories, regions, units) and
``--tickets`` open tickets (default 1,000,000; ``--quick`` 100,000) are bulk-generated in SQL
(PostgreSQL ``generate_series``, SQLite a recursive CTE), every NOT NULL column filled: unique
numbers, open statuses, due times, a lead unit, Chinese text. ``watch_at`` (the sweep's mark, indexed
by ``ix_tickets_watch_at``) is scattered over the table by a permutation of the ids:
``--due-share`` of the tickets (default 1%) are due (marks spread over the past two weeks),
``--null-share`` (default 5%, suspended tickets) have no clock (NULL), the rest are due over the
next four weeks. Then ANALYZE (VACUUM ANALYZE on PostgreSQL). Setup is timed and printed, not
measured.

Then, after one untimed warm-up of each, ``--repeats`` rounds (default 5) alternate:

* **bare batch** / **bare all**: ``SELECT id FROM tickets WHERE watch_at <= ? ORDER BY watch_at``
  with ``LIMIT batch`` / without a limit, on a plain DB-API cursor (no SQLAlchemy, no
  transaction of its own on SQLite, rolled back on PostgreSQL), rows fetched;
* **find batch** / **find all**: the sweep's find step as ``claim_due`` runs it:
  ``hotline.supervision.sweep.find_due`` in ``Database.transaction(write=True)`` (``BEGIN IMMEDIATE``
  on SQLite; ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so the rows are locked), committed; with
  ``batch=--batch`` (default 500) and with ``batch=`` every due ticket in one query;
* **claim all**: ``hotline.supervision.sweep.claim_due`` called batch after batch until it
  returns nothing: each call finds a batch and claims it with the conditional UPDATE, committed per
  batch. Every due ticket must be claimed exactly once. Not timed afterwards: ``watch_at`` of the
  claimed rows is put back from a side table holding the original marks (then VACUUM ANALYZE on
  PostgreSQL, as autovacuum would), and the due count is checked.

Reported per backend: median and max of each, ``ratio`` = find batch / bare batch (and all / all),
the query plans (``EXPLAIN`` / ``EXPLAIN QUERY PLAN`` of the very statements ``find_due`` sends,
captured from the engine, and of the bare one) and ``uses_index``: every plan names
``ix_tickets_watch_at``. The target is the find step under 2 s (``target_met``: the median of
*find all*, every due ticket in one query, which bounds the per-batch find from above).

Run
---
    .venv/bin/python bench/sweep.py                      # 1,000,000 tickets on both backends
    .venv/bin/python bench/sweep.py --quick              # 100,000 tickets; under a minute
    .venv/bin/python bench/sweep.py --backend sqlite     # or postgres, or both (default)
    .venv/bin/python bench/sweep.py --tickets 300000 --due-share 0.05 --batch 1000 --repeats 7

The last line of output is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if (ROOT / "src").is_dir():
    sys.path.insert(0, str(ROOT / "src"))

from common import emit, loadavg, parser, pg_create, pg_drop, run_backends, sqlite_ts, timed  # noqa: E402

TARGET_MS = 2000.0
INDEX = "ix_tickets_watch_at"
PAST = 14 * 86400  # due marks spread over the past two weeks
FUTURE = 28 * 86400  # the others over the next four weeks
RECEIVED = 60 * 86400  # tickets received over the past two months

TEXTS = [
    "村东的供水闸阀井漏水了，整个供水站停水，附近几个村都没水吃，请尽快派人抢修。",
    "小区从昨天晚上开始停水，物业说不清楚原因，家里有老人孩子，希望尽快恢复供水。",
    "最近一周自来水发黄有异味，烧开后有沉淀，担心水质不安全，请相关部门检测。",
    "整条街突然停电，已经三个小时了，冰箱里的东西都要坏了，请供电公司尽快抢修。",
    "晚上用电高峰电压很低，灯一直闪，空调启动不了，已经持续半个月了。",
    "供暖开始后家里暖气一直不热，室温只有十二度，找了物业也没有解决。",
    "小区电梯经常坏，物业维修不及时，楼里很多老人上下楼很困难，请督促物业整改。",
    "路口的垃圾堆放了好几天没人清运，气味很大，夏天容易滋生蚊蝇。",
    "附近工地夜里十一点以后还在施工，噪音很大，严重影响居民休息。",
    "想咨询一下新房子自来水开户需要带什么材料，在哪里办理，收费标准是多少。",
]
CALLERS = ["张先生", "李女士", "王师傅", "赵女士", "刘先生", "陈女士", "杨师傅"]
CHANNELS = ["phone", "phone", "phone", "web", "mobile", "phone", "web", "phone"]


# ------------------------------------------------------------------ databases










def _prime_for(n: int) -> int:
    """A multiplier coprime with ``n``: ``(g * p) % n`` permutes 0..n-1, scattering due tickets."""
    for p in (1_000_003, 999_983, 1_000_033, 7919):
        if math.gcd(p, n) == 1:
            return p
    raise ValueError(f"no multiplier for {n}")


class Layout:
    """Which ticket gets which mark, from k = (id * p) % n: k < due: due; k >= n - nulls: no clock."""

    def __init__(self, n: int, due_share: float, null_share: float):
        self.n = n
        self.due = max(0, min(n, round(n * due_share)))
        self.nulls = max(0, min(n - self.due, round(n * null_share)))
        self.later = n - self.due - self.nulls
        self.p = _prime_for(n)


def _columns() -> str:
    return (
        "id, number, query_code, version, channel, kind, category_code, urgency, status, "
        "caller_name, caller_phone, caller_confidential, caller_anonymous, region_code, address, "
        "title, content, received_at, lead_unit_id, dispatch_due_at, accept_due_at, contact_due_at, "
        "reply_due_at, due_basis, dispatched_at, accepted_at, suspended_at, suspended_seconds, "
        "extension_count, dispatch_count, reopen_count, callback_attempts, watch_at, updated_at"
    )


def _select(
    lay: Layout,
    *,
    at: Callable[[str], str],
    pick: Callable[[str, str], str],
    number: Callable[[str, str], str],
    pad6: Callable[[str], str],
    false: str,
    json_empty: str,
) -> str:
    """The generating SELECT over ``s(g, k)``, dialect bits passed in as small functions."""
    n, due, nulls, later = lay.n, lay.due, lay.nulls, lay.later
    per_day = -(-n // 60)
    # received over the past 60 days, in id order (ids are registration order)
    recv = f"(-{RECEIVED} + (g - 1) * {RECEIVED} / {n})"
    status = (
        f"CASE WHEN k >= {n - nulls} THEN 'suspended' "
        "WHEN g % 10 = 0 THEN 'registered' WHEN g % 10 < 4 THEN 'dispatched' "
        "WHEN g % 10 < 7 THEN 'accepted' ELSE 'in_progress' END"
    )
    working = f"(k >= {n - nulls} OR g % 10 <> 0)"
    accepted = f"(k >= {n - nulls} OR g % 10 >= 4)"
    watch = (
        f"CASE WHEN k < {due} THEN {at(f'-1 - k * {PAST} / {max(due, 1)}')} "
        f"WHEN k >= {n - nulls} THEN NULL "
        f"ELSE {at(f'60 + (k - {due}) * {FUTURE} / {max(later, 1)}')} END"
    )
    return (
        "SELECT g, "
        f"{number(f'(g - 1) / {per_day}', f'(g - 1) % {per_day} + 1')}, "
        f"{pad6('(g * 7919) % 1000000')}, 1, "
        f"{pick('channel', 'g')}, {pick('kind', 'g / 7')}, {pick('category', 'g / 7')}, "
        "CASE WHEN g % 20 = 0 THEN 'urgent' ELSE 'normal' END, "
        f"{status}, "
        f"{pick('caller', 'g')}, '138' || {pad6('(g * 31) % 1000000')} || (g / 10 % 10) || (g % 10), "
        f"{false}, {false}, {pick('region', 'g / 3')}, (g % 97 + 1) || '号院' || (g % 6 + 1) || '单元', "
        f"{pick('title', 'g / 11')}, {pick('text', 'g / 11')}, "
        f"{at(recv)}, "
        f"CASE WHEN {working} THEN {pick('unit', 'g / 5')} END, "
        f"{at(recv + ' + 7200')}, {at(recv + ' + 86400')}, {at(recv + ' + 2 * 86400')}, "
        f"{at(recv + ' + 15 * 86400')}, {json_empty}, "
        f"CASE WHEN {working} THEN {at(recv + ' + 1800')} END, "
        f"CASE WHEN {accepted} THEN {at(recv + ' + 7200')} END, "
        f"CASE WHEN k >= {n - nulls} THEN {at(recv + ' + 3 * 86400')} END, "
        f"0, 0, CASE WHEN {working} THEN 1 ELSE 0 END, 0, 0, "
        f"{watch}, {at(recv + ' + 7200')} "
        "FROM s"
    )


def _reference(session: Any) -> dict[str, list[Any]]:
    from sqlalchemy import select

    from hotline.directory.models import Category, Region, Unit

    cats = list(
        session.execute(
            select(Category.code, Category.default_kind).where(Category.level == 2).order_by(Category.code)
        )
    )
    regions = list(session.scalars(select(Region.code).where(Region.level == 5).order_by(Region.code)))
    if not regions:
        regions = list(session.scalars(select(Region.code).order_by(Region.code)))
    units = list(session.scalars(select(Unit.id).where(Unit.kind != "hotline_center").order_by(Unit.id)))
    return {
        "category": [c for c, _ in cats],
        "kind": [str(getattr(k, "value", k)) for _, k in cats],
        "region": regions,
        "unit": units,
        "channel": CHANNELS,
        "caller": CALLERS,
        "text": TEXTS,
        "title": [t[:20] for t in TEXTS],
    }


def generate_sqlite(path: Path, lay: Layout, now: datetime, ref: dict[str, list[Any]]) -> None:
    import sqlite3

    con = sqlite3.connect(path, isolation_level=None)
    try:
        # Bulk load without the WAL's double write; the Database engine switches WAL back on.
        con.execute("PRAGMA journal_mode=DELETE")
        con.execute("PRAGMA synchronous=OFF")
        con.execute("PRAGMA cache_size=-262144")
        con.execute("PRAGMA temp_store=MEMORY")
        con.execute("BEGIN")
        for name, values in ref.items():
            con.execute(f"CREATE TEMP TABLE bench_{name} (i INTEGER PRIMARY KEY, v)")
            con.executemany(f"INSERT INTO bench_{name} VALUES (?, ?)", list(enumerate(values)))
        base = now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        day0 = (now - timedelta(seconds=RECEIVED)).astimezone(UTC).strftime("%Y-%m-%d")

        def at(secs: str) -> str:
            return f"(strftime('%Y-%m-%d %H:%M:%S', '{base}', ({secs}) || ' seconds') || '.000000')"

        def pick(name: str, idx: str) -> str:
            return f"(SELECT v FROM bench_{name} WHERE i = ({idx}) % {len(ref[name])})"

        def number(day: str, seq: str) -> str:
            return f"(strftime('%Y%m%d', '{day0}', ({day}) || ' days') || '-' || printf('%06d', {seq}))"

        select = _select(
            lay,
            at=at,
            pick=pick,
            number=number,
            pad6=lambda e: f"printf('%06d', {e})",
            false="0",
            json_empty="'{}'",
        )
        # Build the secondary indexes once after the load instead of row by row.
        indexes = con.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
            "AND tbl_name = 'tickets' AND sql IS NOT NULL"
        ).fetchall()
        for name, _ in indexes:
            con.execute(f'DROP INDEX "{name}"')
        con.execute(
            f"WITH RECURSIVE r(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM r WHERE g < {lay.n}), "
            f"s(g, k) AS (SELECT g, (g * {lay.p}) % {lay.n} FROM r) "
            f"INSERT INTO tickets ({_columns()}) {select}"
        )
        for _, ddl in indexes:
            con.execute(ddl)
        con.execute("COMMIT")
        con.execute("ANALYZE")
        con.execute("PRAGMA journal_mode=WAL")
    finally:
        con.close()


def generate_postgres(url: str, lay: Layout, now: datetime, ref: dict[str, list[Any]]) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    params: dict[str, Any] = {"now": now, "day0": (now - timedelta(seconds=RECEIVED)).date()}
    params.update({f"a_{name}": [str(v) for v in values] for name, values in ref.items()})

    def at(secs: str) -> str:
        return f"(CAST(:now AS timestamptz) + make_interval(secs => ({secs})))"

    def pick(name: str, idx: str) -> str:
        cast = "int[]" if name == "unit" else "text[]"
        return f"(CAST(:a_{name} AS {cast}))[(1 + ({idx}) % {len(ref[name])})::int]"

    def number(day: str, seq: str) -> str:
        return (
            f"(to_char(CAST(:day0 AS date) + ({day})::int, 'YYYYMMDD') || '-' || lpad(({seq})::text, 6, '0'))"
        )

    select = _select(
        lay,
        at=at,
        pick=pick,
        number=number,
        pad6=lambda e: f"lpad(({e})::text, 6, '0')",
        false="false",
        json_empty="CAST('{}' AS json)",
    )
    try:
        with engine.connect() as conn:
            conn.execute(text("SET maintenance_work_mem = '256MB'"))
            # The values come from the reference tables just read: skip the per-row FK triggers.
            conn.execute(text("SET session_replication_role = replica"))
            # Build the secondary indexes once after the load instead of row by row (as on SQLite).
            indexes = conn.execute(
                text(
                    "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = 'tickets' "
                    "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
                )
            ).all()
            for name, _ in indexes:
                conn.execute(text(f'DROP INDEX "{name}"'))
            conn.execute(
                text(
                    f"INSERT INTO tickets ({_columns()}) {select.replace('FROM s', '')} "
                    f"FROM (SELECT g, (g * {lay.p}) % {lay.n} AS k "
                    f"FROM generate_series(CAST(1 AS bigint), {lay.n}) AS g) AS s"
                ),
                params,
            )
            for _, ddl in indexes:
                conn.execute(text(ddl))
            seq = conn.execute(text("SELECT pg_get_serial_sequence('tickets', 'id')")).scalar()
            if seq:
                conn.execute(text("SELECT setval(CAST(:seq AS regclass), :n)"), {"seq": seq, "n": lay.n})
            conn.execute(text("VACUUM ANALYZE"))
    finally:
        engine.dispose()


def prepare(backend: str, url: str, path: Path | None, lay: Layout, now: datetime) -> dict[str, Any]:
    """Migrate, load the reference data, generate the tickets, keep the original due marks aside."""
    from sqlalchemy import text

    from hotline.directory.loader import load_reference_data
    from hotline.kit.db import Database
    from hotline.migrations import upgrade

    t0 = time.perf_counter()
    upgrade(url)
    db = Database(url)
    with db.transaction() as session:
        load_reference_data(session)
    with db.transaction(write=False) as session:
        ref = _reference(session)
    db.dispose()
    t1 = time.perf_counter()
    if backend == "sqlite":
        assert path is not None
        generate_sqlite(path, lay, now, ref)
    else:
        generate_postgres(url, lay, now, ref)
    t2 = time.perf_counter()
    db = Database(url)
    try:
        now_p = sqlite_ts(now) if backend == "sqlite" else now
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "CREATE TABLE bench_due (id INTEGER PRIMARY KEY, watch_at "
                    + ("DATETIME" if backend == "sqlite" else "timestamptz")
                    + ")"
                )
            )
            conn.execute(
                text("INSERT INTO bench_due SELECT id, watch_at FROM tickets WHERE watch_at <= :now"),
                {"now": now_p},
            )
        with db.engine.connect() as conn:
            counts = dict(
                conn.execute(
                    text(
                        "SELECT 'tickets', count(*) FROM tickets UNION ALL "
                        "SELECT 'due', count(*) FROM tickets WHERE watch_at <= :now UNION ALL "
                        "SELECT 'no_clock', count(*) FROM tickets WHERE watch_at IS NULL UNION ALL "
                        "SELECT 'open', count(*) FROM tickets WHERE status NOT IN ('closed', 'archived') UNION ALL "
                        "SELECT 'numbers', count(DISTINCT number) FROM tickets"
                    ),
                    {"now": now_p},
                ).all()
            )
    finally:
        db.dispose()
    return {"reference_s": t1 - t0, "generate_s": t2 - t1, **{k: int(v) for k, v in counts.items()}}


# ------------------------------------------------------------------ measurement


class Bench:
    def __init__(self, backend: str, url: str, now: datetime, batch: int, due: int):
        from hotline.kit.db import Database

        self.backend, self.now, self.batch, self.due = backend, now, batch, due
        self.db = Database(url)
        self.raw = self.db.engine.raw_connection()  # the bare side: a plain DB-API connection
        mark = "?" if backend == "sqlite" else "%s"
        self.bare_sql = f"SELECT id FROM tickets WHERE watch_at <= {mark} ORDER BY watch_at"
        self.now_p = sqlite_ts(now) if backend == "sqlite" else now

    def close(self) -> None:
        self.raw.close()
        self.db.dispose()

    def bare(self, limit: int | None) -> list[int]:
        cur = self.raw.cursor()
        try:
            if limit is None:
                cur.execute(self.bare_sql, (self.now_p,))
            else:
                cur.execute(
                    self.bare_sql + " LIMIT " + ("?" if self.backend == "sqlite" else "%s"),
                    (self.now_p, limit),
                )
            rows = [r[0] for r in cur.fetchall()]
        finally:
            cur.close()
        if self.backend != "sqlite":
            self.raw.rollback()
        return rows

    def find(self, batch: int) -> list[int]:
        from hotline.supervision.sweep import find_due

        with self.db.transaction(write=True) as session:
            return find_due(session, now=self.now, batch=batch)

    def claim_all(self) -> tuple[int, int, int]:
        """claim_due until none is due; returns (claimed, distinct claimed, batches)."""
        from hotline.supervision.sweep import claim_due

        won: list[int] = []
        batches = 0
        while True:
            got = claim_due(self.db, now=self.now, batch=self.batch)
            if not got:
                break
            batches += 1
            won.extend(i for i, _ in got)
        return len(won), len(set(won)), batches

    def reset(self) -> int:
        """Put the claimed marks back; returns the due count afterwards."""
        from sqlalchemy import text

        with self.db.engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE tickets SET watch_at = bench_due.watch_at FROM bench_due "
                    "WHERE tickets.id = bench_due.id"
                )
            )
        if self.backend == "postgres":
            with self.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE tickets"))
        with self.db.engine.connect() as conn:
            return int(
                conn.execute(
                    text("SELECT count(*) FROM tickets WHERE watch_at <= :now"), {"now": self.now_p}
                ).scalar_one()
            )

    def plans(self) -> dict[str, list[str]]:
        """EXPLAIN the bare statements and the statements find_due really sends (captured)."""
        from sqlalchemy import event

        captured: list[tuple[str, Any]] = []

        def grab(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
            if (
                "FROM tickets" in statement
                and "watch_at" in statement
                and not statement.startswith("EXPLAIN")
            ):
                captured.append((statement, parameters))

        event.listen(self.db.engine, "before_cursor_execute", grab)
        try:
            self.find(self.batch)
            self.find(self.due or 1)
        finally:
            event.remove(self.db.engine, "before_cursor_execute", grab)
        mark = "?" if self.backend == "sqlite" else "%s"
        todo = [
            ("bare_batch", self.bare_sql + f" LIMIT {mark}", (self.now_p, self.batch)),
            ("bare_all", self.bare_sql, (self.now_p,)),
            ("find_batch", *captured[0]),
            ("find_all", *captured[1]),
        ]
        prefix = "EXPLAIN QUERY PLAN " if self.backend == "sqlite" else "EXPLAIN "
        out: dict[str, list[str]] = {"find_sql": [" ".join(captured[0][0].split())]}
        for name, sql, params in todo:
            cur = self.raw.cursor()
            try:
                cur.execute(prefix + sql, params)
                rows = cur.fetchall()
            finally:
                cur.close()
            if self.backend == "sqlite":
                out[name] = [str(r[-1]) for r in rows]
            else:
                out[name] = [str(r[0]) for r in rows]
                self.raw.rollback()
        return out




def _stats(xs: list[float]) -> dict[str, float]:
    return {
        "median_ms": round(statistics.median(xs), 2),
        "max_ms": round(max(xs), 2),
        "min_ms": round(min(xs), 2),
    }


def run_backend(backend: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    lay = Layout(args.tickets, args.due_share, args.null_share)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    dbs: list[str] = []
    bench: Bench | None = None
    try:
        if backend == "sqlite":
            path = workdir / "sweep.db"
            url = f"sqlite:///{path}"
        else:
            path = None
            url = pg_create(f"hotline_bench_sweep_{uuid.uuid4().hex[:8]}")
            dbs.append(url)
        setup = prepare(backend, url, path, lay, now)
        size = ""
        if path is not None:
            size = f", file {path.stat().st_size / 2**20:.0f} MiB"
        print(
            f"  set up: migrate + reference data {setup['reference_s']:.1f} s, {setup['tickets']:,} tickets "
            f"generated in {setup['generate_s']:.1f} s{size}; due {setup['due']:,}, no clock "
            f"{setup['no_clock']:,}, open {setup['open']:,}, distinct numbers {setup['numbers']:,}",
            flush=True,
        )
        problems: list[str] = []
        if setup["tickets"] != lay.n or setup["due"] != lay.due or setup["numbers"] != lay.n:
            problems.append(f"generated {setup} but expected {lay.n} tickets, {lay.due} due")

        bench = Bench(backend, url, now, args.batch, lay.due)
        plans = bench.plans()
        uses_index = all(
            any(INDEX in line for line in plans[k])
            for k in ("bare_batch", "bare_all", "find_batch", "find_all")
        )
        # warm-up (untimed)
        bench.bare(args.batch)
        bench.bare(None)
        bench.find(args.batch)
        bench.find(lay.due or 1)
        t: dict[str, list[float]] = {
            k: [] for k in ("bare_batch", "find_batch", "bare_all", "find_all", "claim_all")
        }
        claimed: list[int] = []
        batches = 0
        for r in range(args.repeats):
            ms, ids_b = timed(lambda: bench.bare(args.batch))
            t["bare_batch"].append(ms)
            ms, ids_f = timed(lambda: bench.find(args.batch))
            t["find_batch"].append(ms)
            ms, all_b = timed(lambda: bench.bare(None))
            t["bare_all"].append(ms)
            ms, all_f = timed(lambda: bench.find(lay.due or 1))
            t["find_all"].append(ms)
            if len(ids_b) != min(args.batch, lay.due) or sorted(ids_b) != sorted(ids_f):
                problems.append(f"round {r}: batch bare {len(ids_b)} vs find {len(ids_f)} rows differ")
            if len(all_b) != lay.due or sorted(all_b) != sorted(all_f):
                problems.append(f"round {r}: all bare {len(all_b)} vs find {len(all_f)} (due {lay.due})")
            ms, (n_won, n_distinct, batches) = timed(bench.claim_all)
            t["claim_all"].append(ms)
            claimed.append(n_won)
            if n_won != lay.due or n_distinct != n_won:
                problems.append(f"round {r}: claimed {n_won} ({n_distinct} distinct), due {lay.due}")
            back = bench.reset()
            if back != lay.due:
                problems.append(f"round {r}: {back} due after reset, expected {lay.due}")
            print(
                f"  round {r + 1}: bare {t['bare_batch'][-1]:7.2f} / find {t['find_batch'][-1]:7.2f} ms "
                f"(batch {args.batch}); bare {t['bare_all'][-1]:8.2f} / find {t['find_all'][-1]:8.2f} ms "
                f"(all {len(all_b):,}); claim all {t['claim_all'][-1]:9.1f} ms ({n_won:,} in {batches} batches)",
                flush=True,
            )
        s = {k: _stats(v) for k, v in t.items()}
        find_ms = s["find_all"]["median_ms"]
        out: dict[str, Any] = {
            "tickets": setup["tickets"],
            "due": setup["due"],
            "no_clock": setup["no_clock"],
            "batch": args.batch,
            "batches_per_sweep": batches,
            "setup_generate_s": round(setup["generate_s"], 1),
            "bare_batch_ms": s["bare_batch"]["median_ms"],
            "bare_batch_max_ms": s["bare_batch"]["max_ms"],
            "find_batch_ms": s["find_batch"]["median_ms"],
            "find_batch_max_ms": s["find_batch"]["max_ms"],
            "bare_all_ms": s["bare_all"]["median_ms"],
            "bare_all_max_ms": s["bare_all"]["max_ms"],
            "find_all_ms": find_ms,
            "find_all_max_ms": s["find_all"]["max_ms"],
            "claim_all_ms": s["claim_all"]["median_ms"],
            "claim_all_max_ms": s["claim_all"]["max_ms"],
            "claim_per_ticket_us": round(s["claim_all"]["median_ms"] * 1000 / max(lay.due, 1), 1),
            "claimed": claimed[-1] if claimed else 0,
            "claimed_each_round": claimed,
            "ratio_batch": round(s["find_batch"]["median_ms"] / s["bare_batch"]["median_ms"], 2),
            "ratio_all": round(find_ms / s["bare_all"]["median_ms"], 2),
            "uses_index": uses_index,
            "plans": plans,
            "samples_ms": {k: [round(x, 2) for x in v] for k, v in t.items()},
            "problems": problems,
            "ok": not problems,
            "target_ms": TARGET_MS,
            "target_met": find_ms < TARGET_MS and s["find_batch"]["median_ms"] < TARGET_MS,
        }
        print(f"  {'':12s} {'median ms':>10s} {'max ms':>10s}", flush=True)
        for label, key in (
            ("bare batch", "bare_batch"),
            ("find batch", "find_batch"),
            ("bare all", "bare_all"),
            ("find all", "find_all"),
            ("claim all", "claim_all"),
        ):
            print(f"  {label:12s} {s[key]['median_ms']:10.2f} {s[key]['max_ms']:10.2f}", flush=True)
        print(
            f"  find/bare: batch x{out['ratio_batch']}, all x{out['ratio_all']}; claim all "
            f"{out['claimed']:,} tickets in {batches} batches ({out['claim_per_ticket_us']} us per ticket)",
            flush=True,
        )
        print(
            f"  plan ({'EXPLAIN QUERY PLAN' if backend == 'sqlite' else 'EXPLAIN'}) of find_due, batch:",
            flush=True,
        )
        for line in plans["find_batch"]:
            print(f"    {line}", flush=True)
        print("  plan of find_due, all due:", flush=True)
        for line in plans["find_all"]:
            print(f"    {line}", flush=True)
        print(
            f"  uses {INDEX}: {uses_index}; find step (all due) {find_ms:.1f} ms, target < {TARGET_MS:.0f} ms: "
            f"{'met' if out['target_met'] else 'NOT met'}",
            flush=True,
        )
        for p in problems:
            print(f"  PROBLEM: {p}", flush=True)
        return out
    finally:
        if bench is not None:
            bench.close()
        for u in dbs:
            try:
                pg_drop(u)
            except Exception as exc:  # noqa: BLE001
                print(f"  warning: could not drop {u}: {exc}", flush=True)




def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__, "100,000 tickets instead of 1,000,000; under a minute")
    p.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--tickets", type=int, help="open tickets (default 1,000,000; quick 100,000)")
    p.add_argument("--due-share", type=float, default=0.01, help="share of tickets due now (default 0.01)")
    p.add_argument(
        "--null-share",
        type=float,
        default=0.05,
        help="share of tickets with no clock, watch_at NULL (default 0.05)",
    )
    p.add_argument(
        "--batch", type=int, default=500, help="sweep batch size (default 500, as sweep_deadlines)"
    )
    p.add_argument("--repeats", type=int, help="alternating timed rounds (default 5, quick 3)")
    args = p.parse_args(argv)
    args.tickets = args.tickets or (100_000 if args.quick else 1_000_000)
    args.repeats = max(1, args.repeats or (3 if args.quick else 5))
    if not 0 <= args.due_share <= 1 or not 0 <= args.null_share <= 1 or args.due_share + args.null_share > 1:
        p.error("--due-share and --null-share must be shares that add up to at most 1")

    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    lay = Layout(args.tickets, args.due_share, args.null_share)
    print(
        f"sweep benchmark: {lay.n:,} open tickets, {lay.due:,} due, {lay.nulls:,} without a clock; batch "
        f"{args.batch}; {args.repeats} alternating rounds; {os.cpu_count()} CPUs, load average {loadavg()}",
        flush=True,
    )
    t0 = time.perf_counter()
    summary, failed = run_backends(backends, lambda backend, bdir: run_backend(backend, args, bdir), "hotline-bench-sweep-")
    summary.update(
        tickets=lay.n,
        due=lay.due,
        due_share=args.due_share,
        null_share=args.null_share,
        batch=args.batch,
        repeats=args.repeats,
        target_ms=TARGET_MS,
        cpus=os.cpu_count(),
        total_s=round(time.perf_counter() - t0, 1),
    )
    emit(summary)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
