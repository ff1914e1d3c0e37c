"""A database that cannot be used is named in one 「错误：…」 line with what to do, and the command
exits with status 1: never a traceback (a wrong address, a server not there, a driver not
installed, a database not initialised yet)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from hotline.cli.main import cli
from tests.conftest import REQUIRE_PG, _drop_pg_database, _fresh_pg_database, _pg_available


def hotline(tmp_path: Path, url: str, *args: str) -> Result:
    runner = CliRunner(env={"HOTLINE_DATA_DIR": str(tmp_path / "data"), "HOTLINE_DATABASE_URL": url})
    return runner.invoke(cli, list(args), catch_exceptions=False)


def one_error_line(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    [line] = result.output.strip().splitlines()
    assert line.startswith("错误：")
    return line


URL_HELP = "请检查 HOTLINE_DATABASE_URL（或 --database-url）"


@pytest.mark.parametrize("url", ["not a url", "foo://x"])
def test_a_url_that_is_not_one_is_named(tmp_path: Path, url: str):
    line = one_error_line(hotline(tmp_path, url, "init"))
    assert line == (f"错误：数据库地址无效：{url}（例：sqlite:////srv/hotline/hotline.db 或 "
                    f"postgresql+psycopg://user@host/hotline）；{URL_HELP}")


def test_a_database_without_its_driver_is_named(tmp_path: Path):
    line = one_error_line(hotline(tmp_path, "mysql://hotline:secret@localhost/hotline", "init"))
    assert line == ("错误：数据库地址 mysql://***@localhost/hotline 需要的驱动 MySQLdb 未安装："
                    "hotline 使用 SQLite（sqlite:///…）或 PostgreSQL（postgresql+psycopg://…）")


def test_a_sqlite_file_in_a_folder_that_is_not_there(tmp_path: Path):
    url = f"sqlite:///{tmp_path}/no/such/dir/hotline.db"
    line = one_error_line(hotline(tmp_path, url, "init"))
    assert line == f"错误：无法使用数据库 {url}：unable to open database file。{URL_HELP}，以及文件所在目录是否存在、可写"


@pytest.mark.parametrize("where", ["127.0.0.1:1/hotline", "127.0.0.1:5432/hotline_no_such_db"])
def test_a_server_not_answering_or_a_database_not_created(tmp_path: Path, where: str):
    line = one_error_line(hotline(tmp_path, f"postgresql+psycopg://postgres:secret@{where}", "init"))
    assert line.startswith(f"错误：无法使用数据库 postgresql+psycopg://***@{where}：")
    assert line.endswith(f"{URL_HELP}，以及数据库服务是否在运行、数据库是否已创建") and "secret" not in line


def test_a_sqlite_database_not_initialised_says_run_init(tmp_path: Path):
    url = f"sqlite:///{tmp_path}/hotline.db"
    for command, table in ((["stats"], "units"), (["user", "list"], "users"), (["token", "list"], "api_tokens")):
        line = one_error_line(hotline(tmp_path, url, *command))
        assert line == f"错误：数据库 {url} 尚未初始化（没有数据表 {table}）：请先运行 hotline init", command


@pytest.mark.postgres
def test_a_postgres_database_not_initialised_says_run_init(tmp_path: Path, worker_id: str):
    reason = _pg_available()
    if reason:
        if REQUIRE_PG:
            pytest.fail(f"HOTLINE_REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)
    url = _fresh_pg_database(f"empty_{worker_id}")
    try:
        line = one_error_line(hotline(tmp_path, url, "stats"))
        assert line.endswith("尚未初始化（没有数据表 units）：请先运行 hotline init")
    finally:
        _drop_pg_database(url)
