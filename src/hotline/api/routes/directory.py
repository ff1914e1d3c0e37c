"""Directory reads: regions, units, categories, time limits, the dispatch catalogue, holidays."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Select, func, or_, select

from hotline.accounts.models import Role
from hotline.api import paging
from hotline.api.edge import unit_of_work
from hotline.api.routes.tickets import MAX_ID
from hotline.api.schemas import Day, Out
from hotline.directory import reference
from hotline.directory.holidays import set_year
from hotline.directory.models import (
    Category,
    DispatchRule,
    Holiday,
    HolidayYear,
    LimitUnit,
    Region,
    RequestKind,
    Stage,
    TimeLimit,
    Unit,
    UnitKind,
    UnitRegion,
)
from hotline.kit.errors import NotFound, PermissionDenied
from hotline.supervision.orders import follow_holiday_change

router = APIRouter(tags=["directory"])


# ---------------------------------------------------------------- responses (what the views below write)


class RegionOut(Out):
    code: str = Field(description="行政区划代码: 2 (province) to 12 (village) digits")
    name: str
    short_name: str
    level: int = Field(description="1 province, 2 city, 3 county, 4 township, 5 village")
    parent_code: str | None
    population: int | None
    population_estimated: bool
    aliases: list[str]


class RegionAncestor(Out):
    code: str
    name: str = Field(description="the short name")
    level: int


class RegionDetailOut(RegionOut):
    ancestors: list[RegionAncestor] = Field(description="from the province down to the parent")
    children: int = Field(description="how many regions have this one as parent")


class UnitOut(Out):
    id: int
    code: str
    name: str
    kind: UnitKind
    parent_id: int | None
    region_code: str | None
    phone: str | None
    active: bool
    serves: list[str] = Field(description="region codes the unit serves")


class CategoryOut(Out):
    code: str
    name: str
    parent_code: str | None
    level: int
    default_kind: RequestKind
    active: bool


class TimeLimitOut(Out):
    stage: Stage
    category_code: str | None = Field(description="null: any category")
    urgency: str | None = Field(description="null: any urgency")
    kind: str | None = Field(description="null: any kind")
    amount: int
    unit: LimitUnit


class DispatchRuleOut(Out):
    id: int
    category_code: str
    region_code: str
    lead_unit_id: int
    co_unit_ids: list[int]
    note: str | None


class HolidayOut(Out):
    day: Day
    is_workday: bool = Field(description="true: a weekend day that is worked (调休)")
    name: str | None


class HolidayYearOut(Out):
    year: int
    entered: bool = Field(description="whether the year's table was entered; if not, only weekends are days off")
    source: str | None
    days: list[HolidayOut]


class HolidaysSaved(Out):
    year: int
    days: int = Field(description="exception days stored")
    tickets_recomputed: int = Field(description="open tickets whose deadlines moved (provisional ones, or "
                                    "working-day deadlines still running that the change moved)")
    orders_recomputed: int = Field(description="open supervision orders whose answer deadline moved")


def _region(r: Region) -> dict[str, Any]:
    return {"code": r.code, "name": r.name, "short_name": r.short_name, "level": r.level, "parent_code": r.parent_code,
            "population": r.population, "population_estimated": r.population_estimated, "aliases": r.aliases or []}


def _paged(ctx: Any, query: Select, order: Any, window: paging.Window, response: Response) -> list[Any]:
    """One window of ``query``'s rows in ``order``, its total in the answer's X-Total-Count."""
    paging.report_total(response, ctx.session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    return list(ctx.session.scalars(query.order_by(order).limit(window.limit).offset(window.offset)))


@router.get("/regions", response_model=list[RegionOut], responses=paging.TOTAL_DOC,
            summary="Regions: children of a parent, or search by name (paged; total in X-Total-Count)")
def regions(request: Request, response: Response,
            window: Annotated[paging.Window, Depends(paging.rows(default=200, most=2000))],
            parent: str | None = None, level: int | None = Query(default=None, ge=1, le=5),
            q: str | None = Query(default=None, max_length=40)):
    with unit_of_work(request, write=False) as ctx:
        query = select(Region)
        if parent:
            query = query.where(Region.parent_code == parent)
        if level:
            query = query.where(Region.level == level)
        if q:
            query = query.where(or_(Region.name.contains(q, autoescape=True), Region.short_name.contains(q, autoescape=True)))
        return [_region(r) for r in _paged(ctx, query, Region.code, window, response)]


@router.get("/regions/{code}", response_model=RegionDetailOut, summary="One region with its ancestors")
def region(code: str, request: Request):
    with unit_of_work(request, write=False) as ctx:
        r = ctx.session.get(Region, code)
        if r is None:
            raise NotFound(f"行政区划 {code} 不存在")
        path, p = [], r.parent
        while p is not None:
            path.insert(0, {"code": p.code, "name": p.short_name, "level": p.level})
            p = p.parent
        children = ctx.session.scalar(select(func.count()).where(Region.parent_code == code))
        return {**_region(r), "ancestors": path, "children": children}


def _unit(u: Unit, serves: list[str]) -> dict[str, Any]:
    return {"id": u.id, "code": u.code, "name": u.name, "kind": u.kind.value, "parent_id": u.parent_id,
            "region_code": u.region_code, "phone": u.phone, "active": u.active, "serves": serves}


@router.get("/units", response_model=list[UnitOut], responses=paging.TOTAL_DOC,
            summary="Handling units (paged; total in X-Total-Count)")
def units(request: Request, response: Response,
          window: Annotated[paging.Window, Depends(paging.rows(default=500, most=2000))],
          q: str | None = Query(default=None, max_length=40), kind: str | None = None,
          region_code: str | None = Query(default=None, description="units serving this region or its ancestors"),
          parent_id: int | None = Query(default=None, ge=1, le=MAX_ID)):
    with unit_of_work(request, write=False) as ctx:
        query = select(Unit)
        if q:
            query = query.where(Unit.name.contains(q, autoescape=True))
        if kind:
            query = query.where(Unit.kind == kind)
        if parent_id is not None:
            query = query.where(Unit.parent_id == parent_id)
        if region_code:
            prefixes = [region_code[:n] for n in (2, 4, 6, 9, 12) if n <= len(region_code)]
            query = query.where(Unit.id.in_(select(UnitRegion.unit_id).where(UnitRegion.region_code.in_(prefixes))))
        rows = _paged(ctx, query, Unit.id, window, response)
        serves: dict[int, list[str]] = {}
        if rows:
            for uid, code in ctx.session.execute(select(UnitRegion.unit_id, UnitRegion.region_code)
                                                 .where(UnitRegion.unit_id.in_([u.id for u in rows]))):
                serves.setdefault(uid, []).append(code)
        return [_unit(u, serves.get(u.id, [])) for u in rows]


@router.get("/units/{unit_id}", response_model=UnitOut, summary="One handling unit")
def unit(unit_id: int, request: Request):
    with unit_of_work(request, write=False) as ctx:
        u = ctx.session.get(Unit, unit_id)
        if u is None:
            raise NotFound(f"承办单位 {unit_id} 不存在")
        return _unit(u, [r.region_code for r in u.regions])


@router.get("/categories", response_model=list[CategoryOut], summary="The category taxonomy")
def categories(request: Request):
    with unit_of_work(request, write=False) as ctx:
        return [{"code": c.code, "name": c.name, "parent_code": c.parent_code, "level": c.level,
                 "default_kind": c.default_kind.value, "active": c.active}
                for c in ctx.session.scalars(select(Category).order_by(Category.code))]


@router.get("/time-limits", response_model=list[TimeLimitOut], summary="Time limits per stage, category, urgency and kind")
def time_limits(request: Request):
    with unit_of_work(request, write=False) as ctx:
        return [{"stage": t.stage.value, "category_code": t.category_code, "urgency": t.urgency, "kind": t.kind,
                 "amount": t.amount, "unit": t.unit.value}
                for t in ctx.session.scalars(select(TimeLimit).order_by(TimeLimit.stage, TimeLimit.id))]


@router.get("/dispatch-rules", response_model=list[DispatchRuleOut], responses=paging.TOTAL_DOC,
            summary="The dispatch catalogue (paged; total in X-Total-Count)")
def dispatch_rules(request: Request, response: Response,
                   window: Annotated[paging.Window, Depends(paging.rows(default=500, most=5000))],
                   category_code: str | None = None, region_code: str | None = None):
    with unit_of_work(request, write=False) as ctx:
        query = select(DispatchRule)
        if category_code:
            query = query.where(DispatchRule.category_code == category_code)
        if region_code:
            query = query.where(DispatchRule.region_code == region_code)
        return [{"id": r.id, "category_code": r.category_code, "region_code": r.region_code,
                 "lead_unit_id": r.lead_unit_id, "co_unit_ids": r.co_unit_ids or [], "note": r.note}
                for r in _paged(ctx, query, DispatchRule.id, window, response)]


@router.get("/holidays", response_model=HolidayYearOut, summary="Holiday table for a year (days off and 调休 working days)")
def holidays(request: Request, year: int = Query(ge=2004, le=2100)):
    with unit_of_work(request, write=False) as ctx:
        entered = ctx.session.get(HolidayYear, year)
        rows = ctx.session.scalars(select(Holiday).where(Holiday.day >= date(year, 1, 1),
                                                         Holiday.day <= date(year, 12, 31)).order_by(Holiday.day))
        return {"year": year, "entered": entered is not None, "source": entered.source if entered else None,
                "days": [{"day": h.day.isoformat(), "is_workday": h.is_workday, "name": h.name} for h in rows]}


class HolidayDay(BaseModel):
    model_config = ConfigDict(extra="forbid")
    day: date
    name: str | None = Field(default=None, max_length=40)


class HolidayYearIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    days_off: list[HolidayDay] = Field(description="weekdays (and listed weekend days) off")
    workdays: list[HolidayDay] = Field(default_factory=list, description="调休: weekend days that are worked")
    confirm_unusual: bool = Field(default=False, description="save a year beyond every notice of 2004–2026 (more "
                                  "than 30 weekday days off, 16 调休 working days or 14 days off in a row), "
                                  "otherwise refused as holidays_unusual")


@router.put("/holidays/{year}", response_model=HolidaysSaved, summary="Enter a year's holidays and 调休 working days (admins)")
def put_holidays(year: int, body: HolidayYearIn, request: Request):
    with unit_of_work(request, write=True) as ctx:
        if ctx.user.role != Role.admin:
            raise PermissionDenied("只有管理员可以维护节假日表")
        before = reference.snapshot(ctx.session).calendar
        count = set_year(ctx.session, year, days_off=[(d.day, d.name or "") for d in body.days_off],
                         workdays=[(d.day, d.name or "") for d in body.workdays], confirmed=body.confirm_unusual)
        moved = follow_holiday_change(ctx.session, before, actor=ctx.user)
        return {"year": year, "days": count, "tickets_recomputed": moved.tickets, "orders_recomputed": moved.orders}
