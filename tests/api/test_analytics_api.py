"""Assessment through the API: a supervisor reads the ranking and the tickets behind a figure,
rules a malicious request out and sees the unit's rate change; a handler may not read it."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hotline.analytics import rollups
from hotline.kit import clock
from tests.analytics.test_rates import handled

CST = ZoneInfo("Asia/Shanghai")


def test_ranking_drill_down_and_exclusion(api, session, people):
    p = people
    clock.freeze(datetime(2026, 1, 12, 9, tzinfo=CST))
    good = handled(session, p, co=False)
    late = handled(session, p, accept_after=timedelta(hours=3), co=False)
    clock.freeze(datetime(2026, 1, 20, tzinfo=CST))
    rollups.rebuild(session)
    session.commit()
    sup = api.as_("supervisor")
    r = sup.get("/analytics/rankings/2026/1", params={"dimension": "unit"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["first"] == "2026-01-01" and body["weights"]["response"] == 0.3
    row = next(x for x in body["rows"] if x["key"] == str(p.unit_a))
    assert row["label"] == "夏县水利局" and row["response_rate"] == 0.5 and row["rank"] is None  # 2 < 5 orders
    r = sup.get("/analytics/tickets", params={"dimension": "unit", "key": str(p.unit_a), "measure": "not_responded",
                                              "first": "2026-01-01", "last": "2026-01-31"})
    assert r.status_code == 200 and [t["number"] for t in r.json()["tickets"]] == [late.number]
    assert (r.json()["counts"], r.json()["counted"], r.json()["total"]) == ("orders", 1, 1)
    r = sup.get("/analytics/tickets", params={"measure": "evaluated", "first": "2026-01-01", "last": "2026-01-31"})
    assert (r.json()["counts"], r.json()["counted"], r.json()["total"]) == ("callbacks", 2, 2)
    assert api.as_("handler_a").get("/analytics/rankings/2026/1").status_code == 403
    assert sup.get("/analytics/rates", params={"dimension": "street"}).status_code == 422
    assert sup.get("/analytics/tickets", params={"measure": "nope"}).status_code == 422
    # a volume bar: the tickets received by one channel, or of one kind
    span = {"measure": "received", "first": "2026-01-12", "last": "2026-01-12"}
    assert sup.get("/analytics/tickets", params=span | {"channel": "phone"}).json()["total"] == 2
    assert sup.get("/analytics/tickets", params=span | {"channel": "web"}).json()["total"] == 0
    assert sup.get("/analytics/tickets", params=span | {"kind": "complaint"}).json()["total"] == 0
    assert sup.get("/analytics/tickets", params=span | {"kind": "nope"}).status_code == 422
    r = sup.post(f"/analytics/exclusions/{late.number}", json={"reason": "malicious", "note": "经核实为恶意诉求"})
    assert r.status_code == 200 and r.json()["assessment_exclusion"] == "malicious"
    assert api.as_("handler_a").post(f"/analytics/exclusions/{good.number}",
                                     json={"reason": "invalid", "note": "x"}).status_code in (403, 404)
    with api.db.transaction() as s:
        rollups.refresh(s)
    row = next(x for x in sup.get("/analytics/rates", params={"first": "2026-01-01", "last": "2026-01-31"}).json()
               if x["key"] == str(p.unit_a))
    assert row["response_rate"] == 1.0 and row["response_base"] == 1
    r = sup.get("/analytics/dashboard", params={"first": "2026-01-01", "last": "2026-01-31"})
    assert r.status_code == 200 and sum(r.json()["by_county"].values()) == 2
    assert sup.get("/analytics/overview").status_code == 200


def zhulv_outage(session, people) -> set[int]:
    """Four calls of one water outage in 朱吕村 on 12 January, the worker's hot spots stored on the 13th."""
    from hotline.analytics.hotspots import refresh_snapshots
    from tests.builders import register

    clock.freeze(datetime(2026, 1, 12, 8, tzinfo=CST))
    texts = ["朱吕村停水了，供水站闸阀井漏水，村里一天没水", "朱吕村又停水，闸阀井漏水严重，请派人修",
             "我们朱吕村停水两天了，供水闸阀井一直漏水", "朱吕村供水站闸阀井漏水导致全村停水"]
    numbers = set()
    for i, text in enumerate(texts):
        clock.advance(timedelta(minutes=20))
        numbers.add(register(session, people, content=text, caller_phone=f"1380359{i:04d}").id)
    clock.freeze(datetime(2026, 1, 13, 9, tzinfo=CST))
    refresh_snapshots(session, clock.now())
    session.commit()
    return numbers


def test_hot_spots_stored_by_the_worker_and_on_demand(api, session, people):
    numbers = zhulv_outage(session, people)
    sup = api.as_("supervisor")
    r = sup.get("/analytics/hotspots", params={"period": "yesterday"})
    assert r.status_code == 200, r.text
    [top] = r.json()
    assert set(top["ticket_ids"]) == numbers and "朱吕" in top["label"] + top["place"]
    r = sup.get("/analytics/hotspots", params={"first": "2026-01-12", "last": "2026-01-12", "region_code": "140828"})
    assert r.status_code == 200 and set(r.json()[0]["ticket_ids"]) == numbers
    assert sup.get("/analytics/hotspots", params={"period": "forever"}).status_code == 422
    assert api.as_("agent").get("/analytics/hotspots", params={"period": "7d"}).status_code == 403


def test_hot_spots_stored_or_computed_answer_one_row_shape(api, session, people):
    """A client reads the same fields whichever way it asks: one schema, every field in every row."""
    zhulv_outage(session, people)
    sup = api.as_("supervisor")
    document = api.client.document()
    answer = document.spec["paths"]["/api/v1/analytics/hotspots"]["get"]["responses"]["200"]
    schema = answer["content"]["application/json"]["schema"]
    assert set(schema) == {"type", "items", "title"} and set(schema["items"]) == {"$ref"}  # no anyOf of two shapes
    row = document.resolve(schema["items"])
    stored = sup.get("/analytics/hotspots", params={"period": "yesterday"}).json()
    computed = sup.get("/analytics/hotspots", params={"first": "2026-01-12", "last": "2026-01-12"}).json()
    assert stored and computed
    for spot in stored + computed:
        assert document.problems(row, spot) == []
        assert set(spot) == set(row["properties"]) == set(row["required"])
        assert spot["rank"] == 1 and spot["ticket_count"] == spot["size"] == 4
        assert spot["township"] == spot["area_code"] == "140828102"
    assert set(stored[0]["ticket_ids"]) == set(computed[0]["ticket_ids"])


def _enum(spec: dict, path: str, name: str) -> list:
    param = next(p for p in spec["paths"]["/api/v1" + path]["get"]["parameters"] if p["name"] == name)
    return next(s for s in param["schema"].get("anyOf", [param["schema"]]) if s.get("type") != "null")["enum"]


def test_the_documented_choices_are_the_ones_the_server_takes(api):
    """Every measure, dimension and period the document lists gives 200; anything else a 422 in the
    server's own words, and the month of a ranking 1–12."""
    sup = api.as_("supervisor")
    spec = api.client.get("/api/v1/openapi.json").json()
    span = {"first": "2026-01-01", "last": "2026-01-31"}
    measures = _enum(spec, "/analytics/tickets", "measure")
    assert len(measures) == 16
    for measure in measures:
        r = sup.get("/analytics/tickets", params=span | {"measure": measure})
        assert r.status_code == 200, (measure, r.text)
    for dimension in _enum(spec, "/analytics/tickets", "dimension"):
        key = {"unit": "1", "township": "140828102", "category": "01", "all": ""}[dimension]
        r = sup.get("/analytics/tickets", params=span | {"measure": "received", "dimension": dimension, "key": key})
        assert r.status_code == 200, (dimension, r.text)
    for dimension in _enum(spec, "/analytics/rates", "dimension"):
        assert sup.get("/analytics/rates", params=span | {"dimension": dimension}).status_code == 200, dimension
    for dimension in _enum(spec, "/analytics/rankings/{year}/{month}", "dimension"):
        assert sup.get("/analytics/rankings/2026/1", params={"dimension": dimension}).status_code == 200, dimension
    for period in _enum(spec, "/analytics/hotspots", "period"):
        assert sup.get("/analytics/hotspots", params={"period": period}).status_code == 200, period

    def refusal(path: str, **params: str) -> str:
        r = sup.get(path, params=params)
        assert r.status_code == 422, r.text
        return r.json()["error"]["message"]

    assert "没有名为 nope 的指标；可选：response、" in refusal("/analytics/tickets", measure="nope")
    # Each names the field in Chinese and then its code, as every other refusal does.
    assert "维度（dimension）: 须为 unit、township、category、all" in refusal("/analytics/rates", dimension="street")
    assert "统计周期（period）: 须为 yesterday、7d、30d" in refusal("/analytics/hotspots", period="90d")
    assert "前几名（top）: 须不大于 50" in refusal("/analytics/hotspots", top="51")
    assert "月份无效" in refusal("/analytics/rankings/2026/13")
    assert "月份无效" in refusal("/analytics/rankings/2026/0")
    assert "年份（year）: 须不小于 2000" in refusal("/analytics/rankings/1999/1")
    assert sup.get("/analytics/rankings/2100/12").status_code == 200


def test_an_exclusion_reason_is_one_of_the_documented_two(api, session, people):
    spec = api.client.get("/api/v1/openapi.json").json()
    ref = spec["paths"]["/api/v1/analytics/exclusions/{key}"]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert spec["components"]["schemas"][ref.split("/")[-1]]["properties"]["reason"]["enum"] == ["invalid", "malicious"]
    ticket = api.as_("agent").register()
    sup = api.as_("supervisor")
    r = sup.post(f"/analytics/exclusions/{ticket['number']}", json={"reason": "spam", "note": "x"})
    assert r.status_code == 422 and "认定理由须为 invalid（无效诉求）、malicious（恶意诉求）" in r.json()["error"]["message"]
    r = sup.post(f"/analytics/exclusions/{ticket['number']}", json={"reason": "invalid", "note": "重复的无效来电"})
    assert r.status_code == 200 and r.json()["assessment_exclusion"] == "invalid"


def test_days_beyond_the_range_are_refused_not_a_server_error(api):
    sup = api.as_("supervisor")
    for path in ("/analytics/dashboard", "/analytics/rates", "/analytics/tickets"):
        r = sup.get(path, params={"first": "9999-12-30", "last": "9999-12-31", "dimension": "all",
                                  "measure": "received"})
        assert r.status_code == 422, (path, r.text)
        assert "2000-01-01 至 2100-12-31" in r.json()["error"]["message"]
