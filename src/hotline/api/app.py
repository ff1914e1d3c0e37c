"""The web application: the JSON API under /api/v1 (pages come later under /)."""

from __future__ import annotations

from fastapi import FastAPI

from hotline import __version__
from hotline.api import errors
from hotline.api.routes import directory, meta, tickets
from hotline.config import Settings, load_settings
from hotline.kit import clock
from hotline.kit.db import Database

DESCRIPTION = """\
12345 政务服务便民热线（接诉即办）平台的 JSON 接口。

Every call is authenticated with `Authorization: Bearer <token>` (create one with
`hotline token create --user NAME`). Errors are JSON: `{"error": {"code", "message", "details"}}`.
Times are ISO 8601 with time zone; naive inputs are read as local time (Asia/Shanghai).
"""


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    settings = settings or load_settings()
    clock.set_timezone(settings.timezone)
    app = FastAPI(title="hotline API", version=__version__, description=DESCRIPTION,
                  openapi_url="/api/v1/openapi.json", docs_url="/api/v1/docs", redoc_url=None)
    app.state.settings = settings
    app.state.db = database or Database(settings.database_url)
    errors.install(app)
    for router in (tickets.router, directory.router, meta.router):
        app.include_router(router, prefix="/api/v1")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
