"""Directory tests change reference tables, which the test databases load once per session and
every other test relies on: put them back exactly as they were after each test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import delete, insert, select, update

from hotline.directory import reference
from hotline.kit.db import Base, Database
from tests.conftest import _clean

REPLACED = ["dispatch_rules", "time_limits", "unit_regions"]  # small: deleted and inserted again
PATCHED = [("units", "id"), ("categories", "code"), ("regions", "code")]  # rows added are removed, rows changed restored


def _rows(session: Any, name: str) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in session.execute(select(Base.metadata.tables[name]))]


@contextmanager
def reference_kept(database: Database) -> Iterator[None]:
    with database.transaction(write=False) as s:
        before = {name: _rows(s, name) for name in REPLACED + [n for n, _ in PATCHED]}
    try:
        yield
    finally:
        _clean(database)  # users and tickets that point at added units go first
        with database.transaction() as s:
            for name in REPLACED:
                s.execute(delete(Base.metadata.tables[name]))
            for name, key in PATCHED:
                _patch(s, name, key, before[name])
            for name in reversed(REPLACED):
                if before[name]:
                    s.execute(insert(Base.metadata.tables[name]), before[name])
        reference.invalidate()


def _patch(session: Any, name: str, key: str, old: list[dict[str, Any]]) -> None:
    table = Base.metadata.tables[name]
    pk = table.c[key]
    kept = {row[key]: row for row in old}
    added = [row for row in _rows(session, name) if row[key] not in kept]
    parent = "parent_id" if name == "units" else "parent_code"
    if added:
        ids = [row[key] for row in added]
        session.execute(update(table).where(pk.in_(ids)).values({parent: None}))
        session.execute(delete(table).where(pk.in_(ids)))
    now = {row[key]: row for row in _rows(session, name)}
    for k, row in kept.items():
        if now.get(k) != row:
            session.execute(update(table).where(pk == k).values(row))
