"""Reads of the labour ledger, always through a ``LedgerScope``: a worker, activity or station
outside the scope is "not found", as if it did not exist."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, case, false, func, or_, select
from sqlalchemy.orm import Session

from hotline.employment.fields import id_digits, id_query
from hotline.employment.models import (
    ABLE_WILLING,
    SEEKING,
    WORKING,
    Activity,
    ActivityWorker,
    Assistance,
    EmploymentStatus,
    JobPosting,
    JobState,
    Referral,
    ReferralState,
    Station,
    Worker,
)
from hotline.employment.scope import LedgerScope
from hotline.kit.errors import NotFound

# Ledger list groups, the figures of the full-employment page link to them.
GROUPS = {
    "labour": ("劳动力（有劳动能力且有就业意愿）", ABLE_WILLING),
    "employed": ("已就业", WORKING),
    "seeking": ("待推荐（未就业、灵活就业、季节性务工）", SEEKING),
}


@dataclass
class WorkerFilter:
    """``q``: a whole resident ID number finds that person only (``fields.id_query``); a text holding
    most of one (``fields.id_digits``) finds nobody; any other text is looked for, as typed, in name,
    phone, skills, job intention and employer. ``worker_id``: one worker
    (the export of an ID search, whose address must not carry the number)."""

    q: str | None = None
    village_code: str | None = None
    employment_status: EmploymentStatus | None = None
    group: str | None = None
    needs_help: bool | None = None
    worker_id: int | None = None

    @property
    def id_number(self) -> str | None:
        """The ID number searched for, when ``q`` is one."""
        return id_query(self.q)


def _filtered(scope: LedgerScope, f: WorkerFilter) -> Select:
    q = select(Worker).where(scope.clause(Worker.village_code))
    if f.village_code:
        q = q.where(Worker.village_code.startswith(f.village_code, autoescape=True))
    if f.employment_status:
        q = q.where(Worker.employment_status == f.employment_status)
    if f.group in GROUPS:
        q = q.where(Worker.employment_status.in_(GROUPS[f.group][1]))
    if f.needs_help is not None:
        q = q.where(Worker.needs_help.is_(f.needs_help))
    if f.worker_id is not None:
        q = q.where(Worker.id == f.worker_id)
    if f.id_number:
        q = q.where(Worker.id_number == f.id_number)
    elif id_digits(f.q):  # most of an ID number: never searched by a fragment of one
        q = q.where(false())
    elif f.q:
        # The text as typed, % and _ too (escaped): a search for 「%」 finds what holds a %, not everyone.
        q = q.where(or_(*(column.contains(f.q, autoescape=True) for column in (
            Worker.name, Worker.phone, Worker.skills, Worker.job_intention, Worker.employer))))
    return q


def list_workers(session: Session, scope: LedgerScope, f: WorkerFilter, *, page: int = 1,
                 per_page: int = 50) -> tuple[list[Worker], int]:
    """One page of the filtered ledger in village order, and how many rows match."""
    q = _filtered(scope, f)
    total = session.scalar(select(func.count()).select_from(q.subquery())) or 0
    rows = session.scalars(q.order_by(Worker.village_code, Worker.name, Worker.id)
                           .offset((page - 1) * per_page).limit(per_page))
    return list(rows), total


def all_workers(session: Session, scope: LedgerScope, f: WorkerFilter, *, limit: int) -> list[Worker]:
    return list(session.scalars(_filtered(scope, f).order_by(Worker.village_code, Worker.name, Worker.id)
                                .limit(limit)))


def get_worker(session: Session, scope: LedgerScope, worker_id: int) -> Worker:
    worker = session.get(Worker, worker_id) if 0 < worker_id < 2**31 else None
    if worker is None or not scope.covers(worker.village_code):
        raise NotFound(f"台账中没有编号为 {worker_id} 的人员，或不在您的辖区内", code="worker_not_found")
    return worker


def assistance_of(session: Session, worker: Worker) -> list[Assistance]:
    return list(session.scalars(select(Assistance).where(Assistance.worker_id == worker.id)
                                .order_by(Assistance.on_day.desc(), Assistance.id.desc())))


def referrals_of(session: Session, worker: Worker) -> list[tuple[Referral, JobPosting]]:
    return list(session.execute(select(Referral, JobPosting).join(JobPosting, JobPosting.id == Referral.job_id)
                                .where(Referral.worker_id == worker.id).order_by(Referral.recommended_at.desc())))


def placements(session: Session, workers: list[Worker]) -> dict[int, tuple[Referral, JobPosting]]:
    """The recommendation each worker was hired through (录用上岗) and, by the ledger, still works
    at: the worker is 稳定就业 with that job's employer. Once the ledger says otherwise (they left,
    or work elsewhere now) the hire is history and places nobody."""
    staying = {w.id: w for w in workers if w.employment_status == EmploymentStatus.stable and w.employer}
    if not staying:
        return {}
    out: dict[int, tuple[Referral, JobPosting]] = {}
    rows = session.execute(select(Referral, JobPosting).join(JobPosting, JobPosting.id == Referral.job_id)
                           .where(Referral.worker_id.in_(list(staying)), Referral.state == ReferralState.hired)
                           .order_by(Referral.decided_at.desc(), Referral.id.desc()))
    for referral, job in rows:
        if referral.worker_id not in out and staying[referral.worker_id].employer == job.employer[:120]:
            out[referral.worker_id] = (referral, job)
    return out


def stations(session: Session, scope: LedgerScope) -> list[Station]:
    return list(session.scalars(select(Station).where(scope.clause(Station.village_code))
                                .order_by(Station.village_code)))


def list_jobs(session: Session, *, state: JobState | None = None, limit: int = 200, offset: int = 0) -> list[JobPosting]:
    """Job postings are public information: every employment user sees all of them, open first."""
    q = select(JobPosting).order_by(case((JobPosting.state == JobState.open, 0), else_=1), JobPosting.id.desc())
    if state:
        q = q.where(JobPosting.state == state)
    return list(session.scalars(q.limit(limit).offset(offset)))


def count_jobs(session: Session, *, state: JobState | None = None) -> int:
    """How many job postings ``list_jobs`` would list without a limit."""
    q = select(func.count()).select_from(JobPosting)
    if state:
        q = q.where(JobPosting.state == state)
    return int(session.scalar(q) or 0)


def get_job(session: Session, job_id: int) -> JobPosting:
    job = session.get(JobPosting, job_id) if 0 < job_id < 2**31 else None
    if job is None:
        raise NotFound(f"岗位 {job_id} 不存在", code="job_not_found")
    return job


def hired_counts(session: Session, job_ids: list[int]) -> dict[int, int]:
    if not job_ids:
        return {}
    return dict(session.execute(select(Referral.job_id, func.count()).where(
        Referral.job_id.in_(job_ids), Referral.state == ReferralState.hired).group_by(Referral.job_id)).all())


def referrals_for(session: Session, scope: LedgerScope, job: JobPosting) -> list[tuple[Referral, Worker]]:
    """The recommendations to a job of workers in scope."""
    return list(session.execute(select(Referral, Worker).join(Worker, Worker.id == Referral.worker_id)
                                .where(Referral.job_id == job.id, scope.clause(Worker.village_code))
                                .order_by(Referral.recommended_at.desc())))


def get_referral(session: Session, scope: LedgerScope, referral_id: int) -> Referral:
    referral = session.get(Referral, referral_id) if 0 < referral_id < 2**31 else None
    worker = session.get(Worker, referral.worker_id) if referral else None
    if worker is None or not scope.covers(worker.village_code):
        raise NotFound("推荐记录不存在，或不在您的辖区内", code="referral_not_found")
    return referral  # type: ignore[return-value]


def distance(home: str, place: str) -> int | None:
    """0 same village, 1 same township, 2 same county, 3 a job posted for the whole city (or
    province) the village lies in; None farther away."""
    if home == place:
        return 0
    if home[:9] == place[:9] and len(place) >= 9:
        return 1
    if home[:6] == place[:6]:
        return 2
    if len(place) < 6 and home.startswith(place):
        return 3
    return None


DISTANCE_LABELS = {0: "同村", 1: "同乡镇", 2: "同县", 3: "同市"}


def candidates(session: Session, scope: LedgerScope, job: JobPosting, *, limit: int = 50) -> list[tuple[Worker, int]]:
    """Matching: ledger workers in scope who need work (未就业, 灵活就业, 季节性务工) and said what
    work they want, not yet recommended to this job, nearest first (same village, same township,
    same county, and for a job posted for a whole city the rest of that city; farther ones are not
    suggested), then the unemployed and those needing help first."""
    place = job.region_code
    county = place[:6]
    taken = select(Referral.worker_id).where(Referral.job_id == job.id)
    # ``distance`` in SQL: every worker of the county (or of the city, for a shorter code) has one,
    # so the ranking and the limit are the database's: loading every seeking worker of the county
    # and sorting them here took half a second for a county of 56,000 (bench/employment.py).
    nearer = [(Worker.village_code == place, 0)]
    if len(place) >= 9:
        nearer.append((func.substr(Worker.village_code, 1, 9) == place[:9], 1))
    dist = case(*nearer, else_=2 if len(place) >= 6 else 3)
    rows = session.execute(select(Worker, dist).where(
        scope.clause(Worker.village_code), Worker.village_code.startswith(county),
        Worker.employment_status.in_(SEEKING), func.coalesce(Worker.job_intention, "") != "",
        Worker.id.not_in(taken))
        .order_by(dist, case((Worker.employment_status == EmploymentStatus.unemployed, 0), else_=1),
                  Worker.needs_help.desc(), Worker.village_code, Worker.name, Worker.id)
        .limit(limit))
    return [(w, d) for w, d in rows if distance(w.village_code, place) == d]


def _activities(scope: LedgerScope, village_code: str | None, since: date | None, until: date | None) -> Select:
    q = select(Activity).where(scope.clause(Activity.village_code))
    if village_code:
        q = q.where(Activity.village_code == village_code)
    if since:
        q = q.where(Activity.on_day >= since)
    if until:
        q = q.where(Activity.on_day <= until)
    return q


def activities(session: Session, scope: LedgerScope, *, village_code: str | None = None,
               since: date | None = None, until: date | None = None, limit: int = 300,
               offset: int = 0) -> list[Activity]:
    q = _activities(scope, village_code, since, until)
    return list(session.scalars(q.order_by(Activity.on_day.desc(), Activity.id.desc()).limit(limit).offset(offset)))


def count_activities(session: Session, scope: LedgerScope, *, village_code: str | None = None,
                     since: date | None = None, until: date | None = None) -> int:
    """How many activities ``activities`` would list without a limit."""
    q = _activities(scope, village_code, since, until)
    return int(session.scalar(select(func.count()).select_from(q.subquery())) or 0)


def get_activity(session: Session, scope: LedgerScope, activity_id: int) -> Activity:
    activity = session.get(Activity, activity_id) if 0 < activity_id < 2**31 else None
    if activity is None or not scope.covers(activity.village_code):
        raise NotFound(f"活动 {activity_id} 不存在，或不在您的辖区内", code="activity_not_found")
    return activity


def attendee_counts(session: Session, activity_ids: list[int]) -> dict[int, int]:
    if not activity_ids:
        return {}
    return dict(session.execute(select(ActivityWorker.activity_id, func.count()).where(
        ActivityWorker.activity_id.in_(activity_ids)).group_by(ActivityWorker.activity_id)).all())


def status_counts(session: Session, scope: LedgerScope) -> dict[EmploymentStatus, int]:
    return {EmploymentStatus(s): n for s, n in session.execute(
        select(Worker.employment_status, func.count()).where(scope.clause(Worker.village_code))
        .group_by(Worker.employment_status))}


def recent_assistance(session: Session, scope: LedgerScope, *, limit: int = 10) -> list[tuple[Assistance, Worker]]:
    return list(session.execute(select(Assistance, Worker).join(Worker, Worker.id == Assistance.worker_id)
                                .where(scope.clause(Worker.village_code))
                                .order_by(Assistance.on_day.desc(), Assistance.id.desc()).limit(limit)))
