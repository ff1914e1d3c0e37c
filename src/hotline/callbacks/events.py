"""Callback tasks follow ticket events, in the event's transaction.

* ``accept_reply`` opens the task of the ticket's current round (one per round: a reopened ticket
  gets a new task when its next reply is accepted); due by the ``callback.due_working_days`` rule,
  first attempt now.
* ``callback_attempt`` (not reached) counts the attempt and schedules the next one
  ``callback.retry_after_minutes`` later.
* ``record_callback`` (reached) finishes the task with the caller's verdict.
* ``close``, ``reopen`` and ``merge`` end a task still open: closed as not reached → ``not_reached``,
  anything else → ``cancelled``.

This module only keeps the queue; applying the rules to the ticket (closing after too many
attempts, reopening on a bad verdict) is ``service.record``'s job.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.callbacks import rules as callback_rules
from hotline.callbacks.models import CallbackTask, TaskState
from hotline.directory import reference
from hotline.kit.db import insert_now
from hotline.tickets.models import Ticket, TicketEvent


def open_task(session: Session, ticket_id: int) -> CallbackTask | None:
    """The ticket's task still waiting for an attempt, if any.

    Checked again in Python: with autoflush off (the demo generator), the row may still read open
    in the database while this session has already finished it."""
    task = session.scalar(select(CallbackTask).where(CallbackTask.ticket_id == ticket_id,
                                                     CallbackTask.state == TaskState.open)
                          .order_by(CallbackTask.round.desc()).limit(1))
    return task if task is not None and task.state == TaskState.open else None


def _schedule(session: Session, ticket: Ticket, event: TicketEvent) -> None:
    exists = session.scalar(select(CallbackTask.id).where(CallbackTask.ticket_id == ticket.id,
                                                          CallbackTask.round == ticket.reopen_count))
    if exists is not None:  # the event is being replayed: the round has its task
        return
    rules = callback_rules.current(session)
    calendar = reference.snapshot(session).calendar
    insert_now(session, CallbackTask(  # at once: the next event's lookup must find it, autoflush or not
        ticket_id=ticket.id, round=ticket.reopen_count, state=TaskState.open, created_at=event.at,
        due_at=callback_rules.due_at(calendar, event.at, rules.due_working_days), next_attempt_at=event.at,
        attempts=0,
    ))


def _count_attempt(session: Session, ticket: Ticket, event: TicketEvent) -> None:
    task = open_task(session, ticket.id)
    if task is None:  # a ticket from before callback tasks existed
        return
    task.attempts = int((event.details or {}).get("attempt", task.attempts + 1))
    task.last_attempt_at = event.at
    task.last_note = event.reason
    task.next_attempt_at = event.at + callback_rules.current(session).retry_after


def _finish(session: Session, ticket: Ticket, event: TicketEvent) -> None:
    task = open_task(session, ticket.id)
    if task is None:
        return
    task.state = TaskState.done
    task.attempts = ticket.callback_attempts
    task.last_attempt_at = task.finished_at = event.at
    task.last_note = event.reason
    task.outcome = (event.details or {}).get("satisfaction")


def _end(session: Session, ticket: Ticket, event: TicketEvent) -> None:
    task = open_task(session, ticket.id)
    if task is None:
        return
    not_reached = event.action == "close" and ticket.close_reason == "not_reached"
    task.state = TaskState.not_reached if not_reached else TaskState.cancelled
    task.outcome = "not_reached" if not_reached else event.action
    task.finished_at = event.at


HANDLERS: dict[str, Callable[[Session, Ticket, TicketEvent], None]] = {
    "accept_reply": _schedule,
    "callback_attempt": _count_attempt,
    "record_callback": _finish,
    "close": _end,
    "reopen": _end,
    "merge": _end,
}


def on_event(session: Session, ticket: Ticket, event: TicketEvent) -> None:
    handler = HANDLERS.get(event.action)
    if handler is not None:
        handler(session, ticket, event)
