"""Writing messages into the outbox, in the caller's transaction.

The change that causes a message and the message itself commit together or not at all; a worker
(``delivery.deliver_due``) sends it afterwards. Each message carries an idempotency key (for example
``ticket:123:receipt``): enqueueing the same key again adds nothing, so a retried request or a
re-run sweep never produces a second message.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, make_transient_to_detached

from hotline.kit import clock
from hotline.kit.errors import Invalid
from hotline.notify.models import MessageChannel, MessageState, OutboxMessage
from hotline.notify.templates import render

T = OutboxMessage.__table__
_MAPPER = inspect(OutboxMessage)
QUIET_START = time(22, 0)
QUIET_END = time(7, 0)


def release_time(at: datetime, *, channel: MessageChannel, urgent: bool) -> datetime:
    """When a message enqueued at ``at`` may be sent: non-urgent SMS wait out the night (22:00–07:00)."""
    if channel != MessageChannel.sms or urgent:
        return at
    local = clock.local(at)
    if QUIET_END <= local.time() < QUIET_START:
        return at
    day = local.date() + timedelta(days=1) if local.time() >= QUIET_START else local.date()
    return datetime.combine(day, QUIET_END, tzinfo=clock.tz()).astimezone(at.tzinfo)


def enqueue(session: Session, *, key: str, channel: MessageChannel | str, recipient: str, template_code: str,
            context: dict[str, Any], ticket_id: int | None = None, urgent: bool = False,
            now: datetime | None = None) -> OutboxMessage | None:
    """Render a template and add the message to the caller's transaction (written, not committed).

    Returns None, adding nothing, when a message with this ``key`` already exists: one
    ``INSERT … ON CONFLICT (key) DO NOTHING`` decides, so two transactions enqueueing the same key
    at the same moment add one message, with no lookup before and no savepoint.
    """
    try:
        channel = MessageChannel(channel)
    except ValueError as exc:
        raise Invalid(f"未知的消息渠道 {channel!r}（可用：sms、inbox）") from exc
    if not recipient:
        raise Invalid(f"消息 {key} 没有收件人")
    subject, body = render(session, template_code, context)
    now = now or clock.now()
    message = OutboxMessage(
        key=key, channel=channel, recipient=str(recipient), template_code=template_code, subject=subject,
        body=body, ticket_id=ticket_id, urgent=urgent, state=MessageState.pending, attempts=0,
        not_before=release_time(now, channel=channel, urgent=urgent), created_at=now,
        claimed_until=None, claimed_by=None, last_error=None, sent_at=None,
    )
    return message if _insert_once(session, message) else None


def withdraw(session: Session, key: str) -> bool:
    """Take back a message not yet handed to a worker (still ``pending``), as if never written;
    True if one was. A message being sent or sent stays as it is."""
    with session.no_autoflush:  # the ticket's own change is flushed (and checked) at commit, as always
        gone = session.execute(delete(OutboxMessage).where(OutboxMessage.key == key,
                                                           OutboxMessage.state == MessageState.pending))
    return bool(gone.rowcount)


def _insert_once(session: Session, message: OutboxMessage) -> bool:
    """Insert unless the key exists; attach the row to the session as persistent when inserted."""
    values = {column.name: getattr(message, attr.key) for attr in _MAPPER.column_attrs
              for column in attr.columns if column.name != "id"}
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(T).values(values).on_conflict_do_nothing(index_elements=["key"]).returning(T.c.id)
    new_id = session.connection().execute(statement).scalar()
    if new_id is None:
        return False
    message.id = new_id
    make_transient_to_detached(message)
    session.add(message)
    return True
