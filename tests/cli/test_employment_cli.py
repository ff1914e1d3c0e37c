"""``hotline employment import``: a ledger sheet added all or nothing, within the account's scope."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from hotline.employment.models import Worker
from tests.cli.conftest import ok
from tests.employment.conftest import Staff, make_staff

HEADER = "村,姓名,性别,出生年份,就业状态,就业意向\n"


@pytest.fixture
def staff(session, people) -> Staff:
    return make_staff(session, people)


def count(db) -> int:
    with db.transaction(write=False) as s:
        return s.scalar(select(func.count(Worker.id))) or 0


def test_a_sheet_is_added_whole_or_not_at_all(db, hotline, staff, tmp_path):
    sheet = tmp_path / "台账.csv"
    sheet.write_text(HEADER + "朱吕村,张三,男,1980,未就业,电焊\n水头村,李四,女,1985,未就业,\n", encoding="utf-8-sig")
    result = hotline("employment", "import", str(sheet), "--by", staff.township.username, "--json")
    assert result.exit_code == 1
    out = json.loads(result.stdout)
    assert out["added"] == 0 and out["problems"] == [
        {"row": 3, "message": "村「水头村」不是您辖区内设有就业服务站的村"}]
    assert count(db) == 0
    assert ok(hotline("employment", "import", str(sheet), "--by", staff.bureau.username)).startswith("已导入 2 人")
    assert count(db) == 2



def test_stations_are_opened_and_listed_from_the_command_line(hotline):
    """Outside the demo there was no way to open a station (service.add_station had no caller), so
    no real village could keep a ledger."""
    out = ok(hotline("employment", "station", "add", "140828102207", "--phone", "0359-1234567",
                     "--opened", "2026-03-01"))
    assert out.strip() == "已设立：朱吕村劳动保障服务站（140828102207）"
    again = hotline("employment", "station", "add", "140828102207")
    assert again.exit_code == 1 and "朱吕村已设有就业服务站" in again.output
    wrong = hotline("employment", "station", "add", "140828102")  # a township
    assert wrong.exit_code == 1 and "找不到村（社区）「140828102」" in wrong.output
    assert ok(hotline("employment", "station", "list")).strip() == \
        "140828102207\t朱吕村劳动保障服务站\t0359-1234567\t2026-03-01"
