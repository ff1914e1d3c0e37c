"""Processes started together on a fresh database all start: migrating, loading the reference data
and making the queue's tables take turns (``kit.locks.startup_lock``).

Before, 2 of 3 ``hotline serve`` on a fresh PostgreSQL database exited with ``duplicate key value
violates unique constraint "pg_type_typname_nsp_index"``, and on SQLite with ``database is locked``.
"""

from __future__ import annotations

import multiprocessing
import traceback
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, func, select, text

from hotline.cli.main import cli
from hotline.config import load_settings
from hotline.directory.models import Unit
from hotline.kit import pg
from hotline.migrations import current_head
from hotline.worker import queue
from tests.conftest import PG_ADMIN_URL, REQUIRE_PG

STARTS = 4


@pytest.fixture
def fresh_pg() -> Iterator[str]:
    """The URL of an empty PostgreSQL database of the test's own."""
    reason = pg.unreachable(PG_ADMIN_URL)
    if reason:
        if REQUIRE_PG:
            pytest.fail(f"HOTLINE_REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)
    url = pg.create_database(PG_ADMIN_URL, f"hotline_start_{uuid.uuid4().hex[:8]}")
    yield url
    pg.drop_database(PG_ADMIN_URL, url)


def _child(barrier, results, work: Callable[[], str]) -> None:
    barrier.wait(timeout=60)
    try:
        results.put((True, work()))
    except BaseException:  # noqa: BLE001 - what failed goes back to the test
        results.put((False, traceback.format_exc()))


def together(n: int, work: Callable[[], str]) -> list[tuple[bool, str]]:
    """``work`` run by ``n`` processes let go at the same moment; (succeeded, output) of each."""
    context = multiprocessing.get_context(
        "fork"
    )  # started with what the test imported: no seconds of imports each
    barrier, results = context.Barrier(n), context.Queue()
    processes = [context.Process(target=_child, args=(barrier, results, work)) for _ in range(n)]
    for p in processes:
        p.start()
    try:
        return [results.get(timeout=600) for _ in processes]
    finally:
        for p in processes:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()


def hotline_init(url: str, data_dir: Path) -> Callable[[], str]:
    def run() -> str:
        result = CliRunner(env={"HOTLINE_DATA_DIR": str(data_dir), "HOTLINE_DATABASE_URL": url}).invoke(
            cli, ["init"]
        )
        if result.exit_code != 0:
            raise RuntimeError(result.output + "".join(traceback.format_exception(*result.exc_info)))
        return result.output

    return run


def loaded_units(output: str) -> int:
    """The units a ``hotline init`` said it loaded (``已载入：… units 372，…``)."""
    return int(output.split("units ", 1)[1].split("，", 1)[0])


def check_started_once(url: str, outputs: list[tuple[bool, str]]) -> None:
    assert [ok for ok, _ in outputs] == [True] * STARTS, "\n".join(out for ok, out in outputs if not ok)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [
                current_head()
            ]
            units = conn.scalar(select(func.count()).select_from(Unit))
    finally:
        engine.dispose()
    # One of them loaded the reference data; the others found it there.
    assert sorted(loaded_units(out) for _, out in outputs) == [0] * (STARTS - 1) + [units]
    assert units > 300


@pytest.mark.postgres
def test_inits_started_together_on_a_fresh_postgresql_database_all_succeed(fresh_pg: str, tmp_path: Path):
    check_started_once(fresh_pg, together(STARTS, hotline_init(fresh_pg, tmp_path)))


def test_inits_started_together_on_a_fresh_sqlite_file_all_succeed(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'data' / 'hotline.db'}"
    check_started_once(url, together(STARTS, hotline_init(url, tmp_path / "data")))


@pytest.mark.postgres
def test_workers_started_together_on_a_fresh_postgresql_database_make_the_queue_tables_once(
    fresh_pg: str, tmp_path: Path
):
    settings = load_settings({"HOTLINE_DATA_DIR": str(tmp_path), "HOTLINE_DATABASE_URL": fresh_pg})

    def make_queue() -> str:
        huey = queue.storage(settings)
        queue.check_storage(huey, settings)
        return str(huey.storage.queue_size())

    assert together(STARTS, make_queue) == [(True, "0")] * STARTS
