"""找回查询码: a citizen who lost a query code asks for it by phone number, and the codes of that
number's latest tickets go by SMS to that number, through the outbox like every caller SMS: only
whoever holds the phone reads them, so the portal can answer every request alike and tells a
stranger nothing (not even whether the number has tickets).

Rules:

* The tickets an SMS to the caller may name (``events.sms_number``): not anonymous, a mobile
  number; the latest ``SHOWN`` of them, each with its number and query code.
* At most ``PER_DAY`` such messages per number and local day, counted in the outbox itself (the
  day's n-th message has the key ``phone:<number>:query_codes:<day>:<n>``), so the limit holds
  across processes and two requests at once cannot both take the last one.
* Not urgent: like every non-urgent SMS it waits out the night (22:00–07:00), so a stranger
  typing someone's number cannot wake them.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.kit import clock
from hotline.notices.events import is_mobile
from hotline.notify.models import MessageChannel
from hotline.notify.outbox import enqueue
from hotline.tickets.models import Ticket

TEMPLATE = "caller.query_codes"
SHOWN = 5  # tickets named in one SMS, the latest first
PER_DAY = 3  # messages one number may be sent per local day


def send_query_codes(session: Session, phone: str) -> bool:
    """Write the SMS naming the latest tickets of ``phone`` (E.164) and their query codes into the
    outbox, in the caller's transaction. True when one was written; False when the number has no
    ticket an SMS may name, or had ``PER_DAY`` of them today. Never shown to the person asking."""
    if not is_mobile(phone):
        return False
    rows = session.execute(
        select(Ticket.id, Ticket.number, Ticket.query_code)
        .where(Ticket.caller_phone == phone, Ticket.caller_anonymous.is_(False))
        .order_by(Ticket.received_at.desc(), Ticket.id.desc())
        .limit(SHOWN)
    ).all()
    if not rows:
        return False
    context = {"tickets": "；".join(f"{number}（查询码{code}）" for _, number, code in rows)}
    day = clock.local(clock.now()).date().isoformat()
    for n in range(1, PER_DAY + 1):
        if (
            enqueue(
                session,
                key=f"phone:{phone}:query_codes:{day}:{n}",
                channel=MessageChannel.sms,
                recipient=phone,
                template_code=TEMPLATE,
                context=context,
                ticket_id=rows[0].id,
            )
            is not None
        ):
            return True
    return False
