from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from hotline.config import load_settings
from hotline.directory.loader import load_reference_data
from hotline.kit import clock, pg
from hotline.kit.db import Database
from hotline.migrations import upgrade
from hotline.notify.templates import load_templates
from tests.conftest import PG_ADMIN_URL, REQUIRE_PG
from tests.worker.scenario import hotline_env, midday_zone, run_hotline


@pytest.fixture(autouse=True)
def midday() -> Iterator[str]:
    """Tests and the processes they start use a zone where it is midday (see ``midday_zone``)."""
    before = clock.tz().key
    zone = midday_zone()
    clock.set_timezone(zone)
    yield zone
    clock.set_timezone(before)


@pytest.fixture(scope="session")
def initialised(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory set up once by a real ``hotline init``; tests work on copies of it."""
    path = tmp_path_factory.mktemp("initialised")
    done = run_hotline(hotline_env(data_dir=path), "init")
    assert done.returncode == 0, done.stderr
    return path


@pytest.fixture
def data_dir(tmp_path: Path, initialised: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    for file in initialised.glob("hotline.db*"):
        shutil.copy(file, path / file.name)
    return path


@pytest.fixture
def data_db(data_dir: Path) -> Iterator[Database]:
    """The test's own view of the data directory's SQLite database (the worker processes have theirs)."""
    database = Database(load_settings({"HOTLINE_DATA_DIR": str(data_dir)}).database_url)
    yield database
    database.dispose()


@pytest.fixture
def pg_db() -> Iterator[Database]:
    """A fresh, initialised PostgreSQL database of the test's own (the workers put their queue
    tables and claims in it)."""
    reason = pg.unreachable(PG_ADMIN_URL)
    if reason:
        if REQUIRE_PG:
            pytest.fail(f"HOTLINE_REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)
    url = pg.create_database(PG_ADMIN_URL, f"hotline_workers_{uuid.uuid4().hex[:8]}")
    upgrade(url)
    database = Database(url)
    with database.transaction() as session:
        load_reference_data(session)
        load_templates(session)
    yield database
    database.dispose()
    pg.drop_database(PG_ADMIN_URL, url)
