"""Of several workers on PostgreSQL, one at a time runs a job that recomputes something whole (the
hot spots, the rollups, incident detection, statistics, briefings); the others skip it."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from hotline.config import load_settings
from hotline.kit.db import Database
from hotline.kit.locks import try_job_lock
from hotline.worker import jobs, queue

pytestmark = pytest.mark.postgres


def periodic(huey, name: str):
    """The periodic task ``name`` as the consumer runs it."""
    return next(task for task in huey._registry._periodic_tasks if task.__name__ == name)


def test_the_hot_spots_another_worker_is_refreshing_are_skipped(pg_db: Database, tmp_path: Path, monkeypatch):
    settings = load_settings({"HOTLINE_DATA_DIR": str(tmp_path), "HOTLINE_DATABASE_URL": pg_db.url})
    ran: list[str] = []
    running, finish = threading.Event(), threading.Event()

    def slow_refresh(_db: Database, **_kwargs: object) -> int:
        ran.append(threading.current_thread().name)
        running.set()
        finish.wait(60)
        return 0

    monkeypatch.setattr(jobs, "refresh_hotspots", slow_refresh)
    other_db = Database(pg_db.url)  # the second worker: its own connections, as another process has
    try:
        first, second = queue.make_huey(settings, pg_db), queue.make_huey(settings, other_db)
        task = "hotline.refresh_hotspots"
        one = threading.Thread(target=first.execute, args=(periodic(first, task)(),), name="worker-1")
        one.start()
        assert running.wait(60)
        second.execute(periodic(second, task)())  # fired on the second worker meanwhile: returns at once
        assert ran == ["worker-1"]
        finish.set()
        one.join(60)
        second.execute(periodic(second, task)())  # the next hour's run goes ahead
        assert ran == ["worker-1", "MainThread"]
    finally:
        finish.set()
        other_db.dispose()


def test_a_job_another_worker_holds_is_skipped_and_only_that_job(pg_db: Database):
    other = Database(pg_db.url)  # another worker, running the rollups
    try:
        with try_job_lock(other, "refresh_rollups") as theirs:
            assert theirs
            done: list[str] = []
            assert not queue.one_at_a_time(pg_db, "refresh_rollups", lambda: done.append("rollups"))
            assert queue.one_at_a_time(pg_db, "refresh_hotspots", lambda: done.append("hotspots"))
            assert done == ["hotspots"]
        assert queue.one_at_a_time(pg_db, "refresh_rollups", lambda: done.append("rollups"))  # released
        assert done == ["hotspots", "rollups"]
    finally:
        other.dispose()
