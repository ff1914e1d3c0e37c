"""Profile the server side of POST /api/v1/tickets in one thread, and list the SQL of one request.

The ASGI app is called directly from an asyncio loop in this thread, with FastAPI's
``run_in_threadpool`` patched to run sync endpoints inline, so cProfile sees the whole request
(routing, body parsing, validation, the endpoint, the database, response serialisation) but not
the HTTP server (uvicorn/h11), which the bare app pays equally. The bare app is profiled the same
way for comparison.

    .venv/bin/python bench/profile_intake.py [--backend sqlite|postgres] [--n 500] [--sort tottime|cumtime]
    .venv/bin/python bench/profile_intake.py --quick   # 100 requests each, the 20 costliest functions

The last line is the figures as one JSON object (ms per request in-process, hotline and bare).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

import common  # noqa: E402
import intake  # noqa: E402


def _inline_threadpool() -> None:
    import fastapi.dependencies.utils as fdu
    import fastapi.routing as fr

    async def inline(func: Any, *args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    fr.run_in_threadpool = inline
    fdu.run_in_threadpool = inline


async def post(app: Any, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    hdrs = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    hdrs += [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"host", b"127.0.0.1"),
    ]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": hdrs,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "app": app,
        "state": {},
    }
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(msg: dict[str, Any]) -> None:
        nonlocal status
        if msg["type"] == "http.response.start":
            status = msg["status"]
        elif msg["type"] == "http.response.body":
            chunks.append(msg.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


def profile(
    label: str,
    app: Any,
    path: str,
    bodies: list[bytes],
    headers: dict[str, str],
    n: int,
    args: argparse.Namespace,
    engine: Any,
) -> float:
    from sqlalchemy import event

    async def batch(k: int, offset: int = 0) -> None:
        for i in range(k):
            status, data = await post(app, path, bodies[(i + offset) % len(bodies)], headers)
            assert 200 <= status < 300, (status, data[:300])

    loop = asyncio.new_event_loop()
    loop.run_until_complete(batch(50))
    stmts: list[str] = []

    def log(conn: Any, cursor: Any, statement: str, *a: Any) -> None:
        stmts.append(" ".join(statement.split())[:150])

    event.listen(engine, "before_cursor_execute", log)
    loop.run_until_complete(batch(1, 7))
    event.remove(engine, "before_cursor_execute", log)
    print(f"\n=== {label}: SQL statements in one request ({len(stmts)}):")
    for s in stmts:
        print("   ", s)
    t0 = time.perf_counter()
    loop.run_until_complete(batch(n))
    plain = (time.perf_counter() - t0) / n * 1000
    prof = cProfile.Profile()
    prof.enable()
    loop.run_until_complete(batch(n))
    prof.disable()
    loop.close()
    print(f"=== {label}: {plain:.2f} ms per request in-process without profiler ({n} requests)")
    if not args.quiet_bare or label != "bare":
        st = pstats.Stats(prof)
        st.sort_stats(args.sort).print_stats(args.top)
    prof.dump_stats(f"/tmp/{label}-{args.backend}.prof")
    return plain


def main() -> None:
    p = common.parser(__doc__, "100 requests each, the 20 costliest functions")
    p.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--n", type=int, help="requests timed and profiled (default 500; quick 100)")
    p.add_argument("--sort", default="cumtime")
    p.add_argument("--top", type=int, help="functions listed (default 60; quick 20)")
    p.add_argument("--quiet-bare", action="store_true")
    args = p.parse_args()
    args.n = args.n or (100 if args.quick else 500)
    args.top = args.top or (20 if args.quick else 60)
    _inline_threadpool()

    import bare_app

    from hotline.api.app import create_app
    from hotline.config import load_settings

    tmp = Path(tempfile.mkdtemp())
    pgs: list[str] = []
    if args.backend == "sqlite":
        url, burl = f"sqlite:///{tmp / 'p.db'}", f"sqlite:///{tmp / 'b.db'}"
    else:
        tag = uuid.uuid4().hex[:8]
        url = intake.pg_create(f"hotline_prof_{tag}")
        pgs.append(url)
        burl = intake.pg_create(f"hotline_prof_bare_{tag}")
        pgs.append(burl)
    try:
        token = intake.prepare_hotline(url)
        bare_app.create_schema(burl)
        app = create_app(load_settings({"HOTLINE_DATABASE_URL": url, "HOTLINE_DATA_DIR": str(tmp)}))
        bapp = bare_app.create_app(burl)
        from hotline.kit.db import make_engine  # noqa: F401

        # the bare app's engine: find it through the route's closure
        bengine = next(
            c.cell_contents
            for r in bapp.routes
            if getattr(r, "path", "") == "/items"
            for c in (r.endpoint.__closure__ or ())
            if hasattr(c.cell_contents, "dialect")
        )
        b = profile("bare", bapp, "/items", intake.bare_bodies(), {}, args.n, args, bengine)
        h = profile(
            "hotline",
            app,
            "/api/v1/tickets",
            intake.hotline_bodies(),
            {"Authorization": f"Bearer {token}"},
            args.n,
            args,
            app.state.db.engine,
        )
        print(f"\nin-process ms/request: hotline {h:.2f}, bare {b:.2f} (ratio of rates {b / h:.2f})")
        app.state.db.dispose()
        common.emit({"bench": "profile_intake", "quick": args.quick, "backend": args.backend, "requests": args.n,
                     "hotline_ms_per_request": round(h, 2), "bare_ms_per_request": round(b, 2),
                     "ratio_of_rates": round(b / h, 2)})
    finally:
        for u in pgs:
            intake.pg_drop(u)


if __name__ == "__main__":
    main()
