"""The outbox, the editable message templates and the in-app inbox."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.kit.db import Base, UTCDateTime


class MessageChannel(enum.StrEnum):
    sms = "sms"
    inbox = "inbox"


class MessageState(enum.StrEnum):
    pending = "pending"  # waiting for not_before
    sending = "sending"  # claimed by a worker until claimed_until
    sent = "sent"
    dead = "dead"  # failed max_attempts times; set aside for an admin


def _enum(cls: type[enum.Enum], length: int = 10) -> Enum:
    return Enum(cls, native_enum=False, length=length, validate_strings=True)


class OutboxMessage(Base):
    """One message to send, written in the same transaction as the change that causes it."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)  # idempotency key, also sent to the gateway
    channel: Mapped[MessageChannel] = mapped_column(_enum(MessageChannel))
    recipient: Mapped[str] = mapped_column(String(40))  # E.164 phone (sms) or a user id (inbox)
    template_code: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[MessageState] = mapped_column(_enum(MessageState), default=MessageState.pending)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(60))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_outbox_messages_state_not_before", "state", "not_before"),)


class MessageTemplate(Base):
    """A Chinese text with ``{placeholders}``; shipped defaults, editable by admins."""

    __tablename__ = "message_templates"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    channel: Mapped[str] = mapped_column(String(10))  # sms, inbox or any
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class InboxItem(Base):
    """A message in a staff member's in-app inbox."""

    __tablename__ = "inbox_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
