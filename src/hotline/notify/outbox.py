"""Writing messages into the outbox, in the caller's transaction.

The change that causes a message and the message itself commit together or not at all; a worker
(``delivery.deliver_due``) sends it afterwards. Each message carries an idempotency key (for example
``ticket:123:receipt``): enqueueing the same key again adds nothing, so a retried request or a
re-run sweep never produces a second message.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hotline.kit import clock
from hotline.kit.db import insert_now
from hotline.kit.errors import Invalid
from hotline.notify.models import MessageChannel, MessageState, OutboxMessage
from hotline.notify.templates import render

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
            now: datetime | None = None, fresh: bool = False, new_key: bool = False) -> OutboxMessage | None:
    """Render a template and add the message to the caller's transaction (flushed, not committed).

    Returns None, adding nothing, when a message with this ``key`` already exists. ``fresh`` says
    no other transaction can be writing this key (it names a row created in this one, e.g. a new
    ticket's receipt): the message is inserted at once, without the savepoint (intake's fast path).
    ``new_key`` says more: the key cannot exist at all, because it derives from a row this
    transaction inserted under a unique constraint (a deadline step): no lookup either.
    """
    try:
        channel = MessageChannel(channel)
    except ValueError as exc:
        raise Invalid(f"未知的消息渠道 {channel!r}（可用：sms、inbox）") from exc
    if not recipient:
        raise Invalid(f"消息 {key} 没有收件人")
    if not new_key and session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)) is not None:
        return None
    subject, body = render(session, template_code, context)
    now = now or clock.now()
    message = OutboxMessage(
        key=key, channel=channel, recipient=str(recipient), template_code=template_code, subject=subject,
        body=body, ticket_id=ticket_id, urgent=urgent, state=MessageState.pending, attempts=0,
        not_before=release_time(now, channel=channel, urgent=urgent), created_at=now,
    )
    if fresh or new_key:
        insert_now(session, message)
        return message
    # The unique key is the backstop when two transactions enqueue the same key at the same moment.
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:
        if not new_key and session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)) is not None:
            return None
        raise
    return message
