"""Locks between processes: the start-up lock, and the lock that lets one worker at a time run a
periodic job.

Start-up (migrations, reference data, the queue's tables) is serialised across every process that
uses the database: on PostgreSQL by a session-level advisory lock, on a SQLite file by an exclusive
``flock`` on ``<database file>.lock`` beside it. Without it, web processes started together on a
fresh database each ran the migrations and all but one failed (PostgreSQL: ``duplicate key value
violates unique constraint "pg_type_typname_nsp_index"``; SQLite: ``database is locked``).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import pool, text
from sqlalchemy.engine import Connection, make_url

from hotline.kit.db import Database, make_engine

log = logging.getLogger(__name__)

STARTUP_LOCK = 12345_0001  # PostgreSQL advisory lock (one bigint key): migrating and loading at start
PERIODIC_LOCK = 12345_0020  # first key of the (int, int) advisory locks of the periodic jobs

_held = threading.local()  # the URLs whose start-up lock this thread holds (the lock is re-entrant)


@contextlib.contextmanager
def startup_lock(url: str) -> Iterator[None]:
    """Hold the database's start-up lock for the block; other processes (and threads) wait for it.

    Re-entrant within a thread, so ``migrations.upgrade`` (which takes it) can run inside a block
    that holds it. An in-memory SQLite database has no other process to wait for: nothing is taken.
    """
    held: set[tuple[object, ...]] = _held.__dict__.setdefault("databases", set())
    parsed = make_url(url)
    which = (parsed.get_backend_name(), parsed.host, parsed.port, parsed.database)
    if which in held:
        yield
        return
    with _file_lock(url) if which[0] == "sqlite" else _pg_lock(url):
        held.add(which)
        try:
            yield
        finally:
            held.discard(which)


@contextlib.contextmanager
def _pg_lock(url: str) -> Iterator[None]:
    engine = make_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": STARTUP_LOCK})
            try:
                yield
            finally:
                _unlock(conn, "SELECT pg_advisory_unlock(:k)", {"k": STARTUP_LOCK})
    finally:
        engine.dispose()


def _unlock(conn: Connection, sql: str, params: dict[str, int]) -> None:
    """Release a session-level lock; if the connection is gone the server released it already, and
    a connection that may still hold it is closed rather than put back in a pool."""
    try:
        conn.execute(text(sql), params)
    except Exception:  # noqa: BLE001 - a lost connection's lock went with it
        log.warning("could not release an advisory lock: closing its connection", exc_info=True)
        conn.invalidate()


@contextlib.contextmanager
def _file_lock(url: str) -> Iterator[None]:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        yield
        return
    try:
        import fcntl
    except ImportError:  # not a POSIX system: SQLite's own locking is all there is
        yield
        return
    path = Path(database).with_name(Path(database).name + ".lock")
    if not path.parent.is_dir():  # SQLite itself will say the folder is not there
        yield
        return
    with open(path, "a") as handle:  # flock, not lockf: two threads' descriptors exclude each other too
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def periodic_key(name: str) -> int:
    """The second key of a periodic job's advisory lock (a stable 31-bit hash of its name)."""
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


@contextlib.contextmanager
def try_job_lock(db: Database, name: str) -> Iterator[bool]:
    """Whether this process may run the periodic job ``name`` now: on PostgreSQL, ``False`` while
    another process (a second worker) runs it, ``True`` with the job's advisory lock held for the
    block otherwise; always ``True`` on SQLite (one machine, its writes serialised anyway)."""
    if db.dialect != "postgresql":
        yield True
        return
    keys = {"a": PERIODIC_LOCK, "b": periodic_key(name)}
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if not conn.execute(text("SELECT pg_try_advisory_lock(:a, :b)"), keys).scalar():
            yield False
            return
        try:
            yield True
        finally:
            _unlock(conn, "SELECT pg_advisory_unlock(:a, :b)", keys)
