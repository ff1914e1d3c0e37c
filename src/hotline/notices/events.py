"""Which ticket events owe which messages: the table ``NOTICES``, one row per message.

Rules:

* Callers hear by SMS, and only when they left a mobile number and are not anonymous. A
  confidential caller still gets every SMS: confidentiality hides them from units, not from us.
* Unit staff (the handlers of the lead and co-handling units) hear by inbox, and by SMS when their
  account has a phone (``recipients.tell_staff``). Unit notices never name the caller.
* Every key is built from the ticket and the round the message belongs to (dispatch count,
  reopen count, attempt number), so replaying an event adds nothing, while a new round (改派,
  重办, the next callback attempt) gets its own message.
* ``urgent`` rows follow the ticket: an urgent or emergency ticket's messages skip the night
  hold (22:00–07:00); the others wait for the morning like every non-urgent SMS.
* ``always_urgent`` rows skip the night hold whatever the ticket's urgency: 转110/119/120/122
  tells the caller that an emergency service has the call and to ring it directly if in danger,
  which is worthless at 07:00 (a call handed off is an emergency even when nobody marked it so).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import phonenumbers
from sqlalchemy.orm import Session

from hotline.directory import reference
from hotline.kit import clock
from hotline.notify.models import MessageChannel
from hotline.notify.outbox import enqueue, withdraw
from hotline.notify.recipients import tell_staff, unit_staff
from hotline.tickets.models import Ticket, TicketEvent, UnitRole, Urgency
from hotline.tickets.validation import EMERGENCY_SERVICES

REPLY_CHARS = 60  # a reply quoted in an SMS is cut to this many characters, with "…"
NOTICE_CHARS = 120  # an incident's public notice quoted in an SMS, the same way

Context = Callable[[Session, Ticket, TicketEvent], dict[str, Any]]


@dataclass(frozen=True)
class Notice:
    """One message an event owes: to whom, which template, under which idempotency key.

    ``key`` is formatted with ``id`` (ticket id), ``dispatch`` (dispatch count), ``round`` (reopen
    count), ``attempt`` (the callback attempt of the event) and ``notice`` (the public notice an
    ``incident_notice`` event tells)."""

    template: str
    to: Literal["caller", "units"]
    key: str
    context: Context
    urgent: bool = False  # True: urgent when the ticket is (see the module docstring)
    always_urgent: bool = False  # True: urgent whatever the ticket's urgency (emergency hand-off)


# ---------------------------------------------------------------- what the texts say


def local_when(at: datetime | None) -> str:
    """'11月30日17:00' in local time (the way a caller reads a deadline)."""
    if at is None:
        return "规定时限"
    return clock.deadline_text(at, words=True)


def shorten(text: str | None, limit: int = REPLY_CHARS) -> str:
    """At most ``limit`` characters on one line; a cut text ends with '…'."""
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _unit_name(session: Session, unit_id: int | None) -> str:
    units = reference.snapshot(session).units
    return units[unit_id][1] if unit_id in units else "承办单位"


def _numbers(session: Session, ticket: Ticket, event: TicketEvent) -> dict[str, Any]:
    return {"ticket_number": ticket.number, "query_code": ticket.query_code, "title": ticket.title}


def _dispatched(session: Session, ticket: Ticket, event: TicketEvent) -> dict[str, Any]:
    return {**_numbers(session, ticket, event), "unit_name": _unit_name(session, ticket.lead_unit_id),
            "deadline": local_when(ticket.reply_due_at)}


def _to_accept(session: Session, ticket: Ticket, event: TicketEvent) -> dict[str, Any]:
    return {**_numbers(session, ticket, event), "deadline": local_when(ticket.accept_due_at)}


def _reopened(session: Session, ticket: Ticket, event: TicketEvent) -> dict[str, Any]:
    return {**_to_accept(session, ticket, event), "reason": event.reason or "回访不满意"}


def _incident_notice(session: Session, ticket: Ticket, event: TicketEvent) -> dict[str, Any]:
    return {"ticket_number": ticket.number, "notice": shorten((event.details or {}).get("text"), NOTICE_CHARS)}


def _replied(session: Session, ticket: Ticket, event: TicketEvent) -> dict[str, Any]:
    return {**_numbers(session, ticket, event), "unit_name": _unit_name(session, ticket.lead_unit_id),
            "reply": shorten(ticket.reply_text)}


def _handed_off(session: Session, ticket: Ticket, event: TicketEvent) -> dict[str, Any]:
    service = ticket.handoff_to or ""
    return {**_numbers(session, ticket, event), "service": service,
            "service_name": EMERGENCY_SERVICES.get(service, "应急部门")}


def _refused(session: Session, ticket: Ticket, event: TicketEvent) -> dict[str, Any]:
    return {**_numbers(session, ticket, event), "reason": shorten(event.reason, REPLY_CHARS)}


# ---------------------------------------------------------------- the table

NOTICES: dict[str, tuple[Notice, ...]] = {
    "register": (Notice("caller.receipt", "caller", "ticket:{id}:receipt", _numbers, urgent=True),),
    "dispatch": (
        Notice("caller.dispatched", "caller", "ticket:{id}:dispatch:{dispatch}:caller", _dispatched, urgent=True),
        Notice("unit.dispatch", "units", "ticket:{id}:dispatch:{dispatch}:unit", _to_accept, urgent=True),
    ),
    "reopen": (Notice("unit.reopened", "units", "ticket:{id}:reopen:{round}:unit", _reopened, urgent=True),),
    "accept_reply": (Notice("caller.reply", "caller", "ticket:{id}:reply:{round}", _replied),),
    "callback_attempt": (Notice("caller.callback", "caller", "ticket:{id}:callback:{round}:{attempt}", _numbers),),
    "close": (Notice("caller.closed", "caller", "ticket:{id}:closed", _numbers),),
    # a public notice about the incident the caller's ticket is linked to: each publication once
    "incident_notice": (Notice("caller.incident_notice", "caller", "ticket:{id}:incident_notice:{notice}",
                               _incident_notice, urgent=True),),
}
NOTICES["redispatch"] = NOTICES["dispatch"]  # 改派: a new round, told like the first dispatch
# 转110/119/120/122 and 不予受理 tell the caller where the request went, or why not; a receipt
# saying 「已受理」 not yet sent (the same call, registered and handed off or refused at once) is
# taken back rather than contradicted.
NOTICES["hand_off"] = (Notice("caller.handed_off", "caller", "ticket:{id}:handed_off", _handed_off,
                              always_urgent=True),)
NOTICES["refuse"] = (Notice("caller.refused", "caller", "ticket:{id}:refused", _refused),)
WITHDRAWS = {"hand_off": ("ticket:{id}:receipt",), "refuse": ("ticket:{id}:receipt",)}


def on_event(session: Session, ticket: Ticket, event: TicketEvent) -> None:
    """Write the messages ``event`` owes into the outbox, in the event's transaction."""
    for key in WITHDRAWS.get(event.action, ()):
        withdraw(session, key.format(id=ticket.id))
    for notice in NOTICES.get(event.action, ()):
        send(session, ticket, event, notice)


def send(session: Session, ticket: Ticket, event: TicketEvent, notice: Notice) -> int:
    """Enqueue one notice; returns how many messages were added (0 when nobody can receive it or
    its key was seen before)."""
    details = event.details or {}
    key = notice.key.format(id=ticket.id, dispatch=ticket.dispatch_count, round=ticket.reopen_count,
                            attempt=details.get("attempt", 0), notice=details.get("notice_id", 0))
    urgent = notice.always_urgent or (notice.urgent and ticket.urgency != Urgency.normal)
    if notice.to == "caller":
        phone = sms_number(ticket)
        if phone is None:
            return 0
        return enqueue(session, key=key, channel=MessageChannel.sms, recipient=phone, template_code=notice.template,
                       context=notice.context(session, ticket, event), ticket_id=ticket.id,
                       urgent=urgent) is not None
    people = [person for unit_id in unit_ids(ticket) for person in unit_staff(session, unit_id)]
    if not people:
        return 0
    return tell_staff(session, key=key, people=people, template_code=notice.template,
                      context=notice.context(session, ticket, event), ticket_id=ticket.id, urgent=urgent)


def unit_ids(ticket: Ticket) -> list[int]:
    """The units working on the ticket now: the lead first, then the co-handlers."""
    parts = sorted(ticket.active_units(), key=lambda u: (u.role != UnitRole.lead, u.unit_id))
    return [u.unit_id for u in parts]


def sms_number(ticket: Ticket) -> str | None:
    """The caller's number for SMS: none for anonymous callers or a landline."""
    if ticket.caller_anonymous or not ticket.caller_phone:
        return None
    return ticket.caller_phone if is_mobile(ticket.caller_phone) else None


@functools.lru_cache(maxsize=4096)
def is_mobile(e164: str) -> bool:
    try:
        number = phonenumbers.parse(e164, "CN")
    except phonenumbers.NumberParseException:
        return False
    kind = phonenumbers.number_type(number)
    return kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
