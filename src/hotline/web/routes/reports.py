"""Briefings (日报/周报/月报): the stored reports with their downloads, and making one now.

Supervisors and admins only. The reports are rows of the ``reports`` table (``reports.store``), so
any web process serves what any worker made. The printable HTML opens in the browser (inline); the
workbook downloads. Making a report on demand replaces the stored one of the same period (the
numbers as they are now); the worker makes the due ones by itself (``worker.jobs.generate_reports``).
"""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from hotline.accounts.models import Role
from hotline.kit import clock
from hotline.kit.errors import DomainError
from hotline.reports import periods, schedule, store
from hotline.web.render import page
from hotline.web.routes.unit import refused
from hotline.web.session import database, page_work

router = APIRouter(include_in_schema=False)
ROLES = (Role.supervisor, Role.admin)
NOTICE_FOR = timedelta(minutes=10)  # the notice after making a report names one made this recently
MEDIA = {"html": "text/html; charset=utf-8",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _render(request: Request, session: Session, *, status_code: int = 200, error: str | None = None, notice: str | None = None,
            typed: dict | None = None) -> Response:
    today = clock.local().date()
    default_day = today - timedelta(days=1)
    return page(request, "reports/index.html", status_code=status_code, title="统计报表", today=today.isoformat(),
                earliest=periods.EARLIEST.isoformat(),
                reports=store.listing(session), kinds=periods.KIND_LABELS, error=error, notice=notice,
                typed=typed or {"kind": "daily", "date": default_day.isoformat()})


@router.get("/reports")
def reports_page(request: Request, made: str = "") -> Response:
    with page_work(request, write=False) as ctx:
        if ctx.user.role not in ROLES:
            return refused(request)
        return _render(request, ctx.session, notice=_made_notice(ctx.session, made))


def _made_notice(session: Session, made: str) -> str | None:
    """The notice after making a report (``?made=daily/2026-03-11``): only for a stored report made
    in the last few minutes, in the app's own words, so an address cannot put text on the page."""
    kind, _, label = made.partition("/")
    if kind not in periods.KINDS or not periods.LABEL_PATTERNS[kind].fullmatch(label):
        return None
    found = store.get(session, kind, label)
    if found is None or found.created_at < clock.now() - NOTICE_FOR:
        return None
    return f"已生成报表 {found.kind_label} {found.label}。"


@router.post("/reports")
def generate(request: Request, csrf: str = Form(""), kind: str = Form("daily"), day: str = Form("")) -> Response:
    """Make one report now, replacing the stored one of its period. Built under a read transaction
    and stored in a short write one: on SQLite the one writer is not held while it builds."""
    with page_work(request, write=False, posted_csrf=csrf) as ctx:
        if ctx.user.role not in ROLES:
            return refused(request)
        typed = {"kind": kind, "date": day}
        try:
            when = date.fromisoformat(day) if day.strip() else clock.local().date() - timedelta(days=1)
        except ValueError:
            return _render(request, ctx.session, status_code=422, error="日期格式应为 YYYY-MM-DD", typed=typed)
        try:
            rendered = schedule.render(ctx.session, periods.check_kind(kind), when)
        except DomainError as err:
            return _render(request, ctx.session, status_code=err.http_status, error=err.message, typed=typed)
    with database(request).transaction() as session:
        stored = store.save(session, rendered)
    return RedirectResponse(f"/reports?made={stored.kind}/{stored.label}", status_code=303)


@router.get("/reports/{kind}/{name}")
def download(request: Request, kind: str, name: str) -> Response:
    with page_work(request, write=False) as ctx:
        if ctx.user.role not in ROLES:
            return refused(request)
        label, _, fmt = name.rpartition(".")
        try:
            content = store.document(ctx.session, kind, label, fmt)
        except DomainError:
            return page(request, "error.html", status_code=404, title="报表不存在",
                        message=f"没有找到报表 {kind}/{name}")
    filename = quote(f"{periods.KIND_LABELS[kind]}-{label}.{fmt}")
    disposition = "inline" if fmt == "html" else "attachment"
    return Response(content, media_type=MEDIA[fmt],
                    headers={"content-disposition": f"{disposition}; filename*=utf-8''{filename}"})
