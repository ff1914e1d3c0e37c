"""Recording a callback (回访) and applying the callback rules, in the caller's transaction.

Every surface records callbacks through ``record``; the lifecycle stores the attempt or the
verdict, and the rules decide what follows, done by the platform itself (actor "系统"):

* not reached, and the attempts reach ``callback.max_attempts``: under ``close`` the ticket is
  closed as not reached ("连续N次回访未联系上"); under ``keep`` it stays in callback and the next
  attempt is scheduled;
* reached, but unresolved or dissatisfied, and ``callback.reopen_on_negative``: the ticket is
  reopened to the same lead and co-handling units with the caller's words as the reason;
* anything else waits for a person (close after a good callback, or decide on a bad one).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from hotline.accounts.models import User
from hotline.callbacks import rules as callback_rules
from hotline.callbacks.rules import CallbackRules
from hotline.tickets import lifecycle
from hotline.tickets.models import Ticket, TicketEvent


@dataclass(frozen=True)
class Recorded:
    event: TicketEvent  # the callback itself (callback_attempt or record_callback)
    follow_up: TicketEvent | None  # the close or reopen the rules applied, if any


def record(
    session: Session,
    ticket: Ticket,
    *,
    actor: User | None,
    reached: bool,
    resolved: bool | None = None,
    satisfaction: str | None = None,
    comment: str | None = None,
) -> Recorded:
    """Record one callback and apply the callback rules to the ticket."""
    event = lifecycle.record_callback(session, ticket, actor=actor, reached=reached, resolved=resolved,
                                      satisfaction=satisfaction, comment=comment)
    rules = callback_rules.current(session)
    follow_up = _after_missed(session, ticket, rules) if not reached else _after_verdict(session, ticket, rules)
    return Recorded(event, follow_up)


def _after_missed(session: Session, ticket: Ticket, rules: CallbackRules) -> TicketEvent | None:
    """Close as not reached once the attempts reach the maximum, unless the rule says keep trying."""
    if rules.after_max_attempts != "close" or ticket.callback_attempts < rules.max_attempts:
        return None
    return lifecycle.close(session, ticket, actor=None, reason=f"连续{ticket.callback_attempts}次回访未联系上")


def _after_verdict(session: Session, ticket: Ticket, rules: CallbackRules) -> TicketEvent | None:
    """Reopen an unresolved or unsatisfied ticket to its units, in the caller's words."""
    if not rules.reopen_on_negative or not lifecycle.callback_negative(ticket):
        return None
    return lifecycle.reopen(session, ticket, actor=None, reason=ticket.callback_comment)
