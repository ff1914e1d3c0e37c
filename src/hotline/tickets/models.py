"""Tickets, the units handling them, their timeline, requests for return or extension, attachments."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.kit.db import Base, UTCDateTime
from hotline.tickets.states import Status


class Channel(enum.StrEnum):
    phone = "phone"
    web = "web"
    mobile = "mobile"
    letter = "letter"
    open311 = "open311"
    system = "system"
    import_ = "import"


class Urgency(enum.StrEnum):
    normal = "normal"
    urgent = "urgent"
    emergency = "emergency"


class Satisfaction(enum.StrEnum):
    satisfied = "satisfied"
    basically_satisfied = "basically_satisfied"
    dissatisfied = "dissatisfied"
    not_reached = "not_reached"


class UnitRole(enum.StrEnum):
    lead = "lead"
    co = "co"


class UnitTaskStatus(enum.StrEnum):
    dispatched = "dispatched"
    accepted = "accepted"
    replied = "replied"
    withdrawn = "withdrawn"  # returned and re-dispatched elsewhere, or the ticket was reopened


def _enum(cls: type[enum.Enum], length: int = 24) -> Enum:
    return Enum(cls, native_enum=False, length=length, validate_strings=True)


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    query_code: Mapped[str] = mapped_column(String(6))
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    kind: Mapped[str] = mapped_column(String(20))
    category_code: Mapped[str] = mapped_column(ForeignKey("categories.code"), index=True)
    urgency: Mapped[Urgency] = mapped_column(_enum(Urgency))
    status: Mapped[Status] = mapped_column(_enum(Status))
    status_before: Mapped[Status | None] = mapped_column(_enum(Status))

    caller_name: Mapped[str | None] = mapped_column(String(60))
    caller_phone: Mapped[str | None] = mapped_column(String(20), index=True)
    caller_confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    caller_anonymous: Mapped[bool] = mapped_column(Boolean, default=False)

    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))  # indexed with received_at below
    address: Mapped[str | None] = mapped_column(String(200))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    title: Mapped[str] = mapped_column(String(100))
    content: Mapped[str] = mapped_column(Text)

    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The API token (an Open311 api_key) the ticket was submitted with; NULL for every other way in
    # and for Open311 tickets from before migration 0024.
    api_token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"), index=True)
    lead_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    master_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)

    # Deadlines (时限) per stage, and when each stage was met.
    dispatch_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accept_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    contact_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reply_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_basis: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    due_warning: Mapped[str | None] = mapped_column(String(200))
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    contacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    suspended_seconds: Mapped[int] = mapped_column(Integer, default=0)
    extension_count: Mapped[int] = mapped_column(Integer, default=0)
    dispatch_count: Mapped[int] = mapped_column(Integer, default=0)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)

    # Outcome.
    reply_text: Mapped[str | None] = mapped_column(Text)
    direct_answer: Mapped[str | None] = mapped_column(Text)
    handoff_to: Mapped[str | None] = mapped_column(String(8))
    refusal_reason: Mapped[str | None] = mapped_column(String(500))
    callback_attempts: Mapped[int] = mapped_column(Integer, default=0)
    callback_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved: Mapped[bool | None] = mapped_column(Boolean)
    satisfaction: Mapped[Satisfaction | None] = mapped_column(_enum(Satisfaction))
    callback_comment: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    close_reason: Mapped[str | None] = mapped_column(String(40))
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Left out of the assessment (三率): "invalid" or "malicious" requests, as a supervisor decided
    # (``analytics.exclusions``); NULL for every ordinary ticket.
    assessment_exclusion: Mapped[str | None] = mapped_column(String(12))
    # When the deadline sweep must next look at this ticket (the earliest step of its supervision
    # ladder: warning, overdue, urge, escalation); NULL when no clock is running.
    watch_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    units: Mapped[list[TicketUnit]] = relationship(
        back_populates="ticket", order_by="TicketUnit.id", cascade="all, delete-orphan"
    )
    attachments: Mapped[list[Attachment]] = relationship(cascade="all, delete-orphan", order_by="Attachment.id")

    __mapper_args__ = {"version_id_col": version}

    def active_units(self) -> list[TicketUnit]:
        return [u for u in self.units if u.status != UnitTaskStatus.withdrawn]

    def lead_task(self) -> TicketUnit | None:
        return next((u for u in self.active_units() if u.role == UnitRole.lead), None)

    def task_of(self, unit_id: int) -> TicketUnit | None:
        return next((u for u in self.active_units() if u.unit_id == unit_id), None)


Index("ix_tickets_status_received", Ticket.status, Ticket.received_at)
Index("ix_tickets_received", Ticket.received_at)
Index("ix_tickets_region_received", Ticket.region_code, Ticket.received_at)  # duplicates at intake
# The tickets a new request may be merged into (``assist.duplicates``): a partial index of the open
# ones only, so the lookup never walks a township's closed year. Its queries must say literally
# ``status IN`` these, in this order (SQLite proves the predicate by matching the term).
MERGEABLE_STATUSES = ("registered", "dispatched", "accepted", "in_progress", "suspended", "return_requested",
                      "replied")
Index("ix_tickets_open_region_received", Ticket.region_code, Ticket.received_at,
      sqlite_where=Ticket.status.in_(MERGEABLE_STATUSES), postgresql_where=Ticket.status.in_(MERGEABLE_STATUSES))
Index("ix_tickets_reply_due", Ticket.reply_due_at)
Index("ix_tickets_updated", Ticket.updated_at)  # the rollups' refresh finds what changed since its last run
# The open tickets under a running reply clock (a city's closed years never enter the range): the
# reply term of overdue now (``analytics.dashboard.overdue_query``), whose ``status IN`` must list
# these, in this order (``sla.RUNNING['reply']``; SQLite proves the predicate by matching the term).
# 退单待审 runs no clock and is not in it (migration 0026).
OVERDUE_WATCH_STATUSES = ("dispatched", "accepted", "in_progress")
Index("ix_tickets_open_reply_due", Ticket.reply_due_at,
      sqlite_where=Ticket.status.in_(OVERDUE_WATCH_STATUSES), postgresql_where=Ticket.status.in_(OVERDUE_WATCH_STATUSES))
Index("ix_tickets_watch_at", Ticket.watch_at)


class TicketUnit(Base):
    """One unit's part in a ticket: the lead (主办) or a co-handler (协办), with its own state."""

    __tablename__ = "ticket_units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    role: Mapped[UnitRole] = mapped_column(_enum(UnitRole, 8))
    status: Mapped[UnitTaskStatus] = mapped_column(_enum(UnitTaskStatus))
    dispatched_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reply_text: Mapped[str | None] = mapped_column(Text)

    # What the assessment (三率, ``analytics``) counts for this order, written as it happens because a
    # later round overwrites the ticket's own deadlines and verdict. Response (响应) = signed within
    # the accept limit and, for the lead, the caller contacted within the contact limit.
    response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # lead: contact limit; co: accept
    accepted_on_time: Mapped[bool | None] = mapped_column(Boolean)
    contacted_on_time: Mapped[bool | None] = mapped_column(Boolean)
    replied_on_time: Mapped[bool | None] = mapped_column(Boolean)
    # The callback verdict on this round's answer (the lead's and co-handlers' orders of the round).
    callback_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved: Mapped[bool | None] = mapped_column(Boolean)
    satisfaction: Mapped[Satisfaction | None] = mapped_column(_enum(Satisfaction))
    # Why the order was withdrawn: returned (退单 approved), reopened (重办: a new round), merged.
    ended: Mapped[str | None] = mapped_column(String(12))

    ticket: Mapped[Ticket] = relationship(back_populates="units")


Index("ix_ticket_units_unit_ticket", TicketUnit.unit_id, TicketUnit.ticket_id)
Index("ix_ticket_units_unit_status", TicketUnit.unit_id, TicketUnit.status, TicketUnit.ticket_id)
Index("ix_ticket_units_dispatched", TicketUnit.dispatched_at)  # rollups rebuild a day's orders
Index("ix_ticket_units_callback", TicketUnit.callback_at)  # and a day's callbacks
Index("ix_ticket_units_unit_dispatched", TicketUnit.unit_id, TicketUnit.dispatched_at)  # a unit's figures, drilled
# PostgreSQL carries what a unit's callback figures filter on in this index (covering), so the
# drill-down into a large unit's year of callbacks reads no heap rows (migration 0014).
Index("ix_ticket_units_unit_callback", TicketUnit.unit_id, TicketUnit.callback_at,
      postgresql_include=["role", "satisfaction", "ended", "ticket_id"])


class TicketEvent(Base):
    """One line of the timeline: who did what, when, from which status to which, and why."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(60))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    action: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class RequestType(enum.StrEnum):
    return_ = "return"
    extension = "extension"


class RequestState(enum.StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"


class TicketRequest(Base):
    """A unit's request for the centre's decision: give the ticket back (退单) or more time (延期)."""

    __tablename__ = "ticket_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    type: Mapped[RequestType] = mapped_column(_enum(RequestType, 12))
    state: Mapped[RequestState] = mapped_column(_enum(RequestState, 12))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text)
    amount: Mapped[int | None] = mapped_column(Integer)
    amount_unit: Mapped[str | None] = mapped_column(String(20))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)


Index("ix_ticket_requests_state_type", TicketRequest.state, TicketRequest.type)
# a unit's returns (退单) of a period: the unit suggestion's check whether a catalogue row's unit keeps
# returning such tickets reads these first (migration 0013)
Index("ix_ticket_requests_unit_type_requested", TicketRequest.unit_id, TicketRequest.type, TicketRequest.requested_at)


class Attachment(Base):
    """Metadata of a file attached to a ticket (the bytes live in object storage or the data dir)."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64))
    url: Mapped[str | None] = mapped_column(String(500))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TicketSequence(Base):
    """Per-day counter behind ticket numbers; one upsert hands out the next number."""

    __tablename__ = "ticket_sequences"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)
