"""数据分析 pages: the monthly ranking from hand-built tickets, the tickets behind each figure, the
dashboard's charts, the wall display's figures, and who may see them."""

from __future__ import annotations

import html
import json
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hotline.analytics import rollups
from hotline.directory import reference, settings
from hotline.kit import clock
from hotline.tickets import lifecycle as L
from hotline.tickets.states import Status
from tests.builders import make_ticket, register

CST = ZoneInfo("Asia/Shanghai")
H = timedelta(hours=1)
NUMBER = re.compile(r'href="/tickets/(\d{8}-\d{6})"')


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=CST)


def handled(session, p, *, accept_after=H, co=True, verdict=("satisfied", True)):
    """A ticket dispatched now to unit A (and its co-handler), accepted after ``accept_after``,
    contacted an hour later, replied and called back with ``verdict`` (satisfaction, resolved).
    Urgent tickets: accept within 2 hours, first contact within 4 (the shipped limits)."""
    t = register(session, p)
    L.dispatch(session, t, actor=p.dispatcher, lead_unit_id=p.unit_a, co_unit_ids=[p.unit_a_co] if co else [])
    start = clock.now()
    clock.freeze(start + accept_after)
    L.accept(session, t, actor=p.handler_a)
    if co:
        L.accept(session, t, actor=p.handler_a_co)
    clock.advance(H)
    L.record_contact(session, t, actor=p.handler_a, note="已电话联系")
    clock.advance(H)
    L.reply(session, t, actor=p.handler_a, text="已处理完毕")
    L.accept_reply(session, t, actor=p.dispatcher)
    clock.advance(H)
    L.record_callback(session, t, actor=p.agent, reached=True, resolved=verdict[1], satisfaction=verdict[0])
    session.flush()
    clock.freeze(start)
    return t


def january(session, people):
    """Unit A: two orders, one signed late (response 50 %), one resolved (50 %), both satisfied or
    basically satisfied (100 %): score 67.5. Its co-handler: one order, on time, not ranked (the
    rule asks for 2)."""
    settings.set_value(session, "assessment.min_orders_ranked", 2)
    clock.freeze(at(2026, 1, 12, 9))
    good = handled(session, people)
    clock.freeze(at(2026, 1, 13, 9))
    late = handled(session, people, accept_after=3 * H, co=False, verdict=("basically_satisfied", False))
    clock.freeze(at(2026, 1, 20, 10))
    rollups.rebuild(session)
    session.commit()
    reference.invalidate()
    return good, late


def row_of(page: str, key: int | str) -> str:
    found = re.search(rf'<tr data-key="{key}">(.*?)</tr>', page, re.S)
    assert found, f"no row for {key}"
    return found.group(1)


def cells(row: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


def test_the_monthly_ranking_shows_each_unit_with_its_rates(site, session, people):
    january(session, people)
    client, _ = site.signed_in("supervisor")
    page = client.get("/analytics/assessment?month=2026-01").text
    assert "考核排名" in page and "2026-01-01 至 2026-01-31" in page
    a = cells(row_of(page, people.unit_a))
    # rank, name, orders, responded, not responded, rate, evaluated, resolved, rate, satisfied, rate, …, score
    assert a[:11] == ["1", "夏县水利局", "2", "1", "1", "50.0%", "2", "1", "50.0%", "2", "100.0%"]
    assert a[13] == "67.5"
    co = cells(row_of(page, people.unit_a_co))
    assert co[0] == "—" and co[1] == "夏县朱吕集中供水站" and co[5] == "100.0%" and "派单量不足 2" in co[14]
    # The centre's figures, and the other dimensions.
    assert "全市响应率" in page and "66.7%" in page  # 2 of 3 orders responded in time
    towns = client.get("/analytics/assessment?month=2026-01&dimension=township").text
    assert "裴介镇" in cells(row_of(towns, "140828102"))[1]
    cats = client.get("/analytics/assessment?month=2026-01&dimension=category").text
    assert cells(row_of(cats, "01"))[1] == "供水"
    # Another month has nothing.
    assert "该考核月暂无考核数据" in client.get("/analytics/assessment?month=2025-12").text


def test_every_count_lists_exactly_the_tickets_behind_it(site, session, people):
    good, late = january(session, people)
    client, _ = site.signed_in("admin")
    row = row_of(client.get("/analytics/assessment?month=2026-01").text, people.unit_a)
    links = {m: html.unescape(h) for h, m in re.findall(r'href="([^"]*measure=(\w+)[^"]*)"', row)}
    assert set(links) >= {"response", "responded", "not_responded", "evaluated", "resolved", "satisfied"}

    def numbers(link: str) -> set[str]:
        r = client.get(link)
        assert r.status_code == 200, r.text
        return set(NUMBER.findall(r.text))

    assert numbers(links["response"]) == {good.number, late.number}
    assert numbers(links["not_responded"]) == {late.number}
    assert numbers(links["resolved"]) == {good.number}
    assert numbers(links["satisfied"]) == {good.number, late.number}  # 基本满意 counts by rule
    page = client.get(links["not_responded"]).text
    assert "夏县水利局 · 未按时响应" in page and "共 1 件" in page
    # A heat map cell: a county and a category, received in the period.
    cell = "/analytics/tickets?dimension=township&key=140828&measure=received&first=2026-01-01&last=2026-01-31&category=01"
    assert numbers(cell) == {good.number, late.number}
    assert numbers(cell.replace("category=01", "category=02")) == set()
    r = client.get("/analytics/tickets?dimension=unit&key=1&measure=nonsense&first=2026-01-01&last=2026-01-31")
    assert r.status_code == 422 and "没有名为 nonsense 的指标" in r.text



def test_a_centre_figure_counting_orders_says_how_many_tickets_its_list_holds(site, session, people):
    """全市 counts orders: the co-handled ticket is two of the three orders, and its list holds two
    tickets. The list says both numbers, so the figure and the list are seen to agree."""
    good, late = january(session, people)
    client, _ = site.signed_in("supervisor")
    page = client.get("/analytics/assessment?month=2026-01").text
    card = page[page.index("全市响应率"):page.index("全市解决率")]
    (link,) = [html.unescape(h) for h in re.findall(r'href="([^"]*measure=response&[^"]*)"', card)]
    assert re.search(r">\s*3\s*</a>", card), card  # 3 orders in the figure
    listed = client.get(link).text
    assert set(NUMBER.findall(listed)) == {good.number, late.number} and "共 2 件" in listed
    assert "统计数为 3 个派单，涉及以下 2 件工单" in listed
    # a unit's own figure counts its orders one per ticket: no such line
    row = row_of(page, people.unit_a)
    (unit_link,) = [html.unescape(h) for h in re.findall(r'href="([^"]*measure=response&[^"]*)"', row)]
    assert 'id="counted"' not in client.get(unit_link).text

def test_the_dashboard_draws_its_charts_from_the_period(site, session, people):
    january(session, people)
    client, _ = site.signed_in("supervisor")
    page = client.get("/analytics?period=custom&first=2026-01-01&last=2026-01-31").text
    assert "数据分析" in page and 'id="kpi-received">2<' in page

    def chart(name: str, text: str = page) -> dict:
        found = re.search(rf'id="chart-{name}" data-chart=\'([^\']*)\'', text)
        assert found, name
        return json.loads(html.unescape(found.group(1)))

    channel = chart("channel")
    assert channel["series"][0]["name"] == "电话" and len(channel["xAxis"]["data"]) == 31
    assert sum(d["value"] for d in channel["series"][0]["data"]) == 2
    heat = chart("heat")
    assert heat["xAxis"]["data"] == ["夏县"] and heat["yAxis"]["data"] == ["供水"]
    assert heat["series"][0]["data"][0]["value"] == [0, 0, 2]
    county = {d["name"]: d for d in chart("map")["series"][0]["data"]}
    assert len(county) == 13 and county["夏县"]["value"] == 2 and county["盐湖区"]["value"] == 0
    assert 'data-map-url="/static/maps/yuncheng.json"' in page and "示意图" in page
    trend = chart("trend")
    assert [s["name"] for s in trend["series"]] == ["响应率", "解决率", "满意率"]
    deadlines = chart("deadlines")
    assert deadlines["yAxis"]["data"][-1].startswith("夏县水利局")
    # A county opens its townships.
    town = client.get(county["夏县"]["link"]).text
    assert chart("heat", town)["xAxis"]["data"] == ["裴介镇"] and "返回全部县" in town
    # A bad date is said in Chinese; the month is shown instead.
    r = client.get("/analytics?period=custom&first=2026-13-01&last=2026-01-31")
    assert r.status_code == 422 and "日期格式须为 YYYY-MM-DD" in r.text
    assert client.get("/static/maps/yuncheng.json").json()["features"][0]["properties"]["code"].startswith("1408")


def test_a_channel_or_kind_bar_lists_exactly_its_tickets(site, session, people):
    """受理量（按渠道/按诉求类型）: a bar opens the tickets it counts, not the whole day."""
    clock.freeze(at(2026, 11, 5, 9))
    for channel, kind in (("phone", "help"), ("phone", "complaint"), ("phone", "help"), ("web", "complaint")):
        register(session, people, channel=channel, kind=kind)
    session.commit()
    with site.db.transaction() as s:
        rollups.rebuild(s)
    client, _ = site.signed_in("supervisor")
    page = client.get("/analytics?period=custom&first=2026-11-05&last=2026-11-05").text

    def bar(chart: str, series: str) -> dict:
        found = re.search(rf'id="chart-{chart}" data-chart=\'([^\']*)\'', page)
        assert found, chart
        (s,) = [s for s in json.loads(html.unescape(found.group(1)))["series"] if s["name"] == series]
        return s["data"][0]

    for chart, series, figure in (("channel", "电话", 3), ("channel", "网站", 1), ("kind", "投诉", 2), ("kind", "求助", 2)):
        item = bar(chart, series)
        assert item["value"] == figure
        listed = client.get(item["link"])
        assert listed.status_code == 200, listed.text
        assert len(set(NUMBER.findall(listed.text))) == figure, (series, item["link"])
        assert f"全部 · {series} · 受理工单" in listed.text and f"共 {figure} 件" in listed.text
    r = client.get("/analytics/tickets?dimension=all&measure=received&first=2026-11-05&last=2026-11-05&channel=fax")
    assert r.status_code == 422 and "未知受理渠道「fax」" in r.text and "phone（电话）" in r.text


def test_the_wall_fragment_renders_the_live_figures(site, session, people):
    clock.freeze(at(2026, 3, 10, 8))
    late = make_ticket(session, people, Status.accepted)
    clock.freeze(at(2026, 3, 10, 9))
    make_ticket(session, people, Status.registered)
    session.commit()
    clock.freeze(late.reply_due_at + 2 * H)  # the first one is late to reply, the second to be dispatched
    with site.db.transaction() as s:
        rollups.rebuild(s)
    client, _ = site.signed_in("supervisor")
    wall = client.get("/wall?refresh=30").text
    assert 'hx-get="/wall/live"' in wall and 'hx-trigger="every 30s"' in wall and "<nav" not in wall
    assert '<link rel="icon" href="/static/favicon.svg"' in wall  # no 404 for /favicon.ico on the display
    fragment = client.get("/wall/live").text
    today = clock.local().date()
    expected_today = 2 if today == datetime(2026, 3, 10).date() else 0
    assert f'id="wall-today">{expected_today}<' in fragment
    assert 'id="wall-month">2<' in fragment
    assert 'id="wall-open">2<' in fragment and 'id="wall-overdue">2<' in fragment
    assert "超期工单 <small>（2）</small>" in client.get("/supervision").text  # the board says the same
    assert 'hx-swap-oob="true"' in fragment and clock.local().strftime("%H:%M:%S") in fragment
    assert "data-chart=" in fragment and "示意图" in fragment


def test_handlers_and_agents_are_refused_and_dispatchers_may_look(site, session, people):
    for persona in ("handler_a", "agent"):
        client, _ = site.signed_in(persona)
        for path in ("/analytics", "/analytics/assessment", "/analytics/tickets?dimension=all&measure=received",
                     "/wall", "/wall/live"):
            assert client.get(path).status_code == 403, (persona, path)
        assert 'href="/analytics"' not in client.get("/tickets").text
    dispatcher, _ = site.signed_in("dispatcher")
    assert dispatcher.get("/analytics").status_code == 200
    assert 'href="/analytics"' in dispatcher.get("/tickets").text
    assert dispatcher.get("/analytics/assessment").status_code == 200
    assert dispatcher.get("/wall/live").status_code == 200


def test_the_wall_numbers_the_units_by_their_rank():
    """The bottom five show their own ranks (a list of 9 ranked units: 9, 8, 7, 6, 5 from the last),
    not 1–5, which read as the best; tied units share a rank."""
    from types import SimpleNamespace

    from hotline.web.render import env

    units = [SimpleNamespace(label=f"单位{i}", score=100 - i, rank=r) for i, r in enumerate([1, 1, 3, 4, 5, 6, 7, 8, 9])]
    o = {"best_units": units[:5], "worst_units": list(reversed(units[5:]))[:5], "daily": {}}
    fragment = env.get_template("analytics/_wall_live.html").render(o=o, rates3=SimpleNamespace(response_rate=None, resolution_rate=None, satisfaction_rate=None), hotspots=[], map={}, hourly={},
                                                                    daily={}, map_source={})
    worst = fragment.split("后五名")[1].split("</ol>")[0]
    assert re.findall(r"counter-set: n (\d+)", worst) == ["9", "8", "7", "6"]
    best = fragment.split("前五名")[1].split("</ol>")[0]
    assert re.findall(r"counter-set: n (\d+)", best) == ["1", "1", "3", "4", "5"]


def test_overdue_now_on_the_dashboard_and_the_wall_is_the_supervision_boards(site, session, people):
    """当前超期 links to the supervision board: it counts the tickets that board lists as 超期工单,
    late at any stage (派单, 签收, 联系来电人, 反馈), not only those late to reply."""
    from tests.analytics.test_overdue import late_at_each_stage

    late_at_each_stage(session, people)
    session.commit()
    with site.db.transaction() as s:
        rollups.rebuild(s)
    client, _ = site.signed_in("supervisor")
    board = client.get("/supervision").text
    assert "超期工单 <small>（3）</small>" in board
    page = client.get("/analytics").text
    card = re.search(r'<a class="kpi late" href="/supervision"><span>当前超期</span><strong>(\d+)</strong>', page)
    assert card and card.group(1) == "3"
    assert 'id="wall-overdue">3<' in client.get("/wall/live").text


def test_a_month_not_understood_is_said_and_this_month_shown(site, session, people):
    """/analytics/assessment?month=2026/10 does not quietly show this month as if asked for: 422,
    the month named back, this month's ranking below it (as /analytics does with a bad date)."""
    clock.freeze(at(2026, 11, 20, 10))
    client, _ = site.signed_in("supervisor")
    for month in ("2026/10", "abc", "2026-13", "1999-01", "2026-10-05"):
        r = client.get("/analytics/assessment", params={"month": month, "dimension": "township"})
        assert r.status_code == 422, month
        text = html.unescape(r.text)
        assert f"无法识别考核月份「{month}」" in text and "如 2026-10" in text and "下面是本考核月的排名" in text
        assert 'role="alert"' in r.text and "2026-11 考核月（2026-11-01 至 2026-11-30）" in text
        assert "dimension=township" in r.text and 'class="on">乡镇（街道）' in r.text  # the dimension kept
    for month in ("", "2026-10", " 2026-10 "):
        r = client.get("/analytics/assessment", params={"month": month})
        assert r.status_code == 200 and 'role="alert"' not in r.text, month
    assert "2026-10 考核月（2026-10-01 至 2026-10-31）" in client.get("/analytics/assessment?month=2026-10").text


def test_days_given_the_wrong_way_round_are_swapped_on_both_pages_and_said(site, session, people):
    """The dashboard and the list behind a figure both count 10-31 .. 10-01 as 10-01 .. 10-31, and
    both say they did (the list used to say 「2026-10-31 至 2026-10-01，共 0 件」)."""
    for day in (3, 20):
        clock.freeze(at(2026, 10, day, 9))
        register(session, people)
    session.commit()
    clock.freeze(at(2026, 11, 2, 9))
    with site.db.transaction() as s:
        rollups.rebuild(s)
    client, _ = site.signed_in("supervisor")
    said = "开始日期 2026-10-31 晚于结束日期 2026-10-01，已对调，按 2026-10-01 至 2026-10-31 统计。"
    r = client.get("/analytics/tickets?dimension=all&key=&measure=received&first=2026-10-31&last=2026-10-01")
    assert r.status_code == 200 and said in r.text
    assert "2026-10-01 至 2026-10-31，共 2 件" in r.text and len(set(NUMBER.findall(r.text))) == 2
    r = client.get("/analytics?period=custom&first=2026-10-31&last=2026-10-01")
    assert r.status_code == 200 and said in r.text
    assert "自定义（2026-10-01 至 2026-10-31）" in r.text and 'id="kpi-received">2<' in r.text
    # in order: nothing said on either
    for path in ("/analytics/tickets?dimension=all&key=&measure=received&first=2026-10-01&last=2026-10-31",
                 "/analytics?period=custom&first=2026-10-01&last=2026-10-31"):
        assert "已对调" not in client.get(path).text


def chart_of(name: str, text: str) -> dict:
    found = re.search(rf'id="chart-{name}" data-chart=\'([^\']*)\'', text)
    assert found, name
    return json.loads(html.unescape(found.group(1)))


def test_a_county_picked_counts_every_figure_of_the_page_in_that_county(site, session, people):
    january(session, people)  # two tickets of 夏县, handled by unit A
    clock.freeze(at(2026, 1, 14, 9))
    register(session, people, region_code="140802001", channel="web")  # 盐湖区, left waiting for 派单
    clock.freeze(at(2026, 1, 20, 10))
    rollups.rebuild(session)
    session.commit()
    client, _ = site.signed_in("supervisor")
    span = "/analytics?period=custom&first=2026-01-01&last=2026-01-31"
    city = client.get(span).text
    assert 'id="region-scope"' not in city and 'id="kpi-received">3<' in city
    assert {s["name"] for s in chart_of("channel", city)["series"]} == {"电话", "网站"}
    xia = client.get(span + "&region=140828").text
    assert 'id="kpi-received">2<' in xia and "受理工单 · 夏县" in xia
    assert "本页各项数字和图表均按 夏县" in xia and "仍为全市数据" not in xia
    channel = chart_of("channel", xia)
    assert [s["name"] for s in channel["series"]] == ["电话"]  # the 盐湖区 web ticket is not 夏县's
    assert sum(d["value"] for d in channel["series"][0]["data"]) == 2
    assert "region=140828" in channel["series"][0]["data"][11]["link"]
    assert chart_of("deadlines", xia)["yAxis"]["data"][-1].startswith("夏县水利局")
    assert "&region=140828" in chart_of("trend", xia)["series"][0]["data"][0]["link"]
    yanhu = client.get(span + "&region=140802").text
    assert 'id="kpi-received">1<' in yanhu and [s["name"] for s in chart_of("channel", yanhu)["series"]] == ["网站"]
    assert 'id="chart-deadlines"' not in yanhu and 'id="chart-trend"' not in yanhu  # nothing dispatched there
    assert re.search(r"当前超期 · 盐湖区</span><strong>1<", yanhu)  # late for 派单
    assert re.search(r"当前在办 · 夏县</span><strong>2<", xia)
    # the map stays the city's, the county picked outlined
    counties = {d["name"]: d for d in chart_of("map", yanhu)["series"][0]["data"]}
    assert counties["夏县"]["value"] == 2 and "itemStyle" in counties["盐湖区"] and "itemStyle" not in counties["夏县"]
    # a bar's tickets are the county's
    drilled = client.get(channel["series"][0]["data"][11]["link"]).text
    assert len(set(NUMBER.findall(drilled))) == 1 and "夏县 · 全部" in drilled
    # a code that is no region is said, and the whole city's figures shown, not a county of zeros
    unknown = client.get(span + "&region=999999")
    assert unknown.status_code == 422 and 'role="alert"' in unknown.text
    assert "没有编码为 999999 的行政区划，以下为全市数据" in unknown.text
    assert "已选 999999" not in unknown.text and 'id="region-scope"' not in unknown.text
    assert 'id="kpi-received">3<' in unknown.text


def test_days_far_in_the_future_or_past_are_refused_in_words_not_a_server_error(site, session, people):
    """/analytics with 9999-12-31 (the month after it would be in the year 10000) and the list
    behind a figure: 422 and the range named, this month's dashboard shown below."""
    clock.freeze(at(2026, 11, 20, 10))
    client, _ = site.signed_in("supervisor")
    for first, last in (("9999-12-30", "9999-12-31"), ("2101-01-01", "2101-01-31"), ("1900-01-01", "1900-01-31")):
        r = client.get(f"/analytics?period=custom&first={first}&last={last}")
        assert r.status_code == 422, (first, last)
        assert f"日期须在 2000-01-01 至 2100-12-31 之间，收到 {first}" in r.text and 'role="alert"' in r.text
        assert "本月（2026-11-01 至 2026-11-20）" in r.text
        r = client.get(f"/analytics/tickets?dimension=all&key=&measure=received&first={first}&last={last}")
        assert r.status_code == 422 and "2000-01-01 至 2100-12-31" in r.text
    assert client.get("/analytics?period=custom&first=2100-12-01&last=2100-12-31").status_code == 200


def test_days_typed_with_a_preset_chosen_are_counted_as_a_custom_period(site, session, people):
    """本月 chosen, 2026-10-01 to 2026-10-31 typed, 查看: October is counted (the days were ignored
    and 本月 shown). Without script the server tells typed days from the ones it showed."""
    for day in (3, 20):
        clock.freeze(at(2026, 10, day, 9))
        register(session, people)
    session.commit()
    clock.freeze(at(2026, 11, 20, 10))
    with site.db.transaction() as s:
        rollups.rebuild(s)
    client, _ = site.signed_in("supervisor")
    page = client.get("/analytics").text
    assert 'name="shown_first" value="2026-11-01"' in page and 'name="shown_last" value="2026-11-20"' in page
    r = client.get("/analytics", params={"period": "month", "first": "2026-10-01", "last": "2026-10-31",
                                         "shown_first": "2026-11-01", "shown_last": "2026-11-20"})
    assert r.status_code == 200 and "自定义（2026-10-01 至 2026-10-31）" in r.text and 'id="kpi-received">2<' in r.text
    assert 'value="custom" checked' in r.text
    # A preset chosen with the days left as shown is that preset.
    r = client.get("/analytics", params={"period": "week", "first": "2026-11-01", "last": "2026-11-20",
                                         "shown_first": "2026-11-01", "shown_last": "2026-11-20"})
    assert "本周（2026-11-16 至 2026-11-20）" in r.text
