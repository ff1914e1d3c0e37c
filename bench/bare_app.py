"""The baseline for bench/intake.py: the least a FastAPI endpoint can do to record a request.

One POST endpoint with a small Pydantic body that inserts one row into a one-table database via
SQLAlchemy and commits per request. The engine comes from ``hotline.kit.db.make_engine`` (same
SQLite pragmas, same PostgreSQL pool), and the write transaction carries the same
``hotline_write`` execution option as hotline's writes (``BEGIN IMMEDIATE`` on SQLite), so the
only difference from ``POST /api/v1/tickets`` is the work hotline does per ticket.

Serve it with: ``BENCH_DATABASE_URL=sqlite:////tmp/x.db uvicorn --app-dir bench bare_app:app``
(``intake.py`` creates the table with ``create_schema(url)`` before starting the server).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from fastapi import FastAPI
from pydantic import BaseModel, Field
from sqlalchemy import DateTime, Integer, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from hotline.kit.db import make_engine


class BareBase(DeclarativeBase):
    metadata = MetaData()


class Item(BareBase):
    __tablename__ = "bench_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    category_code: Mapped[str] = mapped_column(String(12))
    region_code: Mapped[str] = mapped_column(String(12))
    content: Mapped[str] = mapped_column(Text)
    caller_phone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ItemIn(BaseModel):
    kind: str = Field(max_length=20)
    category_code: str = Field(max_length=12)
    region_code: str = Field(max_length=12)
    content: str
    caller_phone: str | None = None


def create_schema(url: str) -> None:
    engine = make_engine(url)
    BareBase.metadata.create_all(engine)
    engine.dispose()


def create_app(url: str) -> FastAPI:
    engine = make_engine(url)
    write_engine = engine.execution_options(hotline_write=True)
    app = FastAPI()

    @app.post("/items", status_code=201)
    def create_item(body: ItemIn) -> dict[str, int]:
        with Session(write_engine) as session, session.begin():
            item = Item(**body.model_dump(), created_at=datetime.now(UTC))
            session.add(item)
            session.flush()
            return {"id": item.id}

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


_url = os.environ.get("BENCH_DATABASE_URL")
app = create_app(_url) if _url else None
