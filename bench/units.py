"""Unit suggestion against the demo's ground truth: top-1 accuracy and the returns it would avoid.

What is measured
----------------
A demo database is generated the way ``hotline demo`` does it (SQLite file in a temp dir, migrated,
reference data and demo staff loaded, ``hotline.demo.generate.generate`` with ``--tickets``
tickets, default 3,000; ``--quick`` 800, over 90 days, seed 12345).

The truth: the demo dispatches each ticket to what the catalogue says, and for a share of them
(``return_before_accept`` / ``return_after_accept`` detours) the unit asks to return it and the
centre re-dispatches it to the township or county (or rejects the return: the first unit was
right). The unit that finally holds the ticket, ``tickets.lead_unit_id``, is the truth. Tickets
still waiting on a return decision are left out, as are tickets never dispatched.

For every dispatched ticket, in order of arrival, with ``now = received_at`` (history sees only
tickets received before it, so nothing leaks from the future):

* **suggest_unit**: ``hotline.assist.units.suggest_unit`` (catalogue, then history, then 兜底);
* **baseline**: ``hotline.routing.catalogue.suggest_units`` alone (catalogue or 兜底);
* **history alone** (diagnostic): what history would say if asked first, where it has an answer.

Reported: top-1 accuracy of each, the sources used, "returns avoided" (tickets returned in the demo
whose first dispatch differs from the truth and where the suggestion equals the truth; the same for
the baseline), and suggestion latency p50/p95.

Run
---
    .venv/bin/python bench/units.py [--quick] [--tickets N]

The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import common  # noqa: F401,I001 - sets sys.path for the src layout
from sqlalchemy import select

from hotline.assist import units as assist_units
from hotline.demo.generate import generate, load_staff
from hotline.directory.loader import load_reference_data
from hotline.kit.db import Database
from hotline.migrations import upgrade
from hotline.routing.catalogue import suggest_units
from hotline.tickets.models import RequestState, RequestType, Ticket, TicketEvent, TicketRequest

NOW = datetime(2026, 11, 18, 2, 30, tzinfo=UTC)


def build(url: str, tickets: int) -> tuple[Database, dict[str, Any], float]:
    upgrade(url)
    db = Database(url)
    with db.transaction() as s:
        load_reference_data(s)
        load_staff(s, None)
    t = time.perf_counter()
    summary = generate(db.session, tickets=tickets, days=90, seed=12345, now=NOW)
    return db, summary, time.perf_counter() - t


def evaluate(db: Database) -> dict[str, Any]:
    with db.session() as s:
        first_dispatch: dict[int, int] = {}
        for ticket_id, details in s.execute(
            select(TicketEvent.ticket_id, TicketEvent.details).where(TicketEvent.action == "dispatch")
            .order_by(TicketEvent.id)
        ):
            first_dispatch.setdefault(ticket_id, int(details["lead_unit_id"]))
        returned = {tid for (tid,) in s.execute(select(TicketRequest.ticket_id)
                                                 .where(TicketRequest.type == RequestType.return_))}
        pending = {tid for (tid,) in s.execute(select(TicketRequest.ticket_id).where(
            TicketRequest.type == RequestType.return_, TicketRequest.state == RequestState.pending))}
        rows = s.execute(select(Ticket.id, Ticket.category_code, Ticket.region_code, Ticket.received_at,
                                Ticket.lead_unit_id).where(Ticket.lead_unit_id.is_not(None))
                         .order_by(Ticket.received_at, Ticket.id)).all()
        n = hit = base_hit = hist_answered = hist_hit = 0
        avoided = base_avoided = misdispatched = 0
        sources: Counter[str] = Counter()
        lat: list[float] = []
        for tid, category, region, received, truth in rows:
            if tid not in first_dispatch or tid in pending:
                continue
            n += 1
            t = time.perf_counter()
            got = assist_units.suggest_unit(s, category_code=category, region_code=region, now=received)
            lat.append((time.perf_counter() - t) * 1000)
            base = suggest_units(s, category_code=category, region_code=region)
            hist = assist_units._from_history(s, category, region, received)
            sources[got.source] += 1
            hit += got.lead_unit_id == truth
            base_hit += base.lead_unit_id == truth
            if hist is not None:
                hist_answered += 1
                hist_hit += hist.lead_unit_id == truth
            if tid in returned and first_dispatch[tid] != truth:
                misdispatched += 1
                avoided += got.lead_unit_id == truth
                base_avoided += base.lead_unit_id == truth
    return {
        "dispatched_evaluated": n,
        "suggest_unit_top1": round(hit / n, 4) if n else None,
        "baseline_catalogue_top1": round(base_hit / n, 4) if n else None,
        "sources": dict(sources),
        "history_alone": {"answered": hist_answered,
                          "top1_where_answered": round(hist_hit / hist_answered, 4) if hist_answered else None},
        "returned": len(returned),
        "returned_and_redispatched": misdispatched,
        "returns_avoided": avoided,
        "returns_avoided_baseline": base_avoided,
        "latency_ms": {"p50": round(common.pct(lat, 0.5), 2), "p95": round(common.pct(lat, 0.95), 2)},
    }


def main() -> None:
    p = common.parser(__doc__, "800 tickets instead of 3,000")
    p.add_argument("--tickets", type=int, default=None)
    args = p.parse_args()
    n = args.tickets or (800 if args.quick else 3000)
    workdir = Path(tempfile.mkdtemp(prefix="hotline-bench-units-"))
    try:
        db, demo, gen_s = build(f"sqlite:///{workdir / 'demo.db'}", n)
        print(f"demo: {demo['tickets']} tickets in {gen_s:.1f} s, returns {demo['returns']}, "
              f"redispatched {demo['redispatched']}", flush=True)
        result = evaluate(db)
        db.dispose()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"top-1: suggest_unit {result['suggest_unit_top1']}  catalogue only {result['baseline_catalogue_top1']}  "
          f"(n={result['dispatched_evaluated']}, sources {result['sources']})", flush=True)
    print(f"history alone: {result['history_alone']}", flush=True)
    print(f"returns: {result['returned']} returned, {result['returned_and_redispatched']} re-dispatched; avoided "
          f"{result['returns_avoided']} (catalogue only {result['returns_avoided_baseline']})", flush=True)
    common.emit({"bench": "units", "quick": args.quick, "tickets": n, "generate_s": round(gen_s, 1),
                 "demo_returns": demo["returns"], "demo_redispatched": demo["redispatched"], **result})


if __name__ == "__main__":
    main()
