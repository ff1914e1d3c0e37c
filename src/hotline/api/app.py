"""The web application: the JSON API under /api/v1 (pages come later under /)."""

from __future__ import annotations

from typing import Literal

import swagger_ui_bundle
from fastapi import Depends, FastAPI, Security
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from hotline import __version__, wiring
from hotline.api import document, edge, errors, open311
from hotline.api.routes import analytics as analytics_routes
from hotline.api.routes import callbacks, directory, meta, tickets
from hotline.api.routes import employment as employment_routes
from hotline.api.routes import fieldwork as fieldwork_routes
from hotline.api.routes import incidents as incidents_routes
from hotline.api.routes import knowledge as knowledge_routes
from hotline.api.routes import notify as notify_routes
from hotline.api.routes import settings as settings_routes
from hotline.api.routes import supervision as supervision_routes
from hotline.api.routes import tokens as token_routes
from hotline.config import Settings, load_settings
from hotline.kit import clock
from hotline.kit.db import Database

DESCRIPTION = """\
12345 政务服务便民热线（接诉即办）平台的 JSON 接口。

Every `/api/v1` call is authenticated with `Authorization: Bearer <token>` (create one with
`hotline token create --user NAME`; the web session cookie is not accepted). Errors are JSON:
`{"error": {"code", "message", "details"}}`. Times are ISO 8601 with time zone; naive inputs are
read as local time (Asia/Shanghai). Lists page with `page`/`per_page` or `limit`/`offset`, as each
documents. Open311 GeoReport v2 (`/open311/v2`, JSON or XML, its own error list) takes an `api_key`
on its request endpoints; its discovery and services, and `/healthz`, are open.
"""


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    settings = settings or load_settings()
    clock.set_timezone(settings.timezone)
    app = FastAPI(title="hotline API", version=__version__, description=DESCRIPTION,
                  openapi_url="/api/v1/openapi.json", docs_url=None, redoc_url=None,
                  dependencies=[Depends(edge.clean_url)])
    app.state.settings = settings
    wiring.install()
    app.state.db = database or Database(settings.database_url)
    errors.install(app)
    api_routers = (tickets.router, directory.router, meta.router, notify_routes.router, settings_routes.router,
                   callbacks.router, supervision_routes.router, incidents_routes.router, analytics_routes.router,
                   employment_routes.router, fieldwork_routes.router, token_routes.router, knowledge_routes.router)
    for router in api_routers:
        app.include_router(router, prefix="/api/v1", dependencies=[Security(document.bearer)])
    app.include_router(open311.router)  # Open311 GeoReport v2 at /open311/v2 (its own error format)

    # Swagger UI from the package, not a CDN: hotline networks are often offline.
    app.mount("/api/v1/docs/assets", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="swagger-ui")

    @app.get("/api/v1/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/api/v1/openapi.json", title="hotline API 文档",
            swagger_js_url="/api/v1/docs/assets/swagger-ui-bundle.js",
            swagger_css_url="/api/v1/docs/assets/swagger-ui.css",
            swagger_favicon_url="/api/v1/docs/assets/favicon-32x32.png",
        )

    @app.get("/healthz", response_model=Health, tags=["meta"], openapi_extra={"security": []},
             summary="Liveness: the process answers (no token needed; the database is not asked)")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    document.install(app, api_routers)
    return app


class Health(BaseModel):
    status: Literal["ok"]
