"""Unit suggestion against a demo's ground truth: top-1 accuracy and the returns it would avoid.

Two demo databases are generated in the same run, the way ``hotline demo`` does it (SQLite file in
a temp dir, migrated, reference data and demo staff loaded, ``hotline.demo.generate.generate`` with
``--tickets`` tickets, default 5,000; ``--quick`` 1,500, over 90 days, seed 12345):

* **shipped**: the demo as shipped. Its dispatches follow the catalogue, which is right for nearly
  every ticket; its returns are random detours (about 4 in 100 tickets), re-dispatched to the
  township or county or rejected. A control: nothing to learn here, and nothing should get worse.
* **moved**: the same demo in a world where duties moved and the catalogue was not updated. In
  夏县 (``MOVED``), 市容环卫 (05) and 农业农村 (12) matters of every township are now the township
  government's, while the catalogue's county rows still name 夏县城市管理局 and 夏县农业农村局
  (stale rows; 1203 already had township rows, so it is unaffected). The generator is hooked, in
  this benchmark only: every ticket such a stale row dispatches is returned by the unit
  ("已划转属地乡镇") and re-dispatched to the township government, which resolves it. Everything
  else is the shipped demo, random returns included.

The truth: the township government for a ticket of a moved cell (category × township), else the
unit that finally holds the ticket (``tickets.lead_unit_id``). Tickets still waiting on a return
decision are left out, as are tickets never dispatched.

For every dispatched ticket, in order of arrival, with ``now = received_at`` (history sees only
tickets received before it, so nothing leaks from the future):

* **suggest_unit**: ``hotline.assist.units.suggest_unit`` (catalogue unless its row keeps being
  returned, then history, then 兜底);
* **baseline**: ``hotline.routing.catalogue.suggest_units`` alone (catalogue or 兜底);
* **history alone** (diagnostic): what history would say if asked first, where it has an answer.

Reported per scenario, for all tickets and for the later half (received in the last 45 days, when
history has had time to accumulate): top-1 accuracy of suggest_unit and of the baseline; "returns
avoided" (tickets returned whose first dispatch differs from the truth and where the suggestion
equals the truth; the same for the baseline) out of the returns that were wrong dispatches; "new
misses" (the baseline was right, suggest_unit was not); how often the stale-row override fired;
for ``moved``, the same figures on the moved cells alone; and suggestion latency p50/p95.

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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import common  # noqa: F401,I001 - sets sys.path for the src layout
from sqlalchemy import select, text

from hotline.assist import units as assist_units
from hotline.demo import generate as gen
from hotline.demo.caseload import Case, World
from hotline.demo.generate import generate, load_staff
from hotline.directory.loader import load_reference_data
from hotline.directory.models import Unit, UnitKind
from hotline.kit import clock
from hotline.kit.db import Database
from hotline.migrations import upgrade
from hotline.routing.catalogue import suggest_units
from hotline.tickets import lifecycle as L
from hotline.tickets.models import RequestState, RequestType, Ticket, TicketEvent, TicketRequest

NOW = datetime(2026, 11, 18, 2, 30, tzinfo=UTC)
DAYS = 90
LATER = NOW - timedelta(days=45)
MOVED = {"140828": ("05", "12")}  # county → first-level categories now handled by its township governments
RETURNS = ("return_before_accept", "return_after_accept")


# ------------------------------------------------------------------ the scenario


def moved_to(township_units: dict[str, int], category: str, region: str, lead: int | None) -> int | None:
    """The township government that now handles ``category`` at ``region``, when its duties moved
    there and the catalogue's ``lead`` is another unit (a stale row); else None."""
    if not any(category.startswith(c) for c in MOVED.get(region[:6], ())):
        return None
    to = township_units.get(region[:9])
    return to if to is not None and to != lead else None


@contextmanager
def duties_moved() -> Iterator[None]:
    """The demo generator in the ``moved`` world: a ticket a stale row dispatches is returned by
    its unit and re-dispatched to the township government (``_return`` and ``plan`` wrapped here,
    restored on the way out; the shipped generator is not changed)."""
    plan, give_back = gen.plan, gen._return

    def target(w: World, c: Case, lead: int | None) -> int | None:
        return moved_to(w.township_unit, c.text.category_code, c.where.code, lead)

    def planned(w: World, n: int) -> list[Case]:
        cases = plan(w, n)
        for c in cases:
            if c.mode != "work" or c.hold is not None or c.detour in RETURNS:
                continue
            if target(w, c, w.suggest(c.text.category_code, c.where.code)[0]):
                c.detour = "return_before_accept" if w.rng.random() < 0.4 else "return_after_accept"
        return cases

    def returned(w: World, c: Case, lead: int) -> gen.Life:
        assert c.ticket is not None
        to = target(w, c, lead)
        if to is None:
            return (yield from give_back(w, c, lead))
        rng, tk = w.rng, c.ticket
        yield gen._at(w, c, gen._office(rng, gen._within(rng, c.last, tk.accept_due_at, 0.1, 0.8), None, c.urgent))
        L.request_return(w.session, tk, actor=w.handler(lead), reason="该事项已划转属地乡镇办理，不属于本单位职责")
        w.session.flush()
        w.counts["returns"] += 1
        yield gen._at(w, c, c.last + gen._minutes(rng, 30, 360))
        L.redispatch(w.session, tk, actor=w.dispatcher(), lead_unit_id=to, note="职责已划转属地乡镇，改派")
        w.counts["redispatched"] += 1
        w.session.flush()
        return True

    gen.plan, gen._return = planned, returned  # type: ignore[assignment]
    try:
        yield
    finally:
        gen.plan, gen._return = plan, give_back  # type: ignore[assignment]


def build(url: str, tickets: int, moved: bool) -> tuple[Database, dict[str, Any], float]:
    upgrade(url)
    db = Database(url)
    with db.transaction() as s:
        load_reference_data(s)
        load_staff(s, None)
    t = time.perf_counter()
    if moved:
        with duties_moved():
            summary = generate(db.session, tickets=tickets, days=DAYS, seed=12345, now=NOW)
    else:
        summary = generate(db.session, tickets=tickets, days=DAYS, seed=12345, now=NOW)
    with db.transaction() as s:  # planner statistics, as `hotline demo` and the worker refresh them
        s.execute(text("ANALYZE"))
    return db, summary, time.perf_counter() - t


# ------------------------------------------------------------------ measuring


@dataclass
class Tally:
    n: int = 0
    hit: int = 0
    base_hit: int = 0
    new_misses: int = 0
    overrides: int = 0
    wrong_returns: int = 0
    avoided: int = 0
    base_avoided: int = 0
    sources: Counter[str] = field(default_factory=Counter)

    def add(self, got: Any, base: Any, truth: int, wrong_return: bool) -> None:
        self.n += 1
        self.sources[got.source] += 1
        self.hit += got.lead_unit_id == truth
        self.base_hit += base.lead_unit_id == truth
        self.new_misses += base.lead_unit_id == truth != got.lead_unit_id
        self.overrides += got.source == "history" and base.source == "catalogue"
        if wrong_return:
            self.wrong_returns += 1
            self.avoided += got.lead_unit_id == truth
            self.base_avoided += base.lead_unit_id == truth

    def figures(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "suggest_unit_top1": round(self.hit / self.n, 4) if self.n else None,
            "baseline_catalogue_top1": round(self.base_hit / self.n, 4) if self.n else None,
            "returns_wrong_dispatch": self.wrong_returns,
            "returns_avoided": self.avoided,
            "returns_avoided_baseline": self.base_avoided,
            "new_misses": self.new_misses,
            "stale_row_overrides": self.overrides,
            "sources": dict(self.sources),
        }


def evaluate(db: Database, moved_world: bool) -> dict[str, Any]:
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
        townships = {r: i for i, r in reversed(s.execute(select(Unit.id, Unit.region_code).where(
            Unit.kind == UnitKind.township, Unit.active.is_(True)).order_by(Unit.id)).all())}
        rows = s.execute(select(Ticket.id, Ticket.category_code, Ticket.region_code, Ticket.received_at,
                                Ticket.lead_unit_id).where(Ticket.lead_unit_id.is_not(None))
                         .order_by(Ticket.received_at, Ticket.id)).all()
        every, later, cells, cells_later = Tally(), Tally(), Tally(), Tally()
        hist_answered = hist_hit = 0
        lat: list[float] = []
        for tid, category, region, received, final in rows:
            if tid not in first_dispatch or tid in pending:
                continue
            t = time.perf_counter()
            got = assist_units.suggest_unit(s, category_code=category, region_code=region, now=received)
            lat.append((time.perf_counter() - t) * 1000)
            base = suggest_units(s, category_code=category, region_code=region)
            moved = moved_to(townships, category, region, base.lead_unit_id) if moved_world else None
            truth = moved or final
            wrong_return = tid in returned and first_dispatch[tid] != truth
            is_later = clock.aware(received) >= LATER
            for tally, counted in ((every, True), (later, is_later), (cells, moved is not None),
                                   (cells_later, moved is not None and is_later)):
                if counted:
                    tally.add(got, base, truth, wrong_return)
            hist = assist_units._from_history(s, category, region, received)
            if hist is not None:
                hist_answered += 1
                hist_hit += hist.lead_unit_id == truth
    return {
        "all": every.figures(),
        "later_half": later.figures(),
        "moved_cells": cells.figures() if cells.n else None,
        "moved_cells_later_half": cells_later.figures() if cells_later.n else None,
        "returned": len(returned),
        "history_alone": {"answered": hist_answered,
                          "top1_where_answered": round(hist_hit / hist_answered, 4) if hist_answered else None},
        "latency_ms": {"p50": round(common.pct(lat, 0.5), 2), "p95": round(common.pct(lat, 0.95), 2)},
    }


def line(name: str, f: dict[str, Any] | None) -> str:
    if f is None:
        return f"  {name}: none"
    return (f"  {name}: n={f['n']}  top-1 suggest_unit {f['suggest_unit_top1']} vs catalogue only "
            f"{f['baseline_catalogue_top1']};  returns avoided {f['returns_avoided']} of {f['returns_wrong_dispatch']} "
            f"(catalogue only {f['returns_avoided_baseline']});  new misses {f['new_misses']};  "
            f"overrides {f['stale_row_overrides']}")


def run(workdir: Path, n: int, moved: bool) -> dict[str, Any]:
    name = "moved" if moved else "shipped"
    db, demo, gen_s = build(f"sqlite:///{workdir / f'{name}.db'}", n, moved)
    t = time.perf_counter()
    result = evaluate(db, moved)
    db.dispose()
    print(f"[{name}] {demo['tickets']} tickets generated in {gen_s:.1f} s (returns {demo['returns']}, "
          f"redispatched {demo['redispatched']}); evaluated in {time.perf_counter() - t:.1f} s", flush=True)
    for key in ("all", "later_half", "moved_cells", "moved_cells_later_half"):
        if moved or not key.startswith("moved"):
            print(line(key, result[key]), flush=True)
    print(f"  history alone: {result['history_alone']}  latency {result['latency_ms']}", flush=True)
    return {"generate_s": round(gen_s, 1), "demo_returns": demo["returns"],
            "demo_redispatched": demo["redispatched"], **result}


def main() -> None:
    p = common.parser(__doc__, "1,500 tickets instead of 5,000")
    p.add_argument("--tickets", type=int, default=None)
    args = p.parse_args()
    n = args.tickets or (1500 if args.quick else 5000)
    workdir = Path(tempfile.mkdtemp(prefix="hotline-bench-units-"))
    try:
        shipped = run(workdir, n, moved=False)
        moved = run(workdir, n, moved=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    common.emit({"bench": "units", "quick": args.quick, "tickets": n, "days": DAYS,
                 "stale_rule": {"min_returns": assist_units.STALE_MIN_RETURNS,
                                "window_days": assist_units.STALE_WINDOW_DAYS},
                 "moved": {c: list(v) for c, v in MOVED.items()},
                 "shipped": shipped, "moved_world": moved})


if __name__ == "__main__":
    main()
