"""A row imported before is refused, with or without 受理时间: each imported ticket keeps its row's
fingerprint, unique in the database, so importing a file again (or twice at once) registers nothing
new and says which rows and which tickets; a row repeated within one file names its first row."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from hotline.importing import tickets as importing
from hotline.importing.models import TicketImport
from hotline.importing.tickets import import_file
from hotline.kit import clock
from hotline.tickets.models import Ticket
from tests.builders import ZHULV

HEADER = "诉求内容,发生地,事项分类,联系电话\n"
LETTERS = ("来信反映村里从早上停水到现在,裴介镇 朱吕村,停水,13803590001\n"
           "来信：村口路灯不亮 已经一周,裴介镇 朱吕村,0404,\n")


def sheet(tmp_path: Path, body: str, name: str = "letters.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def imported(db, path: Path, actor) -> importing.ImportResult:
    """``path`` imported as an edge would: committed when every row is right, else rolled back."""
    with db.transaction() as s:
        result = import_file(s, path, actor=actor)
        if not result.ok:
            s.rollback()
    return result


def count(db) -> int:
    with db.transaction(write=False) as s:
        return s.scalar(select(func.count(Ticket.id))) or 0


def test_a_file_without_received_times_imported_again_registers_nothing_and_names_the_tickets(db, people, tmp_path):
    clock.freeze(datetime(2026, 11, 28, 10, 0))
    first = imported(db, sheet(tmp_path, LETTERS), people.agent)
    assert first.ok and len(first.numbers) == 2
    with db.transaction(write=False) as s:
        assert {(i.row, i.imported_by_id) for i in s.scalars(select(TicketImport))} == {(2, people.agent.id), (3, people.agent.id)}
    clock.freeze(datetime(2026, 11, 29, 9, 0))  # the next day: the import time differs, the rows do not
    again = imported(db, sheet(tmp_path, LETTERS), people.agent)
    assert [p.row for p in again.problems] == [2, 3]
    for problem, number in zip(again.problems, first.numbers, strict=True):
        assert problem.message.startswith(f"已导入过：与工单 {number} ")
    assert count(db) == 2
    # Written differently but the same request: spaces, the place as its code, the phone with dashes.
    respelled = ("  来信反映村里从早上停水到现在 ," + ZHULV + ",0101, 138-0359-0001\n"
                 "来信：村口路灯不亮 \t 已经一周,裴介镇 朱吕村,0404,\n")
    again = imported(db, sheet(tmp_path, respelled), people.agent)
    assert [(p.row, p.message.split(" ")[1]) for p in again.problems] == [(2, first.numbers[0]), (3, first.numbers[1])]
    assert count(db) == 2


def test_two_identical_rows_in_one_file_refuse_the_second_naming_the_first(db, people, tmp_path):
    clock.freeze(datetime(2026, 11, 28, 10, 0))
    row = "来信反映村里从早上停水到现在,裴介镇 朱吕村,停水,13803590001\n"
    result = imported(db, sheet(tmp_path, row + "来信：路灯不亮,裴介镇 朱吕村,0404,\n" + row.replace("现在,", "现在 ,")),
                      people.agent)
    assert [(p.row, p.message) for p in result.problems] == [
        (4, "与第 2 行重复（同一文件中的同一诉求）：删去其中一行后重新导入")]
    assert count(db) == 0  # all or nothing: the first row and the other one are not kept either
    assert imported(db, sheet(tmp_path, row + "来信：路灯不亮,裴介镇 朱吕村,0404,\n"), people.agent).ok
    assert count(db) == 2


def test_a_changed_row_is_not_a_repeat(db, people, tmp_path):
    clock.freeze(datetime(2026, 11, 28, 10, 0))
    assert imported(db, sheet(tmp_path, LETTERS), people.agent).ok
    changed = ("来信反映村里从昨晚停水到现在,裴介镇 朱吕村,停水,13803590001\n"  # other content
               "来信反映村里从早上停水到现在,裴介镇 朱吕村,停水,13803590002\n"  # another caller
               "来信：村口路灯不亮 已经一周,裴介镇 朱吕村,0404,13803590003\n")  # a phone now given
    result = imported(db, sheet(tmp_path, changed), people.agent)
    assert result.ok and len(result.numbers) == 3
    assert count(db) == 5
    with db.transaction(write=False) as s:  # each kept with a fingerprint of its own
        assert len(set(s.scalars(select(TicketImport.fingerprint)))) == 5


def test_a_repeat_committed_after_the_check_is_refused_by_the_constraint(db, people, tmp_path, monkeypatch):
    """Two imports of one file at once: both look before either commits, so neither sees the other's
    fingerprints; the unique constraint refuses the second, which is told as if it had seen them."""
    clock.freeze(datetime(2026, 11, 28, 10, 0))
    first = imported(db, sheet(tmp_path, LETTERS), people.agent)
    monkeypatch.setattr(importing, "_not_imported_before", lambda *_args: None)  # looked too early
    late = imported(db, sheet(tmp_path, LETTERS), people.agent)
    assert [(p.row, p.message.split(" ")[1]) for p in late.problems] == [(2, first.numbers[0]), (3, first.numbers[1])]
    assert all(p.message.startswith("已导入过") for p in late.problems)
    assert count(db) == 2


def test_two_imports_of_one_file_at_the_same_moment_keep_it_once(db, people, tmp_path, request):
    """PostgreSQL, two sessions: the second import waits on the first's uncommitted rows and, once
    they are committed, refuses every row as imported before (no error page, nothing doubled)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time (BEGIN IMMEDIATE): the second import starts after the first")
    clock.freeze(datetime(2026, 11, 28, 10, 0))
    path = sheet(tmp_path, LETTERS)
    winner = db.session()
    first = import_file(winner, path, actor=people.agent)
    assert first.ok
    outcome: dict = {}

    def second() -> None:
        with db.transaction() as s:
            outcome["result"] = result = import_file(s, path, actor=people.agent)
            if not result.ok:
                s.rollback()

    loser = threading.Thread(target=second)
    loser.start()
    deadline = time.monotonic() + 10
    with db.engine.connect() as watch:  # until the second import waits on a lock held by the first
        while not watch.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                    "AND wait_event_type = 'Lock'")):
            assert time.monotonic() < deadline and loser.is_alive(), "the second import never waited"
            time.sleep(0.05)
            watch.rollback()
    winner.commit()
    winner.close()
    loser.join(20)
    late = outcome["result"]
    assert [(p.row, p.message.split(" ")[1]) for p in late.problems] == [(2, first.numbers[0]), (3, first.numbers[1])]
    assert count(db) == 2
