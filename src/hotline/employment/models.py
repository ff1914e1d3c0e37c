"""The labour ledger (劳动力台账) and what stations do for the people on it.

One ``Worker`` row per person of a village with a station; ``Assistance`` rows are the dated help
given (帮扶记录); ``JobPosting`` and ``Referral`` are jobs offered and the people recommended to
them; ``Activity`` rows are the six-ones events (六个一) a station holds.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, Date, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hotline.kit.db import Base, UTCDateTime


class EmploymentStatus(enum.StrEnum):
    stable = "stable"
    flexible = "flexible"
    seasonal = "seasonal"
    unemployed = "unemployed"
    unwilling = "unwilling"
    unable = "unable"


EMPLOYMENT_LABELS = {
    EmploymentStatus.stable: "稳定就业",
    EmploymentStatus.flexible: "灵活就业",
    EmploymentStatus.seasonal: "季节性务工",
    EmploymentStatus.unemployed: "未就业",
    EmploymentStatus.unwilling: "无就业意愿",
    EmploymentStatus.unable: "无劳动能力",
}
# In work (counted as employed by the full-employment standard).
WORKING = (EmploymentStatus.stable, EmploymentStatus.flexible, EmploymentStatus.seasonal)
# Able and willing to work: the standard's denominator.
ABLE_WILLING = (*WORKING, EmploymentStatus.unemployed)
# Who a job posting's matching suggests (with a job intention).
SEEKING = (EmploymentStatus.unemployed, EmploymentStatus.flexible, EmploymentStatus.seasonal)


class Gender(enum.StrEnum):
    male = "male"
    female = "female"


GENDER_LABELS = {Gender.male: "男", Gender.female: "女"}


class WorkPlace(enum.StrEnum):
    in_county = "in_county"
    out_county = "out_county"
    out_province = "out_province"


WORKPLACE_LABELS = {WorkPlace.in_county: "县内", WorkPlace.out_county: "县外省内", WorkPlace.out_province: "省外"}

EDUCATION = ("小学及以下", "初中", "高中/中专", "大专", "本科及以上")


class AssistanceKind(enum.StrEnum):
    guidance = "guidance"
    referral = "referral"
    training = "training"
    job_fair = "job_fair"
    policy = "policy"
    other = "other"


ASSISTANCE_LABELS = {
    AssistanceKind.guidance: "职业指导",
    AssistanceKind.referral: "岗位推荐",
    AssistanceKind.training: "技能培训",
    AssistanceKind.job_fair: "招聘会",
    AssistanceKind.policy: "政策宣传",
    AssistanceKind.other: "其他",
}


class ActivityKind(enum.StrEnum):
    """The six ones (六个一) of a full-employment village, in the article's order."""

    troupe = "troupe"
    ledger = "ledger"
    venue = "venue"
    guidance = "guidance"
    training = "training"
    job_fair = "job_fair"


ACTIVITY_LABELS = {
    ActivityKind.troupe: "宣传队活动",
    ActivityKind.ledger: "帮扶台账",
    ActivityKind.venue: "活动场所",
    ActivityKind.guidance: "职业指导",
    ActivityKind.training: "技能培训",
    ActivityKind.job_fair: "招聘会",
}
# An activity that people of the ledger attend adds this assistance record to each of them.
ATTENDED_AS = {ActivityKind.guidance: AssistanceKind.guidance, ActivityKind.training: AssistanceKind.training,
               ActivityKind.job_fair: AssistanceKind.job_fair, ActivityKind.troupe: AssistanceKind.policy}


class JobState(enum.StrEnum):
    open = "open"
    closed = "closed"


JOB_STATE_LABELS = {JobState.open: "招聘中", JobState.closed: "已停招"}


class ReferralState(enum.StrEnum):
    recommended = "recommended"
    hired = "hired"
    rejected = "rejected"


REFERRAL_LABELS = {ReferralState.recommended: "已推荐", ReferralState.hired: "已录用上岗",
                   ReferralState.rejected: "未录用"}


class Station(Base):
    """A village's labour-security service station (村劳动保障服务站); one per village."""

    __tablename__ = "employment_stations"

    village_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    phone: Mapped[str | None] = mapped_column(String(40))
    opened_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Worker(Base):
    """One person of the labour ledger. ``id_number`` is optional and unique; it is shown masked."""

    __tablename__ = "employment_workers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    village_code: Mapped[str] = mapped_column(ForeignKey("employment_stations.village_code"))
    name: Mapped[str] = mapped_column(String(40))
    gender: Mapped[Gender] = mapped_column(Enum(Gender, native_enum=False, length=8))
    birth_year: Mapped[int] = mapped_column(Integer)
    phone: Mapped[str | None] = mapped_column(String(20))
    id_number: Mapped[str | None] = mapped_column(String(18), unique=True)
    education: Mapped[str | None] = mapped_column(String(20))
    skills: Mapped[str | None] = mapped_column(String(200))
    employment_status: Mapped[EmploymentStatus] = mapped_column(Enum(EmploymentStatus, native_enum=False, length=12))
    work_place: Mapped[WorkPlace | None] = mapped_column(Enum(WorkPlace, native_enum=False, length=12))
    employer: Mapped[str | None] = mapped_column(String(120))
    job_intention: Mapped[str | None] = mapped_column(String(120))
    needs_help: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    __table_args__ = (Index("ix_employment_workers_village_status", "village_code", "employment_status"),)


class Assistance(Base):
    """A dated piece of help given to one worker (帮扶记录), with who recorded it."""

    __tablename__ = "employment_assistance"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("employment_workers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[AssistanceKind] = mapped_column(Enum(AssistanceKind, native_enum=False, length=12))
    on_day: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text)
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("employment_activities.id", ondelete="SET NULL"))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class JobPosting(Base):
    """A job offered (岗位): by an employer, a village workshop (扶贫车间) when ``workshop``."""

    __tablename__ = "employment_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employer: Mapped[str] = mapped_column(String(120))
    workshop: Mapped[bool] = mapped_column(Boolean, default=False)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    title: Mapped[str] = mapped_column(String(80))
    openings: Mapped[int] = mapped_column(Integer)
    pay: Mapped[str] = mapped_column(String(60))
    requirements: Mapped[str | None] = mapped_column(Text)
    state: Mapped[JobState] = mapped_column(Enum(JobState, native_enum=False, length=8))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Referral(Base):
    """A worker recommended to a job posting, and the outcome (录用上岗 or 未录用)."""

    __tablename__ = "employment_referrals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("employment_jobs.id", ondelete="CASCADE"))
    worker_id: Mapped[int] = mapped_column(ForeignKey("employment_workers.id", ondelete="CASCADE"), index=True)
    state: Mapped[ReferralState] = mapped_column(Enum(ReferralState, native_enum=False, length=12))
    recommended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recommended_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("job_id", "worker_id"),)


class Activity(Base):
    """A dated six-ones activity (六个一) of a village's station, with its participant count."""

    __tablename__ = "employment_activities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    village_code: Mapped[str] = mapped_column(ForeignKey("employment_stations.village_code"))
    kind: Mapped[ActivityKind] = mapped_column(Enum(ActivityKind, native_enum=False, length=12))
    on_day: Mapped[date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(120))
    participants: Mapped[int] = mapped_column(Integer, default=0)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_employment_activities_village_day", "village_code", "on_day"),)


class ActivityWorker(Base):
    """A ledger worker who attended an activity."""

    __tablename__ = "employment_activity_workers"

    activity_id: Mapped[int] = mapped_column(ForeignKey("employment_activities.id", ondelete="CASCADE"),
                                             primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("employment_workers.id", ondelete="CASCADE"), primary_key=True,
                                           index=True)
