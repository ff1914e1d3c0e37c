"""Stored deadlines: setting a stage's due time, remembering what moved it, and recomputing the
provisional ones once the holiday table covers their year. Never touches a status."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.accounts.models import User
from hotline.directory import reference
from hotline.kit import clock
from hotline.tickets import sla
from hotline.tickets.models import Ticket, TicketEvent
from hotline.tickets.states import OPEN
from hotline.tickets.timeline import iso as _iso
from hotline.tickets.timeline import record_event as _event


def category_path(snap: reference.Snapshot, ticket: Ticket) -> list[str]:
    return reference.category_path(snap, ticket.category_code)


def set_due(ticket: Ticket, stage: str, start: datetime, snap: reference.Snapshot) -> sla.Due:
    """Store the due time of ``stage`` counted from ``start``, and the limit it came from."""
    limit = sla.resolve_limit(
        snap.limits, stage=stage, category_path=category_path(snap, ticket), urgency=ticket.urgency.value,
        kind=ticket.kind,
    )
    due = sla.add_limit(start, limit, snap.calendar, clock.tz())
    setattr(ticket, f"{stage}_due_at", due.at)
    basis = dict(ticket.due_basis or {})
    basis[stage] = {"amount": limit.amount, "unit": limit.unit, "from": start.isoformat(),
                    "provisional": due.warning is not None}
    ticket.due_basis = basis
    if due.warning:
        ticket.due_warning = due.warning
    return due


def rewatch(ticket: Ticket, snap: reference.Snapshot) -> None:
    """Point the deadline sweep at the ticket's earliest supervision step (NULL: nothing to watch).

    Steps already taken are not known here, so the mark may lie in the past; the sweep then finds
    nothing new to do and moves it on. Called whenever a status or a due time changes.
    """
    steps = sla.ladder(ticket, snap.rules, snap.calendar, clock.tz())
    ticket.watch_at = steps[0].at if steps else None


def note_basis(ticket: Ticket, stage: str, **changes: Any) -> None:
    """Remember what moved a due time (extensions, pauses) so it can be recomputed exactly."""
    basis = {k: dict(v) for k, v in (ticket.due_basis or {}).items()}
    entry = basis.setdefault(stage, {})
    for key, value in changes.items():
        if key == "extension":
            entry["extensions"] = [*entry.get("extensions", []), value]
        elif key == "pause":
            entry["pauses"] = [*entry.get("pauses", []), value]
        else:
            entry[key] = value
    ticket.due_basis = basis


def recompute_due_times(session: Session, ticket: Ticket, *, actor: User | None) -> TicketEvent | None:
    """Recompute deadlines that were provisional (a year without holiday data) once the holiday
    table covers them: the start, the limit, approved extensions and paused time are re-applied."""
    basis = ticket.due_basis or {}
    snap = reference.snapshot(session)
    tz = clock.tz()
    moved: dict[str, Any] = {}
    warnings: list[str] = []
    provisional = [stage for stage, entry in basis.items() if entry.get("provisional") and "from" in entry]
    if not provisional:
        return None
    for stage in provisional:
        entry = basis[stage]
        due = sla.add_limit(datetime.fromisoformat(entry["from"]), sla.Limit(entry["amount"], entry["unit"]),
                            snap.calendar, tz)
        at, warning = due.at, due.warning
        for amount, unit in entry.get("extensions", []):
            step = sla.add_limit(at, sla.Limit(amount, unit), snap.calendar, tz)
            at, warning = step.at, warning or step.warning
        for since, until in entry.get("pauses", []):
            at, w = sla.shift_for_pause(at, datetime.fromisoformat(since), datetime.fromisoformat(until),
                                        entry["unit"], snap.calendar, tz)
            warning = warning or w
        old = getattr(ticket, f"{stage}_due_at")
        if at != old:
            setattr(ticket, f"{stage}_due_at", at)
            moved[f"{stage}_due_at"] = {"from": _iso(old), "to": _iso(at)}
        note_basis(ticket, stage, provisional=warning is not None)
        if warning:
            warnings.append(warning)
    if not moved and warnings:
        return None
    ticket.due_warning = warnings[0] if warnings else None
    ticket.updated_at = clock.now()
    rewatch(ticket, snap)
    return _event(session, ticket, "recompute_due", actor, reason="节假日数据已录入，按工作日重新计算时限",
                  details=moved)


def recompute_provisional(session: Session, *, actor: User | None) -> int:
    """Recompute every open ticket whose deadlines were provisional; returns how many changed."""
    tickets = session.scalars(select(Ticket).where(Ticket.due_warning.is_not(None), Ticket.status.in_(OPEN)))
    return sum(recompute_due_times(session, t, actor=actor) is not None for t in tickets)
