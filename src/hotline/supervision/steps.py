"""Taking one step of the supervision ladder: the alert row, the timeline event, the notices.

warn (预警) and overdue (超期) tell the unit; urge (催办) presses it; escalate (升级督办) issues a
general supervision order and tells the supervisors; escalate_parent (上级督办) issues a key
order and tells the unit's parent. Steps of the dispatch stage are the centre's own and are only
recorded (the supervisor board shows them). An escalation while an order of the same or a higher
level is open this round (given by hand, or the ladder's own for the other stage) issues none: it is
folded into that order.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from hotline.accounts.models import Role
from hotline.directory import reference
from hotline.kit import clock
from hotline.kit.db import insert_now
from hotline.notify import recipients
from hotline.supervision.models import ORDER_LEVEL_LABELS, DeadlineAlert, OrderLevel
from hotline.supervision.orders import issue_order, open_order_of
from hotline.tickets import validation
from hotline.tickets.models import Ticket, Urgency
from hotline.tickets.sla import STAGE_LABELS, STEP_LABELS, Step
from hotline.tickets.timeline import record_event

LATE_AFTER = timedelta(minutes=5)
UNIT_TEMPLATES = {"warn": "unit.warning", "overdue": "unit.overdue", "urge": "unit.urge"}


def local_label(moment: datetime) -> str:
    """'10月9日 17:00' in local time, as people read deadlines."""
    return clock.deadline_text(moment, words=True, gap=" ")


def _reason(step: Step, now: datetime) -> str:
    stage = STAGE_LABELS[step.stage]
    if step.step == "warn":
        if now >= step.due_at:  # taken late (a worker that was down): the deadline is behind it
            return f"{stage}时限预警（补记：时限 {local_label(step.due_at)} 已过）"
        return f"{stage}时限将于 {local_label(step.due_at)} 到期"
    if step.step == "overdue":
        return f"{stage}已超过时限（{local_label(step.due_at)}）"
    return f"{stage}超期（时限 {local_label(step.due_at)}），{STEP_LABELS[step.step]}"


def context(ticket: Ticket, snap: reference.Snapshot, step: Step, **extra: Any) -> dict[str, Any]:
    unit = snap.units.get(ticket.lead_unit_id or -1)
    return {"ticket_number": ticket.number, "title": ticket.title, "stage": STAGE_LABELS[step.stage],
            "deadline": local_label(step.due_at), "unit_name": unit[1] if unit else "承办单位", "note": "",
            **extra}


def take(session: Session, ticket: Ticket, step: Step, snap: reference.Snapshot, *, now: datetime,
         notify: bool = True) -> None:
    """Record the step once (the alert row is unique) and tell whoever it concerns.

    ``notify`` is False for a step overtaken by a later one of the same stage in the same sweep
    (a worker that was down): the timeline keeps every step, people get only the latest.
    """
    unit_id = ticket.lead_unit_id if step.stage != "dispatch" else None
    insert_now(session, DeadlineAlert(ticket_id=ticket.id, stage=step.stage, step=step.step, due_at=step.due_at,
                                      unit_id=unit_id, at=now))
    details: dict[str, Any] = {"stage": step.stage, "due_at": step.due_at.isoformat(), "notified": notify}
    if now - step.at > LATE_AFTER:  # the sweep was behind (worker down): say so on the timeline
        details["late_by_seconds"] = int((now - step.at).total_seconds())
    order = None
    reason = _reason(step, now)
    if (step.step in ("escalate", "escalate_parent") and ticket.lead_unit_id is not None
            and not validation.is_hotline_center(snap, ticket.lead_unit_id)):  # no order to a unit that handles nothing
        level = OrderLevel.general if step.step == "escalate" else OrderLevel.key
        pressing = open_order_of(session, ticket, ticket.lead_unit_id, level)
        if pressing is not None:  # an order (by hand, or the ladder's for another stage) already presses the unit
            details.update(order_id=pressing.id, folded=True)
            by = "人工" if pressing.issued_by_id is not None else "系统自动"
            reason += (f"；已有 {local_label(pressing.issued_at)} {by}下达的{ORDER_LEVEL_LABELS[pressing.level]}"
                       "督办单未答复，并入该督办单，不再另发")
        else:
            order = issue_order(session, ticket, actor=None, unit_id=ticket.lead_unit_id, level=level,
                                note=f"{STAGE_LABELS[step.stage]}超期未办，系统自动{STEP_LABELS[step.step]}",
                                snap=snap, notify_unit=notify, record=False)
            details["order_id"] = order.id
    record_event(session, ticket, step.step, None, reason=reason, unit_id=unit_id, details=details)
    if notify and unit_id is not None:
        _notify(session, ticket, step, snap, order)


def _notify(session: Session, ticket: Ticket, step: Step, snap: reference.Snapshot, order: Any) -> None:
    # Urgent tickets' notices skip the night hold.
    stem = f"ticket:{ticket.id}:{step.stage}:{step.step}:{step.due_at.isoformat()}"
    ctx = context(ticket, snap, step)
    urgent = ticket.urgency != Urgency.normal
    if step.step in UNIT_TEMPLATES:
        recipients.tell_staff(session, key=stem, people=recipients.unit_staff(session, ticket.lead_unit_id),
                              template_code=UNIT_TEMPLATES[step.step], context=ctx, ticket_id=ticket.id,
                              urgent=urgent)
        return
    level = "一般" if step.step == "escalate" else "重点"
    recipients.tell_staff(session, key=f"{stem}:supervisors", people=recipients.with_role(session, Role.supervisor),
                          template_code="supervisor.escalation", context={**ctx, "level": level},
                          ticket_id=ticket.id, sms=False)
    if step.step == "escalate_parent":
        parent = snap.unit_parents.get(ticket.lead_unit_id or -1)
        if parent is not None:
            recipients.tell_staff(session, key=f"{stem}:parent", people=recipients.unit_staff(session, parent),
                                  template_code="unit.escalation", context=ctx, ticket_id=ticket.id,
                                  urgent=urgent)
