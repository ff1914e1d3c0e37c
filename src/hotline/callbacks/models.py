"""Callback tasks: the queue of callers to ring back about a reviewed reply."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hotline.kit.db import Base, UTCDateTime


class TaskState(enum.StrEnum):
    open = "open"  # waiting for an attempt (next_attempt_at says when)
    done = "done"  # the caller was reached and gave a verdict
    not_reached = "not_reached"  # given up after the maximum attempts; the ticket closed as not reached
    cancelled = "cancelled"  # the ticket left callback another way (closed or reopened by hand)


class CallbackTask(Base):
    """One callback round for a ticket (a reopened ticket gets a new round)."""

    __tablename__ = "callback_tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    round: Mapped[int] = mapped_column(Integer)  # the ticket's reopen_count when the task was created
    state: Mapped[TaskState] = mapped_column(Enum(TaskState, native_enum=False, length=12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_note: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(30))

    __table_args__ = (
        UniqueConstraint("ticket_id", "round"),
        Index("ix_callback_tasks_state_next", "state", "next_attempt_at"),
    )
