"""Database engine, sessions and column types shared by every domain package.

The transaction boundary is the edge (HTTP request, CLI command, job): services only flush.
On SQLite, write transactions start with ``BEGIN IMMEDIATE`` so that two writers queue on the
busy timeout instead of failing half-way; readers use plain ``BEGIN`` and WAL lets them run beside
a writer.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, create_engine, event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, make_transient_to_detached, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)
        _configure_sqlite(engine)
        return engine
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = "IMMEDIATE" if conn.get_execution_options().get("hotline_write") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")


class Database:
    """An engine plus two session factories: one for reads, one for writes."""

    def __init__(self, url: str, **engine_kwargs: Any):
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self._read = sessionmaker(bind=self.engine, expire_on_commit=False)
        self._write = sessionmaker(
            bind=self.engine.execution_options(hotline_write=True), expire_on_commit=False
        )
        # SQLite has one writer at a time. Threads of this process queue on a lock that hands over
        # at once, instead of sleeping in SQLite's busy handler (steps of up to 100 ms); other
        # processes still wait on busy_timeout.
        self._write_lock = threading.RLock() if self.engine.dialect.name == "sqlite" else None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self, *, write: bool = True) -> Session:
        return (self._write if write else self._read)()

    @contextlib.contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Session]:
        """The edge's unit of work: commit on success, roll back on any error."""
        lock = self._write_lock if write else None
        if lock is not None:
            lock.acquire()
        session = self.session(write=write)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
            if lock is not None:
                lock.release()

    def dispose(self) -> None:
        self.engine.dispose()


def insert_now(session: Session, obj: Any) -> None:
    """Insert a new ORM object with one Core INSERT and attach it to the session as persistent.

    The hot path of intake: the unit of work costs about a millisecond per object, a cached Core
    INSERT a fraction of that. Every column is set on the object first (missing ones get their
    scalar default or None), so nothing is expired and reading it back needs no query. Collections
    must be empty; append children after this call so the session inserts them with their key.
    """
    state = inspect(obj)
    mapper = state.mapper
    table = mapper.local_table
    values: dict[str, Any] = {}
    pk = None
    for attr in mapper.column_attrs:
        column = attr.columns[0]
        if column.primary_key and getattr(obj, attr.key) is None:
            pk = attr.key
            continue
        if attr.key not in state.dict:
            default = column.default
            setattr(obj, attr.key, default.arg if default is not None and default.is_scalar else None)
        values[column.name] = getattr(obj, attr.key)
    statement = _insert_statements.get(table)
    if statement is None:
        statement = table.insert() if pk is None else table.insert().returning(table.c[pk])
        _insert_statements[table] = statement
    result = session.connection().execute(statement, values)
    if pk is not None:
        setattr(obj, pk, result.scalar_one())
    make_transient_to_detached(obj)
    session.add(obj)


_insert_statements: dict[Any, Any] = {}

