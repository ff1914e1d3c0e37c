"""Employment endpoints: the labour ledger, job postings with their matching candidates, the
six-ones activities and the full-employment village figures, each within the caller's ledger scope
(``employment.scope``: village and township handlers their regions, the county 人社局 its county,
supervisors and admins everything; everyone else is refused with 403). ID numbers are masked.

Writes (a county labour system pushing ledger updates, a station's tablet) go through the same
service functions as the pages, one transaction per request: a supervisor, who only reads, gets 403;
a change outside the caller's regions 403 (a worker or referral outside them is not found, 404, as
on reading); bad input 422 naming the field; nothing is kept when anything is refused."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import ConfigDict, Field, ValidationError, ValidatorFunctionWrapHandler, WrapValidator
from pydantic_core import PydanticCustomError

from hotline.api import paging
from hotline.api.edge import Context, unit_of_work
from hotline.api.schemas import Body, Day, Number, Out, Ref, Timestamp, own_words
from hotline.directory import reference
from hotline.employment import queries, service, standard
from hotline.employment.fields import mask_id, worker_fields
from hotline.employment.models import (
    ACTIVITY_LABELS,
    ASSISTANCE_LABELS,
    EDUCATION,
    EMPLOYMENT_LABELS,
    GENDER_LABELS,
    REFERRAL_LABELS,
    WORKPLACE_LABELS,
    Activity,
    ActivityKind,
    Assistance,
    AssistanceKind,
    EmploymentStatus,
    Gender,
    JobPosting,
    JobState,
    Referral,
    ReferralState,
    Worker,
    WorkPlace,
)
from hotline.employment.scope import LedgerScope, ledger_scope
from hotline.kit.errors import Invalid, NotFound
from hotline.tickets import views

router = APIRouter(prefix="/employment", tags=["employment"])
MAX_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL
Id = Annotated[int, Field(ge=1, le=MAX_ID)]

# ---------------------------------------------------------------- bodies


def _chosen(labels: Mapping[Any, str] | tuple[str, ...], what: str, *, blank: str | None = None) -> Any:
    """A field taking one of a fixed list, as ``employment.fields`` reads it: a code or its Chinese
    label (``stable`` or ``稳定就业``), spaces around it ignored. The document lists the values; a
    value outside them is refused in ``fields.choice``'s words. Blank is ``null`` (not given), or
    refused with ``blank`` (and so is ``null``) where the field must be chosen."""
    shown = labels.values() if isinstance(labels, Mapping) else labels
    values = (tuple(m.value for m in labels) if isinstance(labels, Mapping) else ()) + tuple(shown)

    def check(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        text = value.strip() if isinstance(value, str) else value
        if text in ("", None):
            if blank is not None:
                raise PydanticCustomError("missing_choice", blank)
            return None
        try:
            return handler(text)
        except ValidationError as exc:
            if all(e["type"] == "literal_error" for e in exc.errors()):
                raise PydanticCustomError("invalid_choice", f"{what}「{{value}}」无效，可填：{'、'.join(shown)}",
                                          {"value": str(value)}) from None
            raise

    choices = Literal[values]  # type: ignore[valid-type]
    return Annotated[choices if blank else choices | None, WrapValidator(check)]


EmploymentStatusText = _chosen(EMPLOYMENT_LABELS, "就业状态", blank="请选择就业状态")
WorkPlaceText = _chosen(WORKPLACE_LABELS, "就业地点")
GenderText = _chosen(GENDER_LABELS, "性别")
EducationText = _chosen(EDUCATION, "文化程度")
Openings = Annotated[int, Field(ge=1, le=10_000), own_words("招聘人数应在 1–10000 之间", "invalid_openings")]
# Each field's title is its Chinese name: a refusal of the body names the field by it. What a worker
# is written with is read by ``employment.fields.worker_fields``, the rules (and the words) of the
# pages and the ledger import: codes or Chinese labels alike.

ZHANG = {"village_code": "140426106213", "name": "张麦环", "id_number": "142701197503121314",
         "phone": "13803590001", "education": "初中", "skills": "电焊", "employment_status": "unemployed",
         "job_intention": "就近务工", "needs_help": True}


class WorkerChange(Body):
    """A change to a worker's ledger row: only the fields sent change. ``id_number`` null removes the
    number on record; a new number sent without ``gender``/``birth_year`` gives them."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"employment_status": "stable", "work_place": "县内", "employer": "黎城县洪井镇扶贫车间", "needs_help": False},
        {"phone": "13903551234", "id_number": "142701197503121314"}]})

    village_code: str | None = Field(default=None, max_length=12, title="村（社区）",
                                     description="12-digit code of a village with a station (moves the worker)")
    name: str | None = Field(default=None, max_length=60, title="姓名")
    gender: GenderText = Field(default=None, title="性别",
                               description="male or female (男 or 女); may be left to the ID number")
    birth_year: int | None = Field(default=None, title="出生年份", description="may be left to the ID number")
    phone: str | None = Field(default=None, max_length=30, title="联系电话",
                              description="11-digit mobile or a landline with its area code")
    id_number: str | None = Field(default=None, max_length=30, title="身份证号",
                                  description="18-character resident ID number, check digit verified; stored, "
                                              "never returned (responses carry id_number_masked)")
    education: EducationText = Field(default=None, title="文化程度",
                                     description="小学及以下, 初中, 高中/中专, 大专 or 本科及以上")
    skills: str | None = Field(default=None, max_length=200, title="技能特长")
    employment_status: EmploymentStatusText = Field(
        default=None, title="就业状态",
        description="stable 稳定就业, flexible 灵活就业, seasonal 季节性务工, unemployed 未就业, "
                    "unwilling 无就业意愿, unable 无劳动能力 (code or label)")
    work_place: WorkPlaceText = Field(default=None, title="就业地点",
                                      description="in_county 县内, out_county 县外省内, out_province 省外 (code or "
                                                  "label); kept only for people in work")
    employer: str | None = Field(default=None, max_length=120, title="就业单位",
                                 description="kept only for people in work")
    job_intention: str | None = Field(default=None, max_length=120, title="就业意向")
    needs_help: bool | None = Field(default=None, title="是否需要帮扶")
    note: str | None = Field(default=None, max_length=500, title="备注")


class WorkerIn(WorkerChange):
    """A person put on a village's labour ledger."""

    model_config = ConfigDict(json_schema_extra={"examples": [ZHANG]})

    village_code: str = Field(max_length=12, title="村（社区）", description="12-digit code of a village with a station")
    name: str = Field(max_length=60, title="姓名")
    employment_status: EmploymentStatusText = Field(
        title="就业状态",
        description="stable 稳定就业, flexible 灵活就业, seasonal 季节性务工, unemployed 未就业, "
                    "unwilling 无就业意愿, unable 无劳动能力 (code or label)")
    needs_help: bool = Field(default=False, title="是否需要帮扶")


class AssistanceIn(Body):
    """A dated assistance record (帮扶记录) for one worker."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"kind": "guidance", "note": "上门讲解就近务工政策，登记求职意向", "on_day": "2026-11-20"}]})

    kind: AssistanceKind = Field(title="帮扶方式", description="guidance 职业指导, referral 岗位推荐, training 技能培训, "
                                                         "job_fair 招聘会, policy 政策宣传, other 其他")
    note: str = Field(max_length=1000, title="帮扶内容")
    on_day: date | None = Field(default=None, title="日期", description="default today; not in the future nor before 2000-01-01")


class JobIn(Body):
    """A job posting (岗位) at a place in the poster's scope; open until closed."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"employer": "洪井镇扶贫车间", "workshop": True, "region_code": "140426106213", "title": "手工编织",
         "openings": 8, "pay": "计件", "requirements": "女性优先，能坐班"}]})

    employer: str = Field(max_length=120, title="用工单位")
    workshop: bool = Field(default=False, title="扶贫车间", description="a village workshop (扶贫车间)")
    region_code: str = Field(max_length=12, title="工作地点", description="region code of the place: village, "
                                                                      "township, county or city")
    title: str = Field(max_length=80, title="岗位名称")
    openings: Openings = Field(title="招聘人数", description="1–10000")
    pay: str = Field(max_length=60, title="薪酬", description="as text: 计件, 3000元/月")
    requirements: str | None = Field(default=None, max_length=2000, title="岗位要求")


class JobStateIn(Body):
    """停招 (closed) or open again."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"state": "closed"}]})

    state: JobState = Field(title="岗位状态", description="open 招聘中 or closed 已停招")
    openings: int | None = Field(default=None, title="招聘人数",
                                 description="with open: the new number of openings (1–10000); a posting is "
                                             "reopened only while fewer are hired than its openings")


class ReferralIn(Body):
    """Recommend a worker of the caller's ledger to an open posting (once)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"worker_id": 42, "note": "有编织经验"}]})

    worker_id: Id = Field(title="推荐人员", description="a worker in the caller's scope")
    note: str | None = Field(default=None, max_length=1000, title="备注")


class OutcomeIn(Body):
    """The outcome of a recommendation, recorded once. Hired: the worker becomes 稳定就业 at the
    employer; the hire that fills the openings closes the posting."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"outcome": "hired", "on_day": "2026-11-25"},
                                                              {"outcome": "rejected", "note": "未到岗面试"}]})

    outcome: Literal["hired", "rejected"] = Field(title="推荐结果", description="hired 录用上岗 or rejected 未录用")
    note: str | None = Field(default=None, max_length=1000, title="备注")
    on_day: date | None = Field(default=None, title="日期", description="default today; not in the future nor before 2000-01-01")


class ActivityIn(Body):
    """A six-ones activity (六个一) of a station village; listed attendees of a guidance, training,
    job fair or troupe activity each get an assistance record."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"village_code": "140426106213", "kind": "job_fair", "title": "家门口招聘会", "on_day": "2026-11-20",
         "participants": 30, "worker_ids": [42, 43]}]})

    village_code: str = Field(max_length=12, title="村（社区）", description="12-digit code of a village with a station")
    kind: ActivityKind = Field(title="活动类别", description="troupe 宣传队活动, ledger 帮扶台账, venue 活动场所, "
                                                         "guidance 职业指导, training 技能培训, job_fair 招聘会")
    title: str = Field(max_length=120, title="活动名称")
    on_day: date | None = Field(default=None, title="日期", description="default today; not in the future nor before 2000-01-01")
    participants: int | None = Field(default=None, le=service.MAX_COUNT, title="参加人数",
                                     description="1–10000 for guidance, training, job_fair and troupe (required), "
                                                 "and at least the number of worker_ids; 0–10000 for ledger and venue")
    worker_ids: list[Id] = Field(default_factory=list, max_length=500, title="参加人员",
                                 description="ledger workers who attended")


# ---------------------------------------------------------------- responses


class WorkerOut(Out):
    id: int
    village: Ref
    name: str
    gender: Gender
    birth_year: int | None
    phone: str | None
    id_number_masked: str | None = Field(description="the ID number with its middle masked; the number itself "
                                                     "is never returned")
    education: str | None
    skills: str | None
    employment_status: EmploymentStatus
    employment_status_label: str
    work_place: WorkPlace | None
    employer: str | None
    job_intention: str | None
    needs_help: bool
    note: str | None
    updated_at: Timestamp


class WorkerPage(Out):
    total: int = Field(description="workers matching the filters, on every page")
    page: int
    per_page: int
    items: list[WorkerOut]


class AssistanceOut(Out):
    id: int
    kind: AssistanceKind
    kind_label: str
    on_day: Day
    note: str
    recorded_by_id: int | None
    activity_id: int | None = Field(description="the six-ones activity that recorded it, if any")


class ReferralOut(Out):
    id: int
    job_id: int
    worker_id: int
    employer: str
    title: str
    state: ReferralState
    state_label: str
    note: str | None
    recommended_at: Timestamp
    decided_at: Timestamp | None


class WorkerDetail(WorkerOut):
    assistance: list[AssistanceOut]
    referrals: list[ReferralOut]


class JobOut(Out):
    id: int
    employer: str
    workshop: bool
    place: Ref
    title: str
    openings: int
    hired: int = Field(description="workers hired through referrals")
    pay: str
    requirements: str | None
    state: JobState
    created_at: Timestamp


class JobDetail(JobOut):
    referrals: list[ReferralOut] = Field(description="recommendations of workers in your scope")


class CandidateOut(WorkerOut):
    distance: int = Field(description="0 same village, 1 same township, 2 same county, 3 same city")
    distance_label: str


class ActivityOut(Out):
    id: int
    village: Ref
    kind: ActivityKind
    kind_label: str
    on_day: Day
    title: str
    participants: int | None
    ledger_attendees: int = Field(description="ledger workers recorded as attending")


class VillageRef(Out):
    code: str
    name: str
    township: str


class VillageFiguresOut(Out):
    village: VillageRef
    station: str
    registered: int
    labour_force: int
    employed: int
    stable: int
    unemployed: int
    needs_help: int
    employment_rate: Number | None = Field(description="employed / labour_force, 4 decimals")
    min_rate: Number = Field(description="the rate the standard asks for")
    six_ones: dict[str, int] = Field(description="activities held this year, by kind")
    missing: list[str] = Field(description="kinds of activity not held this year")
    short: int = Field(description="how many more people in work the rate needs")
    meets: bool
    gaps: list[str] = Field(description="what keeps the village from the standard, in Chinese")


class OutcomeOut(Out):
    referral: ReferralOut
    job: JobOut
    worker: WorkerOut


# ---------------------------------------------------------------- views


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


Q_TEXT = ("text found in name, phone, skills, intention or employer; or a whole resident ID number (18 characters, "
          "spaces and a lower-case x allowed), which finds that person only: never a part of one")


def _worker_page(request: Request, f: queries.WorkerFilter, page: int, per_page: int) -> dict[str, Any]:
    if f.group is not None and f.group not in queries.GROUPS:
        raise Invalid(f"未知分组：{f.group}（可选 {'、'.join(queries.GROUPS)}）", details={"field": "group"})
    with unit_of_work(request, write=False) as ctx:
        rows, total = queries.list_workers(ctx.session, _scope(ctx), f, page=page, per_page=per_page)
        snap = reference.snapshot(ctx.session)
        return {"total": total, "page": page, "per_page": per_page, "items": [worker_view(snap, w) for w in rows]}


@router.get("/workers", response_model=WorkerPage, summary="The labour ledger within the caller's scope, filtered and paged")
def list_workers(request: Request, q: str | None = Query(default=None, description=Q_TEXT + " (to look a person "
                                                          "up by ID number, POST /workers/search keeps it out of "
                                                          "the request address and the logs)"),
                 village_code: str | None = Query(default=None, description="a village, township or county code"),
                 employment_status: EmploymentStatus | None = None,
                 group: str | None = Query(default=None, description="labour, employed or seeking"),
                 needs_help: bool | None = None,
                 page: int = Query(default=1, ge=1, le=100_000, description=paging.PAGE_ONLY),
                 per_page: int = Query(default=50, ge=1, le=500, description=paging.PER_PAGE_ONLY)) -> dict[str, Any]:
    f = queries.WorkerFilter(q=q, village_code=village_code, employment_status=employment_status, group=group,
                             needs_help=needs_help)
    return _worker_page(request, f, page, per_page)


class WorkerSearch(Body):
    q: str | None = Field(default=None, max_length=200, title="搜索", description=Q_TEXT)
    village_code: str | None = Field(default=None, max_length=12, title="村（社区）代码",
                                     description="a village, township or county code")
    employment_status: EmploymentStatus | None = Field(default=None, title="就业状态")
    group: str | None = Field(default=None, title="分组", description="labour, employed or seeking")
    needs_help: bool | None = Field(default=None, title="需要帮扶")
    page: int = Field(default=1, ge=1, le=100_000, title="页码")
    per_page: int = Field(default=50, ge=1, le=500, title="每页条数")


@router.post("/workers/search", response_model=WorkerPage, summary="The same as GET /workers, the filters in the body: a resident ID number "
             "searched for stays out of the request address (proxy and server logs, history)")
def search_workers(body: WorkerSearch, request: Request) -> dict[str, Any]:
    f = queries.WorkerFilter(q=body.q, village_code=body.village_code, employment_status=body.employment_status,
                             group=body.group, needs_help=body.needs_help)
    return _worker_page(request, f, body.page, body.per_page)


def assistance_view(a: Assistance) -> dict[str, Any]:
    return {"id": a.id, "kind": a.kind.value, "kind_label": ASSISTANCE_LABELS[a.kind], "on_day": a.on_day.isoformat(),
            "note": a.note, "recorded_by_id": a.recorded_by_id, "activity_id": a.activity_id}


def referral_view(r: Referral, job: JobPosting) -> dict[str, Any]:
    return {"id": r.id, "job_id": job.id, "worker_id": r.worker_id, "employer": job.employer, "title": job.title,
            "state": r.state.value, "state_label": REFERRAL_LABELS[r.state], "note": r.note,
            "recommended_at": views.iso(r.recommended_at), "decided_at": views.iso(r.decided_at)}


def activity_view(snap: reference.Snapshot, a: Activity, attended: int) -> dict[str, Any]:
    return {"id": a.id, "village": _region(snap, a.village_code), "kind": a.kind.value,
            "kind_label": ACTIVITY_LABELS[a.kind], "on_day": a.on_day.isoformat(), "title": a.title,
            "participants": a.participants, "ledger_attendees": attended}


def worker_detail(ctx: Context, worker: Worker) -> dict[str, Any]:
    snap = reference.snapshot(ctx.session)
    return {**worker_view(snap, worker),
            "assistance": [assistance_view(a) for a in queries.assistance_of(ctx.session, worker)],
            "referrals": [referral_view(r, j) for r, j in queries.referrals_of(ctx.session, worker)]}


@router.get("/workers/{worker_id}", response_model=WorkerDetail, summary="One worker with their assistance records and job referrals")
def get_worker(worker_id: int, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=False) as ctx:
        return worker_detail(ctx, queries.get_worker(ctx.session, _scope(ctx), worker_id))


@router.get("/jobs", response_model=list[JobOut], responses=paging.TOTAL_DOC,
            summary="Job postings (open first), with how many were hired through referrals (paged; total in X-Total-Count)")
def list_jobs(request: Request, response: Response,
              window: Annotated[paging.Window, Depends(paging.rows(default=200, most=1000))],
              state: JobState | None = None) -> list[dict[str, Any]]:
    with unit_of_work(request, write=False) as ctx:
        _scope(ctx)
        jobs = queries.list_jobs(ctx.session, state=state, limit=window.limit, offset=window.offset)
        paging.report_total(response, queries.count_jobs(ctx.session, state=state))
        hired = queries.hired_counts(ctx.session, [j.id for j in jobs])
        snap = reference.snapshot(ctx.session)
        return [job_view(snap, j, hired.get(j.id, 0)) for j in jobs]


@router.get("/jobs/{job_id}/candidates", response_model=list[CandidateOut],
            summary="Matching: ledger workers in scope who need work, nearest first (village, township, county)")
def candidates(job_id: int, request: Request, limit: int = Query(default=50, ge=1, le=500, description=paging.FIRST_ROWS)) -> list[dict[str, Any]]:
    with unit_of_work(request, write=False) as ctx:
        scope = _scope(ctx)
        job = queries.get_job(ctx.session, job_id)
        snap = reference.snapshot(ctx.session)
        return [{**worker_view(snap, w), "distance": d, "distance_label": queries.DISTANCE_LABELS[d]}
                for w, d in queries.candidates(ctx.session, scope, job, limit=limit)]


@router.get("/activities", response_model=list[ActivityOut], responses=paging.TOTAL_DOC,
            summary="Six-ones activities (六个一) of the station villages in scope, newest first (paged; total in X-Total-Count)")
def list_activities(request: Request, response: Response,
                    window: Annotated[paging.Window, Depends(paging.rows(default=300, most=2000))],
                    village_code: str | None = None,
                    since: date | None = Query(default=None, description="only activities on or after this day")) -> list[dict[str, Any]]:
    with unit_of_work(request, write=False) as ctx:
        scope = _scope(ctx)
        rows = queries.activities(ctx.session, scope, village_code=village_code, since=since, limit=window.limit,
                                  offset=window.offset)
        paging.report_total(response, queries.count_activities(ctx.session, scope, village_code=village_code,
                                                               since=since))
        attended = queries.attendee_counts(ctx.session, [a.id for a in rows])
        snap = reference.snapshot(ctx.session)
        return [activity_view(snap, a, attended.get(a.id, 0)) for a in rows]


@router.get("/villages", response_model=list[VillageFiguresOut], summary="Full-employment villages: each station village's figures and what is missing")
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


# ---------------------------------------------------------------- writes


def _editor(ctx: Context) -> LedgerScope:
    """The caller's scope if they may change the ledger at all: a supervisor, who only reads, is
    refused (403) before anything in the body is looked at."""
    scope = ledger_scope(ctx.session, ctx.user)
    scope.require_edit()
    return scope


def _typed(worker: Worker) -> dict[str, Any]:
    """A worker's row as ``worker_fields`` reads it, for a change that sends only some fields."""
    return {"name": worker.name, "gender": worker.gender.value, "birth_year": worker.birth_year, "phone": worker.phone,
            "id_number": worker.id_number, "education": worker.education, "skills": worker.skills,
            "employment_status": worker.employment_status.value,
            "work_place": worker.work_place.value if worker.work_place else None, "employer": worker.employer,
            "job_intention": worker.job_intention, "needs_help": worker.needs_help, "note": worker.note}


@router.post("/workers", status_code=201, response_model=WorkerDetail,
             summary="Put a person on a station village's labour ledger (409 if the ID number is on any ledger)")
def add_worker(body: WorkerIn, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=True) as ctx:
        scope = _editor(ctx)
        fields = worker_fields(body.model_dump(exclude={"village_code"}), today=service.today())
        worker = service.add_worker(ctx.session, scope, actor=ctx.user, village_code=body.village_code, fields=fields)
        return worker_detail(ctx, worker)


@router.patch("/workers/{worker_id}", response_model=WorkerDetail,
              summary="Change a worker's ledger row: only the fields sent (village_code moves them)")
def update_worker(worker_id: int, body: WorkerChange, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=True) as ctx:
        scope = _editor(ctx)
        worker = queries.get_worker(ctx.session, scope, worker_id)
        change = body.model_dump(exclude_unset=True)
        village_code = change.pop("village_code", None)
        typed = _typed(worker)
        if change.get("id_number"):  # a new number gives gender and birth year unless they are sent too
            typed.pop("gender"), typed.pop("birth_year")
        fields = worker_fields({**typed, **change}, today=service.today(), stored_note=worker.note)
        service.update_worker(ctx.session, scope, worker, actor=ctx.user, fields=fields, village_code=village_code)
        return worker_detail(ctx, worker)


@router.post("/workers/{worker_id}/assistance", status_code=201, response_model=AssistanceOut,
             summary="Record assistance (帮扶记录) for a worker")
def add_assistance(worker_id: int, body: AssistanceIn, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=True) as ctx:
        scope = _editor(ctx)
        worker = queries.get_worker(ctx.session, scope, worker_id)
        record = service.record_assistance(ctx.session, scope, worker, actor=ctx.user, kind=body.kind, note=body.note,
                                           on_day=body.on_day)
        return assistance_view(record)


def _job_out(ctx: Context, job: JobPosting) -> dict[str, Any]:
    hired = queries.hired_counts(ctx.session, [job.id]).get(job.id, 0)
    return job_view(reference.snapshot(ctx.session), job, hired)


@router.post("/jobs", status_code=201, response_model=JobOut, summary="Post a job at a place in the caller's scope")
def add_job(body: JobIn, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=True) as ctx:
        job = service.add_job(ctx.session, _editor(ctx), actor=ctx.user, **body.model_dump())
        return _job_out(ctx, job)


@router.put("/jobs/{job_id}", response_model=JobOut, summary="Correct a job posting: every field of POST /jobs, checked the same way "
            "(openings stay above those hired while open; the employer is kept once someone was hired)")
def update_job(job_id: int, body: JobIn, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=True) as ctx:
        scope = _editor(ctx)
        job = service.update_job(ctx.session, scope, queries.get_job(ctx.session, job_id), actor=ctx.user,
                                 **body.model_dump())
        return _job_out(ctx, job)


@router.get("/jobs/{job_id}", response_model=JobDetail, summary="One job posting with the recommendations of workers in the caller's scope")
def get_job(job_id: int, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=False) as ctx:
        scope = _scope(ctx)
        job = queries.get_job(ctx.session, job_id)
        return {**_job_out(ctx, job),
                "referrals": [referral_view(r, job) for r, _w in queries.referrals_for(ctx.session, scope, job)]}


@router.post("/jobs/{job_id}/state", response_model=JobOut, summary="Close a posting (停招) or open it again")
def job_state(job_id: int, body: JobStateIn, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=True) as ctx:
        scope = _editor(ctx)
        job = service.set_job_state(ctx.session, scope, queries.get_job(ctx.session, job_id), state=body.state,
                                    openings=body.openings)
        return _job_out(ctx, job)


@router.post("/jobs/{job_id}/referrals", status_code=201, response_model=ReferralOut,
             summary="Recommend a worker of the caller's ledger to an open posting (recorded as 岗位推荐)")
def recommend(job_id: int, body: ReferralIn, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=True) as ctx:
        scope = _editor(ctx)
        job = queries.get_job(ctx.session, job_id)
        worker = queries.get_worker(ctx.session, scope, body.worker_id)
        referral = service.recommend(ctx.session, scope, job, worker, actor=ctx.user, note=body.note)
        return referral_view(referral, job)


@router.post("/jobs/{job_id}/referrals/{referral_id}/outcome", response_model=OutcomeOut,
             summary="Record a recommendation's outcome once: hired (the worker becomes 稳定就业) or rejected")
def outcome(job_id: int, referral_id: int, body: OutcomeIn, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=True) as ctx:
        scope = _editor(ctx)
        job = queries.get_job(ctx.session, job_id)
        referral = queries.get_referral(ctx.session, scope, referral_id)
        if referral.job_id != job.id:
            raise NotFound("推荐记录不存在，或不在您的辖区内", code="referral_not_found")
        service.decide(ctx.session, scope, referral, actor=ctx.user, hired=body.outcome == "hired",
                       note=body.note, on_day=body.on_day)
        worker = ctx.session.get(Worker, referral.worker_id)
        return {"referral": referral_view(referral, job), "job": _job_out(ctx, job),
                "worker": worker_view(reference.snapshot(ctx.session), worker)}  # type: ignore[arg-type]


@router.delete("/activities/{activity_id}", response_model=ActivityOut,
               summary="Remove an activity recorded by mistake (it no longer counts towards 六个一; the "
                       "assistance records it gave its attendees go with it); answers the activity removed")
def delete_activity(activity_id: int, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=True) as ctx:
        scope = _editor(ctx)
        activity = queries.get_activity(ctx.session, scope, activity_id)
        attended = queries.attendee_counts(ctx.session, [activity.id]).get(activity.id, 0)
        removed = activity_view(reference.snapshot(ctx.session), activity, attended)
        service.delete_activity(ctx.session, scope, activity)
        return removed


@router.post("/activities", status_code=201, response_model=ActivityOut, summary="Record a six-ones activity (六个一) of a station village")
def add_activity(body: ActivityIn, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=True) as ctx:
        activity = service.add_activity(ctx.session, _editor(ctx), actor=ctx.user, **body.model_dump())
        attended = queries.attendee_counts(ctx.session, [activity.id]).get(activity.id, 0)
        return activity_view(reference.snapshot(ctx.session), activity, attended)
