"""Briefings (日报/周报/月报) on a hand-built set of tickets: the numbers a reader checks against the
ticket list, the Excel workbook and the printable page, the worker's daily run, the page and the
command that make one on demand.

The day: Wednesday 11 March 2026 (Asia/Shanghai). 夏县水利局 answers three urgent leak reports at
朱吕村 on time, callers satisfied; 夏县住房和城乡建设局 signs one web complaint late and its caller is
not satisfied. The day before, two calls were registered and not yet dispatched.
"""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from hotline.analytics import rollups
from hotline.cli.main import cli
from hotline.directory import reference, settings
from hotline.kit import clock
from hotline.kit.errors import NotFound
from hotline.reports import excel, html, periods, problems, schedule, store
from hotline.reports.build import build
from hotline.tickets import lifecycle as L
from hotline.worker.jobs import generate_reports
from tests.builders import register

CST = ZoneInfo("Asia/Shanghai")
H = timedelta(hours=1)
DAY = date(2026, 3, 11)
MIAOQIAN_XUEZHUANG = "140828101206"  # 夏县庙前镇薛庄村 (朱吕村 is in 裴介镇)


def at(d: date, hour: int = 9) -> datetime:
    return datetime(d.year, d.month, d.day, hour, tzinfo=CST)


def handled(session, p, *, unit, handler, start, accept_after=H, verdict=("satisfied", True), **fields):
    """A ticket received at ``start``, dispatched to ``unit``, signed after ``accept_after``, the
    caller contacted half an hour later, replied and called back with ``verdict``."""
    clock.freeze(start)
    t = register(session, p, **fields)
    L.dispatch(session, t, actor=p.dispatcher, lead_unit_id=unit)
    clock.freeze(start + accept_after)
    L.accept(session, t, actor=handler)
    clock.advance(H / 2)
    L.record_contact(session, t, actor=handler, note="已电话联系来电人")
    clock.advance(H)
    L.reply(session, t, actor=handler, text="已处理完毕")
    L.accept_reply(session, t, actor=p.dispatcher)
    clock.advance(H)
    L.record_callback(session, t, actor=p.agent, reached=True, resolved=verdict[1], satisfaction=verdict[0])
    session.flush()
    return t


def few_orders_ranked(session, n: int = 1) -> None:
    settings.set_value(session, "assessment.min_orders_ranked", n)
    session.flush()
    reference.invalidate()


@pytest.fixture
def day_set(session, people):
    """The day's tickets (module docstring), rollups rebuilt the next morning; returns their ids."""
    p = people
    few_orders_ranked(session)
    for hour in (9, 10):
        clock.freeze(at(DAY - timedelta(days=1), hour))
        register(session, p, caller_phone=f"1380359{hour:04d}")
    water = [handled(session, p, unit=p.unit_a, handler=p.handler_a, start=at(DAY, 8 + i),
                     caller_phone=f"1390359000{i}") for i in range(3)]
    housing = handled(session, p, unit=p.unit_b, handler=p.handler_b, start=at(DAY, 14), accept_after=3 * H,
                      verdict=("dissatisfied", False), channel="web", kind="complaint",
                      caller_phone="13903590009")
    clock.freeze(at(DAY + timedelta(days=1), 7))
    rollups.rebuild(session)
    session.commit()
    return [t.id for t in water], housing.id


def test_the_daily_report_counts_the_days_tickets_and_ranks_the_units(session, people, day_set):
    water, housing = day_set
    r = build(session, "daily", DAY)
    assert (r.period.first, r.period.last, r.period.label) == (DAY, DAY, "2026-03-11")
    assert r.previous.label == "2026-03-10"
    assert (r.volume.total.count, r.volume.total.previous, r.volume.total.change) == (4, 2, 2)
    channels = {s.key: (s.label, s.count, s.previous) for s in r.volume.by_channel}
    assert channels == {"phone": ("电话", 3, 2), "web": ("网站", 1, 0)}
    kinds = {s.label: s.count for s in r.volume.by_kind}
    assert kinds == {"求助": 3, "投诉": 1}
    # The centre: 3 of 4 orders responded in time; 3 of 4 callbacks resolved and satisfied.
    assert r.centre.response_rate == pytest.approx(0.75)
    assert r.centre.resolution_rate == pytest.approx(0.75)
    assert r.centre.satisfaction_rate == pytest.approx(0.75)
    units = {f.label: f for f in r.units}
    water_unit, housing_unit = units["夏县水利局"], units["夏县住房和城乡建设局"]
    assert (water_unit.rank, water_unit.response_base, water_unit.responded) == (1, 3, 3)
    assert water_unit.satisfaction_rate == 1.0 and water_unit.score == pytest.approx(100.0)
    assert (housing_unit.rank, housing_unit.response_rate, housing_unit.score) == (2, 0.0, 0.0)
    assert [f.label for f in r.townships] == ["夏县裴介镇"] and r.townships[0].response_base == 4
    # The four leak reports from 朱吕村 make the day's hot spot.
    assert r.hot_spots and set(water) <= set(r.hot_spots[0].ticket_ids)
    assert r.hot_spots[0].area == "夏县裴介镇" and len(r.hot_spots[0].ticket_numbers) == r.hot_spots[0].size


def test_weekly_and_monthly_periods(session, people, day_set):
    week = build(session, "weekly", DAY)
    assert (week.period.first, week.period.last, week.period.label) == (date(2026, 3, 9), date(2026, 3, 15), "2026-W11")
    assert week.volume.total.count == 6 and week.volume.total.previous == 0
    month = build(session, "monthly", DAY)
    assert (month.period.first, month.period.last, month.period.label) == (date(2026, 3, 1), date(2026, 3, 31), "2026-03")
    assert [m.label for m in month.problem_months] == ["2026-01", "2026-02", "2026-03"]
    # An assessment month from the 26th: 26 February to 25 March is March's.
    settings.set_value(session, "assessment.period_start_day", 26)
    session.flush()
    reference.invalidate()
    shifted = build(session, "monthly", date(2026, 3, 27), now=at(date(2026, 3, 27), 12))  # once it has begun
    assert (shifted.period.first, shifted.period.last, shifted.period.label) == (date(2026, 3, 26), date(2026, 4, 25),
                                                                                "2026-04")
    assert shifted.previous.first == date(2026, 2, 26)


def test_a_problem_recurring_three_months_is_a_monthly_candidate_a_single_burst_is_not(session, people):
    p = people
    outage = "朱吕村又停水了，自来水一滴都没有，请供水站尽快恢复供水"
    for month, count in ((1, 3), (2, 4), (3, 5)):
        for i in range(count):
            clock.freeze(datetime(2026, month, 10 + i, 9, tzinfo=CST))
            register(session, p, category_code="0101", content=outage, caller_phone=f"139035{month:02d}{i:03d}")
    for month in (1, 2, 3):  # questions are not problems: 庙前镇 asking about water bills every month
        for i in range(5):
            clock.freeze(datetime(2026, month, 3, 9 + i, tzinfo=CST))
            register(session, p, category_code="0104", kind="consultation", region_code=MIAOQIAN_XUEZHUANG,
                     content="咨询水费怎么交", caller_phone=f"136035{month:02d}{i:03d}")
    for i in range(4):  # 庙前镇 rubbish: only in March
        clock.freeze(datetime(2026, 3, 5, 9 + i, tzinfo=CST))
        register(session, p, category_code="0501", region_code=MIAOQIAN_XUEZHUANG, content="薛庄村垃圾堆放没人清理",
                 caller_phone=f"1370359{i:04d}")
    clock.freeze(datetime(2026, 4, 1, 7, tzinfo=CST))
    rollups.rebuild(session)
    r = build(session, "monthly", date(2026, 3, 31))
    assert len(r.problems) == 1
    c = r.problems[0]
    assert (c.category_code, c.township_code, c.township) == ("0101", "140828102", "夏县裴介镇")
    assert c.category == "供水 / 停水"
    assert (c.months, c.counts, c.in_top, c.total, c.months_in_top) == (
        ["2026-01", "2026-02", "2026-03"], [3, 4, 5], [True, True, True], 12, 3)
    # Two of the three months are enough; one is not.
    months = periods.months_back(periods.period_of("monthly", date(2026, 2, 28)), 3)
    assert [m.label for m in months] == ["2025-12", "2026-01", "2026-02"]
    assert [x.counts for x in problems.candidates(session, months)] == [[0, 3, 4]]
    months = periods.months_back(periods.period_of("monthly", date(2026, 1, 31)), 3)
    assert problems.candidates(session, months) == []


def test_the_workbook_has_the_sheets_and_the_figures(session, people, day_set, tmp_path):
    r = build(session, "daily", DAY)
    wb = load_workbook(excel.write(r, tmp_path / "r.xlsx"))
    assert wb.sheetnames == list(excel.SHEETS) == ["概况", "单位排名", "乡镇排名", "热点", "每月一题"]
    units = wb["单位排名"]
    assert units.freeze_panes == "A2" and units["A1"].value == "排名" and units["A1"].font.bold
    assert [units.cell(row=2, column=c).value for c in (1, 2, 3, 4, 6)] == [1, "夏县水利局", 3, 3, 1.0]
    assert units["F2"].number_format == excel.PERCENT and units["N2"].value == pytest.approx(100.0)
    assert [units.cell(row=3, column=c).value for c in (1, 2, 6)] == [2, "夏县住房和城乡建设局", 0.0]
    overview = {row[0]: row[1:4] for row in wb["概况"].iter_rows(min_row=2, values_only=True)}
    assert overview["受理量"] == (4, 2, 2)
    assert overview["渠道：电话"] == (3, 2, 1)
    assert overview["响应率"][0] == pytest.approx(0.75)
    assert wb["乡镇排名"]["B2"].value == "夏县裴介镇"
    assert wb["热点"]["B1"].value == "热点" and wb["热点"]["E2"].value == r.hot_spots[0].size
    assert wb["每月一题"].freeze_panes == "A2"


def test_empty_sheets_say_so(session, people, day_set, tmp_path):
    r = build(session, "daily", DAY)
    r.hot_spots, r.problems = [], []
    wb = load_workbook(excel.write(r, tmp_path / "r.xlsx"))
    assert wb["热点"]["B2"].value.startswith("本期无热点")
    assert wb["每月一题"]["B2"].value == "暂无“每月一题”候选"


def test_hot_spot_titles_from_citizens_words_are_text_not_formulas(session, people, day_set, tmp_path):
    from tests.kit.test_sheets import assert_no_formulas

    r = build(session, "daily", DAY)
    spot = r.hot_spots[0]
    spot.label, spot.keywords = '=HYPERLINK("http://evil.example/x","点…', ["=1+1", "-停水", "@水管"]
    assert_no_formulas(excel.write(r, tmp_path / "r.xlsx").read_bytes(),
                       '=HYPERLINK("http://evil.example/x","点…', "=1+1、-停水、@水管")
    assert load_workbook(tmp_path / "r.xlsx")["热点"]["B2"].value == '=HYPERLINK("http://evil.example/x","点…'


def test_every_data_cell_has_its_border_and_format_and_only_risky_text_its_quote_prefix(session, people, day_set,
                                                                                      tmp_path):
    """Every data cell is framed and formatted by its column, whether its row is the first or a later
    one and whether a risky text (quote prefix) stands in the first row of its column or a later one:
    the writer styles a column's first plain cell and copies that style to the others (per cell
    styling took 0.9 s of a month's report)."""
    r = build(session, "daily", DAY)
    first, second = r.hot_spots[0], r.hot_spots[0].__class__(**r.hot_spots[0].__dict__)
    r.hot_spots = [first, second, r.hot_spots[0].__class__(**first.__dict__)]
    first.label, second.keywords = "=1+1", ["-停水"]
    sheet = load_workbook(excel.write(r, tmp_path / "r.xlsx"))["热点"]
    for row in range(2, 5):
        for col in range(1, 9):
            cell = sheet.cell(row=row, column=col)
            assert cell.border.left.style == "thin" and cell.border.bottom.color.rgb == "00A0AEC0", cell.coordinate
            assert cell.number_format == ("0.0" if col == 6 else "General"), cell.coordinate
            assert cell.quotePrefix == (cell.coordinate in ("B2", "G3")), cell.coordinate
    assert sheet["B2"].value == "=1+1" and sheet["G3"].value == "-停水"
    units = load_workbook(tmp_path / "r.xlsx")["单位排名"]
    assert [units.cell(row=3, column=c).number_format for c in (6, 9, 14)] == [excel.PERCENT, excel.PERCENT, excel.SCORE]
    assert units["B3"].border.right.style == "thin" and not units["B3"].quotePrefix


def test_the_printable_page_shows_the_ranking(session, people, day_set):
    r = build(session, "daily", DAY)
    page = html.render(r)
    assert page.startswith("<!doctype html>") and "<script" not in page and "<link" not in page
    assert "@media print" in page and "size: A4" in page
    assert "12345 政务服务便民热线日报" in page and "2026年3月11日" in page
    ranking = page[page.index('id="units"'):page.index('id="townships"')]
    assert ranking.index("夏县水利局") < ranking.index("夏县住房和城乡建设局")
    assert "100.00" in ranking and "<svg" in ranking
    assert "本期共受理群众诉求 <b>4</b> 件" in page


def test_the_worker_makes_the_due_reports_once(db, people, day_set):
    assert generate_reports(db, now=at(DAY + timedelta(days=1), 5)) == {"reports": 0}  # before 06:00
    with db.transaction(write=False) as s:
        assert store.listing(s) == []
    assert generate_reports(db, now=at(DAY + timedelta(days=1), 7)) == {"reports": 3}
    with db.transaction(write=False) as s:
        listed = store.listing(s)
        assert [(r.kind, r.label) for r in listed] == [("daily", "2026-03-11"), ("weekly", "2026-W10"),
                                                       ("monthly", "2026-02")]
        assert (listed[1].period_first, listed[1].period_last) == (date(2026, 3, 2), date(2026, 3, 8))
        assert "夏县水利局" in store.document(s, "daily", "2026-03-11", "html").decode("utf-8")
        book = store.document(s, "daily", "2026-03-11", "xlsx")
        assert load_workbook(BytesIO(book))["单位排名"]["B2"].value == "夏县水利局"
        written = store.get(s, "daily", "2026-03-11").created_at
    assert generate_reports(db, now=at(DAY + timedelta(days=1), 8)) == {"reports": 0}
    with db.transaction(write=False) as s:
        assert store.get(s, "daily", "2026-03-11").created_at == written
    # The next morning: only that day's report is new, and it lists first.
    assert generate_reports(db, now=at(DAY + timedelta(days=2), 6)) == {"reports": 1}
    with db.transaction(write=False) as s:
        assert [r.label for r in store.listing(s, "daily")] == ["2026-03-12", "2026-03-11"]


def test_a_report_made_before_its_period_ended_is_made_again_once_it_is_over(site, db, people, day_set):
    """日报 of today, 周报 of this week, 月报 of this month, made on the page mid-period, say 期中统计;
    once each period is over the worker makes the final one in their place (once)."""
    clock.freeze(at(DAY, 20))  # the evening of the day itself, in the week of 2026-W11 and month 2026-03
    client, csrf = site.signed_in("supervisor")
    for kind in ("daily", "weekly", "monthly"):
        assert client.post("/reports", data={"csrf": csrf, "kind": kind, "day": "2026-03-11"}).status_code == 303
    assert "本期尚未结束" in client.get("/reports/daily/2026-03-11.html").text
    # The next morning: yesterday's 日报 is made again as the final one (周报 2026-W10 and 月报
    # 2026-02 were never made: those too).
    assert generate_reports(db, now=at(DAY + timedelta(days=1), 7)) == {"reports": 3}
    final = client.get("/reports/daily/2026-03-11.html").text
    assert "本期尚未结束" not in final and "数据为期中统计" not in final and "夏县水利局" in final
    with db.transaction(write=False) as s:
        assert not store.get(s, "daily", "2026-03-11").interim
        assert store.get(s, "weekly", "2026-W11").interim  # the week is not over yet
    assert generate_reports(db, now=at(DAY + timedelta(days=1), 8)) == {"reports": 0}  # made once
    # The Monday after the week: its 周报 made mid-week is replaced; on April 1st, March's 月报.
    assert generate_reports(db, now=at(date(2026, 3, 16), 7)) == {"reports": 2}  # 日报 of the 15th too
    assert "本期尚未结束" not in client.get("/reports/weekly/2026-W11.html").text
    assert generate_reports(db, now=at(date(2026, 4, 1), 7)) == {"reports": 3}
    assert "本期尚未结束" not in client.get("/reports/monthly/2026-03.html").text
    with db.transaction(write=False) as s:
        assert not any(r.interim for r in store.listing(s))


def a_writer_during_the_build(db, monkeypatch) -> list[bool]:
    """While a report builds, another thread writes to the database (as an agent registering a call
    would) and is given 5 s. Returns a list that gets ``True`` for each build during which that write
    went through, ``False`` where it had to wait for the build (SQLite's one writer held)."""
    real, seen = schedule.build, []

    def build_beside_a_writer(session, *args, **kwargs):
        def write():
            with db.transaction() as s:
                settings.set_value(s, "assessment.min_orders_ranked", 1)

        writer = threading.Thread(target=write)
        writer.start()
        writer.join(timeout=5)
        seen.append(not writer.is_alive())
        return real(session, *args, **kwargs)

    monkeypatch.setattr(schedule, "build", build_beside_a_writer)
    return seen


def test_the_worker_does_not_hold_up_writers_while_it_builds(db, people, day_set, monkeypatch):
    seen = a_writer_during_the_build(db, monkeypatch)
    assert generate_reports(db, now=at(DAY + timedelta(days=1), 7)) == {"reports": 3}
    assert seen == [True, True, True]
    with db.transaction(write=False) as s:
        assert [r.label for r in store.listing(s)] == ["2026-03-11", "2026-W10", "2026-02"]


def test_making_a_report_on_the_page_does_not_hold_up_writers(site, db, people, day_set, monkeypatch):
    seen = a_writer_during_the_build(db, monkeypatch)
    client, csrf = site.signed_in("supervisor")
    r = client.post("/reports", data={"csrf": csrf, "kind": "daily", "day": "2026-03-11"})
    assert r.status_code == 303 and seen == [True]
    assert "夏县水利局" in client.get("/reports/daily/2026-03-11.html").text


def test_ensure_makes_a_report_only_once_and_save_replaces_it(db, session, people, day_set):
    made = []

    def make():
        made.append(1)
        return build(session, "daily", DAY)

    assert store.ensure(session, "daily", "2026-03-11", make) is True
    assert store.ensure(session, "daily", "2026-03-11", make) is False and len(made) == 1
    session.commit()
    first = store.get(session, "daily", "2026-03-11")
    clock.freeze(at(DAY + timedelta(days=3)))
    again = store.save(session, build(session, "daily", DAY))
    session.commit()
    assert again.created_at > first.created_at
    assert store.get(session, "daily", "2026-03-11").created_at == again.created_at
    assert [s.label for s in store.listing(session)] == ["2026-03-11"]  # replaced, not added
    with pytest.raises(NotFound):
        store.document(session, "daily", "2026-03-12", "html")
    with pytest.raises(NotFound):
        store.document(session, "daily", "2026-03-11", "pdf")


def test_what_is_due():
    monday = at(date(2026, 3, 16), 6)
    assert [(p.kind, p.label) for p in schedule.due(monday)] == [
        ("daily", "2026-03-15"), ("weekly", "2026-W11"), ("monthly", "2026-02")]
    first = at(date(2026, 4, 1), 7)
    assert [p.label for p in schedule.due(first)] == ["2026-03-31", "2026-W13", "2026-03"]
    assert schedule.due(at(date(2026, 4, 1), 5)) == []


def test_the_page_is_for_supervisors_who_list_make_and_download_reports(site, session, people, day_set):
    handler, csrf = site.signed_in("handler_a")
    assert handler.get("/reports").status_code == 403
    assert handler.post("/reports", data={"csrf": csrf, "kind": "daily", "day": "2026-03-11"}).status_code == 403
    assert handler.get("/reports/daily/2026-03-11.html").status_code == 403
    client, csrf = site.signed_in("supervisor")
    page = client.get("/reports")
    assert page.status_code == 200 and "统计报表" in page.text and "暂无报表" in page.text
    assert not (Path(site.app.state.settings.data_dir) / "reports").exists()
    r = client.post("/reports", data={"csrf": csrf, "kind": "daily", "day": "2026-03-11"})
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "已生成报表 日报 2026-03-11" in page
    assert 'href="/reports/daily/2026-03-11.html"' in page and 'href="/reports/daily/2026-03-11.xlsx"' in page
    printable = client.get("/reports/daily/2026-03-11.html")
    assert printable.status_code == 200 and printable.headers["content-type"].startswith("text/html")
    assert printable.headers["content-disposition"].startswith("inline") and "夏县水利局" in printable.text
    book = client.get("/reports/daily/2026-03-11.xlsx")
    assert book.status_code == 200 and book.headers["content-disposition"].startswith("attachment")
    assert load_workbook(BytesIO(book.content))["单位排名"]["B2"].value == "夏县水利局"
    assert not (Path(site.app.state.settings.data_dir) / "reports").exists()  # in the database, not in files
    assert client.get("/reports/daily/2026-03-12.html").status_code == 404
    assert client.get("/reports/daily/2026-03-11.pdf").status_code == 404
    assert client.get("/reports/daily/..%2F..%2Fhotline.db").status_code == 404
    r = client.post("/reports", data={"csrf": csrf, "kind": "weekly", "day": "2026-03-11"})
    assert "2026-W11 <small class=\"muted\">（3月9日–15日）</small>" in client.get(r.headers["location"]).text
    r = client.post("/reports", data={"csrf": csrf, "kind": "yearly", "day": "2026-03-11"})
    assert r.status_code == 422 and "报表类型" in r.text
    r = client.post("/reports", data={"csrf": csrf, "kind": "weekly", "day": "11/03/2026"})
    assert r.status_code == 422 and "YYYY-MM-DD" in r.text


def test_the_command_makes_a_report_on_demand(db, people, day_set, tmp_path):
    runner = CliRunner(env={"HOTLINE_DATA_DIR": str(tmp_path), "HOTLINE_DATABASE_URL": db.url})
    out = tmp_path / "out"
    result = runner.invoke(cli, ["analytics", "report", "--kind", "weekly", "--date", "2026-03-11", "--out", str(out)],
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "周报" in result.output and "受理 6 件" in result.output
    assert (out / "2026-W11.html").is_file() and (out / "2026-W11.xlsx").is_file()
    with db.transaction(write=False) as s:
        assert store.document(s, "weekly", "2026-W11", "html") == (out / "2026-W11.html").read_bytes()
    result = runner.invoke(cli, ["analytics", "report", "--kind", "daily", "--date", "2026-03-11"])
    assert result.exit_code == 0, result.output
    with db.transaction(write=False) as s:
        assert store.get(s, "daily", "2026-03-11") is not None
    assert not (tmp_path / "reports").exists()
    result = runner.invoke(cli, ["analytics", "report", "--kind", "daily", "--date", "yesterday"])
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output
    result = runner.invoke(cli, ["analytics", "report", "--kind", "daily", "--date", "1900-01-01"])
    assert result.exit_code != 0 and "报表日期不能早于 2000-01-01" in result.output
    with db.transaction(write=False) as s:
        assert store.get(s, "daily", "1900-01-01") is None


def test_a_report_of_a_period_that_has_not_begun_is_refused_and_not_listed(site, session, people, day_set):
    client, csrf = site.signed_in("supervisor")  # the clock stands at 2026-03-12 07:00
    assert 'max="2026-03-12"' in client.get("/reports").text
    r = client.post("/reports", data={"csrf": csrf, "kind": "daily", "day": "2026-03-13"})
    assert r.status_code == 422 and "2026年3月13日尚未开始" in r.text
    r = client.post("/reports", data={"csrf": csrf, "kind": "weekly", "day": "2026-03-16"})
    assert r.status_code == 422 and "尚未开始" in r.text
    r = client.post("/reports", data={"csrf": csrf, "kind": "monthly", "day": "2026-04-01"})
    assert r.status_code == 422 and "尚未开始" in r.text
    assert "暂无报表" in client.get("/reports").text
    # Nor a day before any hotline data: no empty report of 1900 in the list.
    assert 'min="2000-01-01"' in client.get("/reports").text
    for kind, day in (("daily", "1900-01-01"), ("weekly", "1999-12-31"), ("monthly", "0001-01-01")):
        r = client.post("/reports", data={"csrf": csrf, "kind": kind, "day": day})
        assert r.status_code == 422 and "报表日期不能早于 2000-01-01" in r.text, (kind, day)
    assert "暂无报表" in client.get("/reports").text
    # The period under way may still be made (it says its figures are interim).
    r = client.post("/reports", data={"csrf": csrf, "kind": "daily", "day": "2026-03-12"})
    assert r.status_code == 303 and "本期尚未结束" in client.get("/reports/daily/2026-03-12.html").text


def test_the_ranking_sheet_has_the_columns_of_the_ranking_page(site, session, people, day_set, tmp_path):
    """单位排名 writes the 考核排名 page's 15 columns, so each rate sits beside the counts it is made
    of (已解决, 满意, 按时反馈 were missing) and a reader can check one against the other."""
    import re

    client, _ = site.signed_in("supervisor")
    page = client.get("/analytics/assessment?month=2026-03").text
    table = page[page.index('id="ranking"'):page.index("</thead>")]
    r = build(session, "daily", DAY)
    units = load_workbook(excel.write(r, tmp_path / "r.xlsx"))["单位排名"]
    head = [c.value for c in units[1]]
    assert head == [re.sub(r"<[^>]+>", "", th) for th in re.findall(r"<th>(.*?)</th>", table)]
    assert head == ["排名", "承办单位", "派单量", "按时响应", "未按时响应", "响应率", "回访评价", "已解决", "解决率",
                    "满意", "满意率", "按时反馈", "按时反馈率", "综合得分", "备注"]
    rows = {row[1]: row for row in units.iter_rows(min_row=2, values_only=True)}
    # 夏县水利局: 3 orders signed in time, 3 callbacks resolved and satisfied, 3 replies on time
    assert rows["夏县水利局"][2:13] == (3, 3, 0, 1.0, 3, 3, 1.0, 3, 1.0, 3, 1.0)
    # 夏县住房和城乡建设局: signed late, not resolved, not satisfied, replied on time
    assert rows["夏县住房和城乡建设局"][2:13] == (1, 0, 1, 0.0, 1, 0, 0.0, 0, 0.0, 1, 1.0)
    for col in "FIKM":
        assert units[f"{col}2"].number_format == excel.PERCENT
    assert units["H2"].number_format == "General" and units["N2"].number_format == excel.SCORE
    assert units.max_column == 15
    # 乡镇排名 the same, by township
    towns = load_workbook(excel.write(r, tmp_path / "r.xlsx"))["乡镇排名"]
    assert [c.value for c in towns[1]][1] == "乡镇（街道）" and len(towns[1]) == 15


def test_a_rate_that_did_not_move_reads_flat_not_minus_nought(session, people, day_set):
    """较上期 -0.0 个百分点 was shown for a change that rounds to nothing: now 持平."""
    from dataclasses import replace

    r = build(session, "daily", DAY)
    c = r.centre
    r.previous_centre = replace(c, resolution_rate=c.resolution_rate + 0.0001, response_rate=c.response_rate - 0.0004,
                                satisfaction_rate=c.satisfaction_rate - 0.1)
    page = html.render(r)
    rates_part = page[page.index('id="rates"'):page.index('id="units"')]
    assert "-0.0" not in rates_part and "+0.0" not in rates_part
    assert "<small>解决率</small><b>75.0%</b><small>较上期 持平</small>" in rates_part
    assert "<small>响应率</small><b>75.0%</b><small>较上期 持平</small>" in rates_part
    assert "较上期 +10.0 个百分点" in rates_part  # a real change still says so
    assert html.points(0.5, 0.5004) == "持平" and html.points(0.5, 0.4994) == "+0.1 个百分点"
    assert html.points(None, 0.5) == "—"
    # the volume: as many as last time is 与上期持平, not 增加 0 件（+0.0%）
    from hotline.reports.build import Share

    r.volume.total = Share("", "合计", 4, 4)
    lead = html.render(r).split("本期共受理群众诉求")[1].split("</p>")[0]
    assert " ".join(lead.split()) == "<b>4</b> 件，上期 4 件， 与上期持平。", lead


def test_the_header_says_the_period_once(session, people, day_set):
    """统计期：2026年第11周（3月9日—3月15日）, not followed by （2026-03-09 至 2026-03-15） again."""
    def meta(kind: str, day: date = DAY) -> str:
        page = html.render(build(session, kind, day))
        return page[page.index('<div class="meta">'):page.index("</div>", page.index('<div class="meta">'))]

    weekly = meta("weekly")
    assert "统计期：2026年第11周（3月9日—3月15日） ·" in weekly and "2026-03-09" not in weekly
    daily = meta("daily")
    assert "统计期：2026年3月11日 ·" in daily and "2026-03-11" not in daily
    monthly = meta("monthly")  # the month's days said once, as the week's are
    assert "统计期：2026年3月（3月1日—3月31日） ·" in monthly and "2026-03-01" not in monthly
    settings.set_value(session, "assessment.period_start_day", 26)
    session.flush()
    reference.invalidate()
    shifted = meta("monthly", date(2026, 3, 11))
    assert "统计期：2026年3月（2月26日—3月25日） ·" in shifted and shifted.count("2月26日") == 1


def test_a_report_of_a_day_far_in_the_future_is_refused_in_words(site, session, people):
    client, csrf = site.signed_in("supervisor")
    for kind in ("monthly", "weekly", "daily"):
        r = client.post("/reports", data={"csrf": csrf, "kind": kind, "day": "9999-12-31"})
        assert r.status_code == 422 and "报表日期不能晚于 2100-12-31，收到 9999-12-31" in r.text, kind
    assert "暂无报表" in client.get("/reports").text


def test_the_notice_that_a_report_was_made_cannot_be_made_up_in_the_address(site, session, people, day_set):
    client, csrf = site.signed_in("supervisor")
    for made in ("任意内容", "日报 2026-03-11", "daily/2026-03-11", "weekly/2026-W99", "daily/../../x"):
        assert 'class="notice"' not in client.get("/reports", params={"made": made}).text, made
    r = client.post("/reports", data={"csrf": csrf, "kind": "daily", "day": "2026-03-11"})
    assert "已生成报表 日报 2026-03-11。" in client.get(r.headers["location"]).text
    clock.advance(timedelta(hours=1))  # a link to it kept for later shows no notice
    assert 'class="notice"' not in client.get(r.headers["location"]).text
