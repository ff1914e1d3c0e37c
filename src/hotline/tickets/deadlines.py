"""Stored deadlines: setting a stage's due time, remembering what moved it, and recomputing the
provisional ones once the holiday table covers their year. Never touches a status."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from hotline.accounts.models import User
from hotline.directory import reference
from hotline.kit import clock
from hotline.kit.calendar import WorkCalendar
from hotline.tickets import sla
from hotline.tickets.models import Ticket, TicketEvent, TicketUnit, UnitRole
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


def give_back(ticket: Ticket, stages: list[str], since: datetime, until: datetime,
              snap: reference.Snapshot) -> dict[str, Any]:
    """Move the due times of ``stages`` later by the time their clocks stood still from ``since`` to
    ``until`` (a working-day limit by the working time in it only, as a pause), remembered as a
    pause so a recomputation keeps it; returns ``{"<stage>_due_at": {"from", "to"}}`` of each move.
    The response limits of the orders not answered yet follow the stages they mirror."""
    moved: dict[str, Any] = {}
    for stage in stages:
        old = getattr(ticket, f"{stage}_due_at")
        unit = (ticket.due_basis or {}).get(stage, {}).get("unit", "hours")
        new, warning = sla.shift_for_pause(old, since, until, unit, snap.calendar, clock.tz())
        if new == old:
            continue
        setattr(ticket, f"{stage}_due_at", new)
        note_basis(ticket, stage, pause=[since.isoformat(), until.isoformat()])
        if warning:
            note_basis(ticket, stage, provisional=True)
            ticket.due_warning = warning
        moved[f"{stage}_due_at"] = {"from": _iso(old), "to": _iso(new)}
    follow(ticket, moved)
    return moved


def follow(ticket: Ticket, moved: dict[str, Any]) -> None:
    """After the ticket's deadlines in ``moved`` (``{"<stage>_due_at": …}``) changed: an order's
    response limit (三率 响应率) is the ticket's deadline it follows, so it moves with it; an order
    already answered keeps the limit it was answered against."""
    for task in ticket.active_units():
        if f"{response_stage(task)}_due_at" in moved and unanswered(task):
            task.response_due_at = response_due(ticket, task)


def response_stage(task: TicketUnit) -> str:
    """The stage whose deadline is an order's response limit (响应): the lead's first contact with
    the caller, a co-handler's signature."""
    return "contact" if task.role == UnitRole.lead else "accept"


def response_due(ticket: Ticket, task: TicketUnit) -> datetime | None:
    return getattr(ticket, f"{response_stage(task)}_due_at")


def unanswered(task: TicketUnit) -> bool:
    """Not signed yet, or (lead) the caller not contacted yet: ``analytics.facts.unanswered``."""
    return task.accepted_at is None or (task.role == UnitRole.lead and task.contacted_on_time is None)


def _recomputed(entry: dict[str, Any], calendar: Any, tz: Any) -> tuple[datetime, str | None]:
    """A stage's due time from its basis: the start, the limit, approved extensions, paused time."""
    due = sla.add_limit(datetime.fromisoformat(entry["from"]), sla.Limit(entry["amount"], entry["unit"]),
                        calendar, tz)
    at, warning = due.at, due.warning
    for amount, unit in entry.get("extensions", []):
        step = sla.add_limit(at, sla.Limit(amount, unit), calendar, tz)
        at, warning = step.at, warning or step.warning
    for since, until in entry.get("pauses", []):
        at, w = sla.shift_for_pause(at, datetime.fromisoformat(since), datetime.fromisoformat(until),
                                    entry["unit"], calendar, tz)
        warning = warning or w
    return at, warning


def recompute_due_times(session: Session, ticket: Ticket, *, actor: User | None,
                        calendar_changed: bool = False) -> TicketEvent | None:
    """Recompute the deadlines that the holiday table decides: those that were provisional (a year
    without holiday data) once the table covers them and, with ``calendar_changed`` (days off or 调休
    entered or changed), every working-day deadline still running. The start, the limit, approved
    extensions and paused time are re-applied; a stage already met keeps the deadline it was met
    against."""
    basis = ticket.due_basis or {}
    snap = reference.snapshot(session)
    tz = clock.tz()
    moved: dict[str, Any] = {}
    warnings: list[str] = []
    stages = [stage for stage, entry in basis.items() if "from" in entry and (
        entry.get("provisional") or (calendar_changed and entry.get("unit") == "working_days"
                                     and sla.done_at(ticket, stage) is None))]
    if not stages:
        return None
    for stage in stages:
        at, warning = _recomputed(basis[stage], snap.calendar, tz)
        old = getattr(ticket, f"{stage}_due_at")
        if at != old:
            setattr(ticket, f"{stage}_due_at", at)
            moved[f"{stage}_due_at"] = {"from": _iso(old), "to": _iso(at)}
        note_basis(ticket, stage, provisional=warning is not None)
        if warning:
            warnings.append(warning)
    had_provisional = any(basis[stage].get("provisional") for stage in stages)
    if not moved and (warnings or not had_provisional):
        return None
    ticket.due_warning = warnings[0] if warnings else None
    ticket.updated_at = clock.now()
    rewatch(ticket, snap)
    reason = ("节假日安排已变更，按新的工作日重新计算时限" if calendar_changed
              else "节假日数据已录入，按工作日重新计算时限")
    return _event(session, ticket, "recompute_due", actor, reason=reason, details=moved)


def recompute_provisional(session: Session, *, actor: User | None) -> int:
    """Recompute every open ticket whose deadlines were provisional; returns how many changed."""
    tickets = session.scalars(select(Ticket).where(Ticket.due_warning.is_not(None), Ticket.status.in_(OPEN)))
    return sum(recompute_due_times(session, t, actor=actor) is not None for t in tickets)


def recompute_after_holidays(session: Session, before: WorkCalendar, *, actor: User | None) -> int:
    """After the holiday table changed (``before`` is the calendar as it was): recompute the open
    tickets whose running working-day deadlines the change can move, and the provisional ones.
    Only tickets with a deadline after the first changed day are read: a day off added or removed
    later than a deadline cannot move it. Returns how many tickets' deadlines moved."""
    after = reference.snapshot(session).calendar
    first = _first_changed_day(before, after)
    if first is None:
        return recompute_provisional(session, actor=actor)
    since = datetime.combine(first, time(0), clock.tz())
    tickets = session.scalars(select(Ticket).where(
        Ticket.status.in_(OPEN),
        or_(Ticket.due_warning.is_not(None),
            *(getattr(Ticket, f"{stage}_due_at") >= since for stage in sla.STAGE_LABELS))).order_by(Ticket.id))
    return sum(recompute_due_times(session, t, actor=actor, calendar_changed=True) is not None for t in tickets)


def _first_changed_day(before: WorkCalendar, after: WorkCalendar) -> date | None:
    """The earliest day that is a working day in one calendar and not in the other."""
    days = set(before.exceptions) ^ set(after.exceptions)
    days |= {d for d in set(before.exceptions) & set(after.exceptions) if before.exceptions[d] != after.exceptions[d]}
    days |= {date(y, 1, 1) for y in before.years ^ after.years}  # a year entered or dropped: from its start
    return min(days) if days else None
