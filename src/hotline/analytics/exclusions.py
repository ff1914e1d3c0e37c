"""Leaving a ticket out of the assessment (三率): a request the centre rules invalid (无效诉求) or
malicious (恶意诉求) must not count against the unit that handled it. Supervisors and admins decide,
with a reason that goes on the ticket's timeline; the rollups of the ticket's days are recomputed by
the next refresh (the ticket's ``updated_at`` moves)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from hotline.accounts.models import Role, User
from hotline.kit import clock
from hotline.kit.errors import Invalid, PermissionDenied
from hotline.tickets.models import Ticket
from hotline.tickets.timeline import record_event

REASONS = {"invalid": "无效诉求", "malicious": "恶意诉求"}


def _authorize(actor: User | None) -> None:
    if actor is None or actor.role not in (Role.supervisor, Role.admin):
        raise PermissionDenied("只有督办员和管理员可以认定工单是否计入考核")


def exclude(session: Session, ticket: Ticket, *, actor: User | None, reason: str, note: str) -> None:
    """Rule the ticket out of the assessment as ``reason`` (invalid, malicious)."""
    _authorize(actor)
    if reason not in REASONS:
        raise Invalid(f"认定理由须为 {'、'.join(f'{k}（{v}）' for k, v in REASONS.items())}", code="invalid_reason",
                      details={"field": "reason"})
    words = (note or "").strip()
    if not words:
        raise Invalid("请说明认定的依据", code="empty", details={"field": "note"})
    ticket.assessment_exclusion = reason
    ticket.updated_at = clock.now()
    record_event(session, ticket, "assessment", actor, reason=words,
                 details={"excluded": reason, "label": f"认定为{REASONS[reason]}，不计入考核"})


def include(session: Session, ticket: Ticket, *, actor: User | None, note: str) -> None:
    """Undo an exclusion: the ticket counts again."""
    _authorize(actor)
    if ticket.assessment_exclusion is None:
        raise Invalid("该工单本来就计入考核", code="not_excluded")
    words = (note or "").strip()
    if not words:
        raise Invalid("请说明恢复计入考核的理由", code="empty", details={"field": "note"})
    ticket.assessment_exclusion = None
    ticket.updated_at = clock.now()
    record_event(session, ticket, "assessment", actor, reason=words, details={"excluded": None, "label": "恢复计入考核"})
