"""What the supervision ladder has done to a ticket, and supervision orders (督办单)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hotline.kit.db import Base, UTCDateTime


class DeadlineAlert(Base):
    """One step of the ladder taken for one deadline: warned, overdue, urged, escalated.

    Unique per (ticket, stage, step, due time): whatever happens to workers, a step is taken once
    per deadline; a deadline moved by an extension or a pause starts a fresh ladder.
    """

    __tablename__ = "deadline_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(12))
    step: Mapped[str] = mapped_column(String(20))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("ticket_id", "stage", "step", "due_at"),
        Index("ix_deadline_alerts_step_at", "step", "at"),
    )


class OrderLevel(enum.StrEnum):
    general = "general"  # 一般督办
    key = "key"  # 重点督办
    listed = "listed"  # 挂牌督办


ORDER_LEVEL_LABELS = {OrderLevel.general: "一般", OrderLevel.key: "重点", OrderLevel.listed: "挂牌"}


class OrderState(enum.StrEnum):
    open = "open"
    answered = "answered"
    withdrawn = "withdrawn"


class SupervisionOrder(Base):
    """督办单: a supervisor (or the escalation ladder) orders a unit to act by a deadline and answer."""

    __tablename__ = "supervision_orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    level: Mapped[OrderLevel] = mapped_column(Enum(OrderLevel, native_enum=False, length=10))
    state: Mapped[OrderState] = mapped_column(Enum(OrderState, native_enum=False, length=10))
    note: Mapped[str] = mapped_column(Text)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # set once by the sweep
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_supervision_orders_state_due", "state", "due_at"),)
