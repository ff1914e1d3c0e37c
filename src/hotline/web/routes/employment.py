"""就业服务站 pages: the station home, the labour ledger (list, worker page, add, import, export).

Every page goes through ``employment.scope.ledger_scope``: village and township handlers see their
regions, the county 人社局 its county, supervisors and admins everything; others are refused.
Job postings, activities and the full-employment overview are in ``employment_jobs``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from starlette.datastructures import UploadFile as StarletteUpload

from hotline.accounts.models import User
from hotline.directory import reference
from hotline.employment import ledger, queries, service, standard
from hotline.employment.fields import (
    check_id,
    id_digits,
    mask_id,
    missing_worker_fields,
    please_fill,
    worker_fields,
)
from hotline.employment.models import (
    ASSISTANCE_LABELS,
    EDUCATION,
    EMPLOYMENT_LABELS,
    GENDER_LABELS,
    JOB_STATE_LABELS,
    REFERRAL_LABELS,
    WORKPLACE_LABELS,
    EmploymentStatus,
    JobState,
    Worker,
)
from hotline.employment.scope import NO_ACCESS, LedgerScope, ledger_scope
from hotline.kit import clock
from hotline.kit.errors import DomainError, Invalid, NotFound
from hotline.web.render import page
from hotline.web.routes.unit import refused
from hotline.web.session import PageContext, page_work
from hotline.web.uploads import held_as_uploaded

router = APIRouter(include_in_schema=False)
PER_PAGE = 50
MAX_UPLOAD = 5 * 1024 * 1024
LABELS = {"employment_labels": EMPLOYMENT_LABELS, "gender_labels": GENDER_LABELS, "workplace_labels": WORKPLACE_LABELS,
          "assistance_labels": ASSISTANCE_LABELS, "education": EDUCATION, "referral_labels": REFERRAL_LABELS,
          "job_state_labels": JOB_STATE_LABELS}


class NoAccess(Exception):
    """The signed-in person has no part in employment work; carries the refusal page, rendered
    while the request's session is still open."""

    def __init__(self, response: Response):
        super().__init__(NO_ACCESS)
        self.response = response


@dataclass
class Work:
    ctx: PageContext
    scope: LedgerScope
    snap: reference.Snapshot

    @property
    def session(self):  # noqa: ANN201 - the request's session
        return self.ctx.session

    def place(self, code: str) -> str:
        """'洪井镇信社村': the township and the village (the county too for a township or county)."""
        return place_name(self.snap, code)

    def villages(self) -> list[tuple[str, str]]:
        """The station villages the person may pick: (code, 'township village')."""
        return [(s.village_code, self.place(s.village_code)) for s in queries.stations(self.session, self.scope)]


def place_name(snap: reference.Snapshot, code: str) -> str:
    """The place's own name for a city or province (a job posted at 长治市), never its code."""
    path = reference.region_path(snap, code)
    names = [snap.regions[c][0] for c in reversed(path) if snap.regions[c][1] >= (4 if len(code) == 12 else 3)]
    return "".join(names) or (snap.regions[code][0] if code in snap.regions else code)


@contextlib.contextmanager
def employment_work(request: Request, *, write: bool, csrf: str | None = None) -> Iterator[Work]:
    """``page_work`` plus the ledger scope; ``NoAccess`` when the person has none."""
    with page_work(request, write=write, posted_csrf=csrf) as ctx:
        scope = ledger_scope(ctx.session, ctx.user)
        if not scope.has_access:
            raise NoAccess(refused(request, NO_ACCESS))
        yield Work(ctx, scope, reference.snapshot(ctx.session))


def answer(request: Request, handler) -> Response:  # noqa: ANN001 - a callable returning a Response
    """Run a page handler, turning ``NoAccess`` into the refusal page."""
    try:
        return handler()
    except NoAccess as no:
        return no.response


def worker_row(w: Work, worker: Worker) -> dict[str, Any]:
    return {"id": worker.id, "name": worker.name, "gender": GENDER_LABELS[worker.gender],
            "age": clock.local().year - worker.birth_year, "birth_year": worker.birth_year,
            "village": w.place(worker.village_code), "village_code": worker.village_code, "phone": worker.phone or "",
            "id_masked": mask_id(worker.id_number), "education": worker.education or "", "skills": worker.skills or "",
            "status": worker.employment_status.value, "status_label": EMPLOYMENT_LABELS[worker.employment_status],
            "work_place": WORKPLACE_LABELS[worker.work_place] if worker.work_place else "",
            "employer": worker.employer or "", "job_intention": worker.job_intention or "",
            "needs_help": worker.needs_help, "note": worker.note or "", "updated_at": worker.updated_at}


# ---------------------------------------------------------------- home


@router.get("/employment")
def home(request: Request) -> Response:
    def run() -> Response:
        with employment_work(request, write=False) as w:
            figures = standard.villages(w.session, w.scope)
            counts = queries.status_counts(w.session, w.scope)
            total = sum(counts.values())
            jobs = queries.list_jobs(w.session, state=JobState.open)
            year = clock.local().year
            activities = queries.activities(w.session, w.scope, since=date(year, 1, 1))
            recent = [{"worker": worker_row(w, wk), "kind": ASSISTANCE_LABELS[a.kind], "on_day": a.on_day, "note": a.note}
                      for a, wk in queries.recent_assistance(w.session, w.scope)]
            help_rows, help_total = queries.list_workers(w.session, w.scope, queries.WorkerFilter(needs_help=True),
                                                         per_page=1)
            return page(request, "employment/home.html", title="就业服务站", figures=figures, counts=counts,
                        total=total, open_jobs=len(jobs), activities=len(activities), recent=recent, year=year,
                        needs_help=help_total, meets=sum(1 for v in figures if v.meets),
                        gaps=[v for v in figures if not v.meets][:12], may_edit=w.scope.may_edit, **LABELS)
    return answer(request, run)


# ---------------------------------------------------------------- ledger list, export, import


def _filter(q: str, village: str, status: str, group: str, help_: str) -> tuple[queries.WorkerFilter, str | None]:
    error = None
    known = {s.value for s in EmploymentStatus}
    if status and status not in known:
        error, status = f"未知的就业状态「{status}」，已显示全部", ""
    if group and group not in queries.GROUPS:
        error, group = f"未知的分组「{group}」，已显示全部", ""
    f = queries.WorkerFilter(q=q.strip() or None, village_code=village.strip() or None,
                             employment_status=EmploymentStatus(status) if status else None, group=group or None,
                             needs_help=True if help_ == "1" else None)
    if f.id_number or id_digits(f.q):
        try:
            check_id(f.id_number or id_digits(f.q) or "")
        except Invalid as bad:  # a mistyped digit or one missing: say so (masked) rather than just "nobody"
            error = "；".join(e for e in (error, bad.message) if e)
    return f, error


def _by_id(f: queries.WorkerFilter) -> bool:
    """A search by ID number, or by most of one: answered where it was posted, never written back."""
    return f.id_number is not None or id_digits(f.q) is not None


def _filters_text(w: Work, f: queries.WorkerFilter) -> str:
    """The filters in words. An ID number is only ever shown masked (this text is on the page and in
    the export's 说明 sheet)."""
    one = None
    if f.worker_id is not None:
        worker = w.session.get(Worker, f.worker_id) if 0 < f.worker_id < 2**31 else None
        one = ((f"身份证号 {mask_id(worker.id_number)}" if worker.id_number else f"人员：{worker.name}")
               if worker is not None and w.scope.covers(worker.village_code) else f"人员编号 {f.worker_id}")
    said = [f"村：{w.place(f.village_code)}" if f.village_code else "",
            f"就业状态：{EMPLOYMENT_LABELS[f.employment_status]}" if f.employment_status else "",
            f"分组：{queries.GROUPS[f.group][0]}" if f.group else "", "只看需要帮扶" if f.needs_help else "",
            one or "", f"身份证号 {mask_id(f.id_number or id_digits(f.q))}" if _by_id(f) else f"关键词「{f.q}」" if f.q else ""]
    return "；".join(s for s in said if s)


def _query_string(f: queries.WorkerFilter, *, with_q: bool = True) -> str:
    return urlencode({k: v for k, v in (("q", (f.q or "") if with_q else ""), ("village", f.village_code or ""),
                                        ("status", f.employment_status.value if f.employment_status else ""),
                                        ("group", f.group or ""), ("help", "1" if f.needs_help else "")) if v})


def _ledger_page(request: Request, w: Work, f: queries.WorkerFilter, error: str | None, page_no: str) -> Response:
    """The ledger list. When ``q`` is a whole ID number it is not written back anywhere on the page:
    the search box is left empty, the filters say it masked, and the page, clear and export links
    leave it out (the export names the one person found by their ledger id instead)."""
    number = int(page_no) if page_no.isdigit() and 0 < int(page_no) < 100_000 else 1
    rows, total = queries.list_workers(w.session, w.scope, f, page=number, per_page=PER_PAGE)
    pages = max(1, -(-total // PER_PAGE))
    if number > pages:
        number = pages
        rows, total = queries.list_workers(w.session, w.scope, f, page=number, per_page=PER_PAGE)
    by_id = _by_id(f)
    base = _query_string(f, with_q=not by_id)
    export = base
    if by_id:
        export = "&".join(p for p in (base, urlencode({"worker": rows[0].id}) if rows else "") if p)
    return page(request, "employment/workers.html", title="劳动力台账", items=[worker_row(w, r) for r in rows],
                total=total, page_no=number, pages=pages, base=base, export=export, filtered=bool(base) or by_id,
                q="" if by_id else (f.q or ""), village=f.village_code or "",
                status=f.employment_status.value if f.employment_status else "", group=f.group or "",
                help=bool(f.needs_help), villages=w.villages(), groups=queries.GROUPS, error=error,
                said=_filters_text(w, f), may_edit=w.scope.may_edit, **LABELS)


@router.get("/employment/workers")
def worker_list(request: Request, q: str = "", village: str = "", status: str = "", group: str = "",
                help: str = "", page_no: str = "1") -> Response:  # noqa: A002 - the address's name
    def run() -> Response:
        with employment_work(request, write=False) as w:
            f, error = _filter(q, village, status, group, help)
            return _ledger_page(request, w, f, error, page_no)
    return answer(request, run)


@router.post("/employment/workers/search")
async def worker_search(request: Request) -> Response:
    """The ledger's search box posts here, so that an ID number typed into it never becomes part of
    an address (browser history, proxy logs, the sign-in ``next``), nor most of one (15 digits or
    more: ``fields.id_digits``). Any other search is sent on to
    the list's ordinary address, which can be bookmarked and paged; an ID search is answered here."""
    form = await request.form()
    f, error = _filter(*(str(form.get(k, "")) for k in ("q", "village", "status", "group", "help")))
    if not _by_id(f):
        query = _query_string(f)
        return RedirectResponse("/employment/workers" + (f"?{query}" if query else ""), status_code=303)

    def run() -> Response:
        with employment_work(request, write=False, csrf=str(form.get("csrf", ""))) as w:
            return _ledger_page(request, w, f, error, "1")
    return answer(request, run)


@router.get("/employment/workers/search")
def worker_search_again() -> Response:
    """Where signing in again after a search ends: the search itself was not kept."""
    return RedirectResponse("/employment/workers", status_code=303)


@router.get("/employment/workers.xlsx")
def worker_export(request: Request, q: str = "", village: str = "", status: str = "", group: str = "",
                  help: str = "", worker: str = "") -> Response:  # noqa: A002
    def run() -> Response:
        with employment_work(request, write=False) as w:
            f, _error = _filter(q, village, status, group, help)
            if worker:
                f.worker_id = int(worker) if worker.isdigit() and 0 < int(worker) < 2**31 else 0
            data = ledger.workbook(w.session, w.scope, f, filters_text=_filters_text(w, f))
            stamp = clock.local().strftime("%Y%m%d-%H%M")
            name = quote(f"劳动力台账-{stamp}.xlsx")
            return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                            headers={"Content-Disposition":
                                     f"attachment; filename=ledger-{stamp}.xlsx; filename*=UTF-8''{name}"})
    return answer(request, run)


def _import_page(request: Request, w: Work, *, status_code: int = 200, result: ledger.ImportResult | None = None,
                 error: str | None = None) -> Response:
    return page(request, "employment/import.html", status_code=status_code, title="导入劳动力台账", result=result,
                error=error, columns=ledger.COLUMNS, required=ledger.REQUIRED, villages=w.villages(), **LABELS)


@router.get("/employment/workers/import")
def import_form(request: Request) -> Response:
    def run() -> Response:
        with employment_work(request, write=False) as w:
            if not w.scope.may_edit:
                return refused(request, "督办员可以查看台账，但不能导入")
            return _import_page(request, w)
    return answer(request, run)


@router.post("/employment/workers/import")
async def import_upload(request: Request) -> Response:
    """台账导入: every row checked; all added, or none (every refused row listed by number)."""
    form = await request.form()
    upload, csrf, check = form.get("file"), str(form.get("csrf", "")), form.get("check") == "1"
    data = await upload.read(MAX_UPLOAD + 1) if isinstance(upload, StarletteUpload) else b""

    def run() -> Response:
        with employment_work(request, write=True, csrf=csrf) as w:
            if not w.scope.may_edit:
                return refused(request, "督办员可以查看台账，但不能导入")
            if not data:
                return _import_page(request, w, status_code=422, error="请选择要导入的文件（.xlsx 或 UTF-8 编码的 .csv）")
            if len(data) > MAX_UPLOAD:
                return _import_page(request, w, status_code=422, error="文件超过 5 MB：请分成几个文件导入")
            with held_as_uploaded(getattr(upload, "filename", None), data) as held:
                try:
                    result = ledger.import_file(w.session, w.scope, held, actor=w.ctx.user, dry_run=check)
                except DomainError as err:
                    w.session.rollback()
                    return _import_page(request, w, status_code=422, error=err.message)
            if check or not result.ok:
                w.session.rollback()
            return _import_page(request, w, status_code=200 if result.ok else 422, result=result)
    return answer(request, run)


# ---------------------------------------------------------------- one worker


WORKER_FIELDS = ("name", "gender", "birth_year", "phone", "id_number", "education", "skills", "employment_status",
                 "work_place", "employer", "job_intention", "needs_help", "note")


def _typed(form: Any) -> dict[str, str]:
    return {k: str(form.get(k) or "") for k in (*WORKER_FIELDS, "village_code", "clear_id")}


@router.get("/employment/workers/new")
def new_worker(request: Request, village: str = "") -> Response:
    def run() -> Response:
        with employment_work(request, write=False) as w:
            if not w.scope.may_edit:
                return refused(request, "督办员可以查看台账，但不能修改")
            return page(request, "employment/worker_new.html", title="登记劳动力", typed={"village_code": village},
                        villages=w.villages(), **LABELS)
    return answer(request, run)


@router.post("/employment/workers")
async def add_worker(request: Request) -> Response:
    form = await request.form()
    typed = _typed(form)

    def run() -> Response:
        with employment_work(request, write=True, csrf=str(form.get("csrf", ""))) as w:
            try:
                # Every required field left empty is named at once, the village among them.
                missing = [("village_code", "村（社区）")] if not typed["village_code"].strip() else []
                if missing := missing + missing_worker_fields(typed):
                    raise please_fill(missing)
                fields = worker_fields(typed, today=service.today())
                worker = service.add_worker(w.session, w.scope, actor=w.ctx.user, village_code=typed["village_code"],
                                            fields=fields)
            except DomainError as err:
                w.session.rollback()
                return page(request, "employment/worker_new.html", status_code=err.http_status, title="登记劳动力",
                            typed=typed, villages=w.villages(), error=err.message, **LABELS)
            return RedirectResponse(f"/employment/workers/{worker.id}?added=1", status_code=303)
    return answer(request, run)


def _render_worker(request: Request, w: Work, worker: Worker, *, status_code: int = 200, error: str | None = None,
                   notice: str | None = None, typed: dict[str, str] | None = None, form: str = "") -> Response:
    records = queries.assistance_of(w.session, worker)
    names = _user_names(w, {r.recorded_by_id for r in records})
    referrals = [{"job": j, "state": REFERRAL_LABELS[r.state], "at": r.recommended_at, "decided_at": r.decided_at,
                  "note": r.note} for r, j in queries.referrals_of(w.session, worker)]
    row = worker_row(w, worker)
    # Sent back after a refusal: what was typed, with the hint that an ID number is on record.
    edit = {**typed, "id_masked": mask_id(worker.id_number)} if form == "edit" and typed else {
        **{k: str(getattr(worker, k) or "") for k in WORKER_FIELDS}, "village_code": worker.village_code,
        "id_number": mask_id(worker.id_number), "id_masked": mask_id(worker.id_number),
        "gender": worker.gender.value, "employment_status": worker.employment_status.value,
        "work_place": worker.work_place.value if worker.work_place else "", "needs_help": "1" if worker.needs_help else ""}
    return page(request, "employment/worker.html", status_code=status_code, title=f"{worker.name} · 劳动力台账",
                w=row, records=[{"kind": ASSISTANCE_LABELS[r.kind], "on_day": r.on_day, "note": r.note,
                                 "by": names.get(r.recorded_by_id, "系统")} for r in records],
                referrals=referrals, edit=edit, typed=typed or {}, form=form, error=error, notice=notice,
                villages=w.villages(), may_edit=w.scope.may_edit, today=service.today().isoformat(), **LABELS)


def _user_names(w: Work, ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return dict(w.session.execute(select(User.id, User.display_name).where(User.id.in_(wanted))).all())


def _worker_or_404(request: Request, w: Work, worker_id: int) -> Worker | Response:
    try:
        return queries.get_worker(w.session, w.scope, worker_id)
    except NotFound as missing:
        return page(request, "error.html", status_code=404, title="人员不存在", message=missing.message)


@router.get("/employment/workers/{worker_id}")
def worker_page(request: Request, worker_id: int, added: str = "", saved: str = "", recorded: str = "") -> Response:
    def run() -> Response:
        with employment_work(request, write=False) as w:
            worker = _worker_or_404(request, w, worker_id)
            if isinstance(worker, Response):
                return worker
            notice = ("已登记到台账。" if added else "已保存。" if saved else "帮扶记录已添加。" if recorded else None)
            return _render_worker(request, w, worker, notice=notice)
    return answer(request, run)


@router.post("/employment/workers/{worker_id}")
async def edit_worker(request: Request, worker_id: int) -> Response:
    form = await request.form()
    typed = _typed(form)

    def run() -> Response:
        with employment_work(request, write=True, csrf=str(form.get("csrf", ""))) as w:
            worker = _worker_or_404(request, w, worker_id)
            if isinstance(worker, Response):
                return worker
            # The ID number is never sent to the browser: the field holds it masked, and sent back
            # unchanged it keeps the stored one; emptied, it removes it (as the API's null does).
            unchanged = worker.id_number and typed["id_number"].strip().upper() == mask_id(worker.id_number)
            keep = {"id_number": worker.id_number} if unchanged and not form.get("clear_id") else {}
            try:
                fields = worker_fields({**typed, **keep}, today=service.today(), stored_note=worker.note)
                service.update_worker(w.session, w.scope, worker, actor=w.ctx.user, fields=fields,
                                      village_code=typed["village_code"] or None)
            except DomainError as err:
                w.session.rollback()
                return _render_worker(request, w, queries.get_worker(w.session, w.scope, worker_id),
                                      status_code=err.http_status, error=err.message, typed=typed, form="edit")
            return RedirectResponse(f"/employment/workers/{worker_id}?saved=1", status_code=303)
    return answer(request, run)


@router.post("/employment/workers/{worker_id}/assistance")
async def add_assistance(request: Request, worker_id: int) -> Response:
    form = await request.form()
    typed = {k: str(form.get(k) or "") for k in ("kind", "on_day", "note")}

    def run() -> Response:
        with employment_work(request, write=True, csrf=str(form.get("csrf", ""))) as w:
            worker = _worker_or_404(request, w, worker_id)
            if isinstance(worker, Response):
                return worker
            try:
                service.record_assistance(w.session, w.scope, worker, actor=w.ctx.user, kind=typed["kind"],
                                          note=typed["note"], on_day=parse_day(typed["on_day"]))
            except DomainError as err:
                w.session.rollback()
                return _render_worker(request, w, queries.get_worker(w.session, w.scope, worker_id),
                                      status_code=err.http_status, error=err.message, typed=typed, form="assistance")
            return RedirectResponse(f"/employment/workers/{worker_id}?recorded=1", status_code=303)
    return answer(request, run)


def parse_day(text: str) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip().replace("/", "-"))
    except ValueError:
        raise Invalid(f"日期「{text}」无效（例：2026-11-28）", details={"field": "on_day"}) from None
