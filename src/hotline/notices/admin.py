"""What an operator sees of the outbox and may do with it, and the rules for editing a template.

Shared by the JSON API, the admin pages and the CLI, so each shows and checks the same things.
"""

from __future__ import annotations

import string
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.accounts.models import User
from hotline.kit.errors import Invalid
from hotline.kit.text import no_control_characters
from hotline.notices.labels import placeholder_label, template_label
from hotline.notify.delivery import retry_dead
from hotline.notify.models import MessageChannel, MessageState, OutboxMessage
from hotline.notify.templates import placeholders, shipped_templates
from hotline.tickets.models import Ticket
from hotline.tickets.views import iso


def mask_recipient(channel: MessageChannel | str, recipient: str) -> str:
    """A phone number shows only its last 4 digits; an inbox recipient (a user id) is shown as is."""
    if channel != MessageChannel.sms:
        return recipient
    return "*" * max(len(recipient) - 4, 0) + recipient[-4:]


def outbox_view(session: Session, messages: list[OutboxMessage]) -> list[dict[str, Any]]:
    """Messages as an operator reads them, with the ticket number and the inbox user's name."""
    ticket_ids = {m.ticket_id for m in messages if m.ticket_id is not None}
    user_ids = {int(m.recipient) for m in messages if m.channel == MessageChannel.inbox and m.recipient.isdigit()}
    numbers = _lookup(session, Ticket.id, Ticket.number, ticket_ids)
    names = _lookup(session, User.id, User.display_name, user_ids)
    return [_message(m, numbers, names) for m in messages]


def _lookup(session: Session, key: Any, value: Any, wanted: set[int]) -> dict[int, str]:
    if not wanted:
        return {}
    return {k: v for k, v in session.execute(select(key, value).where(key.in_(wanted)))}


def _message(m: OutboxMessage, numbers: dict[int, str], names: dict[int, str]) -> dict[str, Any]:
    person = names.get(int(m.recipient)) if m.channel == MessageChannel.inbox and m.recipient.isdigit() else None
    return {"id": m.id, "state": m.state.value, "channel": m.channel.value,
            "recipient": mask_recipient(m.channel, m.recipient), "recipient_name": person,
            "template": m.template_code, "template_label": template_label(m.template_code), "subject": m.subject, "ticket_id": m.ticket_id,
            "ticket_number": numbers.get(m.ticket_id) if m.ticket_id is not None else None,
            "attempts": m.attempts, "last_error": m.last_error, "created_at": iso(m.created_at),
            "not_before": iso(m.not_before), "sent_at": iso(m.sent_at)}


def messages_in(session: Session, state: MessageState, limit: int = 500, *, offset: int = 0) -> list[OutboxMessage]:
    """One page of the messages in ``state``, newest first (for the failed ones, ``failed_messages``'
    order), cut in SQL: only ``limit`` rows are read, however many have failed."""
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.state == state)
                                .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
                                .limit(limit).offset(offset)))


def count_in(session: Session, state: MessageState) -> int:
    """How many messages are in ``state`` (what ``messages_in`` would list without a limit)."""
    return int(session.scalar(select(func.count()).select_from(OutboxMessage)
                              .where(OutboxMessage.state == state)) or 0)


def retry(session: Session, ids: list[int] | None, *, now: datetime | None = None) -> dict[str, Any]:
    """Put dead messages back in the queue: the given ids, or every dead one (``ids`` None).
    Ids that are not dead messages are returned as ``skipped``."""
    dead = select(OutboxMessage.id).where(OutboxMessage.state == MessageState.dead)
    if ids is not None:
        dead = dead.where(OutboxMessage.id.in_(ids))
    found = set(session.scalars(dead))
    count = retry_dead(session, sorted(found), now=now)
    return {"retried": count, "skipped": sorted(set(ids or ()) - found)}


def shipped_by_code() -> dict[str, dict[str, str]]:
    return {row["code"]: row for row in shipped_templates()}


def placeholder_names(*texts: str) -> list[str]:
    seen: dict[str, None] = {}
    for text in texts:
        seen.update(dict.fromkeys(placeholders(text)))
    return list(seen)


def check_text(field: str, text: str, allowed: list[str]) -> None:
    """A template text may not be empty, must parse, and may use only the placeholders in ``allowed``
    (those of the shipped default, which are the values the senders provide)."""
    if not text.strip():
        raise Invalid(f"模板{field}不能为空", code="empty", details={"field": field})
    no_control_characters(text, f"模板{field}", field, lines=True)
    for name in placeholders(text, field):
        if name not in allowed:
            raise Invalid(f"模板{field}中的占位符 {{{name}}} 不可用：本模板只能使用 "
                          + ("、".join(f"{{{a}}}" for a in allowed) or "（无占位符）"),
                          code="unknown_placeholder", details={"field": field, "placeholder": name})
    for _, name, spec, conversion in string.Formatter().parse(text):
        if name is not None and (spec or conversion):
            raise Invalid(f"模板{field}中的占位符只能写成 {{{name}}} 的形式，不能带格式或转换",
                          code="invalid_placeholder", details={"field": field, "placeholder": name})


def check_template(subject: str, body: str, *, allowed: list[str], default: list[str] | None,
                   confirmed: bool) -> None:
    """The checks of ``check_text`` on both texts, and one more: a placeholder of the shipped default
    (``default``, its names) that neither text keeps is named, and the change needs ``confirmed``.
    Left out by mistake, {query_code} would leave every caller without the code to follow their
    ticket, and nothing would show it until someone called."""
    check_text("标题", subject, allowed)
    check_text("正文", body, allowed)
    kept = set(placeholder_names(subject, body))
    dropped = [name for name in default or [] if name not in kept]
    if dropped and not confirmed:
        raise Invalid(f"模板删去了默认文本中的占位符 {'、'.join(placeholder_label(n) for n in dropped)}：发出的消息将不再"
                      f"包含这些内容。如确需删去，请勾选「确认删去占位符」后再保存",
                      code="placeholders_dropped", details={"dropped": dropped})
