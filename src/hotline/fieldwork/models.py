"""Tables of emergency field work: operations, their field tasks with events and progress reports,
the machine and volunteer registers, assignments, and grain buyers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hotline.fieldwork.states import MachineKind, MachineState, OperationState, OwnerKind, TaskState, WorkKind
from hotline.kit.db import Base, UTCDateTime


def _enum(cls: type, length: int = 12) -> Enum:
    return Enum(cls, native_enum=False, length=length)


class Operation(Base):
    """行动: a township's campaign (e.g. 县底镇秋季抢收抢种) from a start day to a target day."""

    __tablename__ = "fieldwork_operations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    township_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    crops: Mapped[str] = mapped_column(String(100))
    start_date: Mapped[date] = mapped_column(Date)
    target_date: Mapped[date] = mapped_column(Date)
    state: Mapped[OperationState] = mapped_column(_enum(OperationState))
    note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # One open operation of a name per township, letter case aside (migration 0020); closed ones
    # may repeat it (next year's 秋收). The service refuses it first, naming the open one.
    __table_args__ = (
        Index("uq_fieldwork_operations_open_name", township_code, func.lower(name), unique=True,
              sqlite_where=text("state = 'open'"), postgresql_where=text("state = 'open'")),
    )


class FieldTask(Base):
    """作业任务: one piece of field work on one plot of one village; ``area_done`` only rises."""

    __tablename__ = "fieldwork_tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("fieldwork_operations.id", ondelete="CASCADE"))
    village_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    plot: Mapped[str] = mapped_column(String(200))
    farmer_name: Mapped[str | None] = mapped_column(String(60))
    farmer_phone: Mapped[str | None] = mapped_column(String(20))
    crop: Mapped[str | None] = mapped_column(String(40))
    work_kind: Mapped[WorkKind] = mapped_column(_enum(WorkKind))
    area: Mapped[float | None] = mapped_column(Float)  # 亩; None for road repair and power
    area_done: Mapped[float] = mapped_column(Float, default=0.0)
    priority: Mapped[int] = mapped_column(Integer, default=1)
    due_date: Mapped[date] = mapped_column(Date)
    state: Mapped[TaskState] = mapped_column(_enum(TaskState))
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_fieldwork_tasks_operation_state", "operation_id", "state"),
        CheckConstraint("area_done >= 0", name="area_done_not_negative"),
    )


class TaskEvent(Base):
    """What happened to a task, in order: who, when, from which state to which, and a note."""

    __tablename__ = "fieldwork_task_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("fieldwork_tasks.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[str | None] = mapped_column(String(12))
    to_state: Mapped[str | None] = mapped_column(String(12))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ProgressReport(Base):
    """进度上报: an area done since the last report, with who reported it and a note."""

    __tablename__ = "fieldwork_progress"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("fieldwork_tasks.id", ondelete="CASCADE"), index=True)
    area: Mapped[float] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(Text)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class Machine(Base):
    """农机: a machine a township may send to a task; ``task_id`` is its current task while working."""

    __tablename__ = "fieldwork_machines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    township_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    village_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"))
    kind: Mapped[MachineKind] = mapped_column(_enum(MachineKind))
    label: Mapped[str] = mapped_column(String(80))  # model or plate, what people call it
    owner: Mapped[str] = mapped_column(String(100))
    owner_kind: Mapped[OwnerKind] = mapped_column(_enum(OwnerKind))
    phone: Mapped[str | None] = mapped_column(String(20))
    state: Mapped[MachineState] = mapped_column(_enum(MachineState))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("fieldwork_tasks.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    # A machine is registered once in its township: the service's "same machine" (kind, model, owner
    # and phone, letter case aside; migration 0020). coalesce: two rows without a phone clash too.
    __table_args__ = (
        Index("uq_fieldwork_machines_same", township_code, kind, func.lower(label), func.lower(owner),
              func.coalesce(phone, literal_column("''")), unique=True),
    )


class Volunteer(Base):
    """志愿者 / 劳力: a person who can work; ``task_id`` is their current task."""

    __tablename__ = "fieldwork_volunteers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    township_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    village_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"))
    name: Mapped[str] = mapped_column(String(60))
    phone: Mapped[str | None] = mapped_column(String(20))
    skills: Mapped[str | None] = mapped_column(String(200))
    available: Mapped[bool] = mapped_column(Boolean, default=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("fieldwork_tasks.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    # A person is registered once in their township: name and phone, letter case aside (migration
    # 0021); coalesce: two rows of one name without a phone clash too.
    __table_args__ = (
        Index("uq_fieldwork_volunteers_same", township_code, func.lower(name),
              func.coalesce(phone, literal_column("''")), unique=True),
    )


class Assignment(Base):
    """A machine or a volunteer on a task, from ``assigned_at`` until ``released_at``: the record
    of who worked where (the current task is on the machine or volunteer itself)."""

    __tablename__ = "fieldwork_assignments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("fieldwork_tasks.id", ondelete="CASCADE"), index=True)
    machine_id: Mapped[int | None] = mapped_column(ForeignKey("fieldwork_machines.id", ondelete="CASCADE"))
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("fieldwork_volunteers.id", ondelete="CASCADE"))
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("(machine_id IS NULL) <> (volunteer_id IS NULL)", name="one_resource"),
    )


class Buyer(Base):
    """收购商: a grain buyer the town connects farmers with."""

    __tablename__ = "fieldwork_buyers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    township_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    contact: Mapped[str | None] = mapped_column(String(60))
    phone: Mapped[str | None] = mapped_column(String(20))
    crops: Mapped[str] = mapped_column(String(100))
    price: Mapped[str | None] = mapped_column(String(60))  # e.g. 谷子 2.6 元/斤（湿粮另议）
    daily_tons: Mapped[float | None] = mapped_column(Float)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
