"""The callback rules as admins set them (``callback.*`` in ``directory.settings``), and the due time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy.orm import Session

from hotline.directory import reference
from hotline.kit import clock
from hotline.kit.calendar import WorkCalendar


@dataclass(frozen=True)
class CallbackRules:
    due_working_days: int  # the callback is due this many working days after the reply is accepted
    max_attempts: int  # failed attempts before ``after_max_attempts`` applies
    after_max_attempts: str  # "close": close as not reached; "keep": keep trying
    retry_after: timedelta  # the next attempt after a failed one
    reopen_on_negative: bool  # an unresolved or unsatisfied answer reopens the ticket


def current(session: Session) -> CallbackRules:
    rules = reference.snapshot(session).rules
    return CallbackRules(
        due_working_days=int(rules["callback.due_working_days"]),
        max_attempts=int(rules["callback.max_attempts"]),
        after_max_attempts=str(rules["callback.after_max_attempts"]),
        retry_after=timedelta(minutes=int(rules["callback.retry_after_minutes"])),
        reopen_on_negative=bool(rules["callback.reopen_on_negative"]),
    )


def due_at(calendar: WorkCalendar, start: datetime, working_days: int) -> datetime:
    """When a callback for a reply accepted at ``start`` is due.

    ``working_days`` ≥ 1: that many working days later by the holiday table (a reply accepted on a
    Friday is due on Monday, one accepted before 国庆 after the holiday). 0: by the end of the local
    day. A year without holiday data is counted by weekends rather than refused: accepting a reply
    must never fail for want of next year's calendar.
    """
    tz = clock.tz()
    if working_days <= 0:
        midnight = datetime.combine(clock.local(start).date() + timedelta(days=1), time(0), tz)
        return midnight.astimezone(start.tzinfo)
    return calendar.add_working_days(start, working_days, tz, strict=False)
