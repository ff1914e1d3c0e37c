"""就业服务站 pages: job postings with matching and outcomes, six-ones activities, and the
full-employment village overview (充分就业村). The scope rules are those of ``employment``."""

from __future__ import annotations

from collections import Counter
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from hotline.employment import queries, service, standard
from hotline.employment.fields import needs_help
from hotline.employment.models import (
    ACTIVITY_LABELS,
    JOB_STATE_LABELS,
    REFERRAL_LABELS,
    ActivityKind,
    JobPosting,
    JobState,
    ReferralState,
)
from hotline.kit import clock
from hotline.kit.errors import DomainError, NotFound
from hotline.web.render import page
from hotline.web.routes.employment import LABELS, Work, answer, employment_work, parse_day, worker_row

router = APIRouter(include_in_schema=False)
JOB_FIELDS = ("employer", "workshop", "region", "title", "openings", "pay", "requirements")


def _job_row(w: Work, job: JobPosting, hired: int) -> dict[str, Any]:
    return {"id": job.id, "employer": job.employer, "workshop": job.workshop, "place": w.place(job.region_code),
            "title": job.title, "openings": job.openings, "pay": job.pay, "requirements": job.requirements or "",
            "state": job.state.value, "state_label": JOB_STATE_LABELS[job.state], "hired": hired,
            "created_at": job.created_at, "may_edit": w.scope.may_edit and w.scope.covers(job.region_code)}


def _places(w: Work) -> list[tuple[str, str]]:
    """Where a job may be posted: the station villages in scope, their townships and counties."""
    codes: dict[str, str] = {}
    for code, _label in w.villages():
        for c in (code[:6], code[:9], code):
            if c in w.snap.regions and w.scope.covers(c):
                codes[c] = w.place(c)
    return sorted(codes.items())


def _jobs_page(request: Request, w: Work, *, status_code: int = 200, error: str | None = None,
               typed: dict[str, str] | None = None, state: str = "") -> Response:
    jobs = queries.list_jobs(w.session, state=JobState(state) if state in ("open", "closed") else None)
    hired = queries.hired_counts(w.session, [j.id for j in jobs])
    return page(request, "employment/jobs.html", status_code=status_code, title="岗位信息",
                jobs=[_job_row(w, j, hired.get(j.id, 0)) for j in jobs], places=_places(w), typed=typed or {},
                error=error, state=state, may_edit=w.scope.may_edit, **LABELS)


@router.get("/employment/jobs")
def jobs(request: Request, state: str = "") -> Response:
    return answer(request, lambda: _with_read(request, lambda w: _jobs_page(request, w, state=state)))


def _with_read(request: Request, body) -> Response:  # noqa: ANN001 - a callable taking a Work
    with employment_work(request, write=False) as w:
        return body(w)


@router.post("/employment/jobs")
async def add_job(request: Request) -> Response:
    form = await request.form()
    typed = {k: str(form.get(k) or "") for k in JOB_FIELDS}

    def run() -> Response:
        with employment_work(request, write=True, csrf=str(form.get("csrf", ""))) as w:
            try:
                job = service.add_job(w.session, w.scope, actor=w.ctx.user, employer=typed["employer"],
                                      workshop=needs_help(typed["workshop"]), region_code=typed["region"],
                                      title=typed["title"], openings=typed["openings"], pay=typed["pay"],
                                      requirements=typed["requirements"])
            except DomainError as err:
                w.session.rollback()
                return _jobs_page(request, w, status_code=err.http_status, error=err.message, typed=typed)
            return RedirectResponse(f"/employment/jobs/{job.id}?added=1", status_code=303)
    return answer(request, run)


def _job_page(request: Request, w: Work, job: JobPosting, *, status_code: int = 200, error: str | None = None,
              notice: str | None = None, typed: dict[str, str] | None = None, form: str = "") -> Response:
    hired = queries.hired_counts(w.session, [job.id]).get(job.id, 0)
    rows = queries.referrals_for(w.session, w.scope, job)
    # A worker still at the job they were placed through is not hired again: the row says where instead.
    placed = queries.placements(w.session, [wk for r, wk in rows if r.state == ReferralState.recommended])
    referrals = [{"id": r.id, "worker": worker_row(w, wk), "state": r.state.value, "state_label": REFERRAL_LABELS[r.state],
                  "at": r.recommended_at, "decided_at": r.decided_at, "note": r.note or "",
                  "open": r.state == ReferralState.recommended,
                  "placed": service.placed_words(wk, *placed[wk.id]) if wk.id in placed else ""}
                 for r, wk in rows]
    found = queries.candidates(w.session, w.scope, job) if job.state == JobState.open else []
    candidates = [{**worker_row(w, wk), "distance": queries.DISTANCE_LABELS[d]} for wk, d in found]
    # The edit form: what was typed after a refusal, else the posting as it is.
    edit = typed if form == "edit" and typed else {
        "employer": job.employer, "workshop": "1" if job.workshop else "", "region": job.region_code,
        "title": job.title, "openings": str(job.openings), "pay": job.pay, "requirements": job.requirements or ""}
    places = _places(w)
    if job.region_code not in dict(places):  # a place posted by someone wider (a city): kept on offer
        places.insert(0, (job.region_code, w.place(job.region_code)))
    return page(request, "employment/job.html", status_code=status_code, title=f"{job.title} · {job.employer}",
                job=_job_row(w, job, hired), referrals=referrals, candidates=candidates, error=error, notice=notice,
                typed=(typed or {}) if form != "edit" else {}, edit=edit, form=form, places=places,
                may_edit=w.scope.may_edit, **LABELS)


def _job_or_404(request: Request, w: Work, job_id: int) -> JobPosting | Response:
    try:
        return queries.get_job(w.session, job_id)
    except NotFound as missing:
        return page(request, "error.html", status_code=404, title="岗位不存在", message=missing.message)


@router.get("/employment/jobs/{job_id}")
def job_page(request: Request, job_id: int, added: str = "", done: str = "") -> Response:
    def body(w: Work) -> Response:
        job = _job_or_404(request, w, job_id)
        if isinstance(job, Response):
            return job
        notice = {"added": "岗位已发布。", "recommended": "已推荐，结果出来后请在下方登记。",
                  "hired": "已登记录用上岗：该人员就业状态已改为稳定就业。", "rejected": "已登记未录用。",
                  "closed": "岗位已停招。", "open": "岗位已重新开放。", "edited": "岗位已修改。"}.get(done or ("added" if added else ""))
        return _job_page(request, w, job, notice=notice)
    return answer(request, lambda: _with_read(request, body))


def _job_action(request: Request, job_id: int, csrf: str, act, done: str,  # noqa: ANN001
                typed: dict[str, str] | None = None, form: str = "") -> Response:
    """A change on a job's page: a refusal re-renders the page with the reason (and what was typed),
    success redirects."""
    def run() -> Response:
        with employment_work(request, write=True, csrf=csrf) as w:
            job = _job_or_404(request, w, job_id)
            if isinstance(job, Response):
                return job
            try:
                act(w, job)
            except DomainError as err:
                w.session.rollback()
                return _job_page(request, w, queries.get_job(w.session, job_id), status_code=err.http_status,
                                 error=err.message, typed=typed, form=form)
            return RedirectResponse(f"/employment/jobs/{job_id}?done={done}", status_code=303)
    return answer(request, run)


def _int(text: str, what: str) -> int:
    if not text.strip().isdigit() or int(text) >= 2**31:
        raise NotFound(f"{what}不存在")
    return int(text)


@router.post("/employment/jobs/{job_id}/recommend")
async def recommend(request: Request, job_id: int) -> Response:
    form = await request.form()

    def act(w: Work, job: JobPosting) -> None:
        worker = queries.get_worker(w.session, w.scope, _int(str(form.get("worker_id") or ""), "人员"))
        service.recommend(w.session, w.scope, job, worker, actor=w.ctx.user, note=str(form.get("note") or ""))
    return _job_action(request, job_id, str(form.get("csrf", "")), act, "recommended")


@router.post("/employment/jobs/{job_id}/referrals/{referral_id}")
async def outcome(request: Request, job_id: int, referral_id: int) -> Response:
    """登记结果: 录用上岗 (the worker becomes 稳定就业 at the employer) or 未录用."""
    form = await request.form()
    hired = form.get("outcome") == "hired"

    def act(w: Work, job: JobPosting) -> None:
        referral = queries.get_referral(w.session, w.scope, referral_id)
        if referral.job_id != job.id:
            raise NotFound("推荐记录不存在")
        service.decide(w.session, w.scope, referral, actor=w.ctx.user, hired=hired, note=str(form.get("note") or ""),
                       on_day=parse_day(str(form.get("on_day") or "")))
    return _job_action(request, job_id, str(form.get("csrf", "")), act, "hired" if hired else "rejected")


@router.post("/employment/jobs/{job_id}/edit")
async def edit_job(request: Request, job_id: int) -> Response:
    """修改岗位: the fields of the post form, checked as when posting (``service.update_job``)."""
    form = await request.form()
    typed = {k: str(form.get(k) or "") for k in JOB_FIELDS}

    def act(w: Work, job: JobPosting) -> None:
        service.update_job(w.session, w.scope, job, actor=w.ctx.user, employer=typed["employer"],
                           workshop=needs_help(typed["workshop"]), region_code=typed["region"], title=typed["title"],
                           openings=typed["openings"], pay=typed["pay"], requirements=typed["requirements"])
    return _job_action(request, job_id, str(form.get("csrf", "")), act, "edited", typed=typed, form="edit")


@router.post("/employment/jobs/{job_id}/state")
async def job_state(request: Request, job_id: int) -> Response:
    form = await request.form()
    state = "closed" if form.get("state") == "closed" else "open"
    openings = str(form.get("openings") or "") if state == "open" else ""

    def act(w: Work, job: JobPosting) -> None:
        service.set_job_state(w.session, w.scope, job, state=state, openings=openings or None)
    return _job_action(request, job_id, str(form.get("csrf", "")), act, state, typed={"openings": openings})


# ---------------------------------------------------------------- activities


ACTIVITY_FIELDS = ("village_code", "kind", "on_day", "title", "participants", "worker_ids")


def _year(text: str) -> int | None:
    """A year to list the activities of (the 六个一 figures count one calendar year), or None: all."""
    text = text.strip()
    return int(text) if text.isdigit() and 2000 <= int(text) <= 2100 else None


def _activities_page(request: Request, w: Work, *, village: str = "", year: int | None = None, status_code: int = 200,
                     error: str | None = None, notice: str | None = None, typed: dict[str, Any] | None = None) -> Response:
    span = standard.year_span(year) if year else (None, None)
    rows = queries.activities(w.session, w.scope, village_code=village or None, since=span[0], until=span[1])
    attended = queries.attendee_counts(w.session, [a.id for a in rows])
    items = [{"id": a.id, "village": w.place(a.village_code), "village_code": a.village_code,
              "kind": ACTIVITY_LABELS[a.kind], "on_day": a.on_day, "title": a.title, "participants": a.participants,
              "attended": attended.get(a.id, 0), "may_edit": w.scope.may_edit and w.scope.covers(a.village_code)}
             for a in rows]
    choices = w.villages()
    # The village the form records for: the one picked, or a station's only village.
    pick = (typed or {}).get("village_code") or village or (choices[0][0] if len(choices) == 1 else "")
    people = []
    if pick and w.scope.covers(pick):
        found, _total = queries.list_workers(w.session, w.scope, queries.WorkerFilter(village_code=pick), per_page=500)
        people = [worker_row(w, p) for p in found]
        # People of one name are told apart by birth year, and by ledger number when that is shared too.
        born = Counter((p["name"], p["birth_year"]) for p in people)
        for p in people:
            p["twin"] = born[p["name"], p["birth_year"]] > 1
    return page(request, "employment/activities.html", status_code=status_code, title="六个一活动", items=items,
                villages=choices, village=village, typed=typed or {}, error=error, notice=notice, people=people,
                pick=pick, kinds=ACTIVITY_LABELS, year=year, years=range(clock.local().year, clock.local().year - 3, -1),
                today=service.today().isoformat(), may_edit=w.scope.may_edit, **LABELS)


@router.get("/employment/activities")
def activities(request: Request, village: str = "", year: str = "", added: str = "", deleted: str = "") -> Response:
    notice = "活动已登记。" if added else "活动已删除，不再计入六个一。" if deleted else None
    return answer(request, lambda: _with_read(request, lambda w: _activities_page(
        request, w, village=village, year=_year(year), notice=notice)))


@router.post("/employment/activities")
async def add_activity(request: Request) -> Response:
    form = await request.form()
    typed: dict[str, Any] = {k: str(form.get(k) or "") for k in ACTIVITY_FIELDS}
    typed["worker_ids"] = [str(v) for v in form.getlist("worker_ids")]

    def run() -> Response:
        with employment_work(request, write=True, csrf=str(form.get("csrf", ""))) as w:
            try:
                ids = [_int(v, "参加人员") for v in typed["worker_ids"]]
                service.add_activity(w.session, w.scope, actor=w.ctx.user, village_code=typed["village_code"],
                                     kind=typed["kind"], title=typed["title"], on_day=parse_day(typed["on_day"]),
                                     participants=typed["participants"], worker_ids=ids)
            except DomainError as err:
                w.session.rollback()
                return _activities_page(request, w, status_code=err.http_status, error=err.message, typed=typed)
            return RedirectResponse(f"/employment/activities?village={typed['village_code']}&added=1", status_code=303)
    return answer(request, run)


@router.post("/employment/activities/{activity_id}/delete")
async def delete_activity(request: Request, activity_id: int) -> Response:
    """An activity recorded by mistake, removed (``service.delete_activity``): it no longer counts."""
    form = await request.form()

    def run() -> Response:
        with employment_work(request, write=True, csrf=str(form.get("csrf", ""))) as w:
            try:
                activity = queries.get_activity(w.session, w.scope, activity_id)
                village = activity.village_code
                service.delete_activity(w.session, w.scope, activity)
            except DomainError as err:
                w.session.rollback()
                return _activities_page(request, w, status_code=err.http_status, error=err.message)
            return RedirectResponse(f"/employment/activities?{urlencode({'village': village, 'deleted': 1})}",
                                    status_code=303)
    return answer(request, run)


# ---------------------------------------------------------------- full-employment villages


SHORT_KINDS = {ActivityKind.troupe: "宣传", ActivityKind.ledger: "台账", ActivityKind.venue: "场所",
               ActivityKind.guidance: "指导", ActivityKind.training: "培训", ActivityKind.job_fair: "招聘"}
SORT_LABELS = {"code": "按区划", "rate": "按就业率", "labour": "按劳动力", "short": "按差额", "missing": "按缺项",
               "meets": "按是否达标"}


@router.get("/employment/villages")
def villages(request: Request, sort: str = "code", order: str = "") -> Response:
    """Every station village in scope with its figures, what is missing, sortable; each figure
    links to the ledger rows behind it."""
    def body(w: Work) -> Response:
        key = sort if sort in standard.SORTS else "code"
        descending = order == "desc" if order in ("asc", "desc") else key in ("rate", "labour", "short", "missing")
        figures = sorted(standard.villages(w.session, w.scope), key=standard.SORTS[key], reverse=descending)
        rules = w.snap.rules
        links = {v.village_code: urlencode({"village": v.village_code}) for v in figures}
        return page(request, "employment/villages.html", title="充分就业村", figures=figures, links=links, sort=key,
                    order="desc" if descending else "asc", sorts=SORT_LABELS, year=clock.local().year,
                    min_rate=float(rules.get("employment.min_rate", 0.9)),
                    require_six_ones=bool(rules.get("employment.require_six_ones", True)),
                    kinds=ACTIVITY_LABELS, short_kinds=SHORT_KINDS, activity_kinds=list(ActivityKind), meets=sum(1 for v in figures if v.meets),
                    **LABELS)
    return answer(request, lambda: _with_read(request, body))

