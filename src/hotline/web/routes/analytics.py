"""数据分析: the dashboard (volume, category × region heat, county map, deadlines, 三率 trend), the
monthly assessment ranking (考核排名) whose every count opens the tickets behind it, and the wall
display (大屏) that refreshes its own figures.

Everything reads ``hotline.analytics`` (rollups; only "open now" and "overdue now" are live). The
charts are ECharts options built here and drawn by app.js from ``data-chart``; a data item's
``link`` is where a click on it goes (the drill-down). The pages are the centre's: supervisors,
admins and dispatchers see them, handlers and agents are refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from hotline.accounts.models import Role
from hotline.analytics import dashboard, drill, facts, hotspot_store, rates
from hotline.directory import reference
from hotline.kit import clock
from hotline.kit.errors import Invalid, NotFound
from hotline.tickets import views
from hotline.web.render import page
from hotline.web.routes.unit import refused
from hotline.web.session import PageContext, page_work

router = APIRouter(include_in_schema=False)
ROLES = (Role.supervisor, Role.admin, Role.dispatcher)
CITY = "1408"  # 运城市: the county map
MAP = {"name": "yuncheng", "url": "/static/maps/yuncheng.json"}
PERIODS = {"day": "今日", "week": "本周", "month": "本月", "custom": "自定义"}
DIMENSIONS = {"unit": "承办单位", "township": "乡镇（街道）", "category": "事项分类"}
PER_PAGE = 50
T = facts.T


@dataclass(frozen=True)
class Period:
    kind: str
    first: date
    last: date
    swapped: bool = False  # asked for with the later day first: counted the other way round

    @property
    def notice(self) -> str | None:
        return swapped_notice(self.first, self.last) if self.swapped else None

    @property
    def label(self) -> str:
        span = self.first.isoformat() if self.first == self.last else f"{self.first} 至 {self.last}"
        return f"{PERIODS[self.kind]}（{span}）"

    def query(self, **more: str) -> str:
        return urlencode({"period": self.kind, "first": self.first.isoformat(), "last": self.last.isoformat(), **more})


def _date(text: str, field: str) -> date:
    """A typed day (YYYY-MM-DD) within ``rates.check_day``'s range, else ``Invalid``."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise Invalid("日期格式须为 YYYY-MM-DD", code="invalid_date", details={"field": field}) from None
    return rates.check_day(day, field)


def swapped_notice(first: date, last: date) -> str:
    return f"开始日期 {last} 晚于结束日期 {first}，已对调，按 {first} 至 {last} 统计。"


def ordered(a: date, b: date) -> tuple[date, date, bool]:
    """The two days earlier first, and whether they came the other way round (both the dashboard
    and the list behind a figure count such a range swapped, and say so)."""
    return (b, a, True) if b < a else (a, b, False)


def period_of(session: Session, kind: str, first: str, last: str, today: date) -> Period:
    """The period asked for: today, this week (Monday on), this assessment month (to today), or a
    custom range of at most a year."""
    if kind == "day":
        return Period("day", today, today)
    if kind == "week":
        return Period("week", today - timedelta(days=today.weekday()), today)
    if kind == "custom":
        a, b, swapped = ordered(_date(first, "first"), _date(last, "last"))
        dashboard.check_span(a, b)
        return Period("custom", a, b, swapped)
    start_day = rates.current_rules(session).period_start_day
    month_first, month_last = rates.month_period(*rates.month_of(today, start_day), start_day)
    return Period("month", month_first, min(month_last, today))


def typed_days(first: str, last: str, shown_first: str, shown_last: str) -> bool:
    """Whether the picker's days were changed from those the page showed (``shown_*``): days typed
    are meant to be counted, whichever period stayed chosen (本月 with 10-01..10-31 typed)."""
    if not (shown_first and shown_last):  # a link, not the form: the period decides
        return False
    return (first.strip(), last.strip()) != (shown_first.strip(), shown_last.strip())


def _days(first: date, last: date) -> list[str]:
    return [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


def drill_link(dimension: str, key: str, measure: str, first: date | str, last: date | str, **more: str) -> str:
    return "/analytics/tickets?" + urlencode({"dimension": dimension, "key": key, "measure": measure,
                                              "first": str(first), "last": str(last), **more})


def _pct(value: float | None) -> float | None:
    return round(100 * value, 1) if value is not None else None


# ── chart options ────────────────────────────────────────────────────────────────────────────


def volume_chart(volume: dict[str, dict[str, int]], p: Period, labels: dict[str, str], *, by: str,
                 line: bool = False, region: str | None = None) -> dict:
    """Tickets received per day, one stacked series per value of ``by`` (channel or kind); a click
    on a bar lists that day's tickets of that channel or kind (of ``region`` when given)."""
    days = _days(p.first, p.last)
    more = {"region": region} if region else {}
    order = list(labels)
    values = sorted({v for day in volume.values() for v in day},
                    key=lambda v: (order.index(v) if v in order else len(order), v))
    series = [{"name": labels.get(v, v), "type": "line" if line else "bar", "stack": "total",
               "areaStyle": {} if line else None, "emphasis": {"focus": "series"},
               "data": [{"value": volume.get(d, {}).get(v, 0), "link": drill_link("all", "", "received", d, d, **more, **{by: v})}
                        for d in days]} for v in values]
    for s in series:
        if s["areaStyle"] is None:
            del s["areaStyle"]
    return {"tooltip": {"trigger": "axis"}, "legend": {"top": 0}, "grid": {"left": 40, "right": 16, "top": 36, "bottom": 28},
            "xAxis": {"type": "category", "data": [d[5:] for d in days]}, "yAxis": {"type": "value", "minInterval": 1},
            "series": series}


def heat_chart(session: Session, counts: dict[tuple[str, str], int], p: Period, region: str | None) -> dict:
    """Categories (rows) × areas (columns): counties, or the townships of ``region``; a click on a
    cell lists its tickets."""
    snap = reference.snapshot(session)
    areas = sorted({a for _, a in counts})
    cats = sorted({c for c, _ in counts}, reverse=True)
    data = [{"value": [areas.index(a), cats.index(c), n],
             "link": drill_link("township", a, "received", p.first, p.last, category=c)}
            for (c, a), n in sorted(counts.items())]
    return {"tooltip": {"position": "top"},
            "grid": {"left": 110, "right": 16, "top": 8, "bottom": 100},
            "xAxis": {"type": "category", "data": [snap.regions[a][0] if a in snap.regions else a for a in areas],
                      "axisLabel": {"interval": 0, "rotate": 40}, "splitArea": {"show": True}},
            "yAxis": {"type": "category", "data": [snap.categories[c].name if c in snap.categories else c for c in cats],
                      "splitArea": {"show": True}},
            "visualMap": {"min": 0, "max": max(counts.values(), default=1), "calculable": True, "orient": "horizontal",
                          "left": "center", "bottom": 0, "itemHeight": 120, "inRange": {"color": ["#fff5f0", "#b71c1c"]}},
            "series": [{"name": "受理量", "type": "heatmap", "data": data, "label": {"show": True},
                        "emphasis": {"itemStyle": {"borderColor": "#333", "borderWidth": 1}}}]}


def county_map(session: Session, per_county: dict[str, int], link: str = "", *, dark: bool = False,
               picked: str | None = None) -> dict:
    """The 运城 county map (schematic) coloured by tickets; ``link`` + a county code is where a click
    goes; the ``picked`` county is outlined."""
    snap = reference.snapshot(session)
    codes = sorted(c for c, (_, level, parent) in snap.regions.items() if parent == CITY and level == 3)
    data = [{"name": snap.regions[c][0], "value": per_county.get(c, 0), "code": c,
             **({"link": link + c} if link else {}),
             **({"itemStyle": {"borderColor": "#1565c0", "borderWidth": 3}} if c == picked else {})} for c in codes]
    label_color = "#e6edf7" if dark else "#1f2933"
    return {"tooltip": {"trigger": "item", "formatter": "{b}：{c} 件"},
            "visualMap": {"min": 0, "max": max([d["value"] for d in data] + [1]), "calculable": True, "right": 8,
                          "bottom": 8, "itemHeight": 100, "textStyle": {"color": label_color},
                          "inRange": {"color": ["#1e3a5f", "#f5a623", "#e53935"] if dark else ["#fff5f0", "#ef9a9a", "#b71c1c"]}},
            "series": [{"name": "受理量", "type": "map", "map": MAP["name"], "roam": False, "selectedMode": False,
                        "label": {"show": True, "color": label_color, "fontSize": 12},
                        "itemStyle": {"borderColor": "#90a4ae" if dark else "#fff", "areaColor": "#263445" if dark else "#eceff1"},
                        "emphasis": {"label": {"color": "#000"}, "itemStyle": {"areaColor": "#ffd54f"}},
                        "data": data}]}


def deadline_chart(rows: list[dict], p: Period, limit: int = 12, *, region: str | None = None) -> dict:
    """Per unit: replies on time and late in the period (stacked) and tickets overdue now."""
    more = {"region": region} if region else {}
    rows = rows[:limit][::-1]
    names = [r["unit"] + (f"（{_pct(r['on_time_rate'])}%）" if r["on_time_rate"] is not None else "") for r in rows]

    def bar(name: str, key: str, measure: str | None, stack: str | None, color: str) -> dict:
        data = []
        for r in rows:
            value = r["replied"] - r["on_time"] if key == "late" else r[key]
            item: dict[str, Any] = {"value": value}
            if measure:
                item["link"] = drill_link("unit", str(r["unit_id"]), measure, p.first, p.last, **more)
            else:
                item["link"] = "/supervision"
            data.append(item)
        s = {"name": name, "type": "bar", "data": data, "itemStyle": {"color": color}}
        return s | ({"stack": stack} if stack else {})

    return {"tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}}, "legend": {"top": 0},
            "grid": {"left": 8, "right": 24, "top": 32, "bottom": 8, "containLabel": True},
            "xAxis": {"type": "value", "minInterval": 1}, "yAxis": {"type": "category", "data": names},
            "series": [bar("按时反馈", "on_time", "replied_on_time", "replied", "#2e7d32"),
                       bar("超时反馈", "late", "replied_late", "replied", "#f9a825"),
                       bar("当前超期", "overdue_now", None, None, "#c62828")]}


def trend_chart(trend: list[dict], p: Period, monthly: bool, start_day: int, *, region: str | None = None) -> dict:
    """The centre's 三率 (percent) per day or month; a click on a point lists the tickets that
    missed that rate in that day or month."""
    def span(label: str) -> tuple[date, date]:
        if not monthly:
            d = date.fromisoformat(label)
            return d, d
        a, b = rates.month_period(int(label[:4]), int(label[5:7]), start_day)
        return max(a, p.first), min(b, p.last)

    def line(name: str, key: str, measure: str) -> dict:
        return {"name": name, "type": "line", "smooth": True, "connectNulls": True, "symbolSize": 8,
                "data": [{"value": _pct(t[key]), "link": drill_link("all", "", measure, *span(t["period"]),
                                                             **({"region": region} if region else {}))}
                         for t in trend]}

    return {"tooltip": {"trigger": "axis", "valueFormatter": "{value}%"}, "legend": {"top": 0},
            "grid": {"left": 44, "right": 16, "top": 36, "bottom": 28},
            "xAxis": {"type": "category", "data": [t["period"] if monthly else t["period"][5:] for t in trend]},
            "yAxis": {"type": "value", "min": 0, "max": 100, "axisLabel": {"formatter": "{value}%"}},
            "series": [line("响应率", "response_rate", "not_responded"), line("解决率", "resolution_rate", "unresolved"),
                       line("满意率", "satisfaction_rate", "unsatisfied")]}


# ── the dashboard ────────────────────────────────────────────────────────────────────────────


def _dashboard(session: Session, p: Period, region: str | None) -> dict[str, Any]:
    """Every figure of the page, of ``region`` (a county and everything inside it) when one is
    picked; only the county map and the county picks stay the city's: they are how a county is
    picked."""
    snap = reference.snapshot(session)
    more = {"region": region} if region else {}
    start_day = rates.current_rules(session).period_start_day
    figures = dashboard.board(session, p.first, p.last, region_code=region)
    monthly = figures["trend_granularity"] == "month"
    by_channel, by_kind, heat = figures["volume_by_channel"], figures["volume_by_kind"], figures["heat"]
    per_county, trend, units = figures["by_county"], figures["satisfaction_trend"], figures["deadlines_by_unit"]
    counties = sorted((c for c in per_county if len(c) == 6), key=lambda c: c)
    return {
        "received": sum(sum(v.values()) for v in by_channel.values()),
        "received_link": drill_link("all", "", "received", p.first, p.last, **more),
        "open_now": figures["open_now"],
        "overdue_now": figures["overdue_now"],
        "volume_channel": volume_chart(by_channel, p, views.CHANNEL_LABELS, by="channel", region=region),
        "volume_kind": volume_chart(by_kind, p, views.KIND_LABELS, by="kind", line=True, region=region),
        "heat": heat_chart(session, heat, p, region) if heat else None,
        "map": county_map(session, per_county, f"/analytics?{p.query()}&region=", picked=region),
        "deadlines": deadline_chart(units, p, region=region) if units else None,
        "trend": trend_chart(trend, p, monthly, start_day, region=region) if trend else None,
        "counties": [(c, snap.regions[c][0] if c in snap.regions else c, per_county[c]) for c in counties],
        "region_name": reference.region_label(snap, region) if region and region in snap.regions else region,
        "hotspots": hotspot_store.stored(session, period="30d", area_code=region[:6] if region else ""),
    }


@router.get("/analytics")
def dashboard_page(request: Request, period: str = "month", first: str = "", last: str = "",
                   region: str = "", shown_first: str = "", shown_last: str = "") -> Response:
    with page_work(request, write=False) as ctx:
        if ctx.user.role not in ROLES:
            return refused(request)
        today, error = clock.local().date(), None
        if typed_days(first, last, shown_first, shown_last):
            period = "custom"
        try:
            p = period_of(ctx.session, period if period in PERIODS else "month", first, last, today)
        except Invalid as err:
            error, p = err.message, period_of(ctx.session, "month", "", "", today)
        region, unknown = _county(ctx.session, region)
        error = error or unknown
        return page(request, "analytics/dashboard.html", status_code=422 if error else 200, error=error,
                    notice=p.notice,
                    p=p, periods=PERIODS, region=region, map_source=MAP, title="数据分析",
                    **_dashboard(ctx.session, p, region or None))


def _county(session: Session, region: str) -> tuple[str, str | None]:
    """The county picked (a six-digit code), and the error for a code that is no known region: the
    page then counts the whole city and says so. Any other known code counts the city, as before."""
    region = region.strip()
    if not region:
        return "", None
    try:
        reference.check_region(reference.snapshot(session), region, "region")
    except Invalid as err:
        return "", f"{err.message}，以下为全市数据"
    return (region, None) if region.isdigit() and len(region) == 6 else ("", None)


# ── the assessment ranking ───────────────────────────────────────────────────────────────────


def _month(text: str, today: date, start_day: int) -> tuple[int, int]:
    """The assessment month asked for (``2026-10``); this one when none is; ``Invalid`` for one not
    understood (``2026/10``, ``2026-13``, a year before 2000 or after 2100)."""
    if not text.strip():
        return rates.month_of(today, start_day)
    try:
        year, month = (int(x) for x in text.strip().split("-"))
        if 2000 <= year <= 2100 and 1 <= month <= 12:
            return year, month
    except ValueError:
        pass
    raise Invalid(f"无法识别考核月份「{text.strip()}」：须为 2000-01 至 2100-12 之间的年-月，如 2026-10",
                  code="invalid_month", details={"field": "month"})


def ranking_row(f: rates.Figures) -> dict[str, Any]:
    c = f.counts
    return {"key": f.key, "label": f.label, "rank": f.rank, "score": f.score, "notes": "；".join(f.notes),
            "response_base": f.response_base, "responded": f.responded,
            "not_responded": f.not_responded, "response_rate": _pct(f.response_rate),
            "evaluated": c["evaluated"], "resolved": c["resolved"], "unresolved": c["evaluated"] - c["resolved"],
            "resolution_rate": _pct(f.resolution_rate),
            "satisfied": f.satisfied, "satisfaction_rate": _pct(f.satisfaction_rate),
            "replied": c["replied"], "replied_on_time": c["replied_on_time"], "on_time_rate": _pct(f.on_time_rate)}


@router.get("/analytics/assessment")
def assessment_page(request: Request, month: str = "", dimension: str = "unit") -> Response:
    with page_work(request, write=False) as ctx:
        if ctx.user.role not in ROLES:
            return refused(request)
        rules = rates.current_rules(ctx.session)
        dimension = dimension if dimension in DIMENSIONS else "unit"
        today, error = clock.local().date(), None
        try:
            year, mon = _month(month, today, rules.period_start_day)
        except Invalid as err:  # said above the table, which shows this month instead (as /analytics does)
            error, (year, mon) = f"{err.message}；下面是本考核月的排名。", rates.month_of(today, rules.period_start_day)
        first, last = rates.month_period(year, mon, rules.period_start_day)
        rows = [ranking_row(f) for f in rates.table(ctx.session, dimension, first, last, rules=rules)]
        centre = rates.table(ctx.session, "all", first, last, rules=rules)
        return page(request, "analytics/assessment.html", status_code=422 if error else 200, error=error,
                    rows=rows, dimension=dimension, dimensions=DIMENSIONS,
                    month=f"{year}-{mon:02d}", first=first, last=last, rules=rules,
                    centre=ranking_row(centre[0]) if centre else None,
                    title="考核排名")


# ── the tickets behind a figure ──────────────────────────────────────────────────────────────


def _figure_page(ctx: PageContext, dimension: str, key: str, measure: str, a: date, b: date,
                 category: str, offset: int, channel: str = "", kind: str = "",
                 region: str = "") -> tuple[drill.Page, str]:
    snap = reference.snapshot(ctx.session)
    if measure == "received" and category:
        found = drill.received_in(ctx.session, region=key if dimension == "township" else "", category=category,
                            first=a, last=b, limit=PER_PAGE, offset=offset)
        cat = snap.categories.get(category)
        where = rates.label_of(ctx.session, dimension, key) if key else "全部"
        return found, f"{where} · {cat.name if cat else category}"
    found = drill.tickets(ctx.session, dimension=dimension, key=key, measure=measure, first=a, last=b,
                          limit=PER_PAGE, offset=offset, channel=channel, kind=kind, region=region)
    whom = rates.label_of(ctx.session, dimension, key) if key else "全部"
    if region:
        whom = f"{rates.label_of(ctx.session, 'township', region)} · {whom}"
    if channel:
        whom += f" · {views.CHANNEL_LABELS.get(channel, channel)}"
    if kind:
        whom += f" · {views.KIND_LABELS.get(kind, kind)}"
    return found, whom


@router.get("/analytics/hotspots/{snapshot_id}")
def hotspot_tickets(request: Request, snapshot_id: int) -> Response:
    """The tickets of one stored hot spot."""
    with page_work(request, write=False) as ctx:
        if ctx.user.role not in ROLES:
            return refused(request)
        spot = ctx.session.get(hotspot_store.HotSpotSnapshot, snapshot_id)
        if spot is None:
            return page(request, "error.html", status_code=404, title="热点不存在",
                        message="该热点已随统计更新而替换，请回到数据分析页重新查看。")
        snap, now = reference.snapshot(ctx.session), clock.now()
        ids = [int(i) for i in spot.ticket_ids][:500]
        items = [views.ticket_summary(snap, ctx.scope, t, now) for t in drill.rows(ctx.session, ids)]
        items.sort(key=lambda t: t["received_at"], reverse=True)
        return page(request, "analytics/tickets.html", items=items, total=len(spot.ticket_ids),
                    label=f"热度 {spot.heat:.1f}", whom=f"热点：{spot.label}",
                    first=clock.local(spot.period_start).date(),
                    last=clock.local(spot.period_end - timedelta(seconds=1)).date(), page_no=1, pages=1,
                    base="", title=f"热点：{spot.label}")


@router.get("/analytics/tickets")
def figure_tickets(request: Request, dimension: str = "all", key: str = "", measure: str = "received",
                   first: str = "", last: str = "", category: str = "", channel: str = "", kind: str = "",
                   region: str = "", page_no: int = 1) -> Response:
    """The tickets behind one figure, newest first, a page at a time (of ``region``'s tickets when
    the figure is a county's)."""
    with page_work(request, write=False) as ctx:
        if ctx.user.role not in ROLES:
            return refused(request)
        page_no = max(page_no, 1)
        try:
            today = clock.local().date()
            a, b, swapped = ordered(_date(first or today.isoformat(), "first"), _date(last or today.isoformat(), "last"))
            region = region if region.isascii() and region.isdigit() else ""
            found, whom = _figure_page(ctx, dimension, key, measure, a, b, category, (page_no - 1) * PER_PAGE,
                                       channel, kind, region)
        except (Invalid, NotFound, ValueError) as err:
            message = err.message if isinstance(err, Invalid | NotFound) else "参数不正确"
            return page(request, "error.html", status_code=404 if isinstance(err, NotFound) else 422,
                        title="无法列出工单", message=message)
        snap, now = reference.snapshot(ctx.session), clock.now()
        items = [views.ticket_summary(snap, ctx.scope, t, now) for t in drill.rows(ctx.session, found.ticket_ids)]
        base = {"dimension": dimension, "key": key, "measure": measure, "first": a.isoformat(), "last": b.isoformat(),
                **{k: v for k, v in (("category", category), ("channel", channel), ("kind", kind),
                                     ("region", region)) if v}}
        pages = max(1, -(-found.total // PER_PAGE))
        return page(request, "analytics/tickets.html", items=items, total=found.total, label=found.label,
                    counted=found.counted, counted_as=found.counted_as,
                    whom=whom, first=a, last=b, page_no=page_no, pages=pages, base=urlencode(base),
                    notice=swapped_notice(a, b) if swapped else None,
                    title=f"{whom} · {found.label}")


# ── the wall display ─────────────────────────────────────────────────────────────────────────


def _wall(session: Session) -> dict[str, Any]:
    now = clock.now()
    o = dashboard.overview(session, now=now)
    rules = rates.current_rules(session)
    first, last = rates.month_period(*rates.month_of(date.fromisoformat(o["today"]), rules.period_start_day),
                                     rules.period_start_day)
    per_county = dashboard.by_county(session, first, min(last, date.fromisoformat(o["today"])))
    hours = dashboard.hourly_today(session, now)
    days = sorted(o["daily"])
    axis = {"axisLine": {"lineStyle": {"color": "#5c6f82"}}, "axisLabel": {"color": "#b8c7d9"},
            "splitLine": {"lineStyle": {"color": "#22344a"}}}
    hourly = {"backgroundColor": "transparent", "animation": False, "grid": {"left": 40, "right": 12, "top": 16, "bottom": 24},
              "tooltip": {"trigger": "axis"}, "xAxis": {"type": "category", "data": [f"{h}时" for h in range(24)], **axis},
              "yAxis": {"type": "value", "minInterval": 1, **axis},
              "series": [{"name": "今日受理", "type": "bar", "data": hours, "itemStyle": {"color": "#4fc3f7"}}]}
    daily = {"backgroundColor": "transparent", "animation": False, "grid": {"left": 44, "right": 12, "top": 16, "bottom": 24},
             "tooltip": {"trigger": "axis"}, "xAxis": {"type": "category", "data": [d[5:] for d in days], **axis},
             "yAxis": {"type": "value", "minInterval": 1, **axis},
             "series": [{"name": "本月每日受理", "type": "line", "smooth": True, "areaStyle": {"opacity": 0.25},
                         "data": [sum(o["daily"][d].values()) for d in days], "itemStyle": {"color": "#ffb74d"}}]}
    centre = o["rates"]
    return {"o": o, "refreshed": clock.local(now).strftime("%H:%M:%S"), "hourly": hourly, "daily": daily,
            "map": county_map(session, per_county, dark=True) | {"backgroundColor": "transparent", "animation": False},
            "rates3": {k: _pct(getattr(centre, k)) if centre else None
                       for k in ("response_rate", "resolution_rate", "satisfaction_rate")},
            "score": centre.score if centre else None, "channels": views.CHANNEL_LABELS,
            "hotspots": hotspot_store.stored(session, period="30d")[:5]}


def _refresh_seconds(refresh: int) -> int:
    return min(max(refresh, 2), 3600)


@router.get("/wall")
def wall_page(request: Request, refresh: int = 60) -> Response:
    with page_work(request, write=False) as ctx:
        if ctx.user.role not in ROLES:
            return refused(request)
        return page(request, "analytics/wall.html", refresh=_refresh_seconds(refresh), map_source=MAP,
                    title="大屏", **_wall(ctx.session))


@router.get("/wall/live")
def wall_live(request: Request) -> Response:
    """The wall's figures and charts alone: htmx swaps them in every minute (no page flash)."""
    with page_work(request, write=False) as ctx:
        if ctx.user.role not in ROLES:
            return refused(request)
        return page(request, "analytics/_wall_live.html", map_source=MAP, **_wall(ctx.session))
