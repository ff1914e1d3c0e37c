"""PostgreSQL server chores: is a server there, create and drop a scratch database.

Used by the test suite and the benchmarks, which each work in a database of their own.
"""

from __future__ import annotations

import re

from sqlalchemy import create_engine, text

_NAME = re.compile(r"^[a-z0-9_]{1,63}$")


def unreachable(admin_url: str) -> str | None:
    """``None`` when a server answers at ``admin_url``, else a one-line reason."""
    try:
        engine = create_engine(admin_url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "no server here"
        detail = " ".join(str(exc).split())[:160]
        return f"PostgreSQL not reachable at {admin_url}: {exc.__class__.__name__}: {detail}"


def _admin(admin_url: str, sql: str) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(sql))
    engine.dispose()


def create_database(admin_url: str, name: str) -> str:
    """Create database ``name`` on the server of ``admin_url``; return its URL."""
    if not _NAME.match(name):
        raise ValueError(f"unsafe database name {name!r}")
    _admin(admin_url, f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + "/" + name


def drop_database(admin_url: str, url: str) -> None:
    name = url.rsplit("/", 1)[1]
    if not _NAME.match(name):
        raise ValueError(f"unsafe database name {name!r}")
    _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
