"""Analytics: bulk generation of a three-year history, the rollups' rebuild and refresh, and every
dashboard query read from the rollups against the plain aggregate over the raw tables (``raw=True``),
measured in the same run, over 10,000,000 tickets on PostgreSQL and 2,000,000 on SQLite.

What is measured
----------------
**Generation.** A scratch database is migrated and the reference data loaded (regions, units,
categories). ``--pg-tickets`` / ``--sqlite-tickets`` tickets (10,000,000 and 2,000,000; ``--quick``
100,000 and 50,000) are generated over the past ``--years`` years (3), with their ``ticket_units`` orders
and the assessment facts the lifecycle writes on them, **in the database, by SQL**: Python draws
a few small lookup tables once (numpy; filled by COPY or executemany) and each chunk of ids is one
``INSERT ... SELECT`` over ``generate_series`` (PostgreSQL; a chunk's tickets and orders in one
statement, the per-ticket base materialised once in a CTE, ``--workers`` connections at once, 2)
or over a cross join of a 0..999 table (SQLite; the base into a temp table, then tickets and
orders from it, one transaction). Every column is computed from the ticket id ``g`` with hash
arithmetic (``((g * a) % p1) * b % p2``, other multipliers per draw) and joins to the lookup
tables: the received-time quantiles (the hourly day profile's inverse CDF, so ids follow the
received order), the first id of each local day (ticket numbers), weighted category, unit and
region slots, and 73,728 drawn timelines ("shapes": sign, contact, reply, callback and a second
round's offsets, by unit punctuality level, urgency and reply limit). Foreign-key triggers are
skipped on PostgreSQL (the values come from the reference tables just read). The secondary
indexes of ``tickets`` and ``ticket_units`` are dropped before the load and built after it:
**tickets/s is the load alone** (the lookup tables, index building and ANALYZE are timed apart).

The history: tickets per hour following a day profile, fewer at weekends, a third more in the last
year than the first; channels (phone ~72%, web, mobile, letter, open311, import; stored by enum
name), the category's kind mostly, urgencies (normal 90%, urgent 8%, emergency 2%), level-2
categories with a skewed spread, regions over every shipped county, township and village; ~8%
answered directly, ~1% each handed off and refused (no orders), 0.5% merged (their order ended
``merged``); the rest dispatched to a lead unit (skewed over all handling units, each unit at one
of 16 punctuality levels) with 0-2 co-handlers; ~3% of the older tickets returned once (the first
order ended ``returned``, re-dispatched to another unit); callbacks with verdicts (satisfied,
basically, dissatisfied, not reached) and about half of the negative ones on older tickets
reopened for a second round (the first round's orders ended ``reopened`` keeping their verdict);
~1% ruled invalid or malicious; most orders signed, contacted and replied in time but not all. The
last weeks are in flight at the end: registered, dispatched (some still within their response
limit: *pending*), accepted, in progress, suspended, replied, waiting for or after the callback; a
few stuck ones overdue now. Nothing happens after the end of the history (no ``updated_at`` or
``closed_at`` after *now*: a later ``updated_at`` would carry the rollups' watermark past the
tickets touched below, and the refresh would miss them).

**Rollups.** ``rollups.rebuild`` over the whole history; then the tickets received on one day
six weeks back are touched (``updated_at`` moves; a few are ruled invalid, so the figures change)
and ``rollups.refresh`` is timed (it also recomputes the days still holding pending orders).

**Queries.** Each function of ``hotline.analytics.dashboard`` (volume, heat, heat inside a
county, by_county, deadlines_by_unit, satisfaction_trend, overview; volume, deadlines_by_unit and
satisfaction_trend of a county, as the dashboard with a county picked reads them), ``rates.table`` for unit,
township and category, over the last full month and over the last 365 days, and
``rates.monthly_ranking``: read from the rollups (``--runs``, 20; quick 10) and as the plain aggregate over
the raw tables (``raw=True``; ``--raw-runs``, 2 at full size, 3 quick), alternating, in the same run;
p50/p95 of each and whether the two results are equal (where not, the first differing key and
both values are printed; the same rows listed in another order, ties of a sort key, are noted
apart). Live queries, timed alone: ``overdue_now`` and ``overdue_total`` (checked equal to the
supervision board's 超期工单 total), ``open_now`` and ``drill.tickets`` (first page of the tickets behind a unit's missed responses in
the month, and of a township's tickets received). The clock is frozen at the end of the history for
the whole measurement, so rollups and raw aggregate see the same *now* (pending orders). Target:
every rollup-based query under 500 ms (p95).

Run
---
    .venv/bin/python bench/analytics.py --quick                  # both backends, about a minute
    .venv/bin/python bench/analytics.py --backend postgres       # 10,000,000 tickets
    .venv/bin/python bench/analytics.py --backend sqlite         # 2,000,000 tickets
    .venv/bin/python bench/analytics.py --backend postgres --pg-tickets 1000000 --keep   # keep the database
    .venv/bin/python bench/analytics.py --backend sqlite --load-only                     # generation alone

The last line of output is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from common import (
    backend_list,
    emit,
    is_pg,
    loadavg,
    parser,
    pg_create,
    run_backends,
    scratch_database,
    stats,
)

TARGET_MS = 500.0
H, D = 3600, 86400
TZ_OFFSET = 8 * H  # Asia/Shanghai, one offset all year
K_QUANT = 65536  # points of the received-time quantile table
SHAPES = 512  # timelines drawn per (punctuality level, urgency, reply limit)
QLEVELS = 16  # punctuality levels of the units
SLOTS = 1000  # weighted slots of the category and unit tables
REGION_SLOTS = 20000
NEVER = 10**9  # an offset (s) that never comes within the history
P1, P2 = 2147483647, 2147483629
_MULT = np.random.default_rng(20261128).integers(10**8, 2**31 - 1, size=(64, 2)).tolist()

TEXTS = [
    "村东的供水闸阀井漏水了，整个供水站停水，附近几个村都没水吃，请尽快派人抢修。",
    "小区从昨天晚上开始停水，物业说不清楚原因，家里有老人孩子，希望尽快恢复供水。",
    "最近一周自来水发黄有异味，烧开后有沉淀，担心水质不安全，请相关部门检测。",
    "路口的红绿灯坏了好几天了，早晚高峰车辆乱行，很危险，请尽快修复。",
    "楼下烧烤店每天营业到凌晨两点，油烟和噪音严重影响休息，多次沟通无果。",
    "公司拖欠三个月工资一直不发，找老板也找不到人，请劳动监察部门帮忙。",
    "想咨询一下新生儿医保怎么办理，需要带什么材料，在哪里办理。",
    "村里的道路坑坑洼洼，下雨天全是积水，孩子上学很不方便，希望修一修。",
    "小区垃圾好几天没人清运，堆在门口臭气熏天，夏天蚊蝇很多。",
    "供暖季到了家里暖气一直不热，室温只有十二度，找热力公司没人管。",
    "在网上买的商品有质量问题，商家拒绝退货，请市场监管部门处理。",
    "建议在学校门口增设减速带和人行横道，接送孩子的时候车辆太快。",
]
CALLERS = ["张先生", "李女士", "王师傅", "赵女士", "刘先生", "陈女士", "杨师傅", "郭先生", "马女士"]  # 10th: none
ACCEPT_LIMIT = [24 * H, 2 * H, 1 * H]  # by urgency: normal, urgent, emergency
CONTACT_LIMIT = [48 * H, 4 * H, 2 * H]
REPLY_DAYS = [5, 10, 15]  # normal tickets, by category; urgent 3, emergency 1
PROFILE = [1, 0.6, 0.4, 0.3, 0.3, 0.5, 1.5, 3, 6, 9, 10, 9.5, 7, 6.5, 8.5, 9, 8.5, 7.5, 6, 5, 4.5, 4, 3, 2]
# a ticket's timeline (offsets in seconds): round 0 (returned) from its dispatch, round 1 from its
# dispatch, round 2 (reopened) from the round's dispatch, itself given from round 1's
SHAPE_COLS = ("i", "alim", "clim", "rlim", "disp0", "back", "acc0", "acc0_done", "acc1", "cont1", "rep1",
              "rv1", "cb1", "close1", "sat1", "res1", "co1_1", "co2_1", "neg1", "disp2", "acc2", "cont2", "rep2",
              "rv2", "cb2", "close2", "sat2", "res2", "co1_2", "co2_2", "merged", "direct", "quick")

TICKET_COLS = (
    "id", "number", "query_code", "version", "channel", "kind", "category_code", "urgency", "status",
    "caller_name", "caller_phone", "caller_confidential", "caller_anonymous", "region_code", "address", "title",
    "content", "received_at", "lead_unit_id", "master_id", "dispatch_due_at", "accept_due_at", "contact_due_at",
    "reply_due_at", "due_basis", "dispatched_at", "accepted_at", "contacted_at", "replied_at",
    "suspended_seconds", "extension_count", "dispatch_count", "reopen_count", "callback_attempts", "callback_at",
    "resolved", "satisfaction", "closed_at", "close_reason", "assessment_exclusion", "watch_at", "updated_at",
)
UNIT_COLS = (
    "ticket_id", "unit_id", "role", "status", "dispatched_at", "accepted_at", "replied_at",
    "response_due_at", "accepted_on_time", "contacted_on_time", "replied_on_time", "callback_at", "resolved",
    "satisfaction", "ended",
)


# ------------------------------------------------------------------ reference data


def reference(session: Any) -> dict[str, Any]:
    from sqlalchemy import select

    from hotline.directory.models import Category, Region, Unit

    cats = list(session.execute(select(Category.code, Category.default_kind).where(Category.level == 2)
                                .order_by(Category.code)))
    regions = list(session.execute(select(Region.code, Region.level).where(Region.level >= 3)
                                   .order_by(Region.code)))
    units = list(session.scalars(select(Unit.id).where(Unit.kind != "hotline_center").order_by(Unit.id)))
    return {
        "categories": [c for c, _ in cats],
        "kinds": [str(getattr(k, "value", k)) for _, k in cats],
        "regions": {lvl: [c for c, lv in regions if lv == lvl] for lvl in (3, 4, 5)},
        "units": units,
    }


# ------------------------------------------------------------------ lookup tables (numpy, small)


class Plan:
    """What the SQL generation joins to, drawn in Python once: the received-time quantiles (the
    hourly day profile's inverse CDF), the first ticket id of each local day (for the numbers),
    weighted category, unit and region slots, and the per-ticket timelines ("shapes") by unit
    punctuality level, urgency and reply limit."""

    def __init__(self, n: int, end: int, years: int, ref: dict[str, Any], seed: int = 12345):
        t0 = time.perf_counter()
        self.n, self.end, self.ref = n, end, ref
        rng = np.random.default_rng(seed)
        first_day = (end + TZ_OFFSET) // D - years * 365  # local day number of the first day
        start = first_day * D - TZ_OFFSET
        hours = (end - start) // H + 1
        h = np.arange(hours)
        weekday = (first_day + h // 24 + 3) % 7  # 1970-01-01 was a Thursday (3)
        w = (np.array(PROFILE)[(h + TZ_OFFSET // H) % 24] * np.where(weekday >= 5, 0.7, 1.0)
             * (1 + 0.33 * (h // 24) / max(1, (hours - 1) // 24)))
        w[-1] *= max((end - start) / H - (hours - 1), 0.0)
        w = w / w.sum()
        cum = np.concatenate([[0.0], np.cumsum(w)])
        u = np.arange(K_QUANT + 1) / K_QUANT
        hh = np.clip(np.searchsorted(cum, u, side="right") - 1, 0, hours - 1)
        frac = np.clip((u - cum[hh]) / np.maximum(w[hh], 1e-12), 0, 1)
        t = np.minimum(np.maximum.accumulate((start + (hh + frac) * H).astype(np.int64)), end - 60)
        self.q_t, self.q_dt = t[:-1], np.diff(t)
        # ticket g is received at t[i] + ((g - 1) * K % n) * dt[i] / n, i = (g - 1) * K / n: rising with g
        g = np.arange(n, dtype=np.int64)
        i = g * K_QUANT // n
        recv = self.q_t[i] + (g * K_QUANT % n) * self.q_dt[i] // n
        lday = (recv + TZ_OFFSET) // D
        days, first = np.unique(lday, return_index=True)
        self.days = [(int(d), int(f) + 1, np.datetime64(int(d), "D").astype(str).replace("-", ""))
                     for d, f in zip(days, first, strict=True)]
        self.per_day_max = int(np.max(np.diff(np.append(first, n))))
        del g, i, recv, lday
        cats = ref["categories"]
        cw = 1 / (np.arange(len(cats)) + 3.0) ** 0.9
        self.cat_slots = self._slots(rng.permutation(cw / cw.sum()))
        kinds = sorted(set(ref["kinds"]))
        self.kinds = kinds
        self.cats = [(j, c, ref["kinds"][j], j % 3, TEXTS[j % len(TEXTS)][:20], TEXTS[j % len(TEXTS)])
                     for j, c in enumerate(cats)]
        units = ref["units"]
        uw = 1 / (np.arange(len(units)) + 8.0) ** 0.9
        self.unit_slots = self._slots(rng.permutation(uw / uw.sum()))
        quality = rng.uniform(0.85, 0.995, len(units))  # each unit's punctuality
        self.unit_q = np.minimum(((quality - 0.85) / 0.145 * QLEVELS).astype(int), QLEVELS - 1)
        regs = ref["regions"]
        self.regions = [regs[3][i % len(regs[3])] if i < REGION_SLOTS // 20 else
                        regs[4][i % len(regs[4])] if i < REGION_SLOTS * 12 // 20 else regs[5][i % len(regs[5])]
                        for i in range(REGION_SLOTS)]  # county 5%, township 55%, village 40%
        self.shapes = self._shapes(rng)
        self.prep_s = time.perf_counter() - t0

    @staticmethod
    def _slots(p: np.ndarray) -> np.ndarray:
        """SLOTS slots, item j taking about p[j] of them (every item at least one when it fits)."""
        edges = np.concatenate([[0.0], np.cumsum(p)])
        return np.minimum(np.searchsorted(edges, (np.arange(SLOTS) + 0.5) / SLOTS, side="right") - 1, len(p) - 1)

    def _shapes(self, rng: np.random.Generator) -> np.ndarray:
        out = []
        for qb in range(QLEVELS):
            q = 0.85 + (qb + 0.5) * 0.145 / QLEVELS
            for urg in range(3):
                for di in range(3):
                    rlim = (REPLY_DAYS[di] if urg == 0 else 3 if urg == 1 else 1) * D
                    block = _shape_block(rng, SHAPES, q, ACCEPT_LIMIT[urg], CONTACT_LIMIT[urg], rlim)
                    block[:, 0] = ((qb * 3 + urg) * 3 + di) * SHAPES + np.arange(SHAPES)
                    out.append(block)
        return np.concatenate(out)

    def tables(self) -> dict[str, tuple[tuple[str, ...], list[tuple[Any, ...]]]]:
        """name -> (columns, rows); the first column is the integer key."""
        units = self.ref["units"]
        return {
            "bench_q": (("i", "t", "dt"), [(i, int(t), int(d)) for i, (t, d) in
                                           enumerate(zip(self.q_t, self.q_dt, strict=True))]),
            "bench_day": (("d", "first_id", "ymd"), self.days),
            "bench_cat": (("i", "code", "kind", "di", "title", "content"),
                          [(i, *self.cats[int(j)][1:]) for i, j in enumerate(self.cat_slots)]),
            "bench_unit": (("i", "uid", "pos", "qb"), [(i, units[int(j)], int(j), int(self.unit_q[j]))
                                                       for i, j in enumerate(self.unit_slots)]),
            "bench_uu": (("i", "uid"), [(i, u) for i, u in enumerate(units)]),
            "bench_reg": (("i", "code"), list(enumerate(self.regions))),
            "bench_k": (("i",), [(i,) for i in range(1000)]),
            "bench_seg": (("k", "rd", "who"), [(0, 0, 0), (1, 1, 0), (2, 1, 1), (3, 1, 2), (4, 2, 0), (5, 2, 1),
                                               (6, 2, 2)]),
            "bench_shape": (SHAPE_COLS, [tuple(int(v) for v in r) for r in self.shapes]),
        }


def _shape_block(rng: np.random.Generator, s: int, q: float, alim: int, clim: int, rlim: int) -> np.ndarray:
    """``s`` timelines (the columns of SHAPE_COLS, the first left 0) for a unit of punctuality ``q``
    and the given accept, contact and reply limits: on time with probability about ``q``, late by an
    exponential share of the limit otherwise."""

    def delay(limit: int, p: float, lo: float = 0.02) -> np.ndarray:
        on = rng.random(s) < p
        return np.where(on, rng.uniform(lo, 0.95, s) * limit, limit * (1 + rng.exponential(0.6, s))).astype(np.int64)

    def round_() -> list[np.ndarray]:
        acc = delay(alim, q)
        cont = np.maximum(acc + 60, delay(clim, q - 0.02, 0.1))
        rep = np.maximum(cont + 600, delay(rlim, q - 0.05, 0.2))
        rv = rep + rng.integers(H, 8 * H, s)
        cb = rv + rng.integers(2 * H, 3 * D, s)
        close = cb + rng.integers(600, 4 * H, s)
        sat = rng.choice(4, s, p=[0.78, 0.10, 0.08, 0.04])
        res = np.where(sat == 2, rng.random(s) < 0.35, rng.random(s) < 0.94).astype(np.int64)
        return [acc, cont, rep, rv, cb, close, sat, res, delay(alim, q), delay(alim, q)]

    disp0 = 300 + rng.exponential(1500, s).astype(np.int64)
    back = disp0 + rng.integers(4 * H, 48 * H, s)
    acc0 = delay(alim, q)
    acc0_done = ((rng.random(s) < 0.6) & (disp0 + acc0 < back)).astype(np.int64)
    r1 = round_()
    neg1 = ((r1[6] == 2) | ((r1[6] != 3) & (r1[7] == 0))).astype(np.int64)
    disp2 = r1[5] - rng.integers(600, 3000, s)  # round 2 dispatched as round 1 closes (the reopen)
    r2 = round_()
    return np.column_stack([
        np.zeros(s), np.full(s, alim), np.full(s, clim), np.full(s, rlim), disp0, back, acc0, acc0_done, *r1, neg1,
        disp2, *r2, rng.integers(H, 6 * H, s), rng.integers(120, 900, s), rng.integers(60, 600, s)]).astype(np.int64)



# ------------------------------------------------------------------ the generating SQL


class Gen:
    """``INSERT ... SELECT`` statements generating tickets a..b and their orders in the database:
    every column computed from the row number ``g`` with hash arithmetic (``R``) and the lookup
    tables of :class:`Plan`. Layers are subqueries kept apart (``OFFSET 0``), so each value is
    computed once per row and referred to by name above."""

    def __init__(self, pg: bool, plan: Plan):
        self.pg, self.plan, self.n, self.now = pg, plan, plan.n, plan.end
        self.nu = len(plan.ref["units"])

    def R(self, k: int, m: int, g: str = "g") -> str:  # noqa: N802 - the draw
        a, b = _MULT[k]
        return f"((({g} * {a}) % {P1}) * {b} % {P2} % {m})"

    def ts(self, expr: str) -> str:
        if self.pg:
            return f"to_timestamp({expr})"
        # a Julian day number reads faster than the 'unixepoch' modifier (exact to the second)
        return f"(datetime(2440587.5 + ({expr}) / 86400.0) || '.000000')"

    def layer(self, cols: str, src: str) -> str:
        return f"(SELECT {cols} FROM {src} {'OFFSET 0' if self.pg else 'LIMIT -1 OFFSET 0'})"

    @property
    def join(self) -> str:
        return "JOIN" if self.pg else "CROSS JOIN"  # SQLite: the generated rows drive the loop

    def source(self, a: int, b: int) -> str:
        if self.pg:
            return f"generate_series(CAST({a} AS bigint), {b}) AS s(g)"
        # SQLite: ids from two scans of a table of 0..999 (cheaper than a recursive counter)
        assert b - a < 1_000_000, "a SQLite chunk holds at most 1,000,000 tickets"
        return (f"(SELECT {a} + t.i * 1000 + u.i AS g FROM bench_k t CROSS JOIN bench_k u "
                f"WHERE t.i <= {(b - a) // 1000} AND {a} + t.i * 1000 + u.i <= {b}) AS s")

    def base(self, a: int, b: int, bare: bool = False) -> str:
        """Per ticket: draws, outcome, rounds (L1: received, slots; L2: the shape, the outcome; L3: times)."""
        n, now, R, J = self.n, self.now, self.R, self.join
        old, recent = now - 60 * D, now - 50 * D
        l1 = self.layer(
            f"s.g AS g, q.t + ((s.g - 1) * {K_QUANT} % {n}) * q.dt / {n} AS recv, c.i AS ci, c.di AS di, "
            f"u.uid AS unit1, u.pos AS upos, u.qb AS qb, CASE WHEN {R(11, 100, 's.g')} < 90 THEN 0 "
            f"WHEN {R(11, 100, 's.g')} < 98 THEN 1 ELSE 2 END AS urg",
            f"{self.source(a, b)} {J} bench_q q ON q.i = (s.g - 1) * {K_QUANT} / {n} "
            f"{J} bench_cat c ON c.i = {R(1, SLOTS, 's.g')} {J} bench_unit u ON u.i = {R(3, SLOTS, 's.g')}")
        ro = R(10, 1000, "p.g")
        sh = ", ".join(f"sh.{c} AS {c}" for c in SHAPE_COLS[1:])
        c2 = f"(({self.R(44, self.nu - 1, 'p.g')} + p.upos + 1) % {self.nu} + 1 + {R(45, self.nu - 2, 'p.g')}) % {self.nu}"
        l2 = self.layer(
            f"p.g AS g, p.recv AS recv, p.ci AS ci, p.unit1 AS unit1, p.upos AS upos, p.urg AS urg, {sh}, "
            f"CASE WHEN {ro} < 80 THEN 1 WHEN {ro} < 90 THEN 2 WHEN {ro} < 100 THEN 3 WHEN {ro} < 105 AND "
            f"p.recv < {old} AND p.g > 1 THEN 4 ELSE 0 END AS oc, "
            f"CASE WHEN {ro} >= 105 AND p.recv < {old} AND {R(13, 1000, 'p.g')} < 30 THEN 1 ELSE 0 END AS ret, "
            f"CASE WHEN {ro} >= 105 AND p.recv < {old} AND sh.neg1 = 1 AND {R(35, 100, 'p.g')} < 50 THEN 1 "
            "ELSE 0 END AS reop, "
            f"CASE WHEN {ro} >= 100 AND p.recv > {recent} AND {R(37, 1000, 'p.g')} < 6 THEN "
            f"(CASE WHEN {R(38, 10, 'p.g')} < 3 THEN 2 ELSE 1 END) ELSE 0 END AS stuck, "
            f"CASE WHEN {R(39, 100, 'p.g')} < 3 THEN 2 WHEN {R(39, 100, 'p.g')} < 15 THEN 1 ELSE 0 END AS nco, "
            f"(p.upos + 1 + {R(40, self.nu - 1, 'p.g')}) % {self.nu} AS u0pos, "
            f"(p.upos + 1 + {R(44, self.nu - 1, 'p.g')}) % {self.nu} AS c1pos, {c2} AS c2raw",
            f"{l1} p {J} bench_shape sh ON sh.i = ((p.qb * 3 + p.urg) * 3 + p.di) * {SHAPES} + {R(20, SHAPES, 'p.g')}")
        # L3: round 1 as it stands (stuck: never replied, 2 = never signed either; merged: stopped)
        never = str(NEVER)
        keep = ("g", "recv", "ci", "unit1", "upos", "urg", "oc", "ret", "reop", "nco", "u0pos", "c1pos", "alim",
                "clim", "rlim", "acc0", "acc0_done", "sat1", "res1", "disp2", "acc2", "cont2", "rep2", "rv2", "cb2",
                "close2", "sat2", "res2", "co1_2", "co2_2", "merged", "direct", "quick")
        e1 = {
            "acc1": f"CASE WHEN v.stuck = 2 OR v.oc = 4 THEN {never} ELSE v.acc1 END",
            "cont1": f"CASE WHEN v.stuck = 2 OR v.oc = 4 THEN {never} ELSE v.cont1 END",
            "co1_1": f"CASE WHEN v.stuck = 2 OR v.oc = 4 THEN {never} ELSE v.co1_1 END",
            "co2_1": f"CASE WHEN v.stuck = 2 OR v.oc = 4 THEN {never} ELSE v.co2_1 END",
            "rep1": f"CASE WHEN v.stuck > 0 OR v.oc = 4 THEN {never} ELSE v.rep1 END",
            "rv1": f"CASE WHEN v.stuck > 0 THEN {never} ELSE v.rv1 END",
            "cb1": f"CASE WHEN v.stuck > 0 THEN {never} ELSE v.cb1 END",
            "close1": f"CASE WHEN v.stuck > 0 THEN {never} ELSE v.close1 END",
        }
        fin = {f"f{k}": f"CASE WHEN v.reop = 1 THEN v.{k}2 ELSE {e1.get(k + '1', 'v.' + k + '1')} END"
               for k in ("acc", "cont", "rep", "rv", "cb", "close", "sat", "res")}
        c2fix = (f"CASE WHEN v.c2raw = v.upos THEN (CASE WHEN (v.upos + 1) % {self.nu} = v.c1pos THEN "
                 f"(v.upos + 2) % {self.nu} ELSE (v.upos + 1) % {self.nu} END) ELSE v.c2raw END")
        cols = (
            ", ".join([f"v.{k} AS {k}" for k in keep] + [f"{e} AS {k}" for k, e in {**e1, **fin}.items()]) +
            f", v.recv + v.disp0 AS disp0, v.recv + CASE WHEN v.ret = 1 THEN v.back ELSE v.disp0 END AS disp1, "
            f"CASE WHEN v.reop = 1 THEN v.disp2 ELSE 0 END AS fd, {c2fix} AS c2pos, "
            f"CASE WHEN v.oc IN (0, 4) AND {R(41, 100, 'v.g')} < 1 THEN (CASE WHEN {R(42, 10, 'v.g')} < 8 THEN 1 "
            "ELSE 2 END) ELSE 0 END AS excl")
        return f"SELECT {cols} FROM {l2} v" if bare else self.layer(cols, f"{l2} v")

    def statements(self, a: int, b: int, staged: bool) -> list[str]:
        """Tickets a..b and their orders; ``staged``: the per-ticket base computed once, into a
        temp table both read, rather than once for each."""
        if self.pg and not staged:  # one statement: the base materialised once, read by both inserts
            return [f"WITH w AS MATERIALIZED ({self.base(a, b, bare=True)}), "
                    f"t AS ({self.tickets('w')}) {self.orders('w')}"]
        if not staged:
            base = self.base(a, b)
            return [self.tickets(base), self.orders(base)]
        return [f"CREATE TEMP TABLE bench_w AS {self.base(a, b, bare=True)}", self.tickets("bench_w"),
                self.orders("bench_w"), "DROP TABLE bench_w"]

    def tickets(self, base: str) -> str:
        """Tickets from ``base`` (:meth:`base`, or a table holding it)."""
        now, R, J, ts = self.now, self.R, self.join, self.ts
        d = "(w.disp1 + w.fd)"
        # L4: the ticket's stage now: 0 registered, 1 dispatched .. 7 closed after the callback; 11 closed
        # by a direct answer, 12 handed off, 13 refused, 14 merged
        quick = ("CASE w.oc WHEN 1 THEN w.recv + w.direct WHEN 4 THEN w.disp1 + w.merged "
                 "ELSE w.recv + w.quick END")
        stg = (f"CASE WHEN w.oc IN (1, 2, 3) THEN (CASE WHEN {quick} <= {now} THEN 10 + w.oc ELSE 0 END) "
               f"WHEN w.oc = 4 THEN 14 WHEN w.disp1 > {now} THEN 0 WHEN {d} + w.facc > {now} THEN 1 "
               f"WHEN {d} + w.fcont > {now} THEN 2 WHEN {d} + w.frep > {now} THEN 3 WHEN {d} + w.frv > {now} THEN 4 "
               f"WHEN {d} + w.fcb > {now} THEN 5 WHEN {d} + w.fclose > {now} THEN 6 ELSE 7 END")
        l4 = self.layer(
            "w.g AS g, w.recv AS recv, w.ci AS ci, w.unit1 AS unit1, w.urg AS urg, w.oc AS oc, w.ret AS ret, "
            "w.reop AS reop, w.excl AS excl, w.disp0 AS disp0, w.fsat AS fsat, w.fres AS fres, "
            f"{d} AS fd, {d} + w.alim AS adue, {d} + w.clim AS cdue, {d} + w.rlim AS rdue, "
            f"{d} + w.facc AS tacc, {d} + w.fcont AS tcont, {d} + w.frep AS trep, {d} + w.frv AS trv, "
            f"{d} + w.fcb AS tcb, {d} + w.fclose AS tclose, {quick} AS tquick, {stg} AS stg, "
            f"{R(36, 100, 'w.g')} AS rch, {R(43, 100, 'w.g')} AS rkind, {R(31, len(self.plan.kinds), 'w.g')} AS akind, "
            f"{R(32, 10, 'w.g')} AS rcaller, {R(46, 100, 'w.g')} AS rsusp",
            f"{base} w")
        sat = "CASE x.fsat WHEN 0 THEN 'satisfied' WHEN 1 THEN 'basically_satisfied' WHEN 2 THEN 'dissatisfied' " \
              "ELSE 'not_reached' END"
        kinds = self.plan.kinds
        alt_kind = "CASE x.akind " + " ".join(f"WHEN {i} THEN '{k}'" for i, k in enumerate(kinds[:-1])) + \
            f" ELSE '{kinds[-1]}' END"
        caller = "CASE x.rcaller " + " ".join(f"WHEN {i} THEN '{c}'" for i, c in enumerate(CALLERS)) + " END"
        pad = (lambda e: f"lpad(CAST({e} AS text), 6, '0')") if self.pg else (lambda e: f"printf('%06d', {e})")
        phone = (f"'13' || lpad(CAST({R(34, 10**9, 'x.g')} AS text), 9, '0')" if self.pg
                 else f"printf('13%09d', {R(34, 10**9, 'x.g')})")
        t, f = ("true", "false") if self.pg else ("1", "0")
        cols = [
            "x.g", f"dy.ymd || '-' || {pad('x.g - dy.first_id + 1')}", pad(R(30, 10**6, "x.g")), "1",
            "CASE WHEN x.rch < 72 THEN 'phone' WHEN x.rch < 82 THEN 'web' WHEN x.rch < 94 THEN 'mobile' "
            "WHEN x.rch < 96 THEN 'letter' WHEN x.rch < 98 THEN 'open311' ELSE 'import_' END",
            f"CASE WHEN x.rkind < 85 THEN c.kind ELSE {alt_kind} END", "c.code",
            "CASE x.urg WHEN 0 THEN 'normal' WHEN 1 THEN 'urgent' ELSE 'emergency' END",
            "CASE x.stg WHEN 0 THEN 'registered' WHEN 1 THEN 'dispatched' WHEN 2 THEN 'accepted' WHEN 3 THEN "
            "(CASE WHEN x.rsusp < 5 THEN 'suspended' ELSE 'in_progress' END) WHEN 4 THEN 'replied' "
            "WHEN 5 THEN 'callback_pending' WHEN 6 THEN 'callback_done' WHEN 12 THEN 'handed_off' "
            "WHEN 13 THEN 'refused' WHEN 14 THEN 'merged' ELSE 'closed' END",
            caller, phone, f, f, "r.code", "(x.g % 97 + 1) || '号院' || (x.g % 6 + 1) || '单元'", "c.title", "c.content",
            ts("x.recv"), "CASE WHEN x.stg BETWEEN 1 AND 7 OR x.stg = 14 THEN x.unit1 END",
            "CASE WHEN x.stg = 14 THEN x.g - 1 END", f"CASE WHEN x.oc IN (0, 4) THEN {ts('x.recv + 7200')} END",
            *[f"CASE WHEN x.stg BETWEEN 1 AND 7 OR x.stg = 14 THEN {ts(c)} END" for c in ("x.adue", "x.cdue", "x.rdue")],
            "CAST('{}' AS json)" if self.pg else "'{}'",
            f"CASE WHEN x.stg BETWEEN 1 AND 7 OR x.stg = 14 THEN {ts('x.disp0')} END",
            f"CASE WHEN x.stg BETWEEN 2 AND 7 THEN {ts('x.tacc')} END",
            f"CASE WHEN x.stg BETWEEN 3 AND 7 THEN {ts('x.tcont')} END",
            f"CASE WHEN x.stg BETWEEN 4 AND 7 THEN {ts('x.trep')} END", "0", "0",
            "CASE WHEN x.stg BETWEEN 1 AND 7 OR x.stg = 14 THEN 1 ELSE 0 END + x.ret + x.reop", "x.reop",
            "CASE WHEN x.stg IN (6, 7) THEN (CASE WHEN x.fsat = 3 THEN 2 ELSE 1 END) ELSE 0 END",
            f"CASE WHEN x.stg IN (6, 7) AND x.fsat <> 3 THEN {ts('x.tcb')} END",
            f"CASE WHEN x.stg IN (6, 7) AND x.fsat <> 3 THEN (CASE WHEN x.fres = 1 THEN {t} ELSE {f} END) END",
            f"CASE WHEN x.stg IN (6, 7) THEN {sat} END",
            f"CASE WHEN x.stg = 7 THEN {ts('x.tclose')} WHEN x.stg > 7 THEN {ts('x.tquick')} END",
            "CASE x.stg WHEN 7 THEN (CASE WHEN x.fsat = 3 THEN 'not_reached' ELSE 'callback' END) "
            "WHEN 11 THEN 'direct_answer' WHEN 12 THEN 'handed_off' WHEN 13 THEN 'refused' WHEN 14 THEN 'merged' END",
            "CASE x.excl WHEN 1 THEN 'invalid' WHEN 2 THEN 'malicious' END",
            f"CASE WHEN x.stg BETWEEN 1 AND 3 THEN {ts('x.rdue')} END",
            ts("CASE x.stg WHEN 0 THEN x.recv WHEN 1 THEN x.fd WHEN 2 THEN x.tacc WHEN 3 THEN x.tcont "
               "WHEN 4 THEN x.trep WHEN 5 THEN x.trv WHEN 6 THEN x.tcb WHEN 7 THEN x.tclose ELSE x.tquick END"),
        ]
        return (f"INSERT INTO tickets ({', '.join(TICKET_COLS)}) SELECT {', '.join(cols)} FROM {l4} x "
                f"{J} bench_day dy ON dy.d = (x.recv + {TZ_OFFSET}) / {D} {J} bench_cat c ON c.i = x.ci "
                f"{J} bench_reg r ON r.i = {R(33, REGION_SLOTS, 'x.g')}")

    def orders(self, base: str) -> str:
        """The orders (ticket_units) of the tickets in ``base``: up to seven per ticket (bench_seg)."""
        now, J, ts, never = self.now, self.join, self.ts, NEVER
        t, f = ("true", "false") if self.pg else ("1", "0")

        def pick(rd0: str, lead: str, co1: str, co2: str, lead2: str, co1_2: str, co2_2: str) -> str:
            return (f"CASE k.rd WHEN 0 THEN {rd0} WHEN 1 THEN (CASE k.who WHEN 0 THEN {lead} WHEN 1 THEN {co1} "
                    f"ELSE {co2} END) ELSE (CASE k.who WHEN 0 THEN {lead2} WHEN 1 THEN {co1_2} ELSE {co2_2} END) END")

        present = (f"(k.rd = 0 AND w.ret = 1 OR k.rd = 1 AND w.oc IN (0, 4) AND w.disp1 <= {now} OR "
                   "k.rd = 2 AND w.reop = 1) AND k.who <= w.nco")
        o1 = self.layer(
            "w.g AS tid, k.who AS who, w.alim AS alim, w.clim AS clim, w.rlim AS rlim, "
            "CASE k.rd WHEN 0 THEN w.disp0 WHEN 1 THEN w.disp1 ELSE w.disp1 + w.disp2 END AS d, "
            "CASE WHEN k.who = 0 THEN (CASE WHEN k.rd = 0 THEN w.u0pos ELSE w.upos END) WHEN k.who = 1 "
            "THEN w.c1pos ELSE w.c2pos END AS pos, "
            f"{pick(f'CASE WHEN w.acc0_done = 1 THEN w.acc0 ELSE {never} END', 'w.acc1', 'w.co1_1', 'w.co2_1', 'w.acc2', 'w.co1_2', 'w.co2_2')} AS ao, "
            f"{pick(f'CASE WHEN w.acc0_done = 1 THEN w.acc0 ELSE {never} END', 'w.cont1', str(never), str(never), 'w.cont2', str(never), str(never))} AS co, "
            f"CASE k.rd WHEN 0 THEN {never} WHEN 1 THEN w.rep1 ELSE w.rep2 END AS ro, "
            f"CASE k.rd WHEN 0 THEN {never} WHEN 1 THEN w.cb1 ELSE w.cb2 END AS cbo, "
            "CASE k.rd WHEN 2 THEN w.sat2 ELSE w.sat1 END AS sat, CASE k.rd WHEN 2 THEN w.res2 ELSE w.res1 END AS res, "
            "CASE WHEN k.rd = 0 THEN 'returned' WHEN k.rd = 1 AND w.reop = 1 THEN 'reopened' "
            "WHEN k.rd = 1 AND w.oc = 4 THEN 'merged' END AS ended",
            f"{base} w CROSS JOIN bench_seg k WHERE {present}")
        # a verdict on the round: reopened rounds had theirs; the others once the callback came
        called = (f"(o.ended = 'reopened' AND o.sat <> 3 OR o.ended IS NULL AND o.sat <> 3 "
                  f"AND o.d + o.cbo <= {now})")
        sat = "CASE o.sat WHEN 0 THEN 'satisfied' WHEN 1 THEN 'basically_satisfied' WHEN 2 THEN 'dissatisfied' " \
              "ELSE 'not_reached' END"
        cols = [
            "o.tid", "uu.uid", "CASE o.who WHEN 0 THEN 'lead' ELSE 'co' END",
            f"CASE WHEN o.ended IS NOT NULL THEN 'withdrawn' WHEN o.d + o.ro <= {now} THEN 'replied' "
            f"WHEN o.d + o.ao <= {now} THEN 'accepted' ELSE 'dispatched' END",
            ts("o.d"), f"CASE WHEN o.d + o.ao <= {now} THEN {ts('o.d + o.ao')} END",
            f"CASE WHEN o.d + o.ro <= {now} THEN {ts('o.d + o.ro')} END",
            ts("o.d + CASE o.who WHEN 0 THEN o.clim ELSE o.alim END"),
            f"CASE WHEN o.d + o.ao <= {now} THEN (CASE WHEN o.ao <= o.alim THEN {t} ELSE {f} END) END",
            f"CASE WHEN o.who = 0 AND o.d + o.co <= {now} THEN (CASE WHEN o.co <= o.clim THEN {t} ELSE {f} END) END",
            f"CASE WHEN o.d + o.ro <= {now} THEN (CASE WHEN o.ro <= o.rlim THEN {t} ELSE {f} END) END",
            f"CASE WHEN {called} THEN {ts('o.d + o.cbo')} END",
            f"CASE WHEN {called} THEN (CASE WHEN o.res = 1 THEN {t} ELSE {f} END) END",
            f"CASE WHEN {called} THEN {sat} END", "o.ended",
        ]
        return (f"INSERT INTO ticket_units ({', '.join(UNIT_COLS)}) SELECT {', '.join(cols)} FROM {o1} o "
                f"{J} bench_uu uu ON uu.i = o.pos")


# ------------------------------------------------------------------ loading


def _chunks(n: int, size: int) -> list[tuple[int, int]]:
    return [(a, min(n, a + size - 1)) for a in range(1, n + 1, size)]


def _indexes_pg(cur: Any) -> list[tuple[str, str]]:
    cur.execute("SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename IN ('tickets', 'ticket_units') "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)")
    return list(cur.fetchall())


def load_pg(url: str, plan: Plan, workers: int, chunk: int, staged: bool) -> dict[str, Any]:
    """The lookup tables COPYed in, then tickets and orders generated by ``INSERT ... SELECT`` per
    chunk of ids, ``workers`` connections at once (a chunk's tickets and orders in one transaction)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    gen = Gen(True, plan)
    out: dict[str, Any] = {}

    def session(con: Any) -> Any:
        cur = con.cursor()
        cur.execute("SET session_replication_role = replica")  # no per-row FK triggers: values from the reference
        cur.execute("SET TIME ZONE 'UTC'")
        cur.execute("SET synchronous_commit = off")
        cur.execute("SET work_mem = '512MB'")  # a chunk's base held in memory
        cur.execute("SET jit = off")
        return cur

    with psycopg.connect(dsn) as con:
        cur = session(con)
        indexes = _indexes_pg(cur)
        for name, _ in indexes:
            cur.execute(f'DROP INDEX "{name}"')
        t0 = time.perf_counter()
        for name, (cols, rows) in plan.tables().items():
            types = ", ".join(f"{c} {'text' if rows and isinstance(rows[0][j], str) else 'bigint'}"
                              + (" PRIMARY KEY" if j == 0 else "") for j, c in enumerate(cols))
            cur.execute(f"CREATE UNLOGGED TABLE {name} ({types})")
            with cur.copy(f"COPY {name} ({', '.join(cols)}) FROM STDIN") as cp:
                for r in rows:
                    cp.write_row(r)
            cur.execute(f"ANALYZE {name}")
        con.commit()
        prep_s = time.perf_counter() - t0
        print(f"  lookup tables filled in {prep_s:.1f} s (plus {plan.prep_s:.1f} s drawing them)", flush=True)

        done = {"tickets": 0}
        lock = threading.Lock()
        local = threading.local()
        conns: list[Any] = []

        def one(bounds: tuple[int, int]) -> int:
            if not hasattr(local, "cur"):
                c = psycopg.connect(dsn)
                with lock:
                    conns.append(c)
                local.con, local.cur = c, session(c)
            for sql in gen.statements(*bounds, staged):
                local.cur.execute(sql)
            local.con.commit()
            with lock:
                done["tickets"] += bounds[1] - bounds[0] + 1
                if done["tickets"] % 1_000_000 < chunk or done["tickets"] == plan.n:
                    el = time.perf_counter() - t1
                    print(f"    {done['tickets']:,} tickets in {el:.1f} s ({done['tickets'] / el:,.0f}/s)", flush=True)
            return bounds[1] - bounds[0] + 1

        t1 = time.perf_counter()
        try:
            with ThreadPoolExecutor(workers) as pool:
                tickets = sum(pool.map(one, _chunks(plan.n, chunk)))
        finally:
            for c in conns:
                c.close()
        load_s = time.perf_counter() - t1
        cur.execute("SELECT count(*) FROM ticket_units")
        units = cur.fetchone()[0]
        out.update(tickets=tickets, ticket_units=units, load_s=round(load_s, 1), tickets_per_s=round(tickets / load_s),
                   orders_per_s=round(units / load_s), workers=workers, lookup_s=round(prep_s + plan.prep_s, 1))
        print(f"  loaded {tickets:,} tickets and {units:,} orders in {load_s:.1f} s: {tickets / load_s:,.0f} "
              f"tickets/s ({units / load_s:,.0f} orders/s; INSERT ... SELECT generate_series, chunks of {chunk:,} "
              f"on {workers} connection{'s' if workers > 1 else ''})", flush=True)
        for name in plan.tables():
            cur.execute(f"DROP TABLE {name}")
        con.commit()
        con.autocommit = True
        cur.execute("SET maintenance_work_mem = '1GB'")
        cur.execute("SET max_parallel_maintenance_workers = 2")
        t1 = time.perf_counter()
        for _name, ddl in indexes:
            cur.execute(ddl)
        t2 = time.perf_counter()
        cur.execute("SET session_replication_role = DEFAULT")
        cur.execute("VACUUM ANALYZE tickets")
        cur.execute("VACUUM ANALYZE ticket_units")
        t3 = time.perf_counter()
        cur.execute("SELECT setval(pg_get_serial_sequence('tickets', 'id'), (SELECT max(id) FROM tickets))")
        out.update(indexes=len(indexes), index_s=round(t2 - t1, 1), vacuum_analyze_s=round(t3 - t2, 1))
        print(f"  {len(indexes)} secondary indexes built in {t2 - t1:.1f} s; VACUUM ANALYZE {t3 - t2:.1f} s",
              flush=True)
    return out


def load_sqlite(path: Path, plan: Plan, chunk: int) -> dict[str, Any]:
    """The lookup tables as temp tables, then tickets and orders generated by ``INSERT ... SELECT``
    per chunk of ids from a recursive counter, in one transaction."""
    gen = Gen(False, plan)
    con = sqlite3.connect(path, isolation_level=None)
    out: dict[str, Any] = {}
    try:
        con.execute("PRAGMA journal_mode=OFF")  # a scratch database: nothing to roll back to
        con.execute("PRAGMA synchronous=OFF")
        con.execute("PRAGMA locking_mode=EXCLUSIVE")
        con.execute("PRAGMA cache_size=-524288")
        con.execute("PRAGMA temp_store=MEMORY")
        indexes = con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN "
                              "('tickets', 'ticket_units') AND sql IS NOT NULL").fetchall()
        for name, _ in indexes:
            con.execute(f'DROP INDEX "{name}"')
        t0 = time.perf_counter()
        con.execute("BEGIN")
        for name, (cols, rows) in plan.tables().items():
            con.execute(f"CREATE TEMP TABLE {name} ({', '.join((f'{cols[0]} INTEGER PRIMARY KEY', *cols[1:]))})")
            con.executemany(f"INSERT INTO {name} VALUES ({', '.join('?' * len(cols))})", rows)
        prep_s = time.perf_counter() - t0
        print(f"  lookup tables filled in {prep_s:.1f} s (plus {plan.prep_s:.1f} s drawing them)", flush=True)
        t1 = time.perf_counter()
        tickets = 0
        for a, b in _chunks(plan.n, chunk):
            for sql in gen.statements(a, b, True):
                con.execute(sql)
            tickets += b - a + 1
            if tickets % 500_000 < chunk or tickets == plan.n:
                el = time.perf_counter() - t1
                print(f"    {tickets:,} tickets in {el:.1f} s ({tickets / el:,.0f}/s)", flush=True)
        con.execute("COMMIT")
        load_s = time.perf_counter() - t1
        units = con.execute("SELECT count(*) FROM ticket_units").fetchone()[0]
        out.update(tickets=tickets, ticket_units=units, load_s=round(load_s, 1), tickets_per_s=round(tickets / load_s),
                   orders_per_s=round(units / load_s), lookup_s=round(prep_s + plan.prep_s, 1))
        print(f"  loaded {tickets:,} tickets and {units:,} orders in {load_s:.1f} s: {tickets / load_s:,.0f} "
              f"tickets/s ({units / load_s:,.0f} orders/s; INSERT ... SELECT, ids from a cross join of 0..999)", flush=True)
        for name in plan.tables():
            con.execute(f"DROP TABLE temp.{name}")
        t1 = time.perf_counter()
        for _, ddl in indexes:
            con.execute(ddl)
        t2 = time.perf_counter()
        con.execute("ANALYZE")
        con.execute("PRAGMA locking_mode=NORMAL")
        con.execute("PRAGMA journal_mode=WAL")
        t3 = time.perf_counter()
        out.update(indexes=len(indexes), index_s=round(t2 - t1, 1), analyze_s=round(t3 - t2, 1))
        print(f"  {len(indexes)} secondary indexes built in {t2 - t1:.1f} s; ANALYZE {t3 - t2:.1f} s", flush=True)
    finally:
        con.close()
    return out


# ------------------------------------------------------------------ measurement


def _plain(value: Any) -> Any:
    """Results made comparable and printable: dataclasses as dicts."""
    from dataclasses import asdict, is_dataclass

    if is_dataclass(value):
        return asdict(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _keyed(value: Any) -> Any:
    """A list of rows with an identity (``key``, ``period``, ``unit_id``) as a dict by it, so a
    difference is found by key rather than by position (the rows are ranked by their figures)."""
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        for ident in ("key", "period", "unit_id"):
            if all(ident in v for v in value):
                return {v[ident]: v for v in value}
    return value


def _first_diff(a: Any, b: Any, where: str = "") -> tuple[str, Any, Any]:
    """Where two results first differ (a path of keys) and the two values there."""
    a, b = _keyed(a), _keyed(b)
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            if k not in a or k not in b:
                return f"{where}[{k!r}]", a.get(k, "<missing>"), b.get(k, "<missing>")
            if a[k] != b[k]:
                return _first_diff(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return _first_diff(x, y, f"{where}[{i}]")
    return where or "(top)", a, b


def _short(value: Any, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def queries(first_m: date, last_m: date, first_y: date, last_y: date, county: str, year: int,
            month: int) -> dict[str, Callable[[Any, bool], Any]]:
    from hotline.analytics import dashboard, rates

    out: dict[str, Callable[[Any, bool], Any]] = {}
    for span, (a, b) in (("month", (first_m, last_m)), ("year", (first_y, last_y))):
        out[f"volume_channel_{span}"] = lambda s, raw, a=a, b=b: dashboard.volume(s, a, b, raw=raw)
        out[f"volume_kind_{span}"] = lambda s, raw, a=a, b=b: dashboard.volume(s, a, b, by="kind", raw=raw)
        out[f"heat_{span}"] = lambda s, raw, a=a, b=b: dashboard.heat(s, a, b, raw=raw)
        out[f"heat_county_{span}"] = lambda s, raw, a=a, b=b: dashboard.heat(s, a, b, region_code=county, raw=raw)
        out[f"by_county_{span}"] = lambda s, raw, a=a, b=b: dashboard.by_county(s, a, b, raw=raw)
        out[f"deadlines_by_unit_{span}"] = lambda s, raw, a=a, b=b: dashboard.deadlines_by_unit(s, a, b, raw=raw)
        out[f"satisfaction_trend_{span}"] = (lambda s, raw, a=a, b=b, m=(span == "year"):
                                             dashboard.satisfaction_trend(s, a, b, monthly=m, raw=raw))
        # A county picked on the dashboard: volume from the rollup by county (rollup_intake_county),
        # deadlines from the assessment rows keyed county and unit, the trend from the township rows.
        out[f"volume_channel_county_{span}"] = (lambda s, raw, a=a, b=b:
                                                dashboard.volume(s, a, b, raw=raw, region_code=county))
        out[f"deadlines_by_unit_county_{span}"] = (lambda s, raw, a=a, b=b:
                                                   dashboard.deadlines_by_unit(s, a, b, raw=raw, region_code=county))
        out[f"satisfaction_trend_county_{span}"] = (lambda s, raw, a=a, b=b, m=(span == "year"):
                                                    dashboard.satisfaction_trend(s, a, b, monthly=m, raw=raw,
                                                                                 region_code=county))
        for dim in ("unit", "township", "category"):
            out[f"table_{dim}_{span}"] = lambda s, raw, a=a, b=b, d=dim: rates.table(s, d, a, b, raw=raw)
    out["monthly_ranking_unit"] = lambda s, raw: rates.monthly_ranking(s, "unit", year, month, raw=raw)
    out["overview"] = lambda s, raw: dashboard.overview(s, raw=raw)
    return out


def _orm_check(s: Any, drill: Any, first: date, last: date, unit: str) -> dict[str, int]:
    """The generated rows read back as ORM objects (enums, timestamps, orders): the drill's first
    page of a unit's unsatisfied tickets and 200 tickets spread over the ids."""
    from sqlalchemy import func, select

    from hotline.tickets.models import Ticket

    page = drill.tickets(s, dimension="unit", key=unit, measure="unsatisfied", first=first, last=last)
    n = s.scalar(select(func.max(Ticket.id))) or 1
    ids = list(page.ticket_ids[:20]) + list(range(1, n + 1, max(1, n // 200)))
    objs = drill.rows(s, ids)
    statuses: set[str] = set()
    orders = 0
    for t in objs:
        assert t.received_at.tzinfo is not None and t.updated_at >= t.received_at, t.id
        statuses.add(str(t.status.value))
        _ = (t.channel, t.urgency, t.satisfaction, t.closed_at, t.due_basis)
        for u in t.units:
            _ = (u.role, u.status, u.satisfaction, u.dispatched_at, u.callback_at)
            orders += 1
    print(f"  ORM read back {len(objs)} tickets ({len(statuses)} statuses) and their {orders} orders", flush=True)
    return {"tickets": len(objs), "orders": orders, "statuses": len(statuses)}


def measure(backend: str, url: str, now: datetime, args: argparse.Namespace) -> dict[str, Any]:
    from sqlalchemy import func, select, text

    from hotline.accounts.scope import SYSTEM
    from hotline.analytics import dashboard, drill, rates, rollups
    from hotline.kit import clock
    from hotline.kit.db import Database
    from hotline.tickets import queries as ticket_queries
    from hotline.tickets.models import Ticket
    from hotline.tickets.states import OPEN

    out: dict[str, Any] = {}
    problems: list[str] = []
    notes: list[str] = []
    clock.freeze(now)
    db = Database(url)
    try:
        with db.transaction(write=False) as s:
            latest = s.scalar(select(func.max(Ticket.updated_at)))
        if latest is not None and latest > now:  # the refresh's watermark would pass the touched tickets
            problems.append(f"a ticket updated at {latest}, after the end of the history {now}")
        t0 = time.perf_counter()
        with db.transaction() as s:
            rollups.rebuild(s, now=now)
        rebuild_s = time.perf_counter() - t0
        with db.transaction(write=False) as s:
            sizes = {t: s.scalar(text(f"SELECT count(*) FROM {t}")) for t in
                     ("rollup_assessment", "rollup_intake_area", "rollup_intake_channel", "rollup_intake_county")}
        print(f"  rollups.rebuild: {rebuild_s:.1f} s ({', '.join(f'{k} {v:,}' for k, v in sizes.items())} rows)",
              flush=True)

        # touch a day's worth of tickets six weeks back: updated, a few ruled invalid
        today = clock.local(now).date()
        day = today - timedelta(days=42)
        start = datetime(day.year, day.month, day.day, tzinfo=clock.tz()).astimezone(UTC)
        later = now + timedelta(seconds=30)
        clock.freeze(later)
        with db.transaction() as s:
            touched = s.execute(Ticket.__table__.update().where(Ticket.received_at >= start,
                                                                 Ticket.received_at < start + timedelta(days=1))
                                .values(updated_at=later)).rowcount
            s.execute(Ticket.__table__.update().where(Ticket.received_at >= start,
                                                      Ticket.received_at < start + timedelta(days=1),
                                                      Ticket.id % 50 == 0, Ticket.lead_unit_id.is_not(None))
                      .values(assessment_exclusion="invalid"))
        t0 = time.perf_counter()
        with db.transaction() as s:
            res = rollups.refresh(s, now=later)
        refresh_s = time.perf_counter() - t0
        print(f"  rollups.refresh after touching {touched:,} tickets of {day}: {refresh_s:.2f} s "
              f"({res.days} days recomputed)", flush=True)
        out.update(rebuild_s=round(rebuild_s, 2), refresh_s=round(refresh_s, 3), refresh_days=res.days,
                   refresh_touched_tickets=touched, rollup_rows=sizes)
        now = later

        # periods: the last full month, the last 365 days to yesterday, the previous month's ranking
        last_m = today.replace(day=1) - timedelta(days=1)
        first_m = last_m.replace(day=1)
        last_y = today - timedelta(days=1)
        first_y = last_y - timedelta(days=364)
        with db.transaction(write=False) as s:
            county = s.scalar(select(func.substr(Ticket.region_code, 1, 6)).where(Ticket.id == 1)) or "140828"
        qs = queries(first_m, last_m, first_y, last_y, county, last_m.year, last_m.month)
        results: dict[str, Any] = {}
        print(f"  queries: month {first_m}..{last_m}, year {first_y}..{last_y}, county {county}; "
              f"{args.runs} rollup runs, {args.raw_runs} raw runs each", flush=True)
        print(f"  {'query':28s} {'p50 ms':>9s} {'p95 ms':>9s}   {'raw p50':>9s} {'raw p95':>9s} {'x':>7s}  "
              f"{'equal':5s} target", flush=True)
        for name, fn in qs.items():
            times: dict[str, list[float]] = {"rollup": [], "raw": []}
            got: dict[str, Any] = {}
            with db.transaction(write=False) as s:
                fn(s, False)  # warm (reference snapshot, plans)
                for i in range(max(args.runs, args.raw_runs)):
                    for kind in (("rollup", "raw") if i % 2 else ("raw", "rollup")):
                        if kind == "raw" and i >= args.raw_runs or kind == "rollup" and i >= args.runs:
                            continue
                        t = time.perf_counter()
                        r = fn(s, kind == "raw")
                        times[kind].append((time.perf_counter() - t) * 1000)
                        got.setdefault(kind, _plain(r))
            a, b = stats(times["rollup"]), stats(times["raw"])
            equal = got["rollup"] == got["raw"]
            # the same rows, listed in another order (ties of the sort key): reported, not a difference
            ties = not equal and _keyed(got["rollup"]) == _keyed(got["raw"])
            if ties:
                notes.append(f"{name}: the same rows, ties listed in another order")
                print(f"    {name}: the same rows, ties of the sort key listed in another order", flush=True)
                equal = True
            met = a["p95_ms"] < TARGET_MS
            if not equal:
                where, x, y = _first_diff(got["rollup"], got["raw"])
                shown = f"first at {where}: rollup {_short(x)}, raw {_short(y)}"
                print(f"    {name}: results differ, {shown}", flush=True)
                problems.append(f"{name}: rollup and raw results differ ({shown})")
            results[name] = {"p50_ms": a["p50_ms"], "p95_ms": a["p95_ms"], "max_ms": a["max_ms"],
                             "n": len(times["rollup"]), "raw_p50_ms": b["p50_ms"], "raw_p95_ms": b["p95_ms"],
                             "raw_n": len(times["raw"]), "equal": equal, "ties_reordered": ties, "target_met": met,
                             "rows": len(got["rollup"]) if isinstance(got["rollup"], list | dict) else None}
            print(f"  {name:28s} {a['p50_ms']:9.2f} {a['p95_ms']:9.2f}   {b['p50_ms']:9.1f} {b['p95_ms']:9.1f} "
                  f"{b['p50_ms'] / max(a['p50_ms'], 0.01):7.0f}  {str(equal):5s} {'met' if met else 'NOT met'}",
                  flush=True)

        # live queries: overdue now, open now, drill-down first pages
        with db.transaction(write=False) as s:
            counts = rates.rollup_counts(s, "unit", first_m, last_m)
            busiest = max(counts, key=lambda k: counts[k]["orders"])
            town_rows = dashboard.heat(s, first_m, last_m, region_code=county)
            township = max({a for _, a in town_rows}, key=lambda a: sum(n for (_, x), n in town_rows.items() if x == a))
            received = sum(n for (_, x), n in town_rows.items() if x == township)
            live = {
                "overdue_now": lambda: dashboard.overdue_now(s),
                "overdue_total": lambda: dashboard.overdue_total(s),
                "open_now": lambda: dashboard.open_now(s),
                # a county picked: its open and overdue tickets, through the status indexes
                "open_now_county": lambda: dashboard.open_now(s, region_code=county),
                "overdue_total_county": lambda: dashboard.overdue_total(s, region_code=county),
                "drill_unit_not_responded_month": lambda: drill.tickets(
                    s, dimension="unit", key=busiest, measure="not_responded", first=first_m, last=last_m),
                "drill_unit_unsatisfied_year": lambda: drill.tickets(
                    s, dimension="unit", key=busiest, measure="unsatisfied", first=first_y, last=last_y),
                "drill_township_received_month": lambda: drill.tickets(
                    s, dimension="township", key=township, measure="received", first=first_m, last=last_m),
            }
            for name, fn in live.items():
                fn()
                times_l = []
                for _ in range(args.runs):
                    t = time.perf_counter()
                    r = fn()
                    times_l.append((time.perf_counter() - t) * 1000)
                a = stats(times_l)
                met = a["p95_ms"] < TARGET_MS
                shown = r.total if hasattr(r, "total") else (sum(r.values()) if isinstance(r, dict) else r)
                results[name] = {"p50_ms": a["p50_ms"], "p95_ms": a["p95_ms"], "max_ms": a["max_ms"],
                                 "n": len(times_l), "live": True, "target_met": met, "figure": shown}
                print(f"  {name:28s} {a['p50_ms']:9.2f} {a['p95_ms']:9.2f}   {'live':>9s} {'':9s} {'':7s}  "
                      f"{'':5s} {'met' if met else 'NOT met'}  ({shown:,})", flush=True)
            # 当前超期 on the dashboard and the wall is the supervision board's 超期工单 total
            late = ticket_queries.TicketFilter(status=[x.value for x in OPEN], overdue=True)
            board_total = ticket_queries.list_tickets(s, SYSTEM, late, per_page=1)[1]
            if results["overdue_total"]["figure"] != board_total:
                problems.append(f"overdue now {results['overdue_total']['figure']} differs from the supervision "
                                f"board's {board_total}")
            dr = results["drill_township_received_month"]["figure"]
            if dr != received:
                problems.append(f"drill received total {dr} differs from the heat map's {received}")
            nr = results["drill_unit_not_responded_month"]["figure"]
            f = {x.key: x for x in rates.table(s, "unit", first_m, last_m)}[busiest]
            if nr > f.response_base - f.responded:
                problems.append(f"drill not_responded lists {nr} tickets, more than the {f.response_base - f.responded} "
                                "orders of the figure")
            out["orm_check"] = _orm_check(s, drill, first_y, last_y, busiest)
            out["drill_checks"] = {"township": township, "received": received, "unit": busiest,
                                   "not_responded_orders": f.response_base - f.responded, "not_responded_tickets": nr}
            if backend.startswith("postgres"):
                plans = {}
                for label, q in (("overdue_now", dashboard.overdue_query(clock.now())),):
                    sql = str(q.compile(dialect=s.get_bind().dialect, compile_kwargs={"literal_binds": True}))
                    plans[label] = [r[0] for r in s.execute(text("EXPLAIN " + sql))]
                out["plans"] = plans
        out["queries"] = results
    finally:
        clock.freeze(None)
        db.dispose()
    out["problems"] = problems
    out["notes"] = notes
    out["ok"] = not problems
    return out


@contextmanager
def _database(backend: str, workdir: Path, keep: bool) -> Iterator[tuple[str, Path | None]]:
    """The scratch database, dropped after the run unless ``keep`` (then where it is, printed)."""
    if not keep:
        with scratch_database(backend, workdir, "analytics") as db:
            yield db
        return
    if is_pg(backend):
        url = pg_create(f"hotline_bench_analytics_keep_{uuid.uuid4().hex[:8]}")
        try:
            yield url, None
        finally:
            print(f"  kept: {url}", flush=True)
        return
    path = Path(tempfile.mkdtemp(prefix="hotline-bench-analytics-keep-")) / "analytics.db"
    try:
        yield f"sqlite:///{path}", path
    finally:
        print(f"  kept: {path}", flush=True)


def run(backend: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    with _database(backend, workdir, args.keep) as (url, path):
        return _run(backend, url, path, args)


def _run(backend: str, url: str, path: Path | None, args: argparse.Namespace) -> dict[str, Any]:
    from hotline.directory.loader import load_reference_data
    from hotline.kit.db import Database
    from hotline.migrations import upgrade

    pg = is_pg(backend)
    n = args.pg_tickets if pg else args.sqlite_tickets
    t0 = time.perf_counter()
    upgrade(url)
    db = Database(url)
    with db.transaction() as s:
        load_reference_data(s)
    with db.transaction(write=False) as s:
        ref = reference(s)
    db.dispose()
    print(f"  migrated, reference data loaded in {time.perf_counter() - t0:.1f} s; generating {n:,} tickets over "
          f"{args.years} years", flush=True)
    now = datetime.now(UTC).replace(microsecond=0)
    plan = Plan(n, int(now.timestamp()), args.years, ref)
    load = (load_pg(url, plan, args.workers, args.chunk or min(1_000_000, max(50_000, n // 8)), args.staged) if pg
            else load_sqlite(path, plan, args.chunk or 500_000))  # type: ignore[arg-type]
    if pg:
        from sqlalchemy import create_engine, text

        engine = create_engine(url)
        with engine.connect() as conn:
            size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one() / 2**20
            shape = dict(conn.execute(text(
                "SELECT 'open', count(*) FROM tickets WHERE status NOT IN ('closed', 'handed_off', 'refused', "
                "'merged') UNION ALL SELECT 'overdue', count(*) FROM tickets WHERE status IN ('dispatched', "
                "'accepted', 'in_progress') AND reply_due_at < now() UNION ALL "
                "SELECT 'returned', count(*) FROM ticket_units WHERE ended = 'returned' UNION ALL "
                "SELECT 'reopened', count(*) FROM ticket_units WHERE ended = 'reopened' UNION ALL "
                "SELECT 'excluded', count(*) FROM tickets WHERE assessment_exclusion IS NOT NULL UNION ALL "
                "SELECT 'co', count(*) FROM ticket_units WHERE role = 'co'")).all())
        engine.dispose()
    else:
        size = path.stat().st_size / 2**20  # type: ignore[union-attr]
        con = sqlite3.connect(path)
        shape = dict(con.execute(
            "SELECT 'open', count(*) FROM tickets WHERE status NOT IN ('closed', 'handed_off', 'refused', "
            "'merged') UNION ALL SELECT 'returned', count(*) FROM ticket_units WHERE ended = 'returned' UNION ALL "
            "SELECT 'reopened', count(*) FROM ticket_units WHERE ended = 'reopened' UNION ALL "
            "SELECT 'excluded', count(*) FROM tickets WHERE assessment_exclusion IS NOT NULL UNION ALL "
            "SELECT 'co', count(*) FROM ticket_units WHERE role = 'co'").fetchall())
        con.close()
    print(f"  database {size:,.0f} MiB; {', '.join(f'{k} {v:,}' for k, v in shape.items())}", flush=True)
    out = {"generation": {**load, "db_mib": round(size), "shape": shape}}
    if args.load_only:
        return out
    out.update(measure(backend, url, now, args))
    return out


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__, "100,000 tickets on PostgreSQL and 50,000 on SQLite instead of 10,000,000 and 2,000,000; "
                        "10 rollup runs and 3 raw runs of each query")
    p.add_argument("--backend", choices=["sqlite", "postgres", "postgresql", "both"], default="both",
                   help="the backend(s): SQLite, PostgreSQL on 127.0.0.1:5432, or both (default)")
    p.add_argument("--pg-tickets", type=int, help="tickets on PostgreSQL (10,000,000; quick 200,000)")
    p.add_argument("--sqlite-tickets", type=int, help="tickets on SQLite (2,000,000; quick 100,000)")
    p.add_argument("--workers", type=int, default=2,
                   help="connections generating at once, each its own chunks (PostgreSQL; 2)")
    p.add_argument("--chunk", type=int,
                   help="tickets per INSERT ... SELECT (PostgreSQL an eighth of them, 50,000 to 1,000,000; SQLite 500,000)")
    p.add_argument("--staged", action="store_true",
                   help="PostgreSQL: each chunk's per-ticket base into a temp table first (SQLite always)")
    p.add_argument("--load-only", action="store_true", help="generate and load only, no rollups or queries")
    p.add_argument("--keep", action="store_true", help="keep the scratch database (its URL or path printed)")
    p.add_argument("--years", type=int, default=3, help="years of history (3)")
    p.add_argument("--runs", type=int, help="timed runs of each rollup query (20; quick 10)")
    p.add_argument("--raw-runs", type=int, help="timed runs of each raw aggregate (2; quick 3)")
    args = p.parse_args(argv)
    args.pg_tickets = args.pg_tickets or (100_000 if args.quick else 10_000_000)
    args.sqlite_tickets = args.sqlite_tickets or (50_000 if args.quick else 2_000_000)
    args.runs = args.runs or (10 if args.quick else 20)
    args.raw_runs = args.raw_runs or (3 if args.quick else 2)
    backends = ["postgresql" if b == "postgres" else b for b in backend_list(args.backend)]
    print(f"analytics benchmark: {args.sqlite_tickets:,} tickets on SQLite, {args.pg_tickets:,} on PostgreSQL "
          f"({' and '.join(backends)}), {args.years} years; {os.cpu_count()} CPUs, load average {loadavg()}",
          flush=True)
    t0 = time.perf_counter()
    summary, failed = run_backends(backends, lambda backend, workdir: run(backend, args, workdir),
                                   "hotline-bench-analytics-")
    ran = [b for b in backends if "queries" in summary.get(b, {})]
    rollup_q = [(b, k) for b in ran for k, v in summary[b]["queries"].items()]
    summary.update(
        sqlite_tickets=args.sqlite_tickets, pg_tickets=args.pg_tickets, years=args.years, runs=args.runs,
        raw_runs=args.raw_runs, target_ms=TARGET_MS, total_s=round(time.perf_counter() - t0, 1),
        target_met=bool(ran) and all(summary[b]["queries"][k]["target_met"] for b, k in rollup_q),
        generation_target_met=bool(ran) and all(summary[b]["generation"]["tickets_per_s"] >= 50_000 for b in ran),
        all_equal=bool(ran) and all(summary[b]["queries"][k].get("equal", True) for b, k in rollup_q),
    )
    emit(summary)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
