"""The supervisor board: per unit, how many open tickets are warned, overdue, and under orders."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from hotline.accounts.scope import Scope
from hotline.directory import reference
from hotline.supervision.models import DeadlineAlert, OrderState, SupervisionOrder
from hotline.tickets.models import Ticket
from hotline.tickets.queries import overdue_clause, visible
from hotline.tickets.sla import RUNNING
from hotline.tickets.states import OPEN, Status


def warning_standing(now: datetime) -> Any:
    """A 预警 that still stands: a warning for a deadline still ahead, of a stage that is still
    running on that deadline (``sla.RUNNING``; 联系来电人 until the caller is reached). Once the unit
    has signed, contacted or replied, or the deadline was moved, the warning no longer counts."""
    stages = []
    for stage, statuses in RUNNING.items():
        cond = [DeadlineAlert.stage == stage, Ticket.status.in_([Status(s) for s in statuses]),
                DeadlineAlert.due_at == getattr(Ticket, f"{stage}_due_at")]
        if stage == "contact":
            cond.append(Ticket.contacted_at.is_(None))
        stages.append(and_(*cond))
    return and_(DeadlineAlert.step == "warn", DeadlineAlert.due_at > now, or_(*stages))


def board(session: Session, scope: Scope, *, now: datetime) -> list[dict[str, Any]]:
    """One row per lead unit with open tickets: open, warned (a warning that still stands,
    :func:`warning_standing`), overdue now, open and overdue supervision orders; worst first."""
    base = and_(Ticket.status.in_(OPEN), Ticket.lead_unit_id.is_not(None), visible(scope))
    open_counts = dict(session.execute(select(Ticket.lead_unit_id, func.count()).where(base)
                                       .group_by(Ticket.lead_unit_id)).all())
    overdue = dict(session.execute(select(Ticket.lead_unit_id, func.count()).where(base, overdue_clause(now))
                                   .group_by(Ticket.lead_unit_id)).all())
    warned = dict(session.execute(
        select(Ticket.lead_unit_id, func.count(func.distinct(Ticket.id)))
        .join(DeadlineAlert, DeadlineAlert.ticket_id == Ticket.id)
        .where(base, warning_standing(now))
        .group_by(Ticket.lead_unit_id)).all())
    orders = session.execute(
        select(SupervisionOrder.unit_id, func.count(),
               func.sum(case((SupervisionOrder.due_at < now, 1), else_=0)))
        .where(SupervisionOrder.state == OrderState.open)
        .group_by(SupervisionOrder.unit_id)).all()
    open_orders = {u: n for u, n, _ in orders}
    late_orders = {u: int(late or 0) for u, _, late in orders}
    snap = reference.snapshot(session)
    rows = []
    for unit_id, n in open_counts.items():
        code, name, _ = snap.units.get(unit_id, ("?", "?", False))
        rows.append({"unit": {"id": unit_id, "code": code, "name": name}, "open": n,
                     "warned": warned.get(unit_id, 0), "overdue": overdue.get(unit_id, 0),
                     "open_orders": open_orders.get(unit_id, 0), "overdue_orders": late_orders.get(unit_id, 0)})
    rows.sort(key=lambda r: (-r["overdue"], -r["overdue_orders"], -r["warned"], -r["open"], r["unit"]["code"]))
    return rows


def awaiting_review(session: Session, scope: Scope) -> int:
    """Returns waiting for the centre's review (退单待审): no clock runs on them (``sla.RUNNING``),
    so the board shows them beside 超期, not in it."""
    return session.scalar(select(func.count()).select_from(Ticket).where(
        Ticket.status == Status.return_requested, visible(scope))) or 0


def by_township(session: Session, scope: Scope, *, now: datetime) -> list[dict[str, Any]]:
    """Open and overdue tickets per township (a region code's first nine digits), every township
    with open tickets, worst first: where the late work lies, whichever unit holds it."""
    town = func.substr(Ticket.region_code, 1, 9)
    base = and_(Ticket.status.in_(OPEN), visible(scope))
    late = func.sum(case((overdue_clause(now), 1), else_=0))
    rows = session.execute(select(town, func.count(), late).where(base).group_by(town)).all()
    snap = reference.snapshot(session)
    out = []
    for stem, n, overdue in rows:
        code = stem
        label = reference.region_label(snap, code) if code in snap.regions else stem
        out.append({"region": {"code": code, "name": label}, "open": n, "overdue": int(overdue or 0)})
    out.sort(key=lambda r: (-r["overdue"], -r["open"], r["region"]["code"]))
    return out


def unit_chart(rows: list[dict[str, Any]], limit: int = 15) -> dict[str, Any]:
    """An ECharts option: warned and overdue open tickets of the worst ``limit`` units, stacked."""
    top = [r for r in rows if r["overdue"] or r["warned"]][:limit][::-1]
    return {
        "grid": {"left": 8, "right": 16, "top": 28, "bottom": 8, "containLabel": True},
        "legend": {"data": ["预警", "超期"], "top": 0},
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "xAxis": {"type": "value", "minInterval": 1},
        "yAxis": {"type": "category", "data": [r["unit"]["name"] for r in top]},
        "series": [
            {"name": "预警", "type": "bar", "stack": "n", "color": "#b7791f", "data": [r["warned"] for r in top]},
            {"name": "超期", "type": "bar", "stack": "n", "color": "#c62828", "data": [r["overdue"] for r in top]},
        ],
    }


def warned_tickets(session: Session, scope: Scope, *, now: datetime,
                   limit: int = 100) -> tuple[list[tuple[Ticket, list[str], datetime]], int]:
    """The open tickets counted as 预警 on the board (a warning that still stands,
    :func:`warning_standing`), the nearest deadline first: (ticket, warned stages, nearest due
    time), and how many there are."""
    base = and_(Ticket.status.in_(OPEN), Ticket.lead_unit_id.is_not(None), visible(scope), warning_standing(now))
    total = session.scalar(select(func.count(func.distinct(Ticket.id)))
                           .join(DeadlineAlert, DeadlineAlert.ticket_id == Ticket.id).where(base)) or 0
    nearest = (select(DeadlineAlert.ticket_id, func.min(DeadlineAlert.due_at).label("due"))
               .join(Ticket, Ticket.id == DeadlineAlert.ticket_id).where(base)
               .group_by(DeadlineAlert.ticket_id).order_by(func.min(DeadlineAlert.due_at), DeadlineAlert.ticket_id)
               .limit(limit).subquery())
    rows = session.execute(select(Ticket, nearest.c.due).join(nearest, nearest.c.ticket_id == Ticket.id)
                           .order_by(nearest.c.due, Ticket.id)).all()
    stages: dict[int, list[str]] = {}
    for ticket_id, stage in session.execute(
            select(DeadlineAlert.ticket_id, DeadlineAlert.stage).join(Ticket, Ticket.id == DeadlineAlert.ticket_id)
            .where(DeadlineAlert.ticket_id.in_([t.id for t, _ in rows]), warning_standing(now))
            .order_by(DeadlineAlert.due_at)):
        if stage not in stages.setdefault(ticket_id, []):
            stages[ticket_id].append(stage)
    return [(t, stages.get(t.id, []), due) for t, due in rows], total
