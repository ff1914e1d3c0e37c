"""Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2) under ``/open311/v2``: other systems
(a city app, a partner's platform) list the services, submit requests and follow them.

* ``GET discovery.json``; ``GET services.json``: every active leaf category is a service
  (``service_code`` = the category code, ``group`` = its top-level category); no service has extra
  attributes (``metadata`` false), so ``GET services/{code}.json`` returns an empty attribute list.
* ``POST requests.json`` (form fields, as the specification has them) registers a ticket on the
  ``open311`` channel: ``api_key`` (an API token of a staff account that may register tickets,
  ``hotline token create``), ``service_code``, ``description``, and ``address_string`` naming the
  township or village as people say it (resolved as the citizen portal does,
  :mod:`hotline.classification.place_field`); ``lat``/``long`` are kept with the ticket but not used
  to place it (the platform has no village boundaries). ``first_name``/``last_name`` and ``phone``
  are the caller; without either the request is anonymous. ``email``, ``device_id``, ``account_id``,
  ``media_url`` and ``attribute[...]`` are accepted and not stored. Answer: ``service_request_id`` (the
  ticket number) and a ``service_notice``. The form is UTF-8 (percent-encoded or raw; other bytes are
  refused naming the field) and at most 1 MiB (413 beyond); a field sent twice with different values
  is refused naming it, in a POST's form and in any query alike (only ``attribute[...]`` repeats).
  An ``Idempotency-Key`` header (:mod:`hotline.api.idempotency`) makes a retry answer as the first
  POST did (the same bytes, in the same format) instead of registering a second ticket; the key
  reused for another form or format is a 400.
* ``GET requests.json`` / ``GET requests/{id}.json`` need the ``api_key`` too and show only the
  requests submitted with that key (a ticket records its key, ``tickets.api_token_id``): a
  citizen's words and place are not published to anyone who asks, nor to another partner given a
  key of the same account. Requests from before keys were recorded (migration 0023) have none and
  are shown, as before, to every key of the account that submitted them. A list's ``start_date``
  must come before its ``end_date``. ``status`` is ``open`` until
  the ticket is closed, refused, handed off or merged;
  ``status_notes`` says where it stands in Chinese (the unit's answer once replied);
  ``agency_responsible`` is the lead unit; ``expected_datetime`` the reply deadline;
  ``service_notice`` the public notice (对外公告) of the confirmed incident the ticket is linked to,
  while it is live. A POST's ``service_notice`` names a live notice covering the place too, as the
  portal's place hint does.

Every endpoint answers in the format its extension names, ``.json`` or ``.xml`` (the
specification's shapes: ``<services><service>``, ``<service_requests><request>``, ``<errors><error>``,
``<service_definition>``, ``<discovery>``; ``text/xml; charset=utf-8``; an empty or absent value is an
empty element). A handler builds its answer once as data (:class:`Answer`) and :func:`_json` or
:func:`_xml` renders it, so the two formats carry the same values. Any other extension is a 404.
Errors are the specification's list ``[{"code": 400, "description": "..."}]`` (``<errors>`` in XML);
bad input is a 4xx, never a 500.

There is no ``tokens/{token}`` endpoint: a POST answers with the ``service_request_id`` at once, never
with a token, so a client has nothing to look up.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import re
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import unquote_to_bytes

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema
from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session
from starlette.formparsers import MultiPartParser

from hotline.accounts.service import Caller, authenticate_key
from hotline.api import idempotency
from hotline.api.schemas import Number, Timestamp
from hotline.classification.place_field import resolve_place
from hotline.directory import reference
from hotline.incidents import public_notice
from hotline.incidents.models import IncidentNotice
from hotline.kit import clock
from hotline.kit.errors import DomainError
from hotline.tickets import lifecycle, validation
from hotline.tickets.models import Channel, Ticket
from hotline.tickets.states import STATUS_LABELS, Status

__all__ = ["PREFIX", "error_response", "router"]

PREFIX = "/open311/v2"
router = APIRouter(prefix=PREFIX, tags=["open311"])

CLOSED = {Status.closed, Status.refused, Status.handed_off, Status.archived, Status.merged}
MAX_RESULTS = 1000  # requests one query returns (the specification's default cap)
DEFAULT_DAYS = 90  # a query without dates covers the last 90 days
MAX_FORM_BYTES = 1024 * 1024  # a posted form: far more than a description of 5,000 characters takes
# The specification's field names, said with what they hold in the messages refusing one.
FIELD_LABELS = {"api_key": "接入令牌", "service_code": "服务编码", "description": "诉求内容", "address_string": "地址",
                "first_name": "名", "last_name": "姓", "phone": "电话", "lat": "纬度", "long": "经度",
                "service_request_id": "请求编号", "start_date": "起始时间", "end_date": "截止时间", "status": "状态"}


class Problem(Exception):
    """An Open311 error: its HTTP status and description."""

    def __init__(self, http_status: int, description: str):
        super().__init__(description)
        self.http_status, self.description = http_status, description


@dataclass(frozen=True)
class Answer:
    """What an endpoint answers, before it is written as JSON or XML: ``body`` is the JSON value;
    in XML it is the element ``root``, a list giving one child per item (``ITEMS[root]``)."""

    root: str
    body: Any
    status: int = 200


# The XML element of one item of a list, by the list's element (the specification's names).
ITEMS = {"services": "service", "service_requests": "request", "errors": "error", "endpoints": "endpoint",
         "formats": "format", "attributes": "attribute", "values": "value"}
# Characters XML 1.0 cannot carry at all (control characters other than tab and newlines).
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _json(answer: Answer) -> Response:
    return JSONResponse(answer.body, status_code=answer.status)


def _xml(answer: Answer) -> Response:
    root = ET.Element(answer.root)
    _fill(root, answer.body)
    text = ET.tostring(root, encoding="unicode", short_empty_elements=False)
    return Response(('<?xml version="1.0" encoding="utf-8"?>\n' + text).encode("utf-8"),
                    status_code=answer.status, media_type="text/xml; charset=utf-8")


def _fill(element: ET.Element, value: Any) -> None:
    """Write ``value`` into ``element``: a list as one child per item, a dict as one child per key,
    ``None`` as nothing (an empty element), a boolean as ``true``/``false``, anything else as text."""
    if isinstance(value, list):
        for item in value:
            _fill(ET.SubElement(element, ITEMS[element.tag]), item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _fill(ET.SubElement(element, key), item)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = NOT_XML.sub("\ufffd", str(value))  # ElementTree escapes < & > itself


FORMATS: dict[str, Callable[[Answer], Response]] = {"json": _json, "xml": _xml}


def _problem(p: Problem) -> Answer:
    return Answer("errors", [{"code": p.http_status, "description": p.description}], p.http_status)


def error_response(path: str, status: int, description: str) -> Response:
    """An error met outside the endpoints (no such address, a refusal at the edge), in the format the
    address ends with (JSON unless ``.xml``)."""
    return (_xml if path.endswith(".xml") else _json)(_problem(Problem(status, description)))


def _writer(request: Request) -> Callable[[Answer], Response] | None:
    return FORMATS.get(request.path_params.get("fmt", ""))


def _unknown_format(request: Request) -> Response:
    """Said in JSON: the format asked for is the one we cannot write."""
    fmt = request.path_params.get("fmt", "")
    return _json(_problem(Problem(404, f"不支持的格式 .{fmt}：请用 .json 或 .xml")))


def _open311(handler: Callable[..., Any]) -> Callable[..., Any]:
    """An endpoint whose ``Answer``, or ``Problem``, is written in the format its extension names."""
    if inspect.iscoroutinefunction(handler):
        @functools.wraps(handler)
        async def awaited(request: Request, **kwargs: Any) -> Response:
            if (write := _writer(request)) is None:  # before reading the body
                return _unknown_format(request)
            try:
                _one_each(request.query_params.multi_items())
                answer = await handler(request, **kwargs)
                return answer if isinstance(answer, Response) else write(answer)  # a replay is as it was
            except Problem as p:
                return write(_problem(p))

        return awaited

    @functools.wraps(handler)
    def wrapped(request: Request, **kwargs: Any) -> Response:
        if (write := _writer(request)) is None:
            return _unknown_format(request)
        try:
            _one_each(request.query_params.multi_items())
            return write(handler(request, **kwargs))
        except Problem as p:
            return write(_problem(p))

    return wrapped


@contextlib.contextmanager
def _work(request: Request, *, write: bool) -> Iterator[Session]:
    """One transaction; domain errors and ``Problem`` become the specification's error list."""
    try:
        with request.app.state.db.transaction(write=write) as session:
            yield session
    except Problem:
        raise
    except DomainError as err:
        # The specification answers bad input with 400 (the JSON API's 422 included).
        raise Problem(400 if err.http_status in (422, 500) else err.http_status, err.message) from None


def _account(session: Session, api_key: str) -> Caller:
    """The account behind ``api_key`` and the key's id."""
    if not api_key.strip():
        raise Problem(403, "缺少 api_key：请向热线中心申请接入令牌")
    try:
        return authenticate_key(session, api_key.strip())
    except DomainError:
        raise Problem(403, "api_key 无效或已失效") from None


def _submitted_with(caller: Caller) -> ColumnElement[bool]:
    """The Open311 requests a key may see: those submitted with it, and those of its account from
    before keys were recorded (no key on the ticket)."""
    return and_(Ticket.channel == Channel.open311, Ticket.registered_by_id == caller.user.id,
                or_(Ticket.api_token_id == caller.token_id, Ticket.api_token_id.is_(None)))


def _iso(moment: datetime | None) -> str | None:
    return clock.local(moment).isoformat(timespec="seconds") if moment else None


# --- the OpenAPI document -----------------------------------------------------------------
# Handlers answer with a ``Response`` already written (JSON or XML), so the models below only
# document the JSON form; tests/api hold the answers to them.


class _Out(BaseModel):
    model_config = ConfigDict(extra="allow", json_schema_extra=lambda s: s.pop("additionalProperties", None))


class Open311Endpoint(_Out):
    specification: str
    url: str
    changeset: Timestamp
    type: Literal["production", "test"]
    formats: list[str]


class Open311Discovery(_Out):
    changeset: Timestamp
    contact: str
    key_service: str = Field(description="how to obtain an api_key")
    endpoints: list[Open311Endpoint]


class Open311Service(_Out):
    service_code: str = Field(description="the category code (事项分类编码) of an active leaf category")
    service_name: str
    description: str
    metadata: bool = Field(description="always false: no service has extra attributes")
    type: Literal["realtime", "batch", "blackbox"]
    keywords: str = Field(description="comma-separated")
    group: str = Field(description="the top-level category")


class Open311ServiceDefinition(_Out):
    service_code: str
    attributes: Annotated[list[Any], WithJsonSchema({"type": "array", "maxItems": 0, "items": {},
                                                     "description": "always empty: no service has extra "
                                                                    "attributes"})]


class Open311Request(_Out):
    service_request_id: str = Field(description="the ticket number")
    status: Literal["open", "closed"]
    status_notes: str = Field(description="where it stands, in Chinese (the unit's answer once replied)")
    service_name: str
    service_code: str
    description: str
    agency_responsible: str = Field(description="the lead unit, or 12345 热线 before dispatch")
    service_notice: str = Field(description="the live public notice of the incident the request is linked to, "
                                            "or empty")
    requested_datetime: Timestamp
    updated_datetime: Timestamp
    expected_datetime: Timestamp | None = Field(description="the reply deadline")
    address: str
    address_id: str = Field(description="the region code (行政区划代码) it was placed in")
    zipcode: str
    lat: Number | None
    long: Number | None
    media_url: str


class Open311Created(_Out):
    service_request_id: str = Field(description="the ticket number")
    service_notice: str
    account_id: None


class Open311Error(_Out):
    code: int = Field(description="the HTTP status")
    description: str = Field(description="what went wrong, in Chinese")


FORMAT_PARAMETER = {"name": "fmt", "in": "path", "required": True, "schema": {"type": "string", "enum": list(FORMATS)},
                    "description": "the answer's format: json, or xml (`text/xml; charset=utf-8`, the "
                                   "specification's elements); any other is a 404"}
XML = {"text/xml": {"schema": {"type": "string"}}}
_ERROR_TEXT = {400: "Bad input (the specification's 400): a missing or invalid field, named; a field sent twice "
                    "with different values",
               403: "No api_key, or one that is unknown, expired or revoked",
               404: "No such service or request, or a format other than json and xml",
               413: "The form is larger than 1 MiB"}


def _document(ok: int, *errors: int, open_: bool = False, api_key_in_body: bool = False) -> dict[str, Any]:
    """An Open311 route's document: the format parameter, XML beside JSON (``ok``: the success
    status), the specification's error list; ``open_``: no key needed."""
    responses: dict[int | str, dict[str, Any]] = {ok: {"content": XML}}
    responses |= {status: {"model": list[Open311Error], "description": _ERROR_TEXT[status], "content": XML}
                  for status in sorted({400, 404, *errors})}
    extra: dict[str, Any] = {"parameters": [FORMAT_PARAMETER]}
    if open_ or api_key_in_body:
        extra["security"] = []  # a form field cannot be a security scheme: it is in the request body
    else:
        extra["security"] = [{"open311ApiKey": []}]
    return {"responses": responses, "openapi_extra": extra}


_FORM_FIELDS = {
    "api_key": "an API token of a staff account that may register tickets (required)",
    "service_code": "a service_code of services.json (required)",
    "description": "the request, in the caller's words (required; at most 5,000 characters)",
    "address_string": "the township or village as people say it, e.g. 夏县裴介镇朱吕村 (required)",
    "lat": "kept with the ticket, not used to place it", "long": "kept with the ticket, not used to place it",
    "first_name": "the caller", "last_name": "the caller", "phone": "the caller; without a name or phone the "
    "request is anonymous", "email": "accepted, not stored", "device_id": "accepted, not stored",
    "account_id": "accepted, not stored", "media_url": "accepted, not stored",
}
_FORM = {"type": "object", "required": ["api_key", "service_code", "description", "address_string"],
         "properties": {name: {"type": "string", "description": text} for name, text in _FORM_FIELDS.items()}}
_CREATE = _document(201, 400, 403, 413, api_key_in_body=True)
_CREATE["responses"][201]["headers"] = idempotency.REPLAYED_DOC
_CREATE["openapi_extra"]["parameters"].append({
    "name": idempotency.HEADER, "in": "header", "required": False, "schema": dict(idempotency.KEY_SCHEMA),
    "description": "Optional, as on POST /api/v1/tickets: a retry with the same key and form answers as the first "
                   "POST did (the same bytes, in the same format), with `Idempotent-Replayed: true`, and registers "
                   "nothing; the same key with another form or format, or a key outside these limits, is a 400."})
_CREATE["openapi_extra"]["requestBody"] = {"required": True, "content": {
    "application/x-www-form-urlencoded": {"schema": _FORM}, "multipart/form-data": {"schema": _FORM}}}


# --- discovery and services ---------------------------------------------------------------

@router.get("/discovery.{fmt}", response_model=Open311Discovery, summary="Open311 discovery: where and in which "
            "formats the service answers", **_document(200, open_=True))
@_open311
def discovery(request: Request) -> Answer:
    base = str(request.base_url).rstrip("/") + "/open311/v2/"
    return Answer("discovery", {"changeset": "2026-11-28T00:00:00+08:00", "contact": "12345 政务服务便民热线",
                    "key_service": "向热线中心申请 API 令牌（hotline token create）",
                    "endpoints": [{"specification": "http://wiki.open311.org/GeoReport_v2", "url": base,
                                   "changeset": "2026-11-28T00:00:00+08:00", "type": "production",
                                   "formats": ["application/json", "text/xml"]}]})


def _services(snap: reference.Snapshot) -> list[dict[str, Any]]:
    parents = {c.parent_code for c in snap.categories.values() if c.parent_code}
    out = []
    for code, c in sorted(snap.categories.items()):
        if code in parents or not c.active:
            continue
        group = snap.categories.get(c.parent_code) if c.parent_code else None
        out.append({"service_code": code, "service_name": c.name,
                    "description": f"{group.name if group else ''}·{c.name}" if group else c.name,
                    "metadata": False, "type": "realtime",
                    "keywords": ",".join(c.keywords or []) if isinstance(c.keywords, list) else (c.keywords or ""),
                    "group": group.name if group else c.name})
    return out


@router.get("/services.{fmt}", response_model=list[Open311Service], summary="Open311 services: every active "
            "leaf category", **_document(200, open_=True))
@_open311
def services(request: Request) -> Answer:
    with _work(request, write=False) as session:
        return Answer("services", _services(reference.snapshot(session)))


@router.get("/services/{code}.{fmt}", response_model=Open311ServiceDefinition,
            summary="Open311 service definition (no service has extra attributes)",
            **_document(200, open_=True))
@_open311
def service_definition(request: Request, code: str) -> Answer:
    with _work(request, write=False) as session:
        if code not in {s["service_code"] for s in _services(reference.snapshot(session))}:
            raise Problem(404, f"没有服务 {code}：可用的服务见 services.json")
        return Answer("service_definition", {"service_code": code, "attributes": []})


# --- requests -------------------------------------------------------------------------------

def _status_notes(t: Ticket) -> str:
    if t.status in (Status.replied, Status.callback_pending, Status.callback_done, Status.closed, Status.archived) \
            and t.reply_text:
        return f"{STATUS_LABELS[t.status]}：{t.reply_text}"
    if t.direct_answer:
        return f"{STATUS_LABELS[t.status]}：{t.direct_answer}"
    if t.refusal_reason:
        return f"{STATUS_LABELS[t.status]}：{t.refusal_reason}"
    return STATUS_LABELS[t.status]


def _request(snap: reference.Snapshot, t: Ticket, notices: dict[int, IncidentNotice]) -> dict[str, Any]:
    category = snap.categories.get(t.category_code)
    notice = notices.get(t.id)
    return {
        "service_request_id": t.number,
        "status": "closed" if t.status in CLOSED else "open",
        "status_notes": _status_notes(t),
        "service_name": category.name if category else t.category_code,
        "service_code": t.category_code,
        "description": t.content,
        "agency_responsible": snap.units.get(t.lead_unit_id, ("", "", False))[1] if t.lead_unit_id else "12345 热线",
        "service_notice": f"相关公告：{notice.text}" if notice else "",  # the incident it is linked to
        "requested_datetime": _iso(t.received_at),
        "updated_datetime": _iso(t.updated_at),
        "expected_datetime": _iso(t.reply_due_at),
        "address": t.address or reference.region_label(snap, t.region_code),  # as sent, else the place
        "address_id": t.region_code,
        "zipcode": "",
        "lat": t.latitude,
        "long": t.longitude,
        "media_url": "",
    }


def _coordinate(value: str, field: str, low: float, high: float) -> float | None:
    if not value.strip():
        return None
    try:
        number = float(value)
    except ValueError:
        raise Problem(400, f"{field} 须为数字：{value!r}") from None
    if not low <= number <= high:
        raise Problem(400, f"{field} 超出范围（{low}–{high}）：{value}")
    return number


async def _form(request: Request) -> dict[str, str]:
    """The posted form's fields, each with one value. A URL-encoded form is read here rather than by
    Starlette, which reads bytes that are not UTF-8 as U+FFFD (``%FF%FE`` stored as ``��``) and
    raw UTF-8 bytes (``curl -d 'x=朱吕村'``) as Latin-1: both percent-encoded and raw UTF-8 are read
    as written, anything else is refused naming the field."""
    body = await _body(request)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        return _one_each(_urlencoded(body))
    if kind != "multipart/form-data":
        return {}  # no form at all: each missing field is named

    async def chunks() -> AsyncIterator[bytes]:
        yield body

    try:
        form = await _StrictMultiPart(request.headers, chunks()).parse()
    except _NotUtf8 as err:
        raise _not_utf8(err.field) from None
    except Exception:  # noqa: BLE001 - a body that is not a form: say so
        raise Problem(400, "请求体须为表单（application/x-www-form-urlencoded 或 multipart/form-data）") from None
    try:
        return _one_each([(k, v) for k, v in form.multi_items() if isinstance(v, str)])
    finally:
        await form.close()


async def _body(request: Request) -> bytes:
    """The request's body, refused with 413 once it passes :data:`MAX_FORM_BYTES` (said by its
    Content-Length, or met while reading it)."""
    declared = request.headers.get("content-length", "").strip()
    if declared.isascii() and declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        raise _too_large()
    parts, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            raise _too_large()
        parts.append(chunk)
    return b"".join(parts)


def _too_large() -> Problem:
    return Problem(413, f"请求体过大：表单最多 {MAX_FORM_BYTES // 1024} KB"
                        f"（description 最多 {validation.MAX_CONTENT_CHARS} 字）")


def _urlencoded(body: bytes) -> list[tuple[str, str]]:
    """``name=value&…`` as UTF-8, each name and value percent-decoded (``+`` a space)."""
    pairs = []
    for part in body.split(b"&"):
        if not part:
            continue
        name, _, value = part.partition(b"=")
        key = _decoded(name, name)
        pairs.append((key, _decoded(value, name)))
    return pairs


def _decoded(raw: bytes, name: bytes) -> str:
    try:
        return unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        raise _not_utf8(unquote_to_bytes(name.replace(b"+", b" ")).decode("utf-8", "replace")) from None


def _not_utf8(field: str) -> Problem:
    label = f"{FIELD_LABELS[field]}（{field}）" if field in FIELD_LABELS else field
    return Problem(400, f"{label}含有无效字符：不是有效的 UTF-8 编码（表单须按 UTF-8 编码）")


class _NotUtf8(Exception):
    def __init__(self, field: str):
        super().__init__(field)
        self.field = field


class _StrictMultiPart(MultiPartParser):
    """Starlette's multipart parser, but a text field whose bytes are not UTF-8 is refused rather
    than read as Latin-1 (after which 「é」 and the byte E9 could no longer be told apart). Files
    (``media``) are left as they are. Reads the parser's current part, as Starlette's own
    ``on_part_end`` does; tests/api/test_open311.py fails if a Starlette release changes that."""

    def on_part_end(self) -> None:
        part = self._current_part
        if part.file is None:
            try:
                bytes(part.data).decode("utf-8")
            except UnicodeDecodeError:
                raise _NotUtf8(part.field_name) from None
        super().on_part_end()


def _one_each(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Fields by name; a field sent twice with different values is refused naming it, rather than
    one of them taken silently (``service_code=0101&service_code=0102``). Only ``attribute[...]``
    may repeat, as the specification's multi-valued attributes do."""
    fields: dict[str, str] = {}
    for name, value in pairs:
        if name in fields and fields[name] != value and not name.startswith("attribute["):
            label = f"{FIELD_LABELS[name]}（{name}）" if name in FIELD_LABELS else name
            both = "" if name == "api_key" else f"（「{_short(fields[name])}」和「{_short(value)}」）"  # a key is not echoed
            raise Problem(400, f"{label}出现了两次，取值不同{both}：每个字段只能填写一个值")
        fields.setdefault(name, value)
    return fields


def _short(value: str) -> str:
    return value if len(value) <= 20 else value[:20] + "…"


# The handler gives an Answer (rendered by @_open311) or a replayed Response: both are responses by
# the time FastAPI sees them, so list[Open311Created] only documents the 201.
@router.post("/requests.{fmt}", status_code=201, response_model=list[Open311Created],
             summary="Open311: submit a request (registers a ticket on the open311 channel); a form, api_key in it",
             **_CREATE)
@_open311
async def create_request(request: Request) -> Answer | Response:
    return _create(request, await _form(request))


def _idempotency_key(request: Request) -> str | None:
    try:
        return idempotency.parse(request.headers.get(idempotency.HEADER))
    except DomainError as err:
        raise Problem(400, err.message) from None


def _create(request: Request, form: dict[str, str]) -> Answer | Response:
    code, description = form.get("service_code", "").strip(), form.get("description", "").strip()
    where = form.get("address_string", "").strip()
    latitude = _coordinate(form.get("lat", ""), "lat", -90, 90)
    longitude = _coordinate(form.get("long", ""), "long", -180, 180)
    if not code:
        raise Problem(400, "缺少 service_code")
    if not description:
        raise Problem(400, "缺少 description：请写明诉求内容")
    if not where:
        raise Problem(400, "缺少 address_string：请写明乡镇或村（例：夏县裴介镇朱吕村）；本平台不按经纬度定位")
    key = _idempotency_key(request)
    with _work(request, write=True) as session:
        caller = _account(session, form.get("api_key", ""))
        once = idempotency.start(session, user_id=caller.user.id, key=key, endpoint=f"POST {request.url.path}",
                                 content=lambda: {k: v for k, v in form.items() if k != "api_key"})
        if once.replay is not None:
            return once.replay
        snap = reference.snapshot(session)
        category = snap.categories.get(code)
        if code not in {s["service_code"] for s in _services(snap)} or category is None:
            raise Problem(400, f"没有服务 {code}：可用的服务见 services.json")
        place = resolve_place(snap, where[:60])
        if place.code is None:
            raise Problem(400, f"address_string：{place.problem}" + (f"（可选：{place.choices}）" if place.options else ""))
        name = (form.get("last_name", "").strip() + form.get("first_name", "").strip()) or None
        phone = form.get("phone", "").strip() or None
        ticket = lifecycle.register(
            session, actor=caller.user, api_token_id=caller.token_id, channel=Channel.open311, kind=str(category.default_kind.value if category.default_kind else "help"),
            category_code=code, urgency="normal", region_code=place.code, content=description,
            caller_name=name, caller_phone=phone, caller_anonymous=not (name or phone),
            address=where,  # as the partner wrote it (the place is region_code)
            latitude=latitude, longitude=longitude)
        session.flush()
        due = ticket.dispatch_due_at
        notice = (f"已受理，工单号 {ticket.number}，地点：{reference.region_label(snap, place.code)}"
                  + (f"；将于 {clock.local(due):%m月%d日 %H:%M} 前派给承办单位" if due else ""))
        for live in public_notice.live(session, region_code=place.code, limit=2):  # as the portal's place hint
            notice += f"。该地区有公告（{reference.region_label(snap, live.incident.area_code)}）：{live.notice.text}"
        answer = Answer("service_requests",
                        [{"service_request_id": ticket.number, "service_notice": notice, "account_id": None}], 201)
        write = _writer(request)
        assert write is not None  # the decorator answered an unknown format before reading the form
        return once.keep(write(answer), ticket_id=ticket.id)


def _when(value: str, field: str, *, end: bool = False) -> datetime | None:
    if not value.strip():
        return None
    try:
        if len(value) == 10:
            day = datetime.fromisoformat(value).date() + (timedelta(days=1) if end else timedelta(0))
            return clock.aware(datetime.combine(day, time(0)))
        return clock.aware(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except (ValueError, OverflowError):
        raise Problem(400, f"{field} 不是有效的日期时间（W3C 格式，例：2026-11-28T08:00:00+08:00）：{value!r}") from None


@router.get("/requests.{fmt}", response_model=list[Open311Request],
            summary="Open311: the requests this api_key's account submitted (last 90 days by default, at most 1000)",
            **_document(200, 400, 403))
@_open311
def list_requests(request: Request, api_key: str = Query("", description="an API token (open311ApiKey)"),
                  service_request_id: str = Query("", description="request ids (ticket numbers), comma-separated: "
                                                  "the other filters are then ignored"),
                  service_code: str = Query("", description="service codes, comma-separated"),
                  start_date: str = Query("", description="W3C date or date-time; default 90 days ago"),
                  end_date: str = Query("", description="W3C date (inclusive) or date-time"),
                  status: str = Query("", description="open or closed (comma-separated)")) -> Answer:
    start, end = _when(start_date, "start_date"), _when(end_date, "end_date", end=True)
    if start and end and start >= end:
        raise Problem(400, f"start_date 须早于 end_date（收到 {start_date} 至 {end_date}）")
    wanted = {s.strip() for s in status.split(",") if s.strip()}
    if wanted - {"open", "closed"}:
        raise Problem(400, "status 须为 open 或 closed（可用逗号分隔）")
    with _work(request, write=False) as session:
        query = select(Ticket).where(_submitted_with(_account(session, api_key)))
        ids = [s.strip() for s in service_request_id.split(",") if s.strip()]
        if ids:  # the specification: other parameters are ignored when ids are given
            query = query.where(Ticket.number.in_(ids[:MAX_RESULTS]))
        else:
            if not start and not end:
                start = clock.now() - timedelta(days=DEFAULT_DAYS)
            if start:
                query = query.where(Ticket.received_at >= start)
            if end:
                query = query.where(Ticket.received_at < end)
            codes = [c.strip() for c in service_code.split(",") if c.strip()]
            if codes:
                query = query.where(Ticket.category_code.in_(codes))
            if wanted == {"open"}:
                query = query.where(Ticket.status.not_in(CLOSED))
            elif wanted == {"closed"}:
                query = query.where(Ticket.status.in_(CLOSED))
        rows = session.scalars(query.order_by(Ticket.received_at.desc(), Ticket.id.desc()).limit(MAX_RESULTS))
        tickets = list(rows)
        snap = reference.snapshot(session)
        notices = public_notice.for_tickets(session, [t.id for t in tickets])
        return Answer("service_requests", [_request(snap, t, notices) for t in tickets])


@router.get("/requests/{number}.{fmt}", response_model=list[Open311Request],
            summary="Open311: one request this api_key's account submitted", **_document(200, 403))
@_open311
def get_request(request: Request, number: str,
                api_key: str = Query("", description="an API token (open311ApiKey)")) -> Answer:
    with _work(request, write=False) as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number, _submitted_with(_account(session, api_key))))
        if ticket is None:
            raise Problem(404, f"没有编号为 {number} 的请求（或不是用此 api_key 提交的）")
        notices = public_notice.for_tickets(session, [ticket.id])
        return Answer("service_requests", [_request(reference.snapshot(session), ticket, notices)])

