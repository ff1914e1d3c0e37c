"""What the OpenAPI document says beyond each route's own models: how a client authenticates, and
which errors each operation may answer, with the error body ``errors.error_body`` writes.

* Every ``/api/v1`` operation needs ``Authorization: Bearer <token>`` (``edge.unit_of_work`` reads
  it; the web pages' session cookie is not accepted here): the ``bearerAuth`` scheme, declared on
  each operation by the ``bearer`` dependency the app adds to every ``/api/v1`` router.
* Open311's request endpoints take an ``api_key`` (an API token too) as a query parameter or a form
  field: ``open311ApiKey``; its discovery and service lists, and ``/healthz``, are open
  (``security: []``).
* Errors: 401 and 403 everywhere (no or a bad token; a role or scope that may not), 422 everywhere
  (a parameter or body field refused, or a value no query can take), 400 where a JSON body is read
  (not JSON at all), 404 where the path or the body names something, 409 on writes (a stale
  ``version``, a transition the status does not allow, a duplicate).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer

from hotline.api.schemas import ErrorOut

bearer = HTTPBearer(
    scheme_name="bearerAuth",
    auto_error=False,  # edge.unit_of_work refuses a missing token, in its own words
    description="An API token in `Authorization: Bearer <token>`. Made on the server for a user with "
    "`hotline token create --user NAME [--name WHAT] [--days N]` (printed once); "
    "`GET /api/v1/tokens` lists them, `DELETE /api/v1/tokens/{id}` revokes one. The token acts "
    "with that user's role and data scope. The web pages' session cookie is not accepted here.",
)

OPEN311_PREFIX = "/open311/v2/"
OPEN311_KEY = {
    "type": "apiKey",
    "in": "query",
    "name": "api_key",
    "description": "Open311 `api_key`: an API token (`hotline token create`) of a staff account that may register "
    "tickets, as a query parameter (GET) or a form field (POST requests.json, which OpenAPI "
    "cannot state as a scheme: it is in that operation's body).",
}

ERROR_TEXT = {
    400: "The body is not JSON (`malformed_json`).",
    401: "No token, or one that is unknown, expired or revoked, or a deactivated account (`unauthenticated`); "
    "the answer carries `WWW-Authenticate: Bearer`.",
    403: "Your role or data scope does not allow this (`permission_denied`, or a more specific code).",
    404: "What the path (or a body field) names does not exist or is outside your data scope (`not_found`, or a "
    "more specific code).",
    409: "A conflict: the ticket's `version` is not the one sent, the status does not allow the action "
    "(`transition_not_allowed`), or the row exists already (`conflict`).",
    422: "A parameter or body field is refused: `invalid_request` with `details.problems` naming every field, "
    "or a rule of the platform with its own code and `details.field`.",
}


def error_codes(route: APIRoute) -> list[int]:
    """The error statuses an ``/api/v1`` operation may answer (tests/api hold every answer to them)."""
    codes = {401, 403, 422}
    if route.body_field is not None:
        codes |= {400, 404}
    if route.dependant.path_params:
        codes.add(404)
    if set(route.methods) - {"GET", "HEAD"}:
        codes.add(409)
    return sorted(codes)


def error_response(status: int) -> dict[str, Any]:
    out: dict[str, Any] = {"model": ErrorOut, "description": ERROR_TEXT[status]}
    if status == 401:
        out["headers"] = {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}}
    return out


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """A route's error answers beyond those :func:`error_codes` gives it (a parameter that names
    something: 404)."""
    return {status: error_response(status) for status in statuses}


def describe_errors(router: APIRouter) -> None:
    """Document the error answers of each operation of an ``/api/v1`` router (a route's own entries
    are kept; doing it twice changes nothing)."""
    for route in router.routes:
        if isinstance(route, APIRoute) and route.include_in_schema:
            for status in error_codes(route):
                route.responses.setdefault(status, error_response(status))


def install(app: FastAPI, api_routers: Iterable[APIRouter]) -> None:
    """Errors on every ``/api/v1`` operation; the Open311 key scheme beside the bearer one."""
    for router in api_routers:
        describe_errors(router)
    plain = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = plain()
            schema.setdefault("components", {}).setdefault("securitySchemes", {})["open311ApiKey"] = (
                OPEN311_KEY
            )
            for path, item in schema["paths"].items():
                if path.startswith(OPEN311_PREFIX):  # bad input is the specification's 400 there, never a 422
                    for op in item.values():
                        op["responses"].pop("422", None)
            if "HTTPValidationError" not in json.dumps(schema["paths"]):
                for name in ("HTTPValidationError", "ValidationError"):
                    schema["components"]["schemas"].pop(name, None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
