"""Employment endpoints (read only): the labour ledger, job postings with their matching
candidates, and the full-employment village figures, each within the caller's ledger scope
(``employment.scope``: village and township handlers their regions, the county 人社局 its county,
supervisors and admins everything; everyone else is refused with 403). ID numbers are masked."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Query, Request

from hotline.api.edge import Context, unit_of_work
from hotline.api.routes.tickets import ERRORS
from hotline.directory import reference
from hotline.employment import queries, standard
from hotline.employment.fields import mask_id
from hotline.employment.models import (
    ACTIVITY_LABELS,
    ASSISTANCE_LABELS,
    EMPLOYMENT_LABELS,
    EmploymentStatus,
    JobPosting,
    JobState,
    Worker,
)
from hotline.employment.scope import LedgerScope, ledger_scope
from hotline.kit.errors import Invalid
from hotline.tickets import views

router = APIRouter(prefix="/employment", tags=["employment"], responses=ERRORS)


def _scope(ctx: Context) -> LedgerScope:
    scope = ledger_scope(ctx.session, ctx.user)
    scope.require_access()
    return scope


def _region(snap: reference.Snapshot, code: str) -> dict[str, str]:
    return {"code": code, "name": reference.region_label(snap, code)}


def worker_view(snap: reference.Snapshot, w: Worker) -> dict[str, Any]:
    return {
        "id": w.id, "village": _region(snap, w.village_code), "name": w.name, "gender": w.gender.value,
        "birth_year": w.birth_year, "phone": w.phone, "id_number_masked": mask_id(w.id_number) or None,
        "education": w.education, "skills": w.skills, "employment_status": w.employment_status.value,
        "employment_status_label": EMPLOYMENT_LABELS[w.employment_status],
        "work_place": w.work_place.value if w.work_place else None, "employer": w.employer,
        "job_intention": w.job_intention, "needs_help": w.needs_help, "note": w.note,
        "updated_at": views.iso(w.updated_at),
    }


def job_view(snap: reference.Snapshot, job: JobPosting, hired: int) -> dict[str, Any]:
    return {"id": job.id, "employer": job.employer, "workshop": job.workshop, "place": _region(snap, job.region_code),
            "title": job.title, "openings": job.openings, "hired": hired, "pay": job.pay,
            "requirements": job.requirements, "state": job.state.value, "created_at": views.iso(job.created_at)}


@router.get("/workers", summary="The labour ledger within the caller's scope, filtered and paged")
def list_workers(request: Request, q: str | None = Query(default=None, description="name, phone, skills, intention"),
                 village_code: str | None = Query(default=None, description="a village, township or county code"),
                 employment_status: EmploymentStatus | None = None,
                 group: str | None = Query(default=None, description="labour, employed or seeking"),
                 needs_help: bool | None = None, page: int = Query(default=1, ge=1, le=100_000),
                 per_page: int = Query(default=50, ge=1, le=500)) -> dict[str, Any]:
    if group is not None and group not in queries.GROUPS:
        raise Invalid(f"未知分组：{group}（可选 {'、'.join(queries.GROUPS)}）", details={"field": "group"})
    with unit_of_work(request, write=False) as ctx:
        scope = _scope(ctx)
        f = queries.WorkerFilter(q=q, village_code=village_code, employment_status=employment_status, group=group,
                                 needs_help=needs_help)
        rows, total = queries.list_workers(ctx.session, scope, f, page=page, per_page=per_page)
        snap = reference.snapshot(ctx.session)
        return {"total": total, "page": page, "per_page": per_page, "items": [worker_view(snap, w) for w in rows]}


@router.get("/workers/{worker_id}", summary="One worker with their assistance records and job referrals")
def get_worker(worker_id: int, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=False) as ctx:
        scope = _scope(ctx)
        worker = queries.get_worker(ctx.session, scope, worker_id)
        snap = reference.snapshot(ctx.session)
        return {
            **worker_view(snap, worker),
            "assistance": [{"kind": a.kind.value, "kind_label": ASSISTANCE_LABELS[a.kind], "on_day": a.on_day.isoformat(),
                            "note": a.note, "recorded_by_id": a.recorded_by_id, "activity_id": a.activity_id}
                           for a in queries.assistance_of(ctx.session, worker)],
            "referrals": [{"id": r.id, "job_id": j.id, "employer": j.employer, "title": j.title, "state": r.state.value,
                           "recommended_at": views.iso(r.recommended_at), "decided_at": views.iso(r.decided_at)}
                          for r, j in queries.referrals_of(ctx.session, worker)],
        }


@router.get("/jobs", summary="Job postings (open first), with how many were hired through referrals")
def list_jobs(request: Request, state: JobState | None = None,
              limit: int = Query(default=200, ge=1, le=1000)) -> list[dict[str, Any]]:
    with unit_of_work(request, write=False) as ctx:
        _scope(ctx)
        jobs = queries.list_jobs(ctx.session, state=state, limit=limit)
        hired = queries.hired_counts(ctx.session, [j.id for j in jobs])
        snap = reference.snapshot(ctx.session)
        return [job_view(snap, j, hired.get(j.id, 0)) for j in jobs]


@router.get("/jobs/{job_id}/candidates",
            summary="Matching: ledger workers in scope who need work, nearest first (village, township, county)")
def candidates(job_id: int, request: Request, limit: int = Query(default=50, ge=1, le=500)) -> list[dict[str, Any]]:
    with unit_of_work(request, write=False) as ctx:
        scope = _scope(ctx)
        job = queries.get_job(ctx.session, job_id)
        snap = reference.snapshot(ctx.session)
        return [{**worker_view(snap, w), "distance": d, "distance_label": queries.DISTANCE_LABELS[d]}
                for w, d in queries.candidates(ctx.session, scope, job, limit=limit)]


@router.get("/activities", summary="Six-ones activities (六个一) of the station villages in scope, newest first")
def list_activities(request: Request, village_code: str | None = None,
                    since: date | None = Query(default=None, description="only activities on or after this day"),
                    limit: int = Query(default=300, ge=1, le=2000)) -> list[dict[str, Any]]:
    with unit_of_work(request, write=False) as ctx:
        scope = _scope(ctx)
        rows = queries.activities(ctx.session, scope, village_code=village_code, since=since, limit=limit)
        attended = queries.attendee_counts(ctx.session, [a.id for a in rows])
        snap = reference.snapshot(ctx.session)
        return [{"id": a.id, "village": _region(snap, a.village_code), "kind": a.kind.value,
                 "kind_label": ACTIVITY_LABELS[a.kind], "on_day": a.on_day.isoformat(), "title": a.title,
                 "participants": a.participants, "ledger_attendees": attended.get(a.id, 0)} for a in rows]


@router.get("/villages", summary="Full-employment villages: each station village's figures and what is missing")
def villages(request: Request, year: int | None = Query(default=None, ge=2000, le=2100)) -> list[dict[str, Any]]:
    with unit_of_work(request, write=False) as ctx:
        scope = _scope(ctx)
        return [{"village": {"code": v.village_code, "name": v.village, "township": v.township}, "station": v.station,
                 "registered": v.registered, "labour_force": v.labour_force, "employed": v.employed,
                 "stable": v.stable, "unemployed": v.unemployed, "needs_help": v.needs_help,
                 "employment_rate": None if v.rate is None else round(v.rate, 4), "min_rate": v.min_rate,
                 "six_ones": {k.value: v.held.get(k, 0) for k in ACTIVITY_LABELS},
                 "missing": [k.value for k in v.missing], "short": v.short, "meets": v.meets, "gaps": v.gaps}
                for v in standard.villages(ctx.session, scope, year=year)]
