"""Ticket read models: plain JSON-ready dicts for the API, the CLI and the pages.

The caller's identity is masked here for scopes that may not see confidential callers; this is
the only code that renders a ticket, so the rule cannot be forgotten by one surface.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hotline.accounts.scope import Scope
from hotline.directory import reference
from hotline.kit import clock
from hotline.tickets.models import Ticket, TicketEvent
from hotline.tickets.queries import caller_visible
from hotline.tickets.sla import stage_states
from hotline.tickets.states import ACTION_LABELS, STATUS_LABELS, allowed_actions
from hotline.tickets.validation import CHANNEL_LABELS as CHANNEL_LABELS  # the pages read the labels from here
from hotline.tickets.validation import KIND_LABELS, SATISFACTION_LABELS, display_phone
from hotline.tickets.validation import URGENCY_LABELS as URGENCY_LABELS  # noqa: I001 (re-exported for pages, import)


def iso(dt: datetime | None) -> str | None:
    return clock.local(dt).isoformat() if dt else None


def _unit(snap: reference.Snapshot, unit_id: int | None) -> dict[str, Any] | None:
    if unit_id is None:
        return None
    code, name, _active = snap.units.get(unit_id, ("?", "?", False))
    return {"id": unit_id, "code": code, "name": name}


def caller(scope: Scope, ticket: Ticket) -> dict[str, Any]:
    shown = caller_visible(scope, ticket)
    return {
        "name": ticket.caller_name if shown else None,
        "phone": display_phone(ticket.caller_phone) if shown else None,
        "confidential": ticket.caller_confidential,
        "anonymous": ticket.caller_anonymous,
        "visible": shown,
    }


def ticket_summary(snap: reference.Snapshot, scope: Scope, ticket: Ticket, now: datetime,
                   stages: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    category = snap.categories.get(ticket.category_code)
    stages = stages if stages is not None else stage_states(ticket, now)
    return {
        "id": ticket.id,
        "number": ticket.number,
        "version": ticket.version,
        "status": ticket.status.value,
        "status_label": STATUS_LABELS[ticket.status],
        "channel": ticket.channel.value,
        "kind": ticket.kind,
        "kind_label": KIND_LABELS.get(ticket.kind, ticket.kind),
        "urgency": ticket.urgency.value,
        "category": {"code": ticket.category_code, "name": category.name if category else None},
        "region": {"code": ticket.region_code, "name": reference.region_label(snap, ticket.region_code)},
        "title": ticket.title,
        "received_at": iso(ticket.received_at),
        "lead_unit": _unit(snap, ticket.lead_unit_id),
        "overdue_stages": [s for s, v in stages.items() if v["state"] == "overdue"],
        "caller": caller(scope, ticket),
    }


def ticket_detail(snap: reference.Snapshot, scope: Scope, ticket: Ticket, now: datetime,
                  merged: list[Ticket] | None = None) -> dict[str, Any]:
    stages = stage_states(ticket, now)
    out = ticket_summary(snap, scope, ticket, now, stages)
    out.update({
        "content": ticket.content,
        "address": ticket.address,
        "latitude": ticket.latitude,
        "longitude": ticket.longitude,
        "query_code": ticket.query_code if scope.sees_confidential else None,
        "units": [
            {**(_unit(snap, u.unit_id) or {}), "role": u.role.value, "status": u.status.value,
             "dispatched_at": iso(u.dispatched_at), "accepted_at": iso(u.accepted_at),
             "replied_at": iso(u.replied_at), "reply_text": u.reply_text}
            for u in ticket.units
        ],
        "deadlines": {
            stage: {"due_at": iso(v["due_at"]), "state": v["state"], "done_at": iso(v["done_at"]),
                    "limit": (ticket.due_basis or {}).get(stage)}
            for stage, v in stages.items()
        },
        "due_warning": ticket.due_warning,
        "suspended_seconds": ticket.suspended_seconds,
        "extension_count": ticket.extension_count,
        "dispatch_count": ticket.dispatch_count,
        "reopen_count": ticket.reopen_count,
        "master_id": ticket.master_id,
        "merged_tickets": [{"id": t.id, "number": t.number, "title": t.title} for t in (merged or [])],
        "reply_text": ticket.reply_text,
        "direct_answer": ticket.direct_answer,
        "handoff_to": ticket.handoff_to,
        "refusal_reason": ticket.refusal_reason,
        "callback": {
            "attempts": ticket.callback_attempts,
            "at": iso(ticket.callback_at),
            "resolved": ticket.resolved,
            "satisfaction": ticket.satisfaction.value if ticket.satisfaction else None,
            "satisfaction_label": SATISFACTION_LABELS.get(ticket.satisfaction.value) if ticket.satisfaction else None,
            "comment": ticket.callback_comment,
        },
        "closed_at": iso(ticket.closed_at),
        "close_reason": ticket.close_reason,
        "archived_at": iso(ticket.archived_at),
        "assessment_exclusion": ticket.assessment_exclusion,
        "updated_at": iso(ticket.updated_at),
        "attachments": [
            {"id": a.id, "filename": a.filename, "content_type": a.content_type, "size": a.size,
             "sha256": a.sha256, "url": a.url}
            for a in ticket.attachments
        ],
        "allowed_actions": allowed_actions(ticket.status),
    })
    return out


def event_view(snap: reference.Snapshot, event: TicketEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": iso(event.at),
        "action": event.action,
        "action_label": ACTION_LABELS.get(event.action, event.action),
        "actor": event.actor_name,
        "actor_id": event.actor_id,
        "unit": _unit(snap, event.unit_id),
        "from_status": event.from_status,
        "to_status": event.to_status,
        "reason": event.reason,
        "details": event.details or {},
    }
