"""导出 Excel from the ticket list: the same search and data scope as the list, real dates, a 说明
sheet that says what was exported, rows read in batches and written to a temporary file that is sent
and removed, and a cut (with how many were left out) only where a sheet cannot hold the search."""

from __future__ import annotations

import io
import tempfile
from datetime import datetime, timedelta

from openpyxl import load_workbook

from hotline.accounts.scope import SYSTEM, scope_for
from hotline.kit import clock
from hotline.tickets import export, queries
from hotline.tickets.states import Status
from tests.builders import make_ticket


def sheets(data: bytes) -> tuple[list[tuple], list[tuple]]:
    wb = load_workbook(io.BytesIO(data))
    return list(wb["工单"].iter_rows(values_only=True)), list(wb["说明"].iter_rows(values_only=True))


def test_the_dispatcher_exports_the_filtered_list(site, session, people):
    waiting = make_ticket(session, people, Status.registered, content="村口路灯不亮已经一周了，晚上看不见路。")
    sent = make_ticket(session, people, Status.dispatched)
    session.commit()
    client, _ = site.signed_in("dispatcher")
    page = client.get("/tickets?status=dispatched").text
    assert 'href="/tickets.xlsx?status=dispatched" download' in page
    r = client.get("/tickets.xlsx?status=dispatched")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    assert "attachment" in r.headers["content-disposition"]
    rows, about = sheets(r.content)
    assert rows[0][:3] == ("工单号", "受理时间", "渠道")
    assert [row[0] for row in rows[1:]] == [sent.number]  # the filter holds: not the waiting one
    row = dict(zip(rows[0], rows[1], strict=True))
    assert isinstance(row["受理时间"], datetime)
    assert row["受理时间"] == clock.local(sent.received_at).replace(tzinfo=None, microsecond=0)
    assert row["状态"] == "待签收" and row["来电人"] == "张先生" and row["主办单位"]
    assert "漏水" in row["诉求内容"] and row["紧急程度"] == "紧急"
    assert ("筛选条件", "状态：待签收") in about and ("符合条件", "1 件") in about
    # Everything, when nothing is filtered.
    rows, _ = sheets(client.get("/tickets.xlsx").content)
    assert {row[0] for row in rows[1:]} == {waiting.number, sent.number}


def test_a_handler_exports_only_its_units_tickets_without_confidential_callers(site, session, people):
    theirs = make_ticket(session, people, Status.dispatched, caller_confidential=True)
    make_ticket(session, people, Status.registered)  # not dispatched: not the unit's
    session.commit()
    handler, _ = site.signed_in("handler_a")
    rows, _ = sheets(handler.get("/tickets.xlsx").content)
    assert [row[0] for row in rows[1:]] == [theirs.number]
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["来电人"] == "保密" and row["联系电话"] in ("", None)
    assert "13803590001" not in str(rows)


def test_a_search_wider_than_the_limit_is_cut_and_says_so(session, people):
    made = [make_ticket(session, people, Status.registered) for _ in range(3)]
    session.flush()
    data, written, total = export.workbook(session, SYSTEM, queries.TicketFilter(), limit=2)
    assert (written, total) == (2, 3)
    rows, about = sheets(data)
    assert [row[0] for row in rows[1:]] == [t.number for t in made[::-1][:2]]  # the newest first
    cut = dict(about)["本表列出"]
    assert cut.startswith("2 件") and "最多导出 2 件" in cut
    assert dict(about)["未列出"].startswith("1 件")


def test_rows_spanning_several_batches_all_arrive_in_order_and_masked(session, people, tmp_path):
    start = datetime(2026, 11, 2, 9, 0)
    made = []
    for i in range(7):  # three and a half batches of 2, every third caller confidential
        with clock.frozen(start + timedelta(hours=i)):
            made.append(make_ticket(session, people, Status.dispatched, caller_confidential=i % 3 == 0,
                                    caller_phone=f"1380359{i:04d}"))
    make_ticket(session, people, Status.registered)  # not the unit's: outside the handler's scope
    session.flush()
    path = tmp_path / "export.xlsx"
    done = export.write(session, scope_for(people.handler_a), queries.TicketFilter(), path,
                        filters_text="全部", batch=2)
    assert (done.written, done.total, done.left_out) == (7, 7, 0)
    rows, about = sheets(path.read_bytes())
    header, body = rows[0], [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert header[0] == "工单号" and [row["工单号"] for row in body] == [t.number for t in reversed(made)]
    assert [row["受理时间"] for row in body] == [start + timedelta(hours=i) for i in reversed(range(7))]
    for i, row in zip(reversed(range(7)), body, strict=True):
        if i % 3 == 0:
            assert row["来电人"] == "保密" and row["联系电话"] is None
        else:
            assert row["来电人"] == "张先生" and row["联系电话"].replace(" ", "").endswith(f"{i:04d}")
    assert "1380359" + "0003" not in str(rows)
    assert dict(about) == {"导出时间": dict(about)["导出时间"], "筛选条件": "全部", "符合条件": "7 件", "本表列出": "7 件"}


def test_the_export_is_sent_from_a_temporary_file_that_is_removed_after(site, session, people, tmp_path, monkeypatch):
    made = [make_ticket(session, people, Status.registered) for _ in range(3)]
    session.commit()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    written = []
    real = export.temporary_file

    def recorded(*args, **kwargs):
        path, done = real(*args, **kwargs)
        written.append((path, path.stat().st_size, done))
        return path, done

    monkeypatch.setattr(export, "temporary_file", recorded)
    client, _ = site.signed_in("dispatcher")
    r = client.get("/tickets.xlsx")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    [(path, size, done)] = written
    assert path.parent == tmp_path and path.name.startswith("hotline-export-") and path.suffix == ".xlsx"
    assert len(r.content) == size and (done.written, done.total) == (3, 3)
    assert not path.exists()  # removed once sent
    rows, _ = sheets(r.content)
    assert [row[0] for row in rows[1:]] == [t.number for t in reversed(made)]


def test_an_export_that_fails_after_writing_leaves_no_file_behind(site, session, people, tmp_path, monkeypatch):
    from contextlib import contextmanager

    from hotline.web.routes import tickets as routes

    make_ticket(session, people, Status.registered)
    session.commit()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    real = routes.page_work

    @contextmanager
    def closing_fails(request, *, write):
        with real(request, write=write) as ctx:
            yield ctx
        raise RuntimeError("the read transaction could not be closed")

    client, _ = site.signed_in("dispatcher")
    monkeypatch.setattr(routes, "page_work", closing_fails)
    r = client.get("/tickets.xlsx")
    assert r.status_code == 500 and "服务器内部错误" in r.text
    assert list(tmp_path.glob("hotline-export-*")) == []  # the written workbook was removed


def test_a_search_wider_than_a_sheet_is_cut_and_the_sheet_and_page_say_how_many_are_left_out(site, session, people,
                                                                                              monkeypatch):
    made = [make_ticket(session, people, Status.registered, content=f"村口路灯不亮第{i}盏") for i in range(3)]
    session.commit()
    monkeypatch.setattr(export, "MAX_ROWS", 2)  # Excel's 1,048,575 rows, made small
    client, _ = site.signed_in("dispatcher")
    page = client.get("/tickets?q=路灯").text
    assert "导出最新的 2 件，较早的 1 件不在其中" in page
    rows, about = sheets(client.get("/tickets.xlsx?q=路灯").content)
    assert [row[0] for row in rows[1:]] == [t.number for t in made[::-1][:2]]
    said = dict(about)
    assert said["筛选条件"] == "关键词「路灯」" and said["符合条件"] == "3 件"
    assert said["本表列出"].startswith("2 件（Excel 一张表最多容纳 2 件") and said["未列出"].startswith("1 件")
    assert "不在其中" not in client.get("/tickets?q=第0盏").text  # one ticket: nothing to say


def test_an_agent_imports_a_sheet_from_the_console_all_or_nothing(site, session, people):
    from sqlalchemy import func, select

    from hotline.tickets.models import Ticket

    def tickets() -> int:
        with site.db.transaction(write=False) as s:
            return s.scalar(select(func.count(Ticket.id)))

    agent, csrf = site.signed_in("agent")
    assert 'href="/tickets/import"' in agent.get("/tickets").text
    assert "诉求内容、发生地、事项分类" in agent.get("/tickets/import").text
    good = "诉求内容,发生地,事项分类\n村里停水了,裴介镇 朱吕村,停水\n路灯不亮,裴介镇 朱吕村,0404\n"
    bad = good + "停水,王村,停水\n"
    # A file with a refused row: every problem listed by row, nothing kept.
    r = agent.post("/tickets/import", data={"csrf": csrf}, files={"file": ("letters.csv", bad.encode(), "text/csv")})
    assert r.status_code == 422 and "第 4 行" in r.text and "3 处地点" in r.text and "3 行均未导入" in r.text
    assert tickets() == 0
    # Only checking: passes, keeps nothing.
    r = agent.post("/tickets/import", data={"csrf": csrf, "check": "1"},
                   files={"file": ("letters.csv", good.encode(), "text/csv")})
    assert r.status_code == 200 and "检查通过：2 行" in r.text and tickets() == 0
    # Imported: the new tickets are listed with links.
    r = agent.post("/tickets/import", data={"csrf": csrf}, files={"file": ("letters.csv", good.encode(), "text/csv")})
    assert r.status_code == 200 and "已导入 2 件工单" in r.text and tickets() == 2
    with site.db.transaction(write=False) as s:
        numbers = list(s.scalars(select(Ticket.number).order_by(Ticket.id)))
    assert all(f'href="/tickets/{n}"' in r.text for n in numbers)
    # A file saved in GBK (Excel's 「CSV（逗号分隔）」) is read: the same rows, so imported before.
    r = agent.post("/tickets/import", data={"csrf": csrf, "check": "1"},
                   files={"file": ("三月来信.csv", good.encode("gbk"), "text/csv")})
    assert r.status_code == 422 and r.text.count("已导入过：与工单") == 2 and tickets() == 2
    # An unreadable file is named as it was uploaded, not by the server's temporary name.
    r = agent.post("/tickets/import", data={"csrf": csrf},
                   files={"file": ("三月来信.csv", good.encode("utf-16"), "text/csv")})
    assert r.status_code == 422 and "三月来信.csv 不是 UTF-8 或 GBK 编码的 CSV" in r.text and "tmp" not in r.text
    # No file, no token, no right.
    assert "请选择要导入的文件" in agent.post("/tickets/import", data={"csrf": csrf}).text
    assert agent.post("/tickets/import", data={"csrf": "wrong"},
                      files={"file": ("x.csv", good.encode(), "text/csv")}).status_code == 403
    handler, hcsrf = site.signed_in("handler_a")
    assert handler.post("/tickets/import", data={"csrf": hcsrf},
                        files={"file": ("x.csv", good.encode(), "text/csv")}).status_code == 403
    assert 'href="/tickets/import"' not in handler.get("/tickets").text
    assert tickets() == 2


def test_importing_a_sheet_without_received_times_again_is_refused_on_the_page(site, session, people):
    from sqlalchemy import func, select

    from hotline.tickets.models import Ticket

    agent, csrf = site.signed_in("agent")
    letters = "诉求内容,发生地,事项分类\n村里停水了,裴介镇 朱吕村,停水\n路灯不亮,裴介镇 朱吕村,0404\n"
    r = agent.post("/tickets/import", data={"csrf": csrf}, files={"file": ("letters.csv", letters.encode(), "text/csv")})
    assert r.status_code == 200 and "已导入 2 件工单" in r.text
    with site.db.transaction(write=False) as s:
        numbers = list(s.scalars(select(Ticket.number).order_by(Ticket.id)))
    # The clerk uploads yesterday's letters again: every row refused, naming the ticket it already is.
    r = agent.post("/tickets/import", data={"csrf": csrf}, files={"file": ("letters.csv", letters.encode(), "text/csv")})
    assert r.status_code == 422 and "2 行均未导入" in r.text
    assert "第 2 行" in r.text and f"已导入过：与工单 {numbers[0]}" in r.text
    assert "第 3 行" in r.text and f"已导入过：与工单 {numbers[1]}" in r.text
    # A row written twice in one file: the second names the first.
    twice = "诉求内容,发生地,事项分类\n村口水管爆了,裴介镇 朱吕村,停水\n村口水管爆了,裴介镇 朱吕村,停水\n"
    r = agent.post("/tickets/import", data={"csrf": csrf}, files={"file": ("twice.csv", twice.encode(), "text/csv")})
    assert r.status_code == 422 and "第 3 行" in r.text and "与第 2 行重复" in r.text
    with site.db.transaction(write=False) as s:
        assert s.scalar(select(func.count(Ticket.id))) == 2
