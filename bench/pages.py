"""Page times: server time of the unit inbox, the ticket page, the agent intake page and the dispatch
queue over a
database of 200,000 tickets, against a bare page that renders the same template with fixed data.

What is measured
----------------
A SQLite file in a temp dir is migrated (``hotline.migrations.upgrade``), the reference data is
loaded (categories, regions, units) and ``--tickets`` tickets (default 200,000; ``--quick`` 20,000)
are bulk-generated in SQL (a recursive CTE, as ``bench/sweep.py`` does), received over the past
year in id order, reply due 5 to 15 days later: the last ``--open-share`` of them (default 10%,
about five weeks) are open (registered, dispatched, accepted, in progress, suspended, replied), the
older ones closed. Every 37th ticket's lead unit is 夏县水利局 (``xiaxian-water``), the others
are spread over all units; every 61st ticket also has xiaxian-water as a co-handler. Each
dispatched ticket has its ``ticket_units`` row(s) with the matching task state, every ticket a
``register`` event and every dispatched one a ``dispatch`` event; one ticket of xiaxian-water in progress (the newest) gets a
long timeline (``--events``, default 300: urges, supervision, contacts, suspensions, extensions,
replies sent back). Then ANALYZE. Users are added with ``add_user`` (a handler of
xiaxian-water, a handler of the typical unit below, an agent) and sign in through ``POST /login``;
the cookie ``hotline_session`` carries every request. Setup is timed and printed, not measured.

Pages (GET, signed in):

* **unit inbox**: ``/unit`` as the xiaxian-water handler (the inbox query, the sections, countdowns);
  xiaxian-water has more open tickets than one inbox page (``queries.MAX_PAGE_SIZE``, 200);
* **unit inbox typical**: ``/unit`` as a handler of the busiest other unit, whose open tickets fit
  on one page (most units: the list query then finds fewer than its LIMIT);
* **ticket page**: ``/tickets/{number}`` of the long-timeline ticket, as the same handler;
* **agent intake**: ``/agent/intake`` as the agent (categories, region options);
* **dispatch queue**: ``/dispatch`` as a dispatcher (the tickets waiting to be dispatched, each with
  its suggested unit from the catalogue or the history of its township, and every unit once for the
  rows' pickers), the page a dispatcher keeps open all day.

Bare pages: one real render of each page is captured (the template name and the context dict
passed to ``hotline.web.render.env``; the ORM user replaced by a plain copy of the fields the
templates read; the context is the one of the page's second request, caches warm), and a minimal
FastAPI app with one route per page renders the same template through the same ``env`` with that
fixed context: no database, no session, no sign-in. So *page - bare* is the work hotline does per request besides templating and the framework.

Time is measured in-process, no network: each app is called through Starlette's ``TestClient``
and wrapped in a small ASGI timer that counts from the request's arrival at the app to its last
body message (server time; the client's share is not counted). After ``--warmup`` untimed
requests per page (default 20; quick 10), ``--requests`` timed requests per page (default 200; quick 40)
are made alternating page and bare (bare, page, page, bare, ...). Every response must be 200 and
the page must contain what it shows (the sections, the ticket number, the form).

Reported per page: p50, p95, max of page and bare, n, ``target_met`` (page p95 < 100 ms), the
rows in each inbox section, the events shown, the HTML size; plus the statements the inbox and
ticket pages send, captured from the engine, with their query plans (``EXPLAIN QUERY PLAN``) and
execute times (SQLite steps lazily, so rows fetched after the execute call are not in them).

Run
---
    .venv/bin/python bench/pages.py                    # 200,000 tickets
    .venv/bin/python bench/pages.py --quick            # 20,000 tickets; under a minute
    .venv/bin/python bench/pages.py --tickets 500000 --requests 300 --events 500

The last line of output is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sqlite3
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from common import (
    BulkSQL,
    backend_list,
    emit,
    is_pg,
    loadavg,
    parser,
    run_backends,
    scratch_database,
    sqlite_ts,
    stats,
)
from starlette.requests import Request  # the bare routes' annotation, resolved by name

TARGET_MS = 100.0
UNIT = "xiaxian-water"
PASSWORD = "bench password 12345"
YEAR = 365 * 86400

TEXTS = [
    "村东的供水闸阀井漏水了，整个供水站停水，附近几个村都没水吃，请尽快派人抢修。",
    "小区从昨天晚上开始停水，物业说不清楚原因，家里有老人孩子，希望尽快恢复供水。",
    "最近一周自来水发黄有异味，烧开后有沉淀，担心水质不安全，请相关部门检测。",
    "河道里堆了很多垃圾，下雨后排水不畅，岸边的庄稼地都被淹了，请水利部门清理。",
    "灌溉渠年久失修，渠底漏水严重，浇地的时候水到不了地头，请安排维修。",
    "村里的机井坏了半个月了，没人来修，牲口饮水都成问题。",
    "想咨询一下新房子自来水开户需要带什么材料，在哪里办理，收费标准是多少。",
    "水库下游河滩有人私自挖沙，河堤都被挖空了，汛期很危险，请尽快制止。",
]
CALLERS = ["张先生", "李女士", "王师傅", "赵女士", "刘先生", "陈女士", "杨师傅"]
CHANNELS = ["phone", "phone", "phone", "web", "mobile", "phone", "web", "phone"]
# the long timeline: (action, from, to, reason)
TIMELINE = [
    ("urge", "in_progress", "in_progress", "来电人再次来电催办，要求尽快处理。"),
    ("record_contact", "in_progress", "in_progress", "已电话联系来电人，约定明天上午到现场查看。"),
    ("supervise", "in_progress", "in_progress", "督办：请于三个工作日内反馈处理结果。"),
    ("suspend", "in_progress", "suspended", "来电人外出，待其返回后再上门。"),
    ("resume", "suspended", "in_progress", "来电人已返回，恢复办理。"),
    ("request_extension", "in_progress", "in_progress", "需协调供水站更换管道，申请延期五个工作日。"),
    ("approve_extension", "in_progress", "in_progress", "同意延期。"),
    ("reply", "in_progress", "replied", "已派人更换阀门，恢复供水，来电人表示认可。"),
    ("send_back_reply", "replied", "in_progress", "反馈内容未说明整改时限，退回重办。"),
    ("note", "in_progress", "in_progress", "现场查看：管道老化严重，需整体更换。"),
]


# ------------------------------------------------------------------ database


def _reference(session: Any) -> dict[str, Any]:
    from sqlalchemy import select

    from hotline.directory.models import Category, Region, Unit

    cats = list(
        session.execute(
            select(Category.code, Category.default_kind).where(Category.level == 2).order_by(Category.code)
        )
    )
    regions = list(session.scalars(select(Region.code).where(Region.level == 5).order_by(Region.code)))
    units = list(session.scalars(select(Unit.id).where(Unit.kind != "hotline_center").order_by(Unit.id)))
    water = session.scalar(select(Unit.id).where(Unit.code == UNIT))
    xiaxian = [c for c in regions if c.startswith("140828")] or regions
    return {
        "lists": {
            "category": [c for c, _ in cats],
            "kind": [str(getattr(k, "value", k)) for _, k in cats],
            "region": regions,
            "xregion": xiaxian,
            "unit": units,
            "channel": CHANNELS,
            "caller": CALLERS,
            "text": TEXTS,
            "title": [t[:20] for t in TEXTS],
        },
        "water": water,
    }


class _Conn:
    """One connection for the bulk load: sqlite3 on SQLite (plain SQL, ``?`` rows), SQLAlchemy in
    autocommit on PostgreSQL (``:name`` parameters)."""

    def __init__(self, backend: str, url: str, path: Path | None):
        self.pg = is_pg(backend)
        if self.pg:
            from sqlalchemy import create_engine

            self.engine = create_engine(url, isolation_level="AUTOCOMMIT")
            self.conn = self.engine.connect()
        else:
            self.con = sqlite3.connect(path, isolation_level=None)

    def run(self, sql: str, params: Any = None) -> list[Any]:
        if self.pg:
            from sqlalchemy import text

            result = self.conn.execute(text(sql), params or {})
            return list(result) if result.returns_rows else []
        if isinstance(params, list):
            self.con.executemany(sql, params)
            return []
        return self.con.execute(sql).fetchall()

    def close(self) -> None:
        if self.pg:
            self.conn.close()
            self.engine.dispose()
        else:
            self.con.close()


def generate(backend: str, url: str, path: Path | None, n: int, open_share: float, events: int, now: datetime,
             ref: dict[str, Any]) -> dict[str, Any]:
    """Bulk-generate the tickets, their unit tasks and events; returns the long-timeline ticket."""
    lists, water = ref["lists"], int(ref["water"])
    sql = BulkSQL(backend, now, (now - timedelta(seconds=YEAR)).date(), lists)
    db = _Conn(backend, url, path)
    pg = db.pg
    try:
        if pg:
            db.run("SET maintenance_work_mem = '256MB'")
            # the values come from the reference tables just read: skip the per-row FK triggers
            db.run("SET session_replication_role = replica")
            db.run("BEGIN")
            indexes = db.run(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename IN "
                "('tickets', 'ticket_units', 'ticket_events') "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
            )
        else:
            db.run("PRAGMA journal_mode=DELETE")
            db.run("PRAGMA synchronous=OFF")
            db.run("PRAGMA cache_size=-262144")
            db.run("PRAGMA temp_store=MEMORY")
            db.run("BEGIN")
            sql.load(db.run)
            indexes = db.run(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                "AND tbl_name IN ('tickets', 'ticket_units', 'ticket_events') AND sql IS NOT NULL"
            )
        per_day = -(-n // 365)
        first_open = n - round(n * open_share)
        at, pick = sql.at, sql.pick

        recv = f"(-{YEAR} + (g - 1) * {YEAR} / {n})"
        is_open = f"(g > {first_open})"
        status = (
            f"CASE WHEN NOT {is_open} THEN 'closed' WHEN g % 10 = 0 THEN 'registered' "
            "WHEN g % 10 < 4 THEN 'dispatched' WHEN g % 10 < 6 THEN 'accepted' WHEN g % 10 < 8 THEN 'in_progress' "
            "WHEN g % 10 = 8 THEN 'suspended' ELSE 'replied' END"
        )
        working = f"(NOT {is_open} OR g % 10 <> 0)"
        accepted = f"(NOT {is_open} OR g % 10 >= 4)"
        cols = (
            "id, number, query_code, version, channel, kind, category_code, urgency, status, caller_name, "
            "caller_phone, caller_confidential, caller_anonymous, region_code, address, title, content, "
            "received_at, lead_unit_id, dispatch_due_at, accept_due_at, contact_due_at, reply_due_at, due_basis, "
            "dispatched_at, accepted_at, contacted_at, replied_at, suspended_at, suspended_seconds, "
            "extension_count, dispatch_count, reopen_count, callback_attempts, closed_at, close_reason, watch_at, "
            "updated_at"
        )
        water_lead = "g % 37 = 0"  # 37: coprime with the status cycle of 10
        select = (
            "SELECT g, "
            f"{sql.number(f'(g - 1) / {per_day}', f'(g - 1) % {per_day} + 1')}, "
            f"{sql.pad6('(g * 7919) % 1000000')}, 1, "
            f"{pick('channel', 'g')}, {pick('kind', 'g / 7')}, {pick('category', 'g / 7')}, "
            "CASE WHEN g % 20 = 0 THEN 'urgent' ELSE 'normal' END, "
            f"{status}, {pick('caller', 'g')}, '138' || {sql.pad6('(g * 31) % 1000000')} || (g / 10 % 10) || (g % 10), "
            f"{sql.false}, {sql.false}, "
            f"CASE WHEN {water_lead} THEN {pick('xregion', 'g / 3')} ELSE {pick('region', 'g / 3')} END, "
            "(g % 97 + 1) || '号院' || (g % 6 + 1) || '单元', "
            f"{pick('title', 'g / 11')}, {pick('text', 'g / 11')}, {at(recv)}, "
            f"CASE WHEN NOT {working} THEN NULL WHEN {water_lead} THEN {water} "
            f"ELSE {pick('unit', 'g / 5', ints=True)} END, "
            f"{at(recv + ' + 7200')}, {at(recv + ' + 86400')}, {at(recv + ' + 2 * 86400')}, "
            f"{at(recv + ' + (5 + g % 11) * 86400')}, {sql.json_empty}, "
            f"CASE WHEN {working} THEN {at(recv + ' + 1800')} END, "
            f"CASE WHEN {accepted} THEN {at(recv + ' + 7200')} END, "
            f"CASE WHEN NOT {is_open} OR g % 10 >= 6 THEN {at(recv + ' + 20000')} END, "
            f"CASE WHEN NOT {is_open} OR g % 10 = 9 THEN {at(recv + ' + 5 * 86400')} END, "
            f"CASE WHEN {is_open} AND g % 10 = 8 THEN {at(recv + ' + 3 * 86400')} END, "
            f"0, 0, CASE WHEN {working} THEN 1 ELSE 0 END, 0, CASE WHEN {is_open} THEN 0 ELSE 1 END, "
            f"CASE WHEN NOT {is_open} THEN {at(recv + ' + 10 * 86400')} END, "
            f"CASE WHEN NOT {is_open} THEN 'satisfied' END, "
            f"CASE WHEN {is_open} AND g % 10 NOT IN (8, 9) THEN {at(recv + ' + (5 + g % 11) * 86400')} END, "
            f"{at(recv + ' + 7200')} FROM {sql.source(n)}"
        )
        for name, _ in indexes:
            db.run(f'DROP INDEX "{name}"')
        db.run(f"INSERT INTO tickets ({cols}) {select}", sql.params)
        task = (
            "CASE status WHEN 'dispatched' THEN 'dispatched' "
            "WHEN 'accepted' THEN 'accepted' WHEN 'in_progress' THEN 'accepted' WHEN 'suspended' THEN 'accepted' "
            "ELSE 'replied' END"
        )
        db.run(
            "INSERT INTO ticket_units (ticket_id, unit_id, role, status, dispatched_at, accepted_at, replied_at) "
            f"SELECT id, lead_unit_id, 'lead', {task}, dispatched_at, accepted_at, replied_at "
            "FROM tickets WHERE lead_unit_id IS NOT NULL"
        )
        db.run(
            "INSERT INTO ticket_units (ticket_id, unit_id, role, status, dispatched_at, accepted_at, replied_at) "
            f"SELECT id, {water}, 'co', {task}, dispatched_at, accepted_at, replied_at "
            f"FROM tickets WHERE lead_unit_id IS NOT NULL AND lead_unit_id <> {water} AND id % 61 = 7"
        )
        ev = "INSERT INTO ticket_events (ticket_id, at, actor_name, unit_id, action, from_status, to_status, reason, details) "
        db.run(ev + f"SELECT id, received_at, '坐席', NULL, 'register', NULL, 'registered', NULL, {sql.json_empty} "
               "FROM tickets")
        db.run(
            ev + "SELECT id, dispatched_at, '派单员', lead_unit_id, 'dispatch', 'registered', 'dispatched', NULL, "
            f"{sql.json_empty} FROM tickets WHERE lead_unit_id IS NOT NULL"
        )
        tid, number, received = db.run(
            f"SELECT id, number, received_at FROM tickets WHERE lead_unit_id = {water} AND status = 'in_progress' "
            "ORDER BY id DESC LIMIT 1"
        )[0]
        t0 = received if isinstance(received, datetime) else datetime.fromisoformat(received).replace(tzinfo=UTC)
        rows = []
        for i in range(events):
            action, frm, to, reason = TIMELINE[i % len(TIMELINE)]
            when = t0 + timedelta(hours=3) + timedelta(minutes=7 * i)
            rows.append((tid, when if pg else sqlite_ts(when), "邓瑞" if i % 3 else "督办员", water, action, frm, to,
                         f"{reason}（第 {i + 1} 条）", json.dumps({"seq": i}, ensure_ascii=False)))
        if pg:
            keys = ("t", "at", "actor", "unit", "action", "frm", "to", "reason", "details")
            db.run(ev + "VALUES (:t, :at, :actor, :unit, :action, :frm, :to, :reason, CAST(:details AS json))",
                   [dict(zip(keys, r, strict=True)) for r in rows])
        else:
            db.run(ev + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        for _, ddl in indexes:
            db.run(ddl)
        db.run("COMMIT")
        if pg:
            for table in ("tickets", "ticket_units", "ticket_events"):
                db.run(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
            db.run("SET session_replication_role = DEFAULT")
            db.run("VACUUM ANALYZE")
        else:
            db.run("ANALYZE")
            db.run("PRAGMA journal_mode=WAL")
        counts = dict(
            db.run(
                "SELECT 'tickets', count(*) FROM tickets UNION ALL "
                "SELECT 'open', count(*) FROM tickets WHERE status NOT IN ('closed', 'archived') UNION ALL "
                "SELECT 'ticket_units', count(*) FROM ticket_units UNION ALL "
                "SELECT 'events', count(*) FROM ticket_events UNION ALL "
                f"SELECT 'unit_tickets', count(*) FROM ticket_units WHERE unit_id = {water} UNION ALL "
                f"SELECT 'unit_open', count(*) FROM ticket_units tu JOIN tickets t ON t.id = tu.ticket_id "
                f"WHERE tu.unit_id = {water} AND tu.status IN ('dispatched', 'accepted') UNION ALL "
                f"SELECT 'target_events', count(*) FROM ticket_events WHERE ticket_id = {tid}"
            )
        )
    finally:
        db.close()
    return {"number": number, "ticket_id": tid, **{k: int(v) for k, v in counts.items()}}


def prepare(backend: str, url: str, path: Path | None, args: argparse.Namespace, now: datetime) -> dict[str, Any]:
    from hotline.accounts.service import add_user
    from hotline.directory.loader import load_reference_data
    from hotline.kit.db import Database
    from hotline.migrations import upgrade

    t0 = time.perf_counter()
    upgrade(url)
    db = Database(url)
    with db.transaction() as session:
        load_reference_data(session)
        add_user(session, username="bench-handler", display_name="邓瑞", role="handler", unit_code=UNIT,
                 password=PASSWORD)
        add_user(session, username="bench-agent", display_name="杨振华", role="agent",
                 unit_code="yuncheng-12345", password=PASSWORD)
        add_user(session, username="bench-dispatcher", display_name="李派单", role="dispatcher",
                 unit_code="yuncheng-12345", password=PASSWORD)
    with db.transaction(write=False) as session:
        ref = _reference(session)
    db.dispose()
    t1 = time.perf_counter()
    info = generate(backend, url, path, args.tickets, args.open_share, args.events, now, ref)
    t2 = time.perf_counter()
    # a typical unit: the busiest after xiaxian-water, with fewer open tickets than one inbox page
    db = Database(url)
    with db.transaction() as session:
        from sqlalchemy import text

        typical = session.execute(text(
            "SELECT u.code, u.name, count(*) FROM ticket_units tu JOIN units u ON u.id = tu.unit_id "
            "WHERE u.code <> :water GROUP BY u.code, u.name ORDER BY count(*) DESC, u.code LIMIT 1"),
            {"water": UNIT}).one()
        add_user(session, username="bench-handler-2", display_name="王承办", role="handler",
                 unit_code=typical[0], password=PASSWORD)
        # a few of xiaxian-water's tickets in progress (caller reached) with the reply due within the
        # day, so that its inbox's 即将到期 section has rows at every size (uncontacted ones past
        # their 联系来电人 time are 已超期 instead)
        session.execute(text(
            "UPDATE tickets SET reply_due_at = :soon WHERE id IN (SELECT t.id FROM tickets t "
            "JOIN ticket_units tu ON tu.ticket_id = t.id JOIN units u ON u.id = tu.unit_id "
            "WHERE u.code = :water AND tu.role = 'lead' AND t.status = 'in_progress' ORDER BY t.id DESC LIMIT 5)"),
            {"water": UNIT, "soon": now + timedelta(hours=6)})
    db.dispose()
    info["typical_unit"] = f"{typical[1]} ({typical[0]}, {typical[2]:,} tickets)"
    return {"url": url, "reference_s": t1 - t0, "generate_s": t2 - t1, **info}


# ------------------------------------------------------------------ measurement


class Timed:
    """ASGI wrapper: server time from the request's arrival to its last body message."""

    def __init__(self, app: Any):
        self.app = app
        self.last_ms = 0.0

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()

        async def timed_send(message: dict[str, Any]) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                self.last_ms = (time.perf_counter() - t0) * 1000

        await self.app(scope, receive, timed_send)


class Capture:
    """Wraps ``env.get_template`` while one real page renders: keeps the template name and context."""

    def __init__(self) -> None:
        self.got: dict[str, Any] = {}
        self.wrapped: Any = None

    def __enter__(self) -> Capture:
        from hotline.web import render

        self.env = render.env
        self.original = render.env.get_template
        capture = self

        def get_template(name: str, *a: Any, **kw: Any) -> Any:
            tpl = capture.original(name, *a, **kw)
            if capture.wrapped is None:  # the page's own template (not the one it extends)
                real = tpl.render

                def render(*args: Any, **context: Any) -> str:
                    if not capture.got:
                        capture.got = {"template": name, "context": _fixed(dict(*args, **context))}
                    return real(*args, **context)

                tpl.render = render
                capture.wrapped = tpl
            return tpl

        render.env.get_template = get_template  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: Any) -> None:
        self.env.get_template = self.original  # type: ignore[method-assign]
        if self.wrapped is not None:
            del self.wrapped.render  # the cached template's own method again


def _fixed(context: dict[str, Any]) -> dict[str, Any]:
    """The context with the ORM user replaced by a plain copy and the request left out."""
    out = dict(context)
    out.pop("request", None)
    user = out.get("user")
    if user is not None:
        out["user"] = SimpleNamespace(id=user.id, username=user.username, display_name=user.display_name,
                                      role=user.role, unit_id=user.unit_id)
    return out


def bare_app(pages: dict[str, dict[str, Any]]) -> Any:
    """A minimal FastAPI app: one GET per page, the same template through the same env, fixed data."""
    from fastapi import FastAPI
    from fastapi.responses import HTMLResponse

    from hotline.web.render import env

    app = FastAPI()

    def route(name: str, got: dict[str, Any]) -> None:
        @app.get(f"/bare/{name}", include_in_schema=False)
        def bare(request: Request) -> HTMLResponse:  # Request: imported at module level (annotations)
            html = env.get_template(got["template"]).render(request=request, **got["context"])
            return HTMLResponse(html)

    for name, got in pages.items():
        route(name, got)
    return app


def run(backend: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    with scratch_database(backend, workdir, "pages") as (url, path):
        return _run(backend, url, path, args, workdir)


def _run(backend: str, url: str, path: Path | None, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from fastapi.testclient import TestClient
    from sqlalchemy import event

    from hotline.config import Settings
    from hotline.kit.db import Database
    from hotline.web.app import create_site

    now = datetime.now(UTC).replace(microsecond=0)
    setup = prepare(backend, url, path, args, now)
    if path is not None:
        size = path.stat().st_size / 2**20
    else:
        from sqlalchemy import create_engine, text

        engine = create_engine(url)
        with engine.connect() as conn:
            size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one() / 2**20
        engine.dispose()
    print(
        f"  set up: migrate + reference data {setup['reference_s']:.1f} s, {setup['tickets']:,} tickets "
        f"({setup['open']:,} open) generated in {setup['generate_s']:.1f} s, {size:.0f} MiB; "
        f"{setup['ticket_units']:,} unit tasks ({setup['unit_tickets']:,} of {UNIT}, "
        f"{setup['unit_open']:,} to accept or in hand), {setup['events']:,} events; ticket "
        f"{setup['number']} has {setup['target_events']} events; typical unit {setup['typical_unit']}",
        flush=True,
    )
    db = Database(setup["url"])
    site = Timed(create_site(Settings(data_dir=workdir, database_url=setup["url"]), database=db))
    # as hotline.web.asgi does after start-up: long-lived objects out of the collector's full walks
    gc.collect()
    gc.freeze()
    handler = TestClient(site, follow_redirects=False)
    handler2 = TestClient(site, follow_redirects=False)
    agent = TestClient(site, follow_redirects=False)
    dispatcher = TestClient(site, follow_redirects=False)
    for client, who in ((handler, "bench-handler"), (handler2, "bench-handler-2"), (agent, "bench-agent"),
                        (dispatcher, "bench-dispatcher")):
        r = client.post("/login", data={"username": who, "password": PASSWORD})
        if r.status_code != 303:
            raise RuntimeError(f"sign-in of {who} refused: {r.status_code} {r.text[:300]}")
    pages = {
        "unit_inbox": (handler, "/unit", "本单位工单"),
        "unit_inbox_typical": (handler2, "/unit", "本单位工单"),
        "ticket_page": (handler, f"/tickets/{setup['number']}", setup["number"]),
        "agent_intake": (agent, "/agent/intake", "来电受理"),
        "dispatch_queue": (dispatcher, "/dispatch", "派单工作台"),
    }

    # one real render each, captured for the bare page; and the SQL the page sends
    captured: dict[str, dict[str, Any]] = {}
    statements: dict[str, list[tuple[str, Any, float]]] = {}
    shown: dict[str, Any] = {}
    problems: list[str] = []
    for name, (client, url, must) in pages.items():
        sent: list[tuple[str, Any, float]] = []
        starts: list[float] = []

        def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool,
                   starts: list[float] = starts) -> None:
            starts.append(time.perf_counter())

        def after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool,
                  sent: list[tuple[str, Any, float]] = sent, starts: list[float] = starts) -> None:
            sent.append((statement, parameters, (time.perf_counter() - starts.pop()) * 1000))

        client.get(url)  # caches (reference snapshot) filled, as in steady use
        event.listen(db.engine, "before_cursor_execute", before)
        event.listen(db.engine, "after_cursor_execute", after)
        try:
            with Capture() as cap:
                r = client.get(url)
        finally:
            event.remove(db.engine, "before_cursor_execute", before)
            event.remove(db.engine, "after_cursor_execute", after)
        if r.status_code != 200 or must not in r.text:
            raise RuntimeError(f"{url}: {r.status_code}, {must!r} not in the page: {r.text[:300]}")
        captured[name] = cap.got
        statements[name] = sent
        ctx = cap.got["context"]
        if name.startswith("unit_inbox"):
            shown[name] = {k: len(v) for k, v in ctx["sections"].items()}
            if name == "unit_inbox" and not all(shown[name].values()):
                problems.append(f"unit inbox has an empty section: {shown[name]}")
        elif name == "ticket_page":
            shown[name] = {"events": len(ctx["events"])}
        elif name == "dispatch_queue":
            shown[name] = {"to_dispatch": len(ctx["new"]), "units": len(ctx["units"])}
        else:
            shown[name] = {"categories": sum(len(v) for _, v in ctx["categories"]), "regions": len(ctx["regions"])}
        shown[name]["html_kb"] = round(len(r.content) / 1024, 1)
        shown[name]["queries"] = len(sent)
        shown[name]["sql_exec_ms"] = round(sum(ms for *_, ms in sent), 2)

    bare = Timed(bare_app(captured))
    bare_client = TestClient(bare)
    for name in pages:
        r = bare_client.get(f"/bare/{name}")
        if r.status_code != 200:
            raise RuntimeError(f"bare {name}: {r.status_code} {r.text[:300]}")

    # query plans of the inbox's statements (and the ticket page's), as sent
    plans: dict[str, list[list[str]]] = {}
    raw = db.engine.raw_connection()
    try:
        for name in ("unit_inbox", "unit_inbox_typical", "ticket_page"):
            plans[name] = []
            for statement, params, ms in statements[name]:
                if not statement.lstrip().upper().startswith("SELECT"):
                    continue
                cur = raw.cursor()
                cur.execute(("EXPLAIN " if is_pg(backend) else "EXPLAIN QUERY PLAN ") + statement, params)
                plan = [str(row[0] if is_pg(backend) else row[-1]) for row in cur.fetchall()]
                cur.close()
                plans[name].append([f"{ms:.2f} ms: " + " ".join(statement.split())[:160], *plan])
    finally:
        raw.rollback()
        raw.close()

    def hit(client: Any, app: Timed, url: str) -> float:
        r = client.get(url)
        if r.status_code != 200:
            raise RuntimeError(f"{url}: {r.status_code} {r.text[:300]}")
        return app.last_ms

    for _ in range(args.warmup):
        for name, (client, url, _must) in pages.items():
            hit(client, site, url)
            hit(bare_client, bare, f"/bare/{name}")
    t: dict[str, dict[str, list[float]]] = {name: {"page": [], "bare": []} for name in pages}
    for i in range(args.requests):
        for name, (client, url, _must) in pages.items():
            if i % 2:
                t[name]["page"].append(hit(client, site, url))
                t[name]["bare"].append(hit(bare_client, bare, f"/bare/{name}"))
            else:
                t[name]["bare"].append(hit(bare_client, bare, f"/bare/{name}"))
                t[name]["page"].append(hit(client, site, url))
    db.dispose()

    out: dict[str, Any] = {}
    print(f"{'page':18s} {'p50 ms':>8s} {'p95 ms':>8s} {'max ms':>8s}   {'bare p50':>8s} {'bare p95':>8s}"
          f" {'n':>5s} {'SQL ms*':>7s} {'queries':>7s}  target p95 < {TARGET_MS:.0f} ms", flush=True)
    for name in pages:
        s, b = stats(t[name]["page"]), stats(t[name]["bare"])
        met = s["p95_ms"] < TARGET_MS
        out[name] = {
            "p50_ms": s["p50_ms"], "p95_ms": s["p95_ms"], "max_ms": s["max_ms"],
            "bare_p50_ms": b["p50_ms"], "bare_p95_ms": b["p95_ms"], "bare_max_ms": b["max_ms"],
            "n": len(t[name]["page"]), "target_met": met,
            "ratio_p50": round(s["p50_ms"] / b["p50_ms"], 1) if b["p50_ms"] else None,
            "shown": shown[name],
        }
        print(f"{name:18s} {s['p50_ms']:8.2f} {s['p95_ms']:8.2f} {s['max_ms']:8.2f}   {b['p50_ms']:8.2f} "
              f"{b['p95_ms']:8.2f} {len(t[name]['page']):5d} {shown[name]['sql_exec_ms']:7.2f} "
              f"{shown[name]['queries']:7d}  {'met' if met else 'NOT met'}", flush=True)
    print("* SQL ms: the statements' execute time in one captured request (SQLite steps lazily: rows fetched "
          "later are not counted)", flush=True)
    print(f"shown: {json.dumps(shown, ensure_ascii=False)}", flush=True)
    for name, ps in plans.items():
        print(f"statements of {name} (time in the captured request) and plans:", flush=True)
        for lines in ps:
            print(f"  {lines[0]}", flush=True)
            for line in lines[1:]:
                print(f"      {line}", flush=True)
    for p in problems:
        print(f"PROBLEM: {p}", flush=True)
    out.update(
        setup={k: (round(v, 1) if isinstance(v, float) else v) for k, v in setup.items() if k != "url"},
        db_mib=round(size),
        plans=plans,
        problems=problems,
        ok=not problems,
    )
    return out


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__, "20,000 tickets instead of 200,000; under a minute")
    p.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both",
                   help="the backend(s): SQLite, PostgreSQL on 127.0.0.1:5432, or both (default)")
    p.add_argument("--tickets", type=int, help="tickets in the database (default 200,000; quick 20,000)")
    p.add_argument("--open-share", type=float, default=0.1, help="share of (the newest) tickets open (0.1)")
    p.add_argument("--events", type=int, default=300, help="events on the ticket page's ticket (300)")
    p.add_argument("--requests", type=int, help="timed requests per page (default 200, quick 40)")
    p.add_argument("--warmup", type=int, help="untimed requests per page first (default 20, quick 10)")
    args = p.parse_args(argv)
    args.tickets = args.tickets or (20_000 if args.quick else 200_000)
    args.requests = max(2, args.requests or (40 if args.quick else 200))
    args.warmup = args.warmup if args.warmup is not None else (10 if args.quick else 20)
    if not 0 < args.open_share <= 1:
        p.error("--open-share must be in (0, 1]")
    backends = backend_list(args.db)
    print(
        f"pages benchmark: {args.tickets:,} tickets ({args.open_share:.0%} open) on {' and '.join(backends)}; "
        f"{args.requests} timed requests per page alternating with the bare page after {args.warmup} warm-up; "
        f"{os.cpu_count()} CPUs, load average {loadavg()}",
        flush=True,
    )
    t0 = time.perf_counter()
    summary, failed = run_backends(backends, lambda backend, workdir: run(backend, args, workdir),
                                   "hotline-bench-pages-")
    pages = ("unit_inbox", "unit_inbox_typical", "ticket_page", "agent_intake", "dispatch_queue")
    ran = [b for b in backends if "unit_inbox" in summary.get(b, {})]
    summary.update(
        tickets=args.tickets, open_share=args.open_share, requests=args.requests, warmup=args.warmup,
        target_ms=TARGET_MS, total_s=round(time.perf_counter() - t0, 1),
        target_met=bool(ran) and all(summary[b][k]["target_met"] for b in ran for k in pages),
    )
    emit(summary)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
