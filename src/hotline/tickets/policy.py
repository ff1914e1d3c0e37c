"""Who may do what to a ticket: roles per action, and a handler only through their unit's part.

A handler whose unit has no part in a ticket gets ``NotFound``, as if the ticket did not exist:
the same answer the data scope gives when they try to read it.
"""

from __future__ import annotations

from hotline.accounts.models import Role, User
from hotline.kit.errors import NotFound, PermissionDenied
from hotline.tickets.models import Ticket, TicketUnit, UnitRole
from hotline.tickets.states import ACTION_LABELS

A, D, H, S, ADM = Role.agent, Role.dispatcher, Role.handler, Role.supervisor, Role.admin

ACTION_ROLES: dict[str, frozenset[Role]] = {
    "register": frozenset({A, D, ADM}),
    "answer_directly": frozenset({A, D, ADM}),
    "hand_off": frozenset({A, D, ADM}),
    "refuse": frozenset({A, D, ADM}),
    "dispatch": frozenset({D, ADM}),
    "redispatch": frozenset({D, ADM}),
    "reject_return": frozenset({D, ADM}),
    "approve_extension": frozenset({D, ADM}),
    "refuse_extension": frozenset({D, ADM}),
    "accept_reply": frozenset({D, ADM}),
    "send_back_reply": frozenset({D, ADM}),
    "merge": frozenset({A, D, ADM}),
    "record_callback": frozenset({A, D, ADM}),
    "close": frozenset({A, D, ADM}),
    "reopen": frozenset({A, D, ADM}),
    "archive": frozenset({D, ADM}),
    # The unit's work: the lead unit's handlers (and admins on their behalf).
    "accept": frozenset({H, ADM}),
    "record_contact": frozenset({H, ADM}),
    "request_return": frozenset({H, ADM}),
    "suspend": frozenset({H, ADM}),
    "resume": frozenset({H, ADM}),
    "request_extension": frozenset({H, ADM}),
    "reply": frozenset({H, ADM}),
    # Supervision: urging (催办) and supervision orders (督办), answered by the unit.
    "urge": frozenset({D, S, ADM}),
    "supervise": frozenset({S, ADM}),
    "answer_supervision": frozenset({H, ADM}),
    # A co-handler's own part.
    "accept_part": frozenset({H, ADM}),
    "reply_part": frozenset({H, ADM}),
}

LEAD_ONLY = frozenset({"accept", "record_contact", "request_return", "suspend", "resume", "request_extension", "reply"})


def authorize(actor: User | None, action: str, ticket: Ticket | None) -> TicketUnit | None:
    """Raise unless ``actor`` may perform ``action`` on ``ticket``; return the acting unit's part."""
    if actor is None:  # the platform itself: worker, demo generator, imports
        return ticket.lead_task() if ticket is not None else None
    roles = ACTION_ROLES.get(action, frozenset())
    label = ACTION_LABELS.get(action, action)
    if actor.role not in roles:
        raise PermissionDenied(f"您的角色无权{label}")
    if actor.role != Role.handler or ticket is None:
        return ticket.lead_task() if ticket is not None else None
    task = ticket.task_of(actor.unit_id) if actor.unit_id is not None else None
    if task is None:
        raise NotFound("工单不存在或不在本单位办理范围内")
    if action in LEAD_ONLY and task.role != UnitRole.lead:
        raise PermissionDenied(f"协办单位不能{label}，请由主办单位办理")
    return task


def unit_task_for(actor: User | None, ticket: Ticket, unit_id: int | None) -> TicketUnit | None:
    """The part a unit action applies to: the handler's own unit, or the unit named by an admin."""
    if actor is not None and actor.role == Role.handler:
        task = ticket.task_of(actor.unit_id) if actor.unit_id is not None else None
        if task is None:
            raise NotFound("工单不存在或不在本单位办理范围内")
        return task
    if unit_id is not None:
        task = ticket.task_of(unit_id)
        if task is None:
            raise NotFound("该单位不是本工单的承办单位")
        return task
    return None
