"""Assessment and dashboard endpoints: 三率 tables and monthly rankings, the tickets behind any
figure, the dashboards' series, and ruling a ticket out of (or back into) the assessment.

Read by supervisors, dispatchers and admins; handlers and agents get 403 (a unit's own figures are
on its pages)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal, get_args

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import Field

from hotline.accounts.models import Role
from hotline.analytics import dashboard, drill, exclusions, rates
from hotline.api import paging
from hotline.api.document import errors
from hotline.api.edge import unit_of_work
from hotline.api.routes.tickets import _detail, _find
from hotline.api.schemas import Body, Day, Number, Out, TicketOut, Timestamp, own_words
from hotline.directory import reference
from hotline.kit import clock
from hotline.kit.errors import Invalid, PermissionDenied
from hotline.tickets import views

router = APIRouter(prefix="/analytics", tags=["analytics"])
READERS = (Role.supervisor, Role.dispatcher, Role.admin)
DIMENSIONS = ("unit", "township", "category", "all")
# The documented choices are the ones the server takes (refused in its own words otherwise):
# the dimensions above, the measures a figure opens to (``drill.LABELS``), the stored hot-spot periods
# (``hotspots.PERIODS``, imported lazily with numpy; a test holds the two lists equal).
Dimension = Annotated[Literal[DIMENSIONS], own_words(f"须为 {'、'.join(DIMENSIONS)}", "unknown_dimension")]  # type: ignore[valid-type]
Measure = Annotated[Literal[tuple(drill.LABELS)],  # type: ignore[valid-type]
                    own_words(f"没有名为 {{value}} 的指标；可选：{'、'.join(drill.LABELS)}", "unknown_measure")]
HotspotPeriod = Literal["yesterday", "7d", "30d"]
PERIODS = get_args(HotspotPeriod)
Month = Annotated[int, Path(ge=1, le=12, description="1–12"), own_words("月份无效", "invalid_month")]
Year = Annotated[int, Path(ge=2000, le=2100)]


class ExcludeIn(Body):
    reason: Annotated[Literal[tuple(exclusions.REASONS)],  # type: ignore[valid-type]
                      own_words(f"认定理由须为 {'、'.join(f'{k}（{v}）' for k, v in exclusions.REASONS.items())}",
                                "invalid_reason")] = Field(description="invalid（无效诉求） or malicious（恶意诉求）")
    note: str


class IncludeIn(Body):
    note: str


# ---------------------------------------------------------------- responses


class FiguresOut(Out):
    """One row of an assessment table."""

    key: str = Field(description="the unit id, township code or category code ('' for all)")
    label: str
    rank: int | None = Field(description="null: not ranked (too few tickets)")
    score: Number | None = Field(description="the composite score out of 100")
    response_rate: Number | None = Field(description="0–1; null when nothing was counted")
    resolution_rate: Number | None
    satisfaction_rate: Number | None
    on_time_rate: Number | None
    response_base: int
    responded: int
    counts: dict[str, int] = Field(description="the counts the rates come from, by measure")
    notes: list[str]


class Weights(Out):
    response: Number
    resolution: Number
    satisfaction: Number


class RankingOut(Out):
    year: int
    month: int
    first: Day = Field(description="the assessment month's first day (by the rules' start day)")
    last: Day
    weights: Weights
    rows: list[FiguresOut]


class DrillTicket(Out):
    id: int
    number: str
    title: str
    status: str
    received_at: Timestamp


class DrillOut(Out):
    label: str = Field(description="what the figure is, in Chinese")
    total: int = Field(description="tickets behind the figure")
    counts: Literal["orders", "callbacks", "tickets"] = Field(
        description="what the figure counts: dispatch orders (派单), callbacks (回访评价) or tickets")
    counted: int = Field(description="how many of those (a ticket may stand behind several)")
    tickets: list[DrillTicket] = Field(description="this page of them (limit, offset), newest first")


class HeatCell(Out):
    category: str = Field(description="top-level category code")
    area: str = Field(description="a county code, or a township code inside the region asked for")
    tickets: int


class UnitDeadlines(Out):
    unit_id: int
    unit: str = Field(description="the unit's name")
    replied: int
    on_time: int
    on_time_rate: Number | None
    overdue_now: int


class TrendPoint(Out):
    period: str = Field(description="the day, YYYY-MM-DD, or with trend_granularity \"month\" the assessment "
                                    "month, YYYY-MM (assessment.period_start_day 26: 26 Dec–25 Jan is 01)")
    evaluated: int
    response_rate: Number | None
    resolution_rate: Number | None
    satisfaction_rate: Number | None


class DashboardOut(Out):
    first: Day
    last: Day
    volume_by_channel: dict[str, dict[str, int]] = Field(description="tickets per day, then per channel")
    volume_by_kind: dict[str, dict[str, int]] = Field(description="tickets per day, then per kind")
    heat: list[HeatCell]
    by_county: dict[str, int] = Field(description="tickets per county code (always the whole city's)")
    deadlines_by_unit: list[UnitDeadlines]
    satisfaction_trend: list[TrendPoint] = Field(description="the centre's 三率 (of the region when one was asked "
                                                             "for), one point per day or per month: see "
                                                             "trend_granularity")
    trend_granularity: Literal["day", "month"] = Field(
        description="what one point of satisfaction_trend covers: \"day\" for a range of up to "
                    f"{dashboard.DAILY_TREND_MOST_DAYS + 1} days, \"month\" beyond, as the /analytics page draws it "
                    "(the same rule, analytics.dashboard.trend_granularity)")
    open_now: int = Field(description="tickets open now (of the region when one was asked for)")
    overdue_now: int = Field(description="open tickets overdue now at any running stage (the supervision board's 超期工单)")
    region_code: str | None = Field(description="the region every figure but by_county counts, null for the whole city")


class OverviewOut(Out):
    today: Day
    month: str = Field(description="the assessment month, YYYY-MM")
    received_today: int
    received_month: int
    by_channel_today: dict[str, int]
    open_now: int
    overdue_now: int
    rates: FiguresOut | None = Field(description="the centre's figures this month")
    best_units: list[FiguresOut]
    worst_units: list[FiguresOut]
    daily: dict[str, dict[str, int]] = Field(description="this month's tickets per day, then per channel")


class HotSpotOut(Out):
    """A hot spot: one row shape whether the worker stored it for a standard period (``period``) or
    it was computed now for the days and area asked for. Pairs of fields that say the same thing
    under the two names clients have read (``ticket_count``/``size``, ``township``/``area_code``)
    are both given, equal."""

    rank: int = Field(description="1 for the hottest: the stored rank, or the place in this answer")
    label: str
    keywords: list[str]
    place: str | None = Field(description="the estate, road, school or village named, when one is")
    category_code: str = Field(description="top-level category code")
    heat: Number
    components: dict[str, Number] = Field(description="what the heat is made of")
    ticket_ids: list[int]
    ticket_count: int = Field(description="tickets")
    size: int = Field(description="tickets (the same as `ticket_count`)")
    callers: int
    township: str = Field(description="the township (or coarser region) of its tickets")
    area_code: str = Field(description="the same as `township`")
    first_at: Timestamp
    last_at: Timestamp
    cohesion: Number
    computed_at: Timestamp = Field(description="when the worker stored it, or now for one computed on demand")


def stored_row(r: Any) -> dict[str, Any]:
    """A stored snapshot as the one row shape."""
    d = r.detail or {}
    return {"rank": r.rank, "label": r.label, "keywords": d.get("keywords", []), "place": r.place,
            "category_code": r.category_code, "heat": r.heat, "components": d.get("components", {}),
            "ticket_ids": r.ticket_ids, "ticket_count": r.ticket_count, "size": r.ticket_count,
            "callers": d.get("callers", 0), "township": d.get("township", ""), "area_code": d.get("township", ""),
            "first_at": d.get("first_at"), "last_at": d.get("last_at"), "cohesion": d.get("cohesion", 0.0),
            "computed_at": views.iso(r.computed_at)}


def computed_row(rank: int, h: Any, now: Any) -> dict[str, Any]:
    """A hot spot computed on demand as the one row shape."""
    d = h.as_dict()
    return d | {"rank": rank, "ticket_count": h.size, "township": h.area_code, "computed_at": views.iso(now)}


def _reader(ctx: Any) -> None:
    if ctx.user.role not in READERS:
        raise PermissionDenied("只有督办员、派单员和管理员可以查看考核与统计", code="analytics_forbidden")


def _days(first: date | None, last: date | None) -> tuple[date, date]:
    """The days asked for; this month so far by default."""
    today = clock.local().date()
    first = rates.check_day(first or today.replace(day=1), "first")
    last = rates.check_day(last or today, "last")
    if last < first:
        raise Invalid("结束日期不能早于开始日期", code="invalid_range", details={"field": "last"})
    if (last - first).days > 3 * 366:
        raise Invalid("一次最多查询三年", code="invalid_range", details={"field": "first"})
    return first, last


def figures(f: rates.Figures) -> dict[str, Any]:
    return {"key": f.key, "label": f.label, "rank": f.rank, "score": f.score,
            "response_rate": f.response_rate, "resolution_rate": f.resolution_rate,
            "satisfaction_rate": f.satisfaction_rate, "on_time_rate": f.on_time_rate,
            "response_base": f.response_base, "responded": f.responded, "counts": f.counts, "notes": f.notes}


@router.get("/rates", response_model=list[FiguresOut], summary="三率 and the composite score per unit, township or category for a run of days")
def rate_table(request: Request, dimension: Annotated[Dimension, Query(description="unit, township, category or all")] = "unit",
               first: date | None = None, last: date | None = None) -> list[dict[str, Any]]:
    with unit_of_work(request, write=False) as ctx:
        _reader(ctx)
        a, b = _days(first, last)
        return [figures(f) for f in rates.table(ctx.session, dimension, a, b)]


@router.get("/rankings/{year}/{month}", response_model=RankingOut, summary="The monthly ranking (assessment month by the rules)")
def ranking(year: Year, month: Month, request: Request,
            dimension: Annotated[Dimension, Query(description="unit, township, category or all")] = "unit") -> dict[str, Any]:
    with unit_of_work(request, write=False) as ctx:
        _reader(ctx)
        rules = rates.current_rules(ctx.session)
        first, last = rates.month_period(year, month, rules.period_start_day)
        rows = rates.monthly_ranking(ctx.session, dimension, year, month)
        return {"year": year, "month": month, "first": first.isoformat(), "last": last.isoformat(),
                "weights": dict(zip(("response", "resolution", "satisfaction"), rules.weights, strict=True)),
                "rows": [figures(f) for f in rows]}


@router.get("/tickets", response_model=DrillOut, responses=errors(404), summary="The tickets behind a figure (drill-down), newest first")
def tickets_behind(request: Request,
                   window: Annotated[paging.Window, Depends(paging.rows(default=50, most=500))],
                   measure: Measure, dimension: Dimension = "all", key: str = "",
                   first: date | None = None, last: date | None = None,
                   channel: str = Query("", description="only tickets received by this channel"),
                   kind: str = Query("", description="only tickets of this kind")) -> dict[str, Any]:
    limit, offset = window.limit, window.offset
    with unit_of_work(request, write=False) as ctx:
        _reader(ctx)
        a, b = _days(first, last)
        page = drill.tickets(ctx.session, dimension=dimension, key=key, measure=measure, first=a, last=b,
                             limit=limit, offset=offset, channel=channel, kind=kind)
        return {"label": page.label, "total": page.total,
                # what the figure counts: "orders" (派单) or "callbacks" (回访评价), and how many; a
                # ticket may stand behind several (co-handlers, reopened rounds); "tickets" for received
                "counts": {"派单": "orders", "回访评价": "callbacks"}.get(page.counted_as, "tickets"),
                "counted": page.counted if page.counted_as else page.total,
                "tickets": [{"id": t.id, "number": t.number, "title": t.title, "status": t.status.value,
                             "received_at": views.iso(t.received_at)} for t in drill.rows(ctx.session, page.ticket_ids)]}


@router.get("/dashboard", response_model=DashboardOut, summary="The dashboards' series for a run of days",
            description="Every series of the `/analytics` page, computed by the same functions "
                        "(`analytics.dashboard.board`). With `region_code` (a county, or any region code) "
                        "every figure counts only the tickets placed in that region and everything inside it, "
                        "as the page does with a county picked: volume by channel and kind, `heat` (then by "
                        "township inside the region), deadlines and overdue by unit, the 三率 trend (per day, or per "
                        "month for a range longer than the page draws by day: `trend_granularity` says which), open and "
                        "overdue now; only `by_county` stays the whole city's, as on the page's map. "
                        f"As on the page, a range longer than {dashboard.MAX_DAYS} days is refused "
                        "(422 `period_too_long`), and so is a `region_code` that is no known region "
                        "(422 `unknown_region`).")
def dashboard_data(request: Request, first: date | None = None, last: date | None = None,
                   region_code: Annotated[str | None, Query(description="only the tickets of this region and everything "
                                                                        "inside it (e.g. the county 140828)")] = None,
                   ) -> dict[str, Any]:
    with unit_of_work(request, write=False) as ctx:
        _reader(ctx)
        a, b = _days(first, last)
        dashboard.check_span(a, b)
        if region_code:
            reference.check_region(reference.snapshot(ctx.session), region_code, label="行政区划代码")
        f = dashboard.board(ctx.session, a, b, region_code=region_code or None)
        return {
            "first": a.isoformat(), "last": b.isoformat(), "region_code": region_code or None,
            **f, "heat": [{"category": c, "area": r, "tickets": n} for (c, r), n in sorted(f["heat"].items())],
        }


@router.get("/overview", response_model=OverviewOut, summary="The wall display's overview: today, this month, open and overdue now")
def overview(request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=False) as ctx:
        _reader(ctx)
        o = dashboard.overview(ctx.session)
        o["rates"] = figures(o["rates"]) if o["rates"] else None
        o["best_units"] = [figures(f) for f in o["best_units"]]
        o["worst_units"] = [figures(f) for f in o["worst_units"]]
        return o


@router.get("/hotspots", response_model=list[HotSpotOut],
            summary="Hot spots: the stored top N of a standard period, or computed for any days and area",
            description="With `period`: the rows the worker stored for that period; otherwise computed now for "
                        "`first`..`last`. Both answer the same rows (`HotSpotOut`), hottest first. A `region_code` that "
                        "is no known region is refused (422 `unknown_region`).")
def hotspots(request: Request, period: Annotated[HotspotPeriod | None, Query(description="yesterday, 7d or 30d (stored by the worker)"),
                                                 own_words(f"须为 {'、'.join(PERIODS)}", "unknown_period")] = None,
             first: date | None = None, last: date | None = None, region_code: str | None = None,
             top: int = Query(5, ge=1, le=50)) -> list[dict[str, Any]]:
    from hotline.analytics import facts, hotspot_store
    from hotline.analytics import hotspots as spots

    with unit_of_work(request, write=False) as ctx:
        _reader(ctx)
        if region_code:  # no known region: refused, as the dashboard does, rather than an empty list
            reference.check_region(reference.snapshot(ctx.session), region_code, label="行政区划代码")
        if period is not None:
            return [stored_row(r)
                    for r in hotspot_store.stored(ctx.session, period=period, area_code=region_code or "")[:top]]
        a, b = _days(first, last)
        found = spots.hot_spots(ctx.session, start=facts.day_start(a), end=facts.day_start(b + timedelta(days=1)),
                                region_code=region_code, top=top)
        now = clock.now()
        return [computed_row(i, h, now) for i, h in enumerate(found, 1)]


@router.post("/exclusions/{key}", response_model=TicketOut, summary="Rule a ticket out of the assessment (invalid or malicious request)")
def exclude(key: str, body: ExcludeIn, request: Request) -> dict[str, Any]:
    with unit_of_work(request, write=True) as ctx:
        ticket = _find(ctx, key)
        exclusions.exclude(ctx.session, ticket, actor=ctx.user, reason=body.reason, note=body.note)
        return _detail(ctx, ticket)


@router.delete("/exclusions/{key}", response_model=TicketOut, summary="Count a ticket in the assessment again")
def include(key: str, request: Request, note: str = Query(..., description="why it counts again")) -> dict[str, Any]:
    with unit_of_work(request, write=True) as ctx:
        ticket = _find(ctx, key)
        exclusions.include(ctx.session, ticket, actor=ctx.user, note=note)
        return _detail(ctx, ticket)
