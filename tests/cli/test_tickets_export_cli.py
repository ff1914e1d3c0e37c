"""``hotline tickets export``: the ticket list's Excel export into a file, in the account's scope, with
the list's filters (and dates, a region, a limit), for searches too large to wait for in a browser."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from openpyxl import load_workbook

from hotline.kit import clock
from hotline.tickets.states import Status
from tests.builders import make_ticket
from tests.cli.conftest import ok


def sheets(path) -> tuple[list[tuple], dict]:
    wb = load_workbook(path)
    return list(wb["工单"].iter_rows(values_only=True)), dict(wb["说明"].iter_rows(values_only=True))


def test_a_handler_exports_its_units_tickets_into_a_file(db, hotline, people, session, tmp_path):
    start = datetime(2026, 11, 2, 9, 0)
    made = []
    for i in range(3):
        with clock.frozen(start + timedelta(days=i)):
            made.append(make_ticket(session, people, Status.dispatched, caller_confidential=i == 1))
    make_ticket(session, people, Status.registered)  # not the unit's
    session.commit()
    out = tmp_path / "水利局.xlsx"
    said = ok(hotline("tickets", "export", str(out), "--by", people.handler_a.username))
    assert said.strip() == f"已导出 3 件工单到 {out}"
    rows, about = sheets(out)
    assert [row[0] for row in rows[1:]] == [t.number for t in reversed(made)]
    body = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert [row["来电人"] for row in body] == ["张先生", "保密", "张先生"] and body[1]["联系电话"] is None
    assert about["筛选条件"] == "全部工单（本人权限范围内）" and about["本表列出"] == "3 件"
    assert not list(tmp_path.glob(".*.part"))
    # Dates (local days, the end excluded), a status and a limit: the newest first, the rest counted.
    report = json.loads(ok(hotline("tickets", "export", str(out), "--by", people.handler_a.username, "--from",
                                   "2026-11-02", "--to", "2026-11-04", "--status", "dispatched", "--limit", "1",
                                   "--json")))
    assert report == {"file": str(out), "written": 1, "total": 2, "left_out": 1}
    rows, about = sheets(out)
    assert [row[0] for row in rows[1:]] == [made[1].number]
    assert about["筛选条件"] == "状态：待签收；受理时间自 2026-11-02 00:00；受理时间早于 2026-11-04 00:00"
    assert about["未列出"].startswith("1 件") and "本次最多导出 1 件" in about["本表列出"]


def test_an_unknown_account_or_status_is_an_error_and_writes_nothing(db, hotline, people, tmp_path):
    out = tmp_path / "x.xlsx"
    r = hotline("tickets", "export", str(out), "--by", "nobody")
    assert r.exit_code == 2 and "用户 nobody 不存在" in r.output
    r = hotline("tickets", "export", str(out), "--by", people.supervisor.username, "--status", "nonsense")
    assert r.exit_code == 2 and "未知状态" in r.output
    assert not list(tmp_path.glob("*.xlsx")) and not list(tmp_path.glob(".*.part"))


def test_a_file_in_a_missing_directory_is_an_error_not_a_traceback(db, hotline, people, tmp_path):
    out = tmp_path / "nonexistent" / "dir" / "x.xlsx"
    r = hotline("tickets", "export", str(out), "--by", people.admin.username, "--limit", "5")
    assert r.exit_code == 2 and "Traceback" not in r.output and "FileNotFoundError" not in r.output
    assert r.output.strip() == f"错误：无法写入 {out}：目录 {out.parent} 不存在"


def test_dates_the_wrong_way_round_or_a_csv_name_are_refused_saying_why(db, hotline, people, tmp_path):
    out = tmp_path / "十一月.xlsx"
    r = hotline("tickets", "export", str(out), "--by", people.admin.username, "--from", "2026-11-30", "--to", "2026-11-01")
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert r.output.strip() == ("错误：--from 2026-11-30 须早于 --to 2026-11-01"
                                "（导出受理时间自 --from 当天起、--to 当天之前的工单，--to 当天不含）")
    r = hotline("tickets", "export", str(out), "--by", people.admin.username, "--from", "2026-11-01", "--to", "2026-11-01")
    assert r.exit_code == 2 and "须早于 --to" in r.output
    for name in ("out.csv", "out", "out.xls"):
        r = hotline("tickets", "export", str(tmp_path / name), "--by", people.admin.username)
        assert r.exit_code == 2, r.output
        assert r.output.strip() == f"错误：导出文件名须以 .xlsx 结尾（导出的是 Excel 工作簿）：{tmp_path / name}"
    assert list(tmp_path.iterdir()) == []
    assert ok(hotline("tickets", "export", str(tmp_path / "OUT.XLSX"), "--by", people.admin.username)).startswith("已导出 0 件")
