"""Incidents (突发事件): a burst of related tickets in one area, proposed by detection and confirmed
or dismissed by a supervisor."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hotline.kit.db import Base, UTCDateTime


class IncidentState(enum.StrEnum):
    proposed = "proposed"
    confirmed = "confirmed"
    dismissed = "dismissed"
    ended = "ended"  # a confirmed incident that is over: it takes no more calls and is not told at intake


STATE_LABELS = {IncidentState.proposed: "待确认", IncidentState.confirmed: "已确认", IncidentState.dismissed: "已排除",
                IncidentState.ended: "已结束"}


class Incident(Base):
    """One burst: its first-level category, the common area (township or county) and the villages
    (or townships) its tickets came from, with their population counted once. While ``ended``,
    nothing changes it, so ``updated_at`` is when it was ended; a supervisor may reopen it (ended too
    early: the calls keep coming), and ``incident_events`` keeps each step, who and when."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[IncidentState] = mapped_column(Enum(IncidentState, native_enum=False, length=12))
    category_code: Mapped[str] = mapped_column(ForeignKey("categories.code"))
    title: Mapped[str] = mapped_column(String(120))
    area_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    region_codes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    population: Mapped[int] = mapped_column(Integer, default=0)
    keywords: Mapped[list[Any]] = mapped_column(JSON, default=list)
    first_ticket_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_ticket_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ticket_count: Mapped[int] = mapped_column(Integer, default=0)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_incidents_state_last", "state", "last_ticket_at"),)


class IncidentTicket(Base):
    """A ticket of an incident: a candidate while proposed (or dismissed), ``linked`` once confirmed.
    A row with ``removed_at`` is a ticket a supervisor took out (of a proposal or of a confirmed
    incident): unlinked and no longer counted, but kept, so the detection does not bring it back."""

    __tablename__ = "incident_tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    linked: Mapped[bool] = mapped_column(Boolean, default=False)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    __table_args__ = (UniqueConstraint("incident_id", "ticket_id"),)


class IncidentAction(enum.StrEnum):
    confirmed = "confirmed"
    dismissed = "dismissed"
    ended = "ended"
    reopened = "reopened"
    added = "added"  # a ticket added by hand (or put back)
    removed = "removed"  # a ticket taken out


ACTION_LABELS = {IncidentAction.confirmed: "确认", IncidentAction.dismissed: "排除", IncidentAction.ended: "结束事件",
                 IncidentAction.reopened: "重新开启", IncidentAction.added: "添加工单", IncidentAction.removed: "移出工单"}


class IncidentEvent(Base):
    """One step a person took on an incident, who and when: its decision, each end and reopening,
    each ticket added by hand or taken out (the detection's own additions are the ticket rows'
    ``added_at``). An incident ended, reopened and ended again keeps all three."""

    __tablename__ = "incident_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    action: Mapped[IncidentAction] = mapped_column(Enum(IncidentAction, native_enum=False, length=12))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))


class IncidentNotice(Base):
    """A public notice (对外公告) about a confirmed incident, written by a supervisor for citizens
    (the supervisor's note stays internal): shown on the citizen portal and to agents at intake
    until it is withdrawn or ``NOTICE_HOURS`` have passed. Publishing again adds a row, so what was
    said in public, when and by whom, is kept."""

    __tablename__ = "incident_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
