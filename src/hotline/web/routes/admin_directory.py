"""System administration of the directory: units, categories with their time limits, and the
dispatch catalogue. Admins only, as the rest of 系统管理 (``admin.py``): every change is a POST with
the session's CSRF token; a refusal renders the page again with the message in Chinese and what was
typed; a success redirects back with a notice. The rules are ``directory.admin``'s; this module
reads forms, counts open tickets (a ``tickets`` question) and drops the reference cache after the
commit, so the next request of this process sees the change at once.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.directory import admin as directory
from hotline.directory import reference
from hotline.directory.models import Category, DispatchRule, Unit
from hotline.kit.errors import DomainError
from hotline.routing.catalogue import suggest_units
from hotline.tickets.models import Ticket, TicketUnit, UnitTaskStatus
from hotline.tickets.states import OPEN
from hotline.tickets.views import KIND_LABELS, URGENCY_LABELS
from hotline.web.routes.admin import _back, _not_admin, _page, _refused
from hotline.web.session import PageContext, page_work

router = APIRouter(include_in_schema=False)
PER_PAGE = 50
SHOWN_CHILDREN = 5  # subcategories named in the notice of a stopped heading; the rest are counted


def _open_counts(session: Session, unit_id: int | None = None) -> dict[int, int]:
    """Open tickets per unit: those where the unit still has a part (lead or co-handler)."""
    query = (select(TicketUnit.unit_id, func.count(func.distinct(TicketUnit.ticket_id)))
             .join(Ticket, Ticket.id == TicketUnit.ticket_id)
             .where(Ticket.status.in_(list(OPEN)), TicketUnit.status != UnitTaskStatus.withdrawn)
             .group_by(TicketUnit.unit_id))
    if unit_id is not None:
        query = query.where(TicketUnit.unit_id == unit_id)
    return {uid: n for uid, n in session.execute(query)}


def _done(path: str, notice: str, **query: str) -> RedirectResponse:
    """After the commit: drop every cached snapshot, then redirect with the notice."""
    reference.invalidate()
    if query:
        return RedirectResponse(f"{path}?{urlencode({**query, 'notice': notice})}", status_code=303)
    return _back(path, notice)


def _region_options(session: Session) -> list[tuple[str, str]]:
    snap = reference.snapshot(session)
    return [(code, directory.region_name(snap, code)) for code in sorted(snap.regions)]


def _unit_options(session: Session) -> list[tuple[str, str, bool]]:
    return [(c, n, a) for c, n, a in session.execute(select(Unit.code, Unit.name, Unit.active).order_by(Unit.code))]


# ---------------------------------------------------------------- units


def _units_page(request: Request, ctx: PageContext, *, status_code: int = 200, error: str | None = None,
                typed: dict[str, Any] | None = None, notice: str | None = None, q: str = "", kind: str = "",
                edit: str = "") -> Response:
    counts = _open_counts(ctx.session)
    rows = directory.unit_rows(ctx.session, q=q[:40], kind=kind, open_counts=counts)
    editing = next((r for r in rows if r["code"] == edit), None) if edit else None
    if edit and editing is None:  # filtered out of the list: read it on its own
        editing = next((r for r in directory.unit_rows(ctx.session, q=edit[:40], open_counts=counts)
                        if r["code"] == edit), None)
    return _page(request, "admin/units.html", "承办单位", status_code=status_code, rows=rows, editing=editing,
                 kinds=list(directory.UNIT_KIND_NAMES.items()), units=_unit_options(ctx.session),
                 regions=_region_options(ctx.session), q=q, kind=kind, error=error, typed=typed or {},
                 notice=notice)


@router.get("/admin/units")
def units_page(request: Request, notice: str = "", q: str = "", kind: str = "", edit: str = "") -> Response:
    with page_work(request, write=False) as ctx:
        if _not_admin(ctx):
            return _refused(request)
        return _units_page(request, ctx, notice=notice or None, q=q, kind=kind, edit=edit)


@router.post("/admin/units")
def add_unit_form(request: Request, csrf: str = Form(""), code: str = Form(""), name: str = Form(""),
                  kind: str = Form(""), parent_code: str = Form(""), region_code: str = Form(""),
                  phone: str = Form(""), serves: str = Form("")) -> Response:
    typed = {"form": "add", "code": code, "name": name, "kind": kind, "parent_code": parent_code,
             "region_code": region_code, "phone": phone, "serves": serves}
    with page_work(request, write=True, posted_csrf=csrf) as ctx:
        if _not_admin(ctx):
            return _refused(request)
        try:
            unit = directory.add_unit(ctx.session, code=code, name=name, kind=kind, parent_code=parent_code,
                                      region_code=region_code, phone=phone, serves=serves)
        except DomainError as err:
            ctx.session.rollback()
            return _units_page(request, ctx, status_code=err.http_status, error=err.message, typed=typed)
        notice = f"已添加承办单位 {unit.name}（{unit.code}）"
    return _done("/admin/units", notice)


@router.post("/admin/units/{code}")
def edit_unit_form(request: Request, code: str, csrf: str = Form(""), name: str = Form(""),
                   phone: str = Form(""), parent_code: str = Form(""), region_code: str = Form(""),
                   active: str = Form(""), serves: str = Form("")) -> Response:
    typed = {"form": "edit", "code": code, "name": name, "phone": phone, "parent_code": parent_code,
             "region_code": region_code, "active": active, "serves": serves}
    with page_work(request, write=True, posted_csrf=csrf) as ctx:
        if _not_admin(ctx):
            return _refused(request)
        try:
            unit = directory.unit_by_code(ctx.session, code)
            open_tickets = _open_counts(ctx.session, unit.id).get(unit.id, 0)
            directory.edit_unit(ctx.session, code=code, name=name, phone=phone, parent_code=parent_code,
                                region_code=region_code, active=active == "1", open_tickets=open_tickets)
            directory.set_unit_regions(ctx.session, code=code, regions=serves)
        except DomainError as err:
            ctx.session.rollback()
            return _units_page(request, ctx, status_code=err.http_status, error=err.message, typed=typed,
                               edit=code)
        notice = f"已保存承办单位 {unit.name}（{'在用' if unit.active else '已停用'}）"
    return _done("/admin/units", notice)


# ---------------------------------------------------------------- categories and time limits


def _categories_page(request: Request, ctx: PageContext, *, status_code: int = 200, error: str | None = None,
                     typed: dict[str, Any] | None = None, notice: str | None = None, edit: str = "") -> Response:
    tree = directory.category_tree(ctx.session)
    editing = next((c for c in tree if c["code"] == edit), None) if edit else None
    return _page(request, "admin/categories.html", "分类与时限", status_code=status_code, tree=tree, editing=editing,
                 limits=directory.limit_rows(ctx.session), stages=list(directory.STAGE_NAMES.items()),
                 limit_units=list(directory.LIMIT_UNIT_NAMES.items()), kinds=list(KIND_LABELS.items()),
                 urgencies=list(URGENCY_LABELS.items()), limit_max=directory.LIMIT_MAX, error=error,
                 typed=typed or {}, notice=notice)


@router.get("/admin/categories")
def categories_page(request: Request, notice: str = "", edit: str = "") -> Response:
    with page_work(request, write=False) as ctx:
        if _not_admin(ctx):
            return _refused(request)
        return _categories_page(request, ctx, notice=notice or None, edit=edit)


def _category_write(request: Request, csrf: str, typed: dict[str, Any], work: Any, edit: str = "") -> Response:
    """One change on the categories page: ``work(session)`` returns the notice or raises."""
    with page_work(request, write=True, posted_csrf=csrf) as ctx:
        if _not_admin(ctx):
            return _refused(request)
        try:
            notice = work(ctx.session)
        except DomainError as err:
            ctx.session.rollback()
            return _categories_page(request, ctx, status_code=err.http_status, error=err.message, typed=typed,
                                    edit=edit)
    return _done("/admin/categories", notice)


@router.post("/admin/categories/limits")
def add_limit_form(request: Request, csrf: str = Form(""), stage: str = Form(""), category_code: str = Form(""),
                   urgency: str = Form(""), kind: str = Form(""), amount: str = Form(""),
                   unit: str = Form("")) -> Response:
    typed = {"form": "limit-add", "stage": stage, "category_code": category_code, "urgency": urgency, "kind": kind,
             "amount": amount, "unit": unit}

    def work(session: Session) -> str:
        row = directory.add_time_limit(session, stage=stage, category_code=category_code, urgency=urgency,
                                       kind=kind, amount=amount, unit=unit)
        return f"已添加时限：{directory.STAGE_NAMES[row.stage]} {row.amount} {directory.LIMIT_UNIT_NAMES[row.unit]}"
    return _category_write(request, csrf, typed, work)


@router.post("/admin/categories/limits/{limit_id}")
def edit_limit_form(request: Request, limit_id: int, csrf: str = Form(""), amount: str = Form(""),
                    unit: str = Form("")) -> Response:
    typed = {"form": f"limit-{limit_id}", "amount": amount, "unit": unit}

    def work(session: Session) -> str:
        row = directory.edit_time_limit(session, limit_id=limit_id, amount=amount, unit=unit)
        return (f"已将第 {row.id} 条时限（{directory.STAGE_NAMES[row.stage]}）改为 {row.amount} "
                f"{directory.LIMIT_UNIT_NAMES[row.unit]}；已登记工单的截止时间不变")
    return _category_write(request, csrf, typed, work)


@router.post("/admin/categories/limits/{limit_id}/delete")
def delete_limit_form(request: Request, limit_id: int, csrf: str = Form("")) -> Response:
    def work(session: Session) -> str:
        directory.delete_time_limit(session, limit_id=limit_id)
        return f"已删除第 {limit_id} 条时限"
    return _category_write(request, csrf, {}, work)


@router.post("/admin/categories")
def add_category_form(request: Request, csrf: str = Form(""), parent_code: str = Form(""), code: str = Form(""),
                      name: str = Form(""), default_kind: str = Form(""), keywords: str = Form("")) -> Response:
    typed = {"form": "add", "parent_code": parent_code, "code": code, "name": name, "default_kind": default_kind,
             "keywords": keywords}

    def work(session: Session) -> str:
        row = directory.add_category(session, code=code, name=name, parent_code=parent_code,
                                     default_kind=default_kind, keywords=keywords)
        return f"已添加分类 {row.code} {row.name}"
    return _category_write(request, csrf, typed, work)


@router.post("/admin/categories/{code}")
def edit_category_form(request: Request, code: str, csrf: str = Form(""), name: str = Form(""),
                       keywords: str = Form(""), active: str = Form(""), default_kind: str = Form("")) -> Response:
    typed = {"form": "edit", "code": code, "name": name, "keywords": keywords, "active": active,
             "default_kind": default_kind}

    def work(session: Session) -> str:
        was_active = directory.category(session, code).active
        row, stopped = directory.edit_category(session, code=code, name=name, keywords=keywords,
                                               active=active == "1", default_kind=default_kind or None)
        notice = f"已保存分类 {row.code} {row.name}（{'在用' if row.active else '已停用'}）"
        if stopped:
            names = "、".join(f"{c.code} {c.name}" for c in stopped[:SHOWN_CHILDREN])
            more = f"等 {len(stopped)} 个" if len(stopped) > SHOWN_CHILDREN else ""
            notice += f"；其下子分类 {names}{more}已一并停用"
        elif row.active and not was_active and any(not c.active for c in directory.descendants(session, row.code)):
            notice += "；其下子分类保持原状态，已停用的子分类如需启用请逐个修改"
        return notice
    return _category_write(request, csrf, typed, work, edit=code)


# ---------------------------------------------------------------- dispatch catalogue


def _filters(category: str, region: str, page: int) -> dict[str, str]:
    return {k: v for k, v in (("category", category), ("region", region), ("page", str(page) if page > 1 else ""))
            if v}


def _suggestion(session: Session, category: str, region: str) -> dict[str, Any] | None:
    """What intake and dispatch would be offered for this category and place."""
    if not (category and region):
        return None
    snap = reference.snapshot(session)
    if category not in snap.categories or region not in snap.regions:
        return {"error": "请填写存在的分类编码和行政区划代码", "category": category, "region": region}
    found = suggest_units(session, category_code=category, region_code=region)
    return {"category": category, "region": region, "category_name": snap.categories[category].name,
            "region_name": directory.region_name(snap, region), "source": found.source, "rule_id": found.rule_id,
            "lead": directory.unit_name(snap, found.lead_unit_id),
            "co": [directory.unit_name(snap, u) for u in found.co_unit_ids], "note": found.note or ""}


def _catalogue_page(request: Request, ctx: PageContext, *, status_code: int = 200, error: str | None = None,
                    typed: dict[str, Any] | None = None, notice: str | None = None, category: str = "",
                    region: str = "", page: int = 1, edit: int = 0, suggest: tuple[str, str] = ("", "")) -> Response:
    category, region, page = category.strip()[:12], region.strip()[:12], max(1, min(page, 10_000))
    rows, total = directory.rule_rows(ctx.session, category_code=category, region_code=region, page=page,
                                      per_page=PER_PAGE)
    editing = None
    if edit and 0 < edit < 2**31 and ctx.session.get(DispatchRule, edit) is not None:
        rule = ctx.session.get(DispatchRule, edit)
        snap = reference.snapshot(ctx.session)
        editing = {"id": rule.id, "category_code": rule.category_code, "region_code": rule.region_code,
                   "lead_code": snap.units.get(rule.lead_unit_id, ("",))[0],
                   "co_codes": " ".join(snap.units[u][0] for u in rule.co_unit_ids or [] if u in snap.units),
                   "note": rule.note or ""}
    pages = max(1, -(-total // PER_PAGE))
    return _page(request, "admin/catalogue.html", "派单目录", status_code=status_code, rows=rows, total=total,
                 page=page, pages=pages, category=category, region=region, editing=editing,
                 prev_link=urlencode(_filters(category, region, page - 1)) if page > 1 else None,
                 next_link=urlencode(_filters(category, region, page + 1)) if page < pages else None,
                 categories=[(c.code, c.name, c.level) for c in ctx.session.scalars(select(Category)
                                                                                    .order_by(Category.code))],
                 units=_unit_options(ctx.session), regions=_region_options(ctx.session),
                 suggestion=_suggestion(ctx.session, suggest[0].strip()[:12], suggest[1].strip()[:12]),
                 error=error, typed=typed or {}, notice=notice)


@router.get("/admin/catalogue")
def catalogue_page(request: Request, notice: str = "", category: str = "", region: str = "", page: int = 1,
                   edit: int = 0, suggest_category: str = "", suggest_region: str = "") -> Response:
    with page_work(request, write=False) as ctx:
        if _not_admin(ctx):
            return _refused(request)
        return _catalogue_page(request, ctx, notice=notice or None, category=category, region=region, page=page,
                               edit=edit, suggest=(suggest_category, suggest_region))


def _catalogue_write(request: Request, csrf: str, typed: dict[str, Any], work: Any, edit: int = 0) -> Response:
    with page_work(request, write=True, posted_csrf=csrf) as ctx:
        if _not_admin(ctx):
            return _refused(request)
        try:
            notice, category, region = work(ctx.session)
        except DomainError as err:
            ctx.session.rollback()
            return _catalogue_page(request, ctx, status_code=err.http_status, error=err.message, typed=typed,
                                   edit=edit)
    return _done("/admin/catalogue", notice, **_filters(category, region, 1))


@router.post("/admin/catalogue")
def add_rule_form(request: Request, csrf: str = Form(""), category_code: str = Form(""),
                  region_code: str = Form(""), lead_unit_code: str = Form(""), co_unit_codes: str = Form(""),
                  note: str = Form("")) -> Response:
    typed = {"form": "add", "category_code": category_code, "region_code": region_code,
             "lead_unit_code": lead_unit_code, "co_unit_codes": co_unit_codes, "note": note}

    def work(session: Session) -> tuple[str, str, str]:
        rule = directory.add_rule(session, category_code=category_code, region_code=region_code,
                                  lead_unit_code=lead_unit_code, co_unit_codes=co_unit_codes, note=note)
        return f"已添加派单规则第 {rule.id} 条", rule.category_code, rule.region_code
    return _catalogue_write(request, csrf, typed, work)


@router.post("/admin/catalogue/{rule_id}")
def edit_rule_form(request: Request, rule_id: int, csrf: str = Form(""), category_code: str = Form(""),
                   region_code: str = Form(""), lead_unit_code: str = Form(""), co_unit_codes: str = Form(""),
                   note: str = Form("")) -> Response:
    typed = {"form": "edit", "category_code": category_code, "region_code": region_code,
             "lead_unit_code": lead_unit_code, "co_unit_codes": co_unit_codes, "note": note}

    def work(session: Session) -> tuple[str, str, str]:
        rule = directory.edit_rule(session, rule_id=rule_id, category_code=category_code, region_code=region_code,
                                   lead_unit_code=lead_unit_code, co_unit_codes=co_unit_codes, note=note)
        return f"已保存派单规则第 {rule.id} 条", rule.category_code, rule.region_code
    return _catalogue_write(request, csrf, typed, work, edit=rule_id)


@router.post("/admin/catalogue/{rule_id}/delete")
def delete_rule_form(request: Request, rule_id: int, csrf: str = Form("")) -> Response:
    def work(session: Session) -> tuple[str, str, str]:
        directory.delete_rule(session, rule_id=rule_id)
        return f"已删除派单规则第 {rule_id} 条", "", ""
    return _catalogue_write(request, csrf, {}, work)

