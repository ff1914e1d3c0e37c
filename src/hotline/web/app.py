"""The whole site: the JSON API (``hotline.api``) plus the pages, in one ASGI app."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from hotline.api.app import create_app
from hotline.config import Settings
from hotline.kit.db import Database
from hotline.web.render import HERE, page
from hotline.web.routes import (
    admin,
    admin_directory,
    analytics,
    auth,
    callbacks,
    dispatch,
    incidents,
    intake,
    knowledge,
    portal,
    reports,
    suggest,
    supervision,
    tickets,
    unit,
)
from hotline.web.session import CsrfRefused, SignInNeeded


def create_site(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    app = create_app(settings, database)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for router in (auth.router, tickets.router, intake.router, dispatch.router,
                   unit.router, callbacks.router, supervision.router, admin.router,
                   admin_directory.router, knowledge.router, incidents.router, suggest.router,
                   reports.router, analytics.router):
        app.include_router(router)
    app.include_router(portal.router)  # the citizen portal: no sign-in

    @app.exception_handler(SignInNeeded)
    async def sign_in_first(request: Request, exc: SignInNeeded) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.headers.get("hx-request"):
            return Response(status_code=204, headers={"HX-Redirect": "/login"})
        return RedirectResponse(f"/login?next={target}", status_code=303)

    @app.exception_handler(CsrfRefused)
    async def csrf_refused(request: Request, exc: CsrfRefused) -> Response:
        return page(request, "error.html", status_code=403, title="页面已过期",
                    message="表单校验失败（缺少或错误的安全令牌）：请刷新页面后重新提交。")

    return app
