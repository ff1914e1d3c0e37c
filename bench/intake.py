"""Intake throughput: tickets registered per second through the real API, against a bare endpoint.

What is measured
----------------
For each backend (SQLite file in a temp dir; PostgreSQL on 127.0.0.1:5432 as user ``postgres``,
fresh databases created for the run and dropped after) two apps are served, each by one real
``uvicorn`` process (``--log-level warning``, 127.0.0.1, a free port):

* **hotline**: ``hotline.api.asgi:app`` with ``HOTLINE_DATABASE_URL`` pointing at a freshly
  migrated database (``hotline.migrations.upgrade``) with the reference data loaded and one agent
  user whose bearer token authenticates every request. Each request is the full
  ``POST /api/v1/tickets``: token lookup, validation, numbering upsert, due times, the ticket, its
  ``register`` event, commit, and the ticket detail as the response.
* **bare**: ``bench/bare_app.py``, a minimal FastAPI ``POST /items`` with a small Pydantic body
  that inserts one row via SQLAlchemy and commits per request; its engine comes from
  ``hotline.kit.db.make_engine`` (same pragmas and pooling) and it writes with the same
  ``hotline_write`` option (``BEGIN IMMEDIATE`` on SQLite).

The load comes from this process: C client threads (default 8), each with its own keep-alive
``http.client`` connection, pull from a shared list of pre-encoded bodies (categories, regions,
kinds, urgencies, texts and callers vary). Each app is warmed up, then a fixed number of requests
is timed in ``--rounds`` alternating rounds (bare, hotline, bare, hotline, ...) so that background
load on a shared machine hits both alike: req/s = requests / summed wall time of the rounds, and
p50/p95 of the per-request latency. A short single-connection sequential run follows, alternated
the same way (``--no-sequential`` skips it). Afterwards the rows in
each database are counted and must equal every request sent (warm-up included); any non-2xx
response is an error, printed with its body, and makes the exit status 1.

The target is hotline's rate >= 50% of the bare rate on each backend (``ratio`` below).

Caveats: the machine may have few cores (client, server and PostgreSQL compete for them); the
client is kept light (pre-encoded bodies, raw ``http.client``), but its CPU is not free. uvicorn
runs with whatever HTTP parser/loop is installed (h11/asyncio without httptools/uvloop), the same
for both apps.

Run
---
    .venv/bin/python bench/intake.py                    # full: 5000 requests per app per backend
    .venv/bin/python bench/intake.py --quick            # 600 requests; under a minute
    .venv/bin/python bench/intake.py --backend sqlite   # or postgres, or both (default)
    .venv/bin/python bench/intake.py --requests 2000 --concurrency 4
    PYTHONPATH=/some/dir .venv/bin/python bench/intake.py --hotline-app variant:app   # compare a variant

The last line of output is one JSON object with every figure. To see where the server's time
goes, ``bench/profile_intake.py`` profiles the same request in-process (cProfile, one thread).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
if (ROOT / "src").is_dir():
    sys.path.insert(0, str(ROOT / "src"))

from common import emit, loadavg, parser, pg_create, pg_drop, run_backends  # noqa: E402

TARGET_RATIO = 0.5

# ------------------------------------------------------------------ request content

# (category, kind, urgency, content) — categories from directory/data/categories.csv
REQUESTS = [
    (
        "0103",
        "help",
        "urgent",
        "村东的供水闸阀井漏水了，整个供水站停水，附近几个村都没水吃，请尽快派人抢修。",
    ),
    (
        "0101",
        "help",
        "normal",
        "小区从昨天晚上开始停水，物业说不清楚原因，家里有老人孩子，希望尽快恢复供水。",
    ),
    (
        "0102",
        "complaint",
        "normal",
        "最近一周自来水发黄有异味，烧开后有沉淀，担心水质不安全，请相关部门检测。",
    ),
    ("0201", "help", "urgent", "整条街突然停电，已经三个小时了，冰箱里的东西都要坏了，请供电公司尽快抢修。"),
    ("0202", "complaint", "normal", "晚上用电高峰电压很低，灯一直闪，空调启动不了，已经持续半个月了。"),
    ("0302", "complaint", "normal", "供暖开始后家里暖气一直不热，室温只有十二度，找了物业也没有解决。"),
    (
        "0401",
        "complaint",
        "normal",
        "小区电梯经常坏，物业维修不及时，楼里很多老人上下楼很困难，请督促物业整改。",
    ),
    ("0501", "complaint", "normal", "路口的垃圾堆放了好几天没人清运，气味很大，夏天容易滋生蚊蝇。"),
    ("0601", "complaint", "normal", "附近工地夜里十一点以后还在施工，噪音很大，严重影响居民休息。"),
    (
        "0104",
        "consultation",
        "normal",
        "想咨询一下新房子自来水开户需要带什么材料，在哪里办理，收费标准是多少。",
    ),
]
# villages (12-digit codes from directory/data/regions.csv)
REGIONS = ["140828102207", "140426101201", "140426101202", "140426101205", "140426101209", "140426101213"]
CALLERS = [
    ("张先生", "13803590001"),
    ("李女士", "13935901234"),
    ("王师傅", "15803591111"),
    (None, "03592345678"),
    ("赵女士", None),
]


def hotline_bodies(n: int = 60) -> list[bytes]:
    out = []
    for i in range(n):
        cat, kind, urgency, content = REQUESTS[i % len(REQUESTS)]
        name, phone = CALLERS[i % len(CALLERS)]
        body: dict[str, Any] = {
            "channel": "phone" if i % 4 else "web",
            "kind": kind,
            "category_code": cat,
            "urgency": urgency,
            "region_code": REGIONS[i % len(REGIONS)],
            "content": content,
            "caller_name": name,
            "caller_phone": phone,
            "address": f"{i % 30 + 1}号院{i % 6 + 1}单元" if i % 3 else None,
        }
        out.append(json.dumps(body, ensure_ascii=False).encode())
    return out


def bare_bodies(n: int = 60) -> list[bytes]:
    out = []
    for i in range(n):
        cat, kind, _urgency, content = REQUESTS[i % len(REQUESTS)]
        out.append(
            json.dumps(
                {
                    "kind": kind,
                    "category_code": cat,
                    "region_code": REGIONS[i % len(REGIONS)],
                    "content": content,
                    "caller_phone": CALLERS[i % len(CALLERS)][1],
                },
                ensure_ascii=False,
            ).encode()
        )
    return out


# ------------------------------------------------------------------ servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_server(
    name: str, app: str, env: dict[str, str], workdir: Path, *, app_dir: str | None = None
) -> Server:
    port = free_port()
    log = workdir / f"{name}.log"
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    if app_dir:
        cmd += ["--app-dir", app_dir]
    full_env = {**os.environ, **env}
    src = str(ROOT / "src")
    full_env["PYTHONPATH"] = os.pathsep.join(p for p in (src, full_env.get("PYTHONPATH", "")) if p)
    proc = subprocess.Popen(
        cmd, env=full_env, cwd=str(workdir), stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    server = Server(name, port, proc, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} server exited ({proc.returncode}):\n{log.read_text()}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return server
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"{name} server did not answer on port {port}:\n{log.read_text()}")


# ------------------------------------------------------------------ load


@dataclass
class Result:
    requests: int
    seconds: float
    latencies: list[float]
    errors: list[str] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return 0.0
        xs = sorted(self.latencies)
        return xs[min(len(xs) - 1, int(q * len(xs)))] * 1000


def drive(
    port: int, path: str, bodies: list[bytes], headers: dict[str, str], total: int, concurrency: int
) -> Result:
    """Send ``total`` POSTs over ``concurrency`` keep-alive connections; time the whole batch."""
    lock = threading.Lock()
    counter = iter(range(total))
    latencies: list[float] = []
    errors: list[str] = []
    hdrs = {"Content-Type": "application/json", **headers}
    start_gate = threading.Barrier(concurrency + 1)

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.connect()
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        mine: list[float] = []
        start_gate.wait()
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            t0 = time.perf_counter()
            try:
                conn.request("POST", path, body=bodies[i % len(bodies)], headers=hdrs)
                resp = conn.getresponse()
                data = resp.read()
            except Exception as exc:  # noqa: BLE001 - report every failure
                with lock:
                    errors.append(f"request {i}: {exc.__class__.__name__}: {exc}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                continue
            mine.append(time.perf_counter() - t0)
            if not 200 <= resp.status < 300:
                with lock:
                    errors.append(f"request {i}: HTTP {resp.status}: {data[:500].decode(errors='replace')}")
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for t in threads:
        t.start()
    start_gate.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return Result(total, time.perf_counter() - t0, latencies, errors)


# ------------------------------------------------------------------ databases








def prepare_hotline(url: str) -> str:
    """Migrate, load reference data, add an agent; return a bearer token."""
    from hotline.accounts.service import add_user, create_token
    from hotline.directory.loader import load_reference_data
    from hotline.kit.db import Database
    from hotline.migrations import upgrade

    upgrade(url)
    db = Database(url)
    with db.transaction() as session:
        load_reference_data(session)
        add_user(
            session, username="bench-agent", display_name="压测坐席", role="agent", unit_code="yuncheng-12345"
        )
        _, token = create_token(session, username="bench-agent", name="bench")
    db.dispose()
    return token


def count_rows(url: str, table: str) -> int:
    from sqlalchemy import text

    from hotline.kit.db import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        n = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
    engine.dispose()
    return int(n)


# ------------------------------------------------------------------ one backend


@dataclass
class Target:
    label: str
    server: Server
    path: str
    bodies: list[bytes]
    headers: dict[str, str]


def _chunks(total: int, rounds: int) -> list[int]:
    base, extra = divmod(total, rounds)
    return [base + (1 if i < extra else 0) for i in range(rounds)]


def _merge(parts: list[Result]) -> Result:
    return Result(
        sum(p.requests for p in parts),
        sum(p.seconds for p in parts),
        [x for p in parts for x in p.latencies],
        [e for p in parts for e in p.errors],
    )


def measure(targets: list[Target], args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Warm every app up, then time them in alternating rounds (bare, hotline, bare, ...) so that a
    change in background load hits both alike; rates are total requests / total timed seconds."""
    errors: dict[str, list[str]] = {t.label: [] for t in targets}
    for t in targets:
        errors[t.label] += drive(
            t.server.port, t.path, t.bodies, t.headers, args.warmup, args.concurrency
        ).errors
    conc: dict[str, list[Result]] = {t.label: [] for t in targets}
    seq: dict[str, list[Result]] = {t.label: [] for t in targets}
    for n in _chunks(args.requests, args.rounds):
        for t in targets:
            conc[t.label].append(drive(t.server.port, t.path, t.bodies, t.headers, n, args.concurrency))
    if args.sequential:
        for n in _chunks(args.sequential, args.rounds):
            for t in targets:
                seq[t.label].append(drive(t.server.port, t.path, t.bodies, t.headers, n, 1))
    out: dict[str, dict[str, Any]] = {}
    for t in targets:
        res = _merge(conc[t.label])
        errs = errors[t.label] + res.errors
        o: dict[str, Any] = {
            "rps": res.rps,
            "p50_ms": res.pct(0.50),
            "p95_ms": res.pct(0.95),
            "sent": args.warmup + args.requests + args.sequential,
        }
        line = (
            f"  {t.label:8s} {res.rps:8.1f} req/s  p50 {o['p50_ms']:6.1f} ms  p95 {o['p95_ms']:6.1f} ms"
            f"  ({args.requests} requests, {args.concurrency} connections, {res.seconds:.2f} s)"
        )
        if args.sequential:
            sr = _merge(seq[t.label])
            errs += sr.errors
            o.update(seq_rps=sr.rps, seq_p50_ms=sr.pct(0.50))
            line += f"; sequential {sr.rps:.1f} req/s p50 {o['seq_p50_ms']:.1f} ms"
        print(line, flush=True)
        o["errors"] = len(errs)
        for e in errs[:10]:
            print(f"  ERROR {t.label}: {e}", flush=True)
        if len(errs) > 10:
            print(f"  ... and {len(errs) - 10} more errors", flush=True)
        out[t.label] = o
    return out


def run_backend(backend: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from bare_app import create_schema

    dbs: list[str] = []
    servers: list[Server] = []
    try:
        if backend == "sqlite":
            hot_url = f"sqlite:///{workdir / 'hotline.db'}"
            bare_url = f"sqlite:///{workdir / 'bare.db'}"
        else:
            tag = uuid.uuid4().hex[:8]
            hot_url = pg_create(f"hotline_bench_{tag}")
            dbs.append(hot_url)
            bare_url = pg_create(f"hotline_bench_bare_{tag}")
            dbs.append(bare_url)
        t0 = time.perf_counter()
        token = prepare_hotline(hot_url)
        create_schema(bare_url)
        print(f"  set up databases in {time.perf_counter() - t0:.1f} s", flush=True)
        hot = start_server(
            f"hotline-{backend}",
            args.hotline_app,
            {"HOTLINE_DATABASE_URL": hot_url, "HOTLINE_DATA_DIR": str(workdir)},
            workdir,
        )
        servers.append(hot)
        bare = start_server(
            f"bare-{backend}", "bare_app:app", {"BENCH_DATABASE_URL": bare_url}, workdir, app_dir=str(HERE)
        )
        servers.append(bare)

        m = measure(
            [
                Target("bare", bare, "/items", bare_bodies(), {}),
                Target(
                    "hotline", hot, "/api/v1/tickets", hotline_bodies(), {"Authorization": f"Bearer {token}"}
                ),
            ],
            args,
        )
        b, h = m["bare"], m["hotline"]
        for s in servers:
            s.stop()
        h_rows, b_rows = count_rows(hot_url, "tickets"), count_rows(bare_url, "bench_items")
        ratio = h["rps"] / b["rps"] if b["rps"] else 0.0
        ok = h_rows == h["sent"] and b_rows == b["sent"] and not h["errors"] and not b["errors"]
        print(
            f"  rows: tickets {h_rows}/{h['sent']} sent, bench_items {b_rows}/{b['sent']} sent"
            f" -> {'OK' if ok else 'MISMATCH/ERRORS'}",
            flush=True,
        )
        print(
            f"  ratio hotline/bare = {ratio:.2f} (target >= {TARGET_RATIO}: "
            f"{'met' if ratio >= TARGET_RATIO else 'NOT met'})",
            flush=True,
        )
        out = {
            "hotline_rps": round(h["rps"], 1),
            "bare_rps": round(b["rps"], 1),
            "ratio": round(ratio, 3),
            "p50_ms": round(h["p50_ms"], 2),
            "p95_ms": round(h["p95_ms"], 2),
            "bare_p50_ms": round(b["p50_ms"], 2),
            "bare_p95_ms": round(b["p95_ms"], 2),
            "tickets_in_db": h_rows,
            "tickets_sent": h["sent"],
            "bare_rows_in_db": b_rows,
            "bare_sent": b["sent"],
            "errors": h["errors"] + b["errors"],
            "ok": ok,
            "target_met": ratio >= TARGET_RATIO,
        }
        if args.sequential:
            out.update(
                hotline_seq_rps=round(h["seq_rps"], 1),
                bare_seq_rps=round(b["seq_rps"], 1),
                seq_ratio=round(h["seq_rps"] / b["seq_rps"], 3) if b["seq_rps"] else 0.0,
                seq_p50_ms=round(h["seq_p50_ms"], 2),
                bare_seq_p50_ms=round(b["seq_p50_ms"], 2),
            )
        return out
    finally:
        for s in servers:
            s.stop()
        for url in dbs:
            try:
                pg_drop(url)
            except Exception as exc:  # noqa: BLE001
                print(f"  warning: could not drop {url}: {exc}", flush=True)




def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__, "smaller sizes (600 requests), under a minute")
    p.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument(
        "--requests", type=int, help="timed requests per app per backend (default 5000, quick 600)"
    )
    p.add_argument("--warmup", type=int, help="warm-up requests per app (default 300, quick 50)")
    p.add_argument("--concurrency", type=int, default=8, help="concurrent keep-alive connections (default 8)")
    p.add_argument("--sequential", type=int, help="single-connection requests (default 500, quick 60)")
    p.add_argument("--rounds", type=int, help="alternate bare/hotline in this many timed rounds (5, quick 3)")
    p.add_argument("--no-sequential", action="store_true", help="skip the single-connection run")
    p.add_argument(
        "--hotline-app",
        default="hotline.api.asgi:app",
        help="ASGI app uvicorn serves for hotline (to compare a variant; it reads HOTLINE_DATABASE_URL)",
    )
    args = p.parse_args(argv)
    args.requests = args.requests or (600 if args.quick else 5000)
    args.warmup = args.warmup if args.warmup is not None else (50 if args.quick else 300)
    args.sequential = 0 if args.no_sequential else (args.sequential or (60 if args.quick else 500))
    args.rounds = max(1, args.rounds or (3 if args.quick else 5))

    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    print(
        f"intake benchmark: {args.requests} requests per app in {args.rounds} alternating rounds, warm-up "
        f"{args.warmup}, {args.concurrency} connections, sequential {args.sequential}; {os.cpu_count()} CPUs, "
        f"load average {loadavg()}",
        flush=True,
    )
    summary, failed = run_backends(backends, lambda backend, bdir: run_backend(backend, args, bdir), "hotline-bench-")
    summary.update(
        requests=args.requests,
        warmup=args.warmup,
        concurrency=args.concurrency,
        rounds=args.rounds,
        sequential=args.sequential,
        target_ratio=TARGET_RATIO,
        cpus=os.cpu_count(),
    )
    emit(summary)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
