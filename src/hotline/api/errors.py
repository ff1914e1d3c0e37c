"""Every error is JSON with a code and a message; bad input is a 4xx, never a 500.

A database that stops answering (a lost connection, a server restarting, the pool exhausted) is a
503 with ``Retry-After``: the next request gets a fresh connection (``pool_pre_ping``). Any other
fault is a 500 answered by ``AnswerFaults``, inside Starlette's ``ServerErrorMiddleware``: that one
re-raises after answering, and uvicorn then closes the keep-alive connection under the client's
next request; answered here, the connection stays usable.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hotline.api import open311
from hotline.kit.errors import DomainError

log = logging.getLogger("hotline.api")

_FIELD_MESSAGES = {
    "missing": "缺少必填字段",
    "string_too_long": "内容过长（最多 {max_length} 个字符）",
    "string_too_short": "内容过短（至少 {min_length} 个字符）",
    "too_long": "项数过多（最多 {max_length} 项）",
    "too_short": "项数过少（至少 {min_length} 项）",
    "greater_than": "须大于 {gt}",
    "greater_than_equal": "须不小于 {ge}",
    "less_than": "须小于 {lt}",
    "less_than_equal": "须不大于 {le}",
    "multiple_of": "须为 {multiple_of} 的倍数",
    "finite_number": "须为有限的数字",
    "int_parsing": "须为整数",
    "int_from_float": "须为整数",
    "int_parsing_size": "数字过大",
    "float_parsing": "须为数字",
    "bool_parsing": "须为 true 或 false",
    "datetime_from_date_parsing": "日期时间格式无效",
    "datetime_parsing": "日期时间格式无效",
    "datetime_type": "日期时间格式无效",
    "date_from_datetime_parsing": "日期格式无效",
    "date_from_datetime_inexact": "须为日期（不带时间）",
    "date_parsing": "日期格式无效",
    "date_type": "日期格式无效",
    "enum": "取值无效，可选：{expected}",
    "literal_error": "取值无效，可选：{expected}",
    "string_pattern_mismatch": "格式不对",
    "extra_forbidden": "不认识的字段",
    "string_type": "须为字符串",
    "int_type": "须为整数",
    "float_type": "须为数字",
    "bool_type": "须为 true 或 false",
    "list_type": "须为数组",
    "model_type": "须为 JSON 对象",
    "model_attributes_type": "须为 JSON 对象",
    "dict_type": "须为 JSON 对象",
}
# Names of the query and path parameters people get wrong most, for the message (a body field is
# named by its ``Field(title=...)`` instead).
_PARAM_LABELS = {
    "page": "页码", "per_page": "每页条数", "limit": "条数上限", "offset": "起始位置", "q": "搜索词", "year": "年份",
    "level": "区划层级", "top": "前几名", "unit_id": "单位编号", "status": "状态", "state": "状态",
    "overdue": "只看超期", "region_code": "行政区划代码", "village_code": "村（社区）编码",
    "category_code": "事项分类编码", "received_from": "受理时间起", "received_to": "受理时间止", "since": "起始日期",
    "needs_help": "是否需要帮扶", "employment_status": "就业状态", "group": "分组", "operation_id": "行动编号",
    "parent_id": "上级单位编号", "period": "统计周期", "dimension": "维度",
}
_HAN = re.compile(r"[\u4e00-\u9fff]")
# What FastAPI says of a JSON body it could not read at all (not UTF-8, nested too deep to parse).
PARSE_FAILED = "There was an error parsing the body"


def _message(err: dict[str, Any]) -> str:
    """What is wrong with one field, in Chinese: pydantic's common errors translated with their limits
    (``须不小于 1``); a custom error keeps its own (already Chinese) words; anything else is 取值无效."""
    kind, ctx = err.get("type", ""), err.get("ctx") or {}
    words = _FIELD_MESSAGES.get(kind)
    if words is None:
        msg = str(err.get("msg", ""))
        return msg if _HAN.search(msg) else "取值无效"
    if "expected" in ctx:  # "'a', 'b' or 'c'" -> a、b、c
        ctx = {**ctx, "expected": "、".join(re.findall(r"'([^']*)'", str(ctx["expected"]))) or ctx["expected"]}
    try:
        return words.format(**ctx)
    except (KeyError, IndexError):
        return words.split("（")[0].split("，")[0]


def _limits(err: dict[str, Any]) -> dict[str, Any]:
    """The error's bounds (ge, le, max_length, expected, …) as plain JSON, for programs."""
    return {k: v for k, v in (err.get("ctx") or {}).items() if isinstance(v, str | int | float | bool)}


def _label(request: Request, loc: tuple[Any, ...]) -> str | None:
    """The Chinese name of a body field (its ``Field(title=...)``), so a refusal names the field as
    the person filling it in knows it; ``None`` for fields without one."""
    route = request.scope.get("route")
    model = getattr(getattr(getattr(route, "body_field", None), "field_info", None), "annotation", None)
    if len(loc) < 2 or loc[0] != "body" or not (isinstance(model, type) and issubclass(model, BaseModel)):
        return None
    info = model.model_fields.get(str(loc[1]))
    return info.title if info is not None else None


DATABASE_UNAVAILABLE = "数据库暂时不可用，请稍后重试"
RETRY_AFTER = "5"  # seconds: a restarted server or a replaced connection is usually back by then
# What a database that stops answering raises: a connection lost or refused (OperationalError; a
# driver's InterfaceError on a closed one), or no connection free in the pool in time.
UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout)


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def _answer(request: Request, status: int, code: str, message: str, details: dict[str, Any] | None = None,
            headers: dict[str, str] | None = None) -> Response:
    """The error as JSON ``{"error": …}``; under ``/open311/v2`` as that specification's error list
    (bad input a 400 there, as Open311's own refusals are), so a partner's client reads every
    refusal alike, whichever part of the platform gave it."""
    if request.url.path.startswith(open311.PREFIX + "/"):
        response = open311.error_response(request.url.path, 400 if status == 422 else status, message)
        response.headers.update(headers or {})
        return response
    return JSONResponse(error_body(code, message, details), status, headers=headers)


def _bad_value(request: Request) -> str:
    """A value the database cannot take: a write is not saved; a read just cannot be answered."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return "请求中的某个值超出范围或含有无效字符，无法查询"
    return "提交的某个值超出范围或含有无效字符，操作未保存"


def _unparsable_body(cause: BaseException | None) -> str:
    """Why a JSON body could not be read at all (FastAPI says only "There was an error parsing the body")."""
    if isinstance(cause, UnicodeDecodeError):
        return f"请求体不是有效的 JSON：第 {cause.start + 1} 个字节起不是有效的 UTF-8 编码"
    if isinstance(cause, RecursionError):
        return "请求体不是有效的 JSON：数组或对象嵌套层数过多"
    return "请求体不是有效的 JSON，无法读取"


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        headers = {"WWW-Authenticate": "Bearer"} if exc.http_status == 401 else None
        return _answer(request, exc.http_status, exc.code, exc.message, exc.details, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        problems = []
        for err in exc.errors():
            if err.get("type") == "json_invalid":
                return _answer(request, 400, "malformed_json",
                               "请求体不是有效的 JSON：" + str(err.get("ctx", {}).get("error", "")))
            if err.get("type") == "model_attributes_type" and tuple(err.get("loc", ())) == ("body",):
                return _answer(request, 400, "malformed_json",
                               "请求体须为 JSON 对象，并带请求头 Content-Type: application/json")
            loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
            field = ".".join(loc) or "body"
            problem = {"field": field, "type": err.get("type"), "message": _message(err)}
            if limits := _limits(err):
                problem["ctx"] = limits
            if label := _label(request, tuple(err.get("loc", ()))) or (
                    _PARAM_LABELS.get(field) if (err.get("loc") or ("body",))[0] in ("query", "path") else None):
                problem["label"] = label
            problems.append(problem)
        message = "；".join(f"{p['label']}（{p['field']}）: {p['message']}" if "label" in p else f"{p['field']}: {p['message']}"
                           for p in problems) or "请求无效"
        return _answer(request, 422, "invalid_request", message, {"problems": problems})

    @app.exception_handler(StaleDataError)
    async def _stale(request: Request, _exc: StaleDataError) -> Response:
        return _answer(request, 409, "conflict", "工单已被他人同时修改，您的操作未保存；请刷新后重试")

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> Response:
        log.warning("integrity error: %s", exc.orig)
        return _answer(request, 409, "conflict", "数据冲突，操作未保存；请刷新后重试")

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError) -> Response:
        # A value the database refuses (out of range, bad characters) is bad input that slipped past
        # the checks: say so, and log it so the check can be added.
        log.warning("data error: %s", exc.orig)
        return _answer(request, 422, "invalid_value", _bad_value(request))

    @app.exception_handler(OverflowError)
    async def _overflow(request: Request, exc: OverflowError) -> Response:
        # SQLite's DataError: a whole number past 64 bits cannot even be bound to a query. Ids in the
        # path never get here (``edge.clean_url`` answers 404 first), nor whole-number parameters
        # (each has its bounds); anything else is bad input, logged so its check can be added.
        log.warning("overflow: %s", exc)
        return _answer(request, 422, "invalid_value", _bad_value(request))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400 and exc.detail == PARSE_FAILED:  # a JSON body not even text, or nested past reading
            return _answer(request, 400, "malformed_json", _unparsable_body(exc.__cause__))
        codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthenticated", 403: "permission_denied"}
        message = {404: "接口不存在", 405: "不支持该请求方法"}.get(exc.status_code, str(exc.detail))
        if request.url.path.startswith(open311.PREFIX + "/") and exc.status_code == 404:
            message += "：Open311 的地址以格式结尾（例：requests/20261129-000045.json 或 .xml）"
        return _answer(request, exc.status_code, codes.get(exc.status_code, "http_error"), message)

    async def _unavailable(request: Request, exc: Exception) -> Response:
        log.warning("database unavailable: %s", " ".join(str(getattr(exc, "orig", None) or exc).split())[:300])
        return _answer(request, 503, "database_unavailable", DATABASE_UNAVAILABLE, headers={"Retry-After": RETRY_AFTER})

    for kind in UNAVAILABLE:
        app.add_exception_handler(kind, _unavailable)

    @app.exception_handler(DBAPIError)
    async def _dbapi(request: Request, exc: DBAPIError) -> Response:
        # Another driver error that cost the connection (SQLAlchemy noticed it was lost) is the
        # same outage; the rest are faults.
        if exc.connection_invalidated:
            return await _unavailable(request, exc)
        return await _unexpected(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error", exc_info=exc)
        return _answer(request, 500, "internal_error", "服务器内部错误，已记录；请稍后重试")

    app.add_middleware(AnswerFaults)


class AnswerFaults:
    """Answer an exception no handler took with the app's ``Exception`` handler (the API's JSON,
    the site's error page) and end the request there, so the server keeps the connection open for
    the next request. A response already under way when it failed cannot be answered: that one
    is raised on, and the server closes the connection."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:
            if started:
                raise
            handler = scope["app"].exception_handlers[Exception]
            response = await handler(Request(scope, receive), exc)
            await response(scope, receive, send)
