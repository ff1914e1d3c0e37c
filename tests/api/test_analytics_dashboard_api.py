"""The dashboard through the API with a county asked for: every figure is the page's (the same
function, ``dashboard.board``) and a plain count over the county's tickets, and not the city's; only
the county figures stay the city's, as the page's map does."""

from __future__ import annotations

from hotline.analytics import dashboard
from tests.analytics.test_dashboard_region import JAN, XIA, YANHU, plain, totals, two_counties

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
