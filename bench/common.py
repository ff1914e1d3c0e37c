"""Scaffolding shared by the benchmarks (``bench/pages.py``, ``bench/sweep.py``, ``bench/intake.py``).

* the command line: ``--quick`` and the backend choice (:func:`parser`, :func:`backend_list`);
* scratch databases: a SQLite file in a temp dir or a fresh PostgreSQL database on 127.0.0.1:5432,
  created for the run and dropped after (:func:`scratch_database`, :func:`pg_reason`);
* running each backend in turn, a backend that fails or has no server reported, not fatal
  (:func:`run_backends`);
* figures: percentiles (:func:`pct`, :func:`stats`), the load average, and the last output line, one
  JSON object with every figure (:func:`emit`);
* bulk generation in SQL: the dialect bits (timestamps, picks from small lists, number formats, a row
  source of ``g`` = 1..n) for SQLite and PostgreSQL (:class:`BulkSQL`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if (ROOT / "src").is_dir() and str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

PG_ADMIN_URL = os.environ.get("HOTLINE_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


# ------------------------------------------------------------------ command line


def parser(doc: str | None, quick_help: str) -> argparse.ArgumentParser:
    """The benchmark's parser (its description: the docstring's first paragraph) with ``--quick``."""
    p = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help=quick_help)
    return p


def backend_list(choice: str) -> list[str]:
    """``both`` as the two backends, in order (SQLite first); any other choice as itself."""
    if choice == "both":
        return ["sqlite", "postgresql"]
    return [choice]


def is_pg(backend: str) -> bool:
    return backend.startswith("postgres")


# ------------------------------------------------------------------ databases


def pg_reason() -> str | None:
    """``None`` when the PostgreSQL server answers, else why not (one line)."""
    from hotline.kit.pg import unreachable

    return unreachable(PG_ADMIN_URL)


def pg_create(name: str) -> str:
    from hotline.kit.pg import create_database

    return create_database(PG_ADMIN_URL, name)


def pg_drop(url: str) -> None:
    from hotline.kit.pg import drop_database

    drop_database(PG_ADMIN_URL, url)


@contextmanager
def scratch_database(backend: str, workdir: Path, name: str) -> Iterator[tuple[str, Path | None]]:
    """``(url, path)`` of an empty database: SQLite ``workdir/name.db`` (path given), or PostgreSQL
    database ``hotline_bench_<name>_<random>`` (path None), dropped on the way out."""
    if not is_pg(backend):
        path = workdir / f"{name}.db"
        yield f"sqlite:///{path}", path
        return
    url = pg_create(f"hotline_bench_{name}_{uuid.uuid4().hex[:8]}")
    try:
        yield url, None
    finally:
        try:
            pg_drop(url)
        except Exception as exc:  # noqa: BLE001 - the figures are worth more than the cleanup
            print(f"  warning: could not drop {url}: {exc}", flush=True)


def run_backends(backends: list[str], run_one: Callable[[str, Path], dict[str, Any]], prefix: str,
                 indent: str = "  ") -> tuple[dict[str, Any], bool]:
    """``run_one(backend, workdir)`` for each backend (a temp dir each, removed after); PostgreSQL
    skipped with the reason when no server answers. Returns the summary by backend and whether any
    run failed (raised, or returned ``ok`` false)."""
    summary: dict[str, Any] = {}
    failed = False
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        for backend in backends:
            print(f"[{backend}]", flush=True)
            if is_pg(backend):
                reason = pg_reason()
                if reason:
                    print(f"{indent}skipped: {reason}", flush=True)
                    summary[backend] = {"skipped": reason}
                    continue
            bdir = workdir / backend
            bdir.mkdir()
            try:
                summary[backend] = run_one(backend, bdir)
                failed |= not summary[backend].get("ok", True)
            except Exception as exc:  # noqa: BLE001 - report and go on to the next backend
                failed = True
                print(f"{indent}FAILED: {exc.__class__.__name__}: {exc}", flush=True)
                summary[backend] = {"failed": f"{exc.__class__.__name__}: {exc}"[:500]}
            finally:
                shutil.rmtree(bdir, ignore_errors=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return summary, failed


# ------------------------------------------------------------------ figures


def pct(xs: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``xs``, nearest rank."""
    ys = sorted(xs)
    if not ys:
        return 0.0
    k = max(0, min(len(ys) - 1, round(q * (len(ys) - 1))))
    return ys[k]


def stats(xs: list[float]) -> dict[str, float]:
    """p50 (median), p95, max and min of timings in ms, rounded to 0.01 ms."""
    return {"p50_ms": round(statistics.median(xs), 2), "p95_ms": round(pct(xs, 0.95), 2),
            "max_ms": round(max(xs), 2), "min_ms": round(min(xs), 2)}


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    result = fn()
    return (time.perf_counter() - t0) * 1000, result


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def emit(summary: dict[str, Any]) -> None:
    """The last line of a benchmark's output: every figure as one JSON object."""
    summary.setdefault("cpus", os.cpu_count())
    summary["load_average_after"] = loadavg()
    print(json.dumps(summary, ensure_ascii=False, default=str), flush=True)


# ------------------------------------------------------------------ bulk generation in SQL


def sqlite_ts(dt: datetime) -> str:
    """How SQLAlchemy's SQLite DATETIME stores a (naive UTC) value: compared as text."""
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


class BulkSQL:
    """The dialect bits of an ``INSERT ... SELECT`` generating rows ``g`` = 1..n in SQL.

    ``lists`` are small value lists (categories, units, texts) picked from by index; on SQLite
    they are temp tables (:meth:`load` on the generating connection), on PostgreSQL array
    parameters (:attr:`params`). ``now`` anchors :meth:`at`; ``day0`` is day 0 of :meth:`number`.
    """

    def __init__(self, backend: str, now: datetime, day0: date, lists: dict[str, list[Any]]):
        self.pg = is_pg(backend)
        self.lists = lists
        self.now = now
        self.day0 = day0
        self.params: dict[str, Any] = {}
        if self.pg:
            self.params = {"now": now, "day0": day0}
            self.params.update({f"a_{k}": [str(v) for v in vs] for k, vs in lists.items()})
        self.false = "false" if self.pg else "0"
        self.json_empty = "CAST('{}' AS json)" if self.pg else "'{}'"

    def load(self, execute: Callable[..., Any]) -> None:
        """SQLite: the lists as temp tables ``bench_<name>(i, v)`` (``execute(sql, rows)`` runs many)."""
        if self.pg:
            return
        for name, values in self.lists.items():
            execute(f"CREATE TEMP TABLE bench_{name} (i INTEGER PRIMARY KEY, v)", None)
            execute(f"INSERT INTO bench_{name} VALUES (?, ?)", list(enumerate(values)))

    def at(self, secs: str) -> str:
        """The timestamp ``now + secs`` seconds (SQLite: the text SQLAlchemy stores)."""
        if self.pg:
            return f"(CAST(:now AS timestamptz) + make_interval(secs => ({secs})))"
        base = self.now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        return f"(strftime('%Y-%m-%d %H:%M:%S', '{base}', ({secs}) || ' seconds') || '.000000')"

    def pick(self, name: str, idx: str, *, ints: bool = False) -> str:
        """Item ``idx % len`` of list ``name`` (``ints``: an integer list, such as unit ids)."""
        n = len(self.lists[name])
        if self.pg:
            return f"(CAST(:a_{name} AS {'int' if ints else 'text'}[]))[(1 + ({idx}) % {n})::int]"
        return f"(SELECT v FROM bench_{name} WHERE i = ({idx}) % {n})"

    def pad6(self, expr: str) -> str:
        return f"lpad(({expr})::text, 6, '0')" if self.pg else f"printf('%06d', {expr})"

    def number(self, day: str, seq: str) -> str:
        """A ticket number ``YYYYMMDD-NNNNNN``: day ``day`` after ``day0``, sequence ``seq``."""
        if self.pg:
            return f"(to_char(CAST(:day0 AS date) + ({day})::int, 'YYYYMMDD') || '-' || {self.pad6(seq)})"
        d0 = self.day0.isoformat()
        return f"(strftime('%Y%m%d', '{d0}', ({day}) || ' days') || '-' || {self.pad6(seq)})"

    def source(self, n: int, extra: str = "") -> str:
        """A FROM item ``s`` with column ``g`` = 1..n (64-bit) and ``extra`` columns computed from g
        (``", (g * 7) % 10 AS k"``)."""
        if self.pg:
            return f"(SELECT g{extra} FROM generate_series(CAST(1 AS bigint), {n}) AS g) AS s"
        return (f"(WITH RECURSIVE r(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM r WHERE g < {n}) "
                f"SELECT g{extra} FROM r) AS s")


def elapsed_ms(fn: Callable[[], Any]) -> float:
    """Milliseconds one call of ``fn`` takes."""
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def statement_plans(engine: Any, backend: str, fn: Callable[[], Any]) -> list[list[str]]:
    """The SELECT statements one call of ``fn`` sends through ``engine``, each with its plan
    (PostgreSQL ``EXPLAIN``, SQLite ``EXPLAIN QUERY PLAN``): [statement cut to 160 characters, plan lines...]."""
    from sqlalchemy import event

    sent: list[tuple[str, Any]] = []

    def after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        sent.append((statement, parameters))

    event.listen(engine, "after_cursor_execute", after)
    try:
        fn()
    finally:
        event.remove(engine, "after_cursor_execute", after)
    plans: list[list[str]] = []
    raw = engine.raw_connection()
    try:
        for statement, params in sent:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            cur = raw.cursor()
            cur.execute(("EXPLAIN " if is_pg(backend) else "EXPLAIN QUERY PLAN ") + statement, params)
            plan = [str(row[0] if is_pg(backend) else row[-1]) for row in cur.fetchall()]
            cur.close()
            plans.append([" ".join(statement.split())[:160], *plan])
    finally:
        raw.rollback()
        raw.close()
    return plans


def migrated_with_user(url: str, *, username: str, display_name: str, unit_code: str, password: str) -> float:
    """Migrate the scratch database at ``url``, load the reference data and add one handler of
    ``unit_code`` who signs in with ``password``; the seconds it took."""
    from hotline.accounts.service import add_user
    from hotline.directory.loader import load_reference_data
    from hotline.kit.db import Database
    from hotline.migrations import upgrade

    t0 = time.perf_counter()
    upgrade(url)
    db = Database(url)
    with db.transaction() as session:
        load_reference_data(session)
        add_user(session, username=username, display_name=display_name, role="handler", unit_code=unit_code,
                 password=password)
    db.dispose()
    return time.perf_counter() - t0


def timing_table(t: dict[str, dict[str, list[float]]], shown: dict[str, Any], slow_ms: float) -> dict[str, Any]:
    """Each measurement's p50/p95/max against its bare twin ("main" / "bare" lists of ms), printed as
    a table (with SLOW for a p95 over ``slow_ms``) and returned as the JSON figures."""
    out: dict[str, Any] = {}
    print(f"  {'measured':16s} {'p50 ms':>8s} {'p95 ms':>8s} {'max ms':>8s}   {'bare p50':>8s} {'bare p95':>8s} {'n':>5s}",
          flush=True)
    for name, xs in t.items():
        s, b = stats(xs["main"]), stats(xs["bare"])
        out[name] = {"p50_ms": s["p50_ms"], "p95_ms": s["p95_ms"], "max_ms": s["max_ms"], "bare_p50_ms": b["p50_ms"],
                     "bare_p95_ms": b["p95_ms"], "n": len(xs["main"]), **({"shown": shown[name]} if name in shown else {})}
        print(f"  {name:16s} {s['p50_ms']:8.2f} {s['p95_ms']:8.2f} {s['max_ms']:8.2f}   {b['p50_ms']:8.2f} "
              f"{b['p95_ms']:8.2f} {len(xs['main']):5d}", flush=True)
        if s["p95_ms"] > slow_ms:
            print(f"  SLOW: {name} p95 {s['p95_ms']:.0f} ms > {slow_ms:.0f} ms", flush=True)
    return out


def print_plans(what: str, plans: list[list[str]]) -> None:
    """The output of :func:`statement_plans`, indented under a heading."""
    print(f"  statements of {what} and their plans:", flush=True)
    for lines in plans:
        print(f"    {lines[0]}", flush=True)
        for line in lines[1:]:
            print(f"        {line}", flush=True)
