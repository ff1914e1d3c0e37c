"""``hotline tickets import``: a sheet of requests registered all or nothing, every refused row
reported by its spreadsheet row number, nothing kept until the whole file is right."""

from __future__ import annotations

import json
from datetime import datetime

from openpyxl import Workbook
from sqlalchemy import func, select

from hotline.kit import clock
from hotline.tickets.models import Channel, Ticket
from tests.builders import ZHULV
from tests.cli.conftest import ok

HEADER = "诉求内容,发生地,事项分类,诉求类型,紧急程度,受理时间,来电人,联系电话\n"
GOOD = ("村里从早上停水到现在，请尽快恢复供水,裴介镇 朱吕村,停水,求助,紧急,2026-11-20 08:30,张先生,13803590001\n"
        "来信反映村口路灯不亮,140828102207,0404,,,,,\n")


def count(db) -> int:
    with db.transaction(write=False) as s:
        return s.scalar(select(func.count(Ticket.id))) or 0


def test_a_good_file_is_registered_with_its_places_categories_and_times(db, hotline, people, tmp_path):
    clock.freeze(datetime(2026, 11, 28, 10, 0))
    sheet = tmp_path / "letters.csv"
    sheet.write_text(HEADER + GOOD, encoding="utf-8-sig")
    out = ok(hotline("tickets", "import", str(sheet), "--by", people.agent.username))
    assert out.startswith("已导入 2 件工单")
    with db.transaction(write=False) as s:
        first, second = s.scalars(select(Ticket).order_by(Ticket.id)).all()
        assert (first.region_code, first.category_code, first.kind, first.urgency.value) == (ZHULV, "0101", "help", "urgent")
        assert first.channel == Channel.import_ and first.caller_name == "张先生"
        assert clock.local(first.received_at).replace(tzinfo=None) == datetime(2026, 11, 20, 8, 30)
        assert first.registered_by_id == people.agent.id
        assert second.category_code == "0404" and second.caller_anonymous and second.urgency.value == "normal"


def test_refused_rows_are_all_reported_and_nothing_is_kept(db, hotline, people, tmp_path):
    clock.freeze(datetime(2026, 11, 28, 10, 0))
    sheet = tmp_path / "letters.csv"
    sheet.write_text(HEADER + GOOD
                     + "停水,王村,停水,,,,李四,\n"  # row 4: 王村 is three villages
                     + ",裴介镇 朱吕村,停水,,,,李四,\n"  # row 5: no content
                     + "停水,裴介镇 朱吕村,不存在的分类,,,,李四,\n"  # row 6
                     + "停水,裴介镇 朱吕村,停水,,很急,2027-01-01 08:00,李四,\n"  # row 7: urgency and a future time
                     + ",,,,,,,\n",  # a blank row is skipped
                     encoding="utf-8")
    result = hotline("tickets", "import", str(sheet), "--by", people.agent.username, "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    rows = {p["row"]: p["message"] for p in report["problems"]}
    assert set(rows) == {4, 5, 6, 7}
    assert "3 处地点" in rows[4] and "诉求内容" in rows[5] and "不存在的分类" in rows[6]
    assert "紧急程度" in rows[7] or "受理时间" in rows[7]
    assert report["imported"] == 0 and report["rows"] == 6
    assert count(db) == 0  # the two good rows were not kept either
    # A dry run of a right file says so and keeps nothing.
    sheet.write_text(HEADER + GOOD, encoding="utf-8")
    assert "检查通过：2 行" in ok(hotline("tickets", "import", str(sheet), "--by", people.agent.username, "--dry-run"))
    assert count(db) == 0


def test_a_county_as_the_place_is_refused_with_every_township_or_how_many_there_are(db, hotline, people, tmp_path):
    clock.freeze(datetime(2026, 11, 28, 10, 0))
    sheet = tmp_path / "letters.csv"
    sheet.write_text(HEADER + "停水,夏县,停水,,,,李四,\n" + "停水,尧都区,停水,,,,李四,\n", encoding="utf-8")
    result = hotline("tickets", "import", str(sheet), "--by", people.agent.username, "--json")
    rows = {p["row"]: p["message"] for p in json.loads(result.stdout)["problems"]}
    assert "范围太大" in rows[2] and "夏县祁家河乡" in rows[2] and "等" not in rows[2]  # all 11 townships
    assert rows[3].endswith("等 25 个）")  # 尧都区's 25: the first ones, and how many
    assert count(db) == 0


def test_a_heading_category_is_refused_by_its_code_or_its_name(db, hotline, people, tmp_path):
    clock.freeze(datetime(2026, 11, 28, 10, 0))
    sheet = tmp_path / "letters.csv"
    sheet.write_text(HEADER + "停水,朱吕村,01,,,,李四,\n" + "停电,朱吕村,供电,,,,李四,\n", encoding="utf-8")
    result = hotline("tickets", "import", str(sheet), "--by", people.agent.username, "--json")
    rows = {p["row"]: p["message"] for p in json.loads(result.stdout)["problems"]}
    assert rows[2].startswith("事项分类 01「供水」是大类，请选择其下的具体分类（如 0101「停水」")
    assert rows[3].startswith("事项分类 02「供电」是大类")
    assert count(db) == 0


def test_an_xlsx_with_real_dates_and_the_errors_of_a_wrong_file(db, hotline, people, tmp_path):
    clock.freeze(datetime(2026, 11, 28, 10, 0))
    wb = Workbook()
    ws = wb.active
    ws.append(["受理时间", "诉求内容", "发生地", "事项分类"])
    ws.append([datetime(2026, 11, 27, 16, 5), "水管爆了", "夏县裴介镇朱吕村", "0103"])
    book = tmp_path / "batch.xlsx"
    wb.save(book)
    ok(hotline("tickets", "import", str(book), "--by", people.agent.username))
    with db.transaction(write=False) as s:
        ticket = s.scalar(select(Ticket))
        assert clock.local(ticket.received_at).replace(tzinfo=None) == datetime(2026, 11, 27, 16, 5)
    no_column = tmp_path / "no-column.csv"
    no_column.write_text("内容,地点\n停水,朱吕村\n", encoding="utf-8")
    result = hotline("tickets", "import", str(no_column), "--by", people.agent.username)
    assert result.exit_code == 2 and "缺少列：事项分类" in result.output
    result = hotline("tickets", "import", str(tmp_path / "absent.csv"), "--by", people.agent.username)
    assert result.exit_code == 2 and "文件不存在" in result.output
    cut_off = tmp_path / "cut-off.xlsx"
    cut_off.write_bytes(book.read_bytes()[:200])  # a download that stopped early
    result = hotline("tickets", "import", str(cut_off), "--by", people.agent.username)
    assert result.exit_code == 2 and "cut-off.xlsx 不是有效的 Excel（.xlsx）文件" in result.output
    assert "zip" not in result.output
    result = hotline("tickets", "import", str(book), "--by", "nobody")
    assert result.exit_code == 2 and "nobody" in result.output
    assert count(db) == 1


def test_importing_the_same_file_again_is_refused_row_by_row(db, hotline, people, tmp_path):
    clock.freeze(datetime(2026, 11, 28, 10, 0))
    sheet = tmp_path / "letters.csv"
    dated = "来信：村口排水沟堵了,裴介镇 朱吕村,0103,,,2026-11-21 09:00,王五,\n"
    sheet.write_text(HEADER + dated, encoding="utf-8")
    first = ok(hotline("tickets", "import", str(sheet), "--by", people.agent.username))
    number = first.split("：")[1].split(" ")[0]
    again = hotline("tickets", "import", str(sheet), "--by", people.agent.username)
    assert again.exit_code == 1 and f"第 2 行：已导入过：与工单 {number}" in again.stdout
    assert count(db) == 1
    # The same row twice in one file: the second is the one refused, as a repeat of the first.
    sheet.write_text(HEADER + dated.replace("21 09:00", "22 09:00") * 2, encoding="utf-8")
    twice = hotline("tickets", "import", str(sheet), "--by", people.agent.username)
    assert twice.exit_code == 1 and "第 3 行：与第 2 行重复" in twice.stdout and "第 2 行：" not in twice.stdout
    assert count(db) == 1


def test_a_file_without_received_times_imported_again_names_the_rows_and_tickets(db, hotline, people, tmp_path):
    clock.freeze(datetime(2026, 11, 28, 10, 0))
    sheet = tmp_path / "letters.csv"
    sheet.write_text(HEADER + "来信：村口排水沟堵了,裴介镇 朱吕村,0103,,,,王五,13803590001\n"
                     + "来信：路灯不亮,140828102207,0404,,,,,\n", encoding="utf-8")
    ok(hotline("tickets", "import", str(sheet), "--by", people.agent.username))
    with db.transaction(write=False) as s:
        numbers = list(s.scalars(select(Ticket.number).order_by(Ticket.id)))
    clock.freeze(datetime(2026, 11, 29, 9, 0))
    again = hotline("tickets", "import", str(sheet), "--by", people.agent.username)
    assert again.exit_code == 1
    assert f"第 2 行：已导入过：与工单 {numbers[0]}" in again.stdout
    assert f"第 3 行：已导入过：与工单 {numbers[1]}" in again.stdout
    assert "2 行有问题，2 行均未导入" in again.stdout
    assert count(db) == 2


def test_an_account_that_may_not_register_tickets_is_refused_once_up_front(db, hotline, people, tmp_path):
    sheet = tmp_path / "letters.csv"
    sheet.write_text(HEADER + GOOD, encoding="utf-8")
    r = hotline("tickets", "import", str(sheet), "--by", people.handler_a.username)
    assert r.exit_code == 2
    assert r.output.strip() == f"错误：用户 {people.handler_a.username}（承办人）无权登记工单"  # not a refusal per row
    assert count(db) == 0
