"""The whole site: the JSON API (``hotline.api``) plus the pages, in one ASGI app."""

from __future__ import annotations

import gc
import json
import logging
import threading

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from hotline.api.app import create_app
from hotline.api.errors import UNAVAILABLE
from hotline.config import Settings
from hotline.kit.db import Database
from hotline.kit.errors import DomainError
from hotline.web.render import HERE, page
from hotline.web.routes import (
    admin,
    admin_directory,
    admin_tokens,
    analytics,
    auth,
    callbacks,
    dispatch,
    employment,
    employment_jobs,
    fieldwork,
    incidents,
    intake,
    knowledge,
    messages,
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
                   admin_directory.router, admin_tokens.router, knowledge.router, incidents.router, suggest.router,
                   reports.router, analytics.router, employment.router, employment_jobs.router,
                   fieldwork.router, messages.router):
        app.include_router(router)
    app.include_router(portal.router)  # the citizen portal: no sign-in

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        """The icon the pages link (/static/favicon.svg), also where browsers look for it unasked."""
        return FileResponse(HERE / "static" / "favicon.svg", media_type="image/svg+xml",
                            headers={"Cache-Control": "public, max-age=86400"})

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

    # A page address with a malformed part (/knowledge/abc) or none at all is answered with a page a
    # person can read and leave by its links; the JSON API keeps its JSON errors.
    api_invalid, api_http = app.exception_handlers[RequestValidationError], app.exception_handlers[StarletteHTTPException]

    def _is_page(request: Request) -> bool:
        return not request.url.path.startswith(("/api/", "/static/", "/open311/"))

    @app.exception_handler(RequestValidationError)
    async def bad_address(request: Request, exc: RequestValidationError) -> Response:
        if not _is_page(request):
            return await api_invalid(request, exc)
        return page(request, "error.html", status_code=422, title="网址有误",
                    message="网址或表单中有无效的参数（例如编号不是数字）：请从页面上的链接进入，或返回重试。")

    # An error no page caught (an id past any row's, a value the database refuses, a fault) is a page
    # too, saying what the API would say.
    titles = {403: "无权操作", 404: "未找到", 409: "操作冲突", 422: "无法处理", 500: "服务器内部错误",
              503: "服务暂时不可用"}

    def readable(kind: type[Exception]) -> None:
        api_answer = app.exception_handlers[kind]

        async def answer(request: Request, exc: Exception) -> Response:
            response = await api_answer(request, exc)
            if not _is_page(request):
                return response
            message = json.loads(bytes(response.body))["error"]["message"]
            request.state.user = None  # its session is closed: the page is drawn without the menu
            answer = page(request, "error.html", status_code=response.status_code,
                          title=titles.get(response.status_code, "出错了"), message=message)
            if "retry-after" in response.headers:  # the database is down: when to try again
                answer.headers["Retry-After"] = response.headers["retry-after"]
            return answer

        app.add_exception_handler(kind, answer)

    for kind in (DomainError, DataError, IntegrityError, StaleDataError, OverflowError, *UNAVAILABLE, DBAPIError,
                 Exception):
        readable(kind)

    @app.exception_handler(StarletteHTTPException)
    async def no_such_page(request: Request, exc: StarletteHTTPException) -> Response:
        if not _is_page(request) or exc.status_code not in (404, 405):
            return await api_http(request, exc)
        return page(request, "error.html", status_code=exc.status_code, title="页面不存在",
                    message="没有这个页面：请检查网址，或从导航栏进入。")

    return app


_log = logging.getLogger(__name__)


def warm_up() -> threading.Thread:
    """Load, in a daemon thread, what on-demand hot spots and briefings load on first use
    (``hotspots.preload``: scikit-learn, SciPy's clustering, jieba's dictionary; 3–4 s, some
    100 MB). The first ``GET /api/v1/analytics/hotspots`` of a web process took 5.4 s on the demo,
    every later one 0.75 s.
    Called by each web process once its site is loaded (``hotline serve``, ``web/asgi.py``): the site
    answers meanwhile (「hotline 已启动」 is not held up); a request needing them before they are
    loaded waits for the rest of the load, as it waited for all of it before.

    Then what the loads made (modules: some 60,000 objects, living as long as the process) is
    frozen out of the collector like the site's own (``web/asgi.py``), so full collections keep
    walking only what requests make (what requests in flight hold at that moment is frozen too:
    once, a few kB)."""

    def load() -> None:
        from hotline.analytics import hotspots

        try:
            hotspots.preload()
        except Exception:  # noqa: BLE001 - a failed warm-up leaves the loads to the first use, as before
            _log.warning("could not load the hot spots' libraries ahead of use", exc_info=True)
            return
        gc.freeze()

    thread = threading.Thread(target=load, name="hotline-warm-up", daemon=True)
    thread.start()
    return thread
