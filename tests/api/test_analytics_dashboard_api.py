"""The dashboard through the API with a county asked for: every figure is the page's (the same
function, ``dashboard.board``) and a plain count over the county's tickets, and not the city's; only
the county figures stay the city's, as the page's map does."""

from __future__ import annotations

import html
import json
import re
from datetime import date, datetime

import pytest
from sqlalchemy import update

from hotline.accounts.models import User
from hotline.accounts.service import hash_password
from hotline.analytics import dashboard, rollups
from hotline.config import Settings
from hotline.kit import clock
from hotline.web.app import create_site
from tests.analytics.test_dashboard_region import JAN, XIA, YANHU, plain, totals, two_counties
from tests.analytics.test_rates import CST, handled
from tests.web.conftest import PASSWORD, Site

SPAN = {"first": JAN[0].isoformat(), "last": JAN[1].isoformat()}


def test_every_api_figure_follows_the_county_asked_for(api, session, people):
    two_counties(session, people)
    session.commit()
    sup = api.as_("supervisor")
    city = sup.get("/analytics/dashboard", params=SPAN).json()
    for county in (XIA, YANHU):
        r = sup.get("/analytics/dashboard", params=SPAN | {"region_code": county})
        assert r.status_code == 200, r.text
        got, want = r.json(), plain(session, county)
        # the page's figures for the county: the very function the page draws its charts from
        page = dashboard.board(session, *JAN, region_code=county)
        assert got["volume_by_channel"] == page["volume_by_channel"]
        assert got["volume_by_kind"] == page["volume_by_kind"]
        assert totals(got["volume_by_channel"]) == want["channels"] != totals(city["volume_by_channel"])
        assert totals(got["volume_by_kind"]) == want["kinds"] != totals(city["volume_by_kind"])
        assert got["region_code"] == county and city["region_code"] is None
        assert got["open_now"] == want["open"] == page["open_now"] != city["open_now"]
        assert got["overdue_now"] == page["overdue_now"] == dashboard.overdue_total(session, region_code=county)
        replied = {r["unit_id"]: r["replied"] for r in got["deadlines_by_unit"] if r["replied"]}
        assert replied == dict(want["replied"]) != {r["unit_id"]: r["replied"] for r in city["deadlines_by_unit"]
                                                    if r["replied"]}
        assert got["deadlines_by_unit"] == page["deadlines_by_unit"]
        evaluated = sum(t["evaluated"] for t in got["satisfaction_trend"])
        assert evaluated == want["evaluated"] != sum(t["evaluated"] for t in city["satisfaction_trend"])
        assert got["satisfaction_trend"] == page["satisfaction_trend"]
        # the heat map by township inside the county; the county map stays the city's
        assert {c["area"] for c in got["heat"]} and all(c["area"].startswith(county) and len(c["area"]) == 9
                                                          for c in got["heat"])
        assert sum(c["tickets"] for c in got["heat"]) == sum(page["heat"].values())
        assert got["by_county"] == city["by_county"] == {XIA: 3, YANHU: 3}
    # overdue now: the two late tickets are 盐湖区's, none is 夏县's
    assert city["overdue_now"] == 2
    assert [sup.get("/analytics/dashboard", params=SPAN | {"region_code": c}).json()["overdue_now"]
            for c in (XIA, YANHU)] == [0, 2]


def test_the_operation_documents_region_code(api):
    doc = api.as_("supervisor").get("/openapi.json").json()
    op = doc["paths"]["/api/v1/analytics/dashboard"]["get"]
    assert "region_code" in op["description"]
    param = next(p for p in op["parameters"] if p["name"] == "region_code")
    assert "inside" in param["description"]


# ---------------------------------------------------------------- the 三率 trend: per day or per month


@pytest.fixture
def pages(db, people, tmp_path) -> Site:
    """The staff pages over the same database (as ``tests/web``'s ``site``), to read the page's chart."""
    with db.transaction() as s:
        s.execute(update(User).values(password_hash=hash_password(PASSWORD)))
    return Site(db, people, create_site(Settings(data_dir=tmp_path, database_url=db.url), database=db))


def two_months_of_callbacks(session, people) -> None:
    """Callbacks in November 2025 (one satisfied) and January 2026 (one satisfied, one not)."""
    clock.freeze(datetime(2025, 11, 12, 9, tzinfo=CST))
    handled(session, people)
    clock.freeze(datetime(2026, 1, 12, 9, tzinfo=CST))
    handled(session, people)
    handled(session, people, verdict=("dissatisfied", False), co=False)
    clock.freeze(datetime(2026, 1, 20, 10, tzinfo=CST))
    rollups.rebuild(session)
    session.commit()


def page_trend(client, first: date, last: date) -> dict:
    r = client.get(f"/analytics?period=custom&first={first}&last={last}")
    assert r.status_code == 200, r.text
    found = re.search(r'id="chart-trend" data-chart=\'([^\']*)\'', r.text)
    assert found, "no trend chart on the page"
    return json.loads(html.unescape(found.group(1)))


@pytest.mark.parametrize(("last", "granularity"), [
    (date(2026, 1, 13), "day"),     # 63 days, the longest range the page draws by day
    (date(2026, 1, 14), "month"),   # one day more: by month
])
def test_the_trend_is_per_day_or_per_month_as_the_page_draws_it(api, pages, session, people, last, granularity):
    two_months_of_callbacks(session, people)
    first = date(2025, 11, 12)
    r = api.as_("supervisor").get("/analytics/dashboard", params={"first": first.isoformat(), "last": last.isoformat()})
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["trend_granularity"] == granularity == dashboard.trend_granularity(first, last)
    trend = got["satisfaction_trend"]
    periods = [t["period"] for t in trend]
    if granularity == "month":
        assert periods == ["2025-11", "2026-01"]
    else:
        assert "2025-11-12" in periods and "2026-01-12" in periods
        assert all(len(p) == 10 and first.isoformat() <= p <= last.isoformat() for p in periods)
    assert sum(t["evaluated"] for t in trend) == 3
    # the page's chart: the same points (labelled MM-DD by day), the same rates in percent
    client, _ = pages.signed_in("supervisor")
    chart = page_trend(client, first, last)
    assert chart["xAxis"]["data"] == [p if granularity == "month" else p[5:] for p in periods]
    for series, key in zip(chart["series"], ("response_rate", "resolution_rate", "satisfaction_rate"), strict=True):
        assert [d["value"] for d in series["data"]] == [None if t[key] is None else round(100 * t[key], 1)
                                                       for t in trend]


def test_the_trend_granularity_is_in_the_document(api):
    doc = api.as_("supervisor").get("/openapi.json").json()
    schema = doc["components"]["schemas"]["DashboardOut"]
    assert "trend_granularity" in schema["required"]
    assert schema["properties"]["trend_granularity"]["enum"] == ["day", "month"]
    assert "trend_granularity" in doc["paths"]["/api/v1/analytics/dashboard"]["get"]["description"]


def test_month_points_are_assessment_months_and_their_links_list_their_tickets(api, pages, session, people):
    """考核月从每月26日开始: a callback on 28 December counts in January's point (26 Dec–25 Jan), as
    January's ranking counts it, and the point's link lists exactly the tickets it counted."""
    from hotline.directory import settings

    settings.set_value(session, "assessment.period_start_day", 26)
    clock.freeze(datetime(2025, 11, 12, 9, tzinfo=CST))
    handled(session, people)
    clock.freeze(datetime(2025, 12, 28, 9, tzinfo=CST))
    late = handled(session, people, verdict=("dissatisfied", False), co=False)
    clock.freeze(datetime(2026, 1, 12, 9, tzinfo=CST))
    handled(session, people)
    clock.freeze(datetime(2026, 1, 20, 10, tzinfo=CST))
    rollups.rebuild(session)
    session.commit()
    first, last = date(2025, 11, 1), date(2026, 1, 20)
    got = api.as_("supervisor").get("/analytics/dashboard",
                                    params={"first": first.isoformat(), "last": last.isoformat()}).json()
    assert got["trend_granularity"] == "month"
    assert [(t["period"], t["evaluated"]) for t in got["satisfaction_trend"]] == [("2025-11", 1), ("2026-01", 2)]
    client, _ = pages.signed_in("supervisor")
    chart = page_trend(client, first, last)
    assert chart["xAxis"]["data"] == ["2025-11", "2026-01"]
    satisfaction = next(s for s in chart["series"] if s["name"] == "满意率")
    assert [d["value"] for d in satisfaction["data"]] == [100.0, 50.0]
    listed = client.get(html.unescape(satisfaction["data"][1]["link"]))
    assert listed.status_code == 200 and late.number in listed.text
    assert client.get(html.unescape(satisfaction["data"][0]["link"])).text.count(late.number) == 0


def test_the_dashboard_refuses_what_the_page_refuses_a_year_and_a_day_or_an_unknown_region(api):
    """The page counts at most a year (366 days) and only known regions; so does the API, in its
    own error shape, naming the field."""
    sup = api.as_("supervisor")
    assert sup.get("/analytics/dashboard", params={"first": "2025-01-01", "last": "2026-01-01"}).status_code == 200
    for last in ("2026-01-02", "2026-11-30"):  # 367 and 699 days
        r = sup.get("/analytics/dashboard", params={"first": "2025-01-01", "last": last})
        assert r.status_code == 422, r.text
        error = r.json()["error"]
        assert error["code"] == "period_too_long" and error["message"] == f"时间段最长 {dashboard.MAX_DAYS} 天"
        assert error["details"] == {"field": "last"}
    r = sup.get("/analytics/dashboard", params=SPAN | {"region_code": "999999"})
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "unknown_region" and error["details"] == {"field": "region_code"}
    assert error["message"] == "行政区划代码（region_code）：没有编码为 999999 的行政区划"


def test_hot_spots_refuse_an_unknown_region_as_the_dashboard_does(api):
    sup = api.as_("supervisor")
    for params in ({"region_code": "999999"}, {"region_code": "999999", "period": "7d"}):
        r = sup.get("/analytics/hotspots", params=params)
        assert r.status_code == 422, r.text
        error = r.json()["error"]
        assert error["code"] == "unknown_region" and error["details"] == {"field": "region_code"}
    assert sup.get("/analytics/hotspots", params={"region_code": "140828", "period": "7d"}).status_code == 200
