"""A row's 受理时间 is read as Excel users in China write it (2026/1/5 9:30, 2026年11月20日 9时30分, a date
cell or a date number), a month-first date (11/20/2026) is refused as ambiguous, and a CSV saved in GBK
is read like one in UTF-8. 受理时间 is refused before 2000-01-01 as the API refuses it: the registration
itself checks it, so no intake path registers a ticket numbered with a 5-digit year or shown with a
local-mean-time offset."""

from __future__ import annotations

from datetime import datetime

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from hotline.importing.tickets import import_file
from hotline.kit import clock
from hotline.kit.errors import Invalid
from hotline.tickets.models import Ticket
from tests.importing.test_repeats import count, imported

HEADER = "诉求内容,发生地,事项分类,联系电话,受理时间\n"


def test_a_row_received_before_2000_is_refused_naming_the_floor(db, people, tmp_path):
    clock.freeze(datetime(2026, 11, 28, 10, 0))
    path = tmp_path / "old.csv"
    path.write_text(HEADER + "来信反映村里停水,裴介镇 朱吕村,停水,13803590001,1999-12-31 23:59\n"
                             "村口路灯不亮,裴介镇 朱吕村,0404,,0001-01-01 00:00\n"
                             "来信反映路面塌陷,裴介镇 朱吕村,0404,,2000-01-01 00:00\n", encoding="utf-8")
    result = imported(db, path, people.agent)
    assert [(p.row, p.message) for p in result.problems] == [(2, "受理时间不能早于 2000-01-01：「1999-12-31 23:59」"),
                                                            (3, "受理时间不能早于 2000-01-01：「0001-01-01 00:00」")]
    assert result.numbers == ["20000101-000001"] and count(db) == 0  # refused rows: nothing kept


def received_times(db) -> list[datetime]:
    """The 受理时间 of the tickets registered, in local time, oldest registration first."""
    with db.transaction(write=False) as s:
        return [clock.local(t).replace(tzinfo=None) for t in s.scalars(select(Ticket.received_at).order_by(Ticket.id))]


TYPED = [("2026-11-20 9:30", datetime(2026, 11, 20, 9, 30)), ("2026/1/5 9:30", datetime(2026, 1, 5, 9, 30)),
         ("2026年11月20日", datetime(2026, 11, 20)), ("2026年11月20日 9时30分", datetime(2026, 11, 20, 9, 30)),
         ("2026年11月20日 9:30", datetime(2026, 11, 20, 9, 30)), ("46345.5", datetime(2026, 11, 19, 12, 0)),
         ("2026-11-20 09:30", datetime(2026, 11, 20, 9, 30)), ("2026/11/20 14:05:30", datetime(2026, 11, 20, 14, 5, 30))]


def test_received_times_written_as_excel_users_in_china_write_them_are_read(db, people, tmp_path):
    clock.freeze(datetime(2026, 11, 28, 10, 0))
    path = tmp_path / "letters.csv"
    path.write_text(HEADER + "".join(f"来信反映路灯不亮 {i},裴介镇 朱吕村,0404,,{typed}\n" for i, (typed, _) in enumerate(TYPED)),
                    encoding="utf-8")
    result = imported(db, path, people.agent)
    assert result.ok, result.problems
    assert received_times(db) == [when for _, when in TYPED]


def test_a_month_first_date_is_refused_naming_the_formats_that_are_read(db, people, tmp_path):
    clock.freeze(datetime(2026, 11, 28, 10, 0))
    path = tmp_path / "letters.csv"
    path.write_text(HEADER + "来信反映路灯不亮,裴介镇 朱吕村,0404,,11/20/2026\n"
                             "来信反映路面塌陷,裴介镇 朱吕村,0404,,2026年13月1日\n", encoding="utf-8")
    result = imported(db, path, people.agent)
    assert [p.row for p in result.problems] == [2, 3]
    first, second = (p.message for p in result.problems)
    assert first.startswith("受理时间「11/20/2026」无法确定哪一位是月份：请按 年-月-日 填写")
    assert second.startswith("受理时间「2026年13月1日」无效")
    for message in (first, second):
        assert "2026-11-20 09:30" in message and "2026年11月20日 9时30分" in message
    assert count(db) == 0


def test_excel_date_cells_and_date_numbers_in_a_workbook_are_read(db, people, tmp_path):
    clock.freeze(datetime(2026, 11, 28, 10, 0))
    wb = Workbook()
    ws = wb.active
    ws.append(HEADER.strip().split(","))
    ws.append(["来信反映路灯不亮", "裴介镇 朱吕村", "0404", None, datetime(2026, 11, 20, 9, 30)])  # a date cell
    ws.append(["来信反映路面塌陷", "裴介镇 朱吕村", "0404", None, 46345.5])  # a date left as a number
    ws.append(["来信反映垃圾未清", "裴介镇 朱吕村", "0404", None, "2026年11月21日 8时"])
    ws["E2"].number_format = "yyyy/m/d h:mm"
    wb.save(tmp_path / "letters.xlsx")
    result = imported(db, tmp_path / "letters.xlsx", people.agent)
    assert result.ok, result.problems
    assert received_times(db) == [datetime(2026, 11, 20, 9, 30), datetime(2026, 11, 19, 12, 0), datetime(2026, 11, 21, 8, 0)]


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-8"])
def test_a_csv_saved_by_excel_in_gbk_or_utf8_is_read_as_written(db, people, tmp_path, encoding):
    """Excel's 「CSV（逗号分隔）」 on a Chinese Windows is GBK; 「CSV UTF-8」 has a BOM."""
    clock.freeze(datetime(2026, 11, 28, 10, 0))
    path = tmp_path / "三月来信.csv"
    path.write_bytes((HEADER + "来信反映村里停水三天了,裴介镇 朱吕村,停水,13803590001,2026年11月20日 9:30\n")
                     .encode(encoding))
    result = imported(db, path, people.agent)
    assert result.ok, result.problems
    with db.transaction(write=False) as s:
        ticket = s.scalars(select(Ticket)).one()
        assert (ticket.content, ticket.category_code) == ("来信反映村里停水三天了", "0101")
    assert received_times(db) == [datetime(2026, 11, 20, 9, 30)]


def test_a_csv_in_neither_utf8_nor_gbk_is_refused_saying_how_to_save_it(db, people, tmp_path):
    path = tmp_path / "三月来信.csv"
    path.write_bytes((HEADER + "来信反映村里停水三天了,裴介镇 朱吕村,停水,,\n").encode("utf-16"))
    with pytest.raises(Invalid) as refused, db.transaction() as s:
        import_file(s, path, actor=people.agent)
    assert refused.value.message == ("三月来信.csv 不是 UTF-8 或 GBK 编码的 CSV："
                                     "请在 Excel 中另存为「CSV UTF-8（逗号分隔）」或 .xlsx")
