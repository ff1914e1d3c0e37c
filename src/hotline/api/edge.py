"""The HTTP edge: one unit of work per request, authentication, and error responses.

Every endpoint runs its work through ``unit_of_work``: the transaction commits when the handler
returns and rolls back on any error, and domain errors become JSON ``{"error": {code, message}}``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from fastapi import Request
from sqlalchemy.orm import Session

from hotline.accounts.models import User
from hotline.accounts.scope import Scope, scope_for
from hotline.accounts.service import authenticate_key
from hotline.kit.db import Database
from hotline.kit.errors import Invalid, NotFound, Unauthenticated
from hotline.kit.ids import MAX_ID


@dataclass
class Context:
    session: Session
    user: User
    scope: Scope
    token_id: int | None = None  # the API token the request came with (a ticket registered records it)


def database(request: Request) -> Database:
    return request.app.state.db


async def clean_url(request: Request) -> None:
    """PostgreSQL text cannot hold NUL characters: a path or query carrying one (%00) is refused on
    every backend alike, before it reaches a query."""
    texts = [request.scope.get("path", ""), *(t for pair in request.query_params.multi_items() for t in pair)]
    if any("\x00" in t for t in texts):
        raise Invalid("请求地址中含有空字符（%00）", code="invalid_character")
    _ids_in_range(request)


def _ids_in_range(request: Request) -> None:
    """A whole-number part of the path (an id, a year) larger than any row's id names nothing: 404
    on every page and endpoint alike, before a query sends it to a driver that cannot bind it
    (SQLite: over 64 bits; PostgreSQL: over the 32-bit column)."""
    dependant = getattr(request.scope.get("route"), "dependant", None)
    for param in getattr(dependant, "path_params", ()):
        value = str(request.path_params.get(param.name, ""))
        if param.field_info.annotation is int and value.isascii() and value.isdigit() and int(value) > MAX_ID:
            raise NotFound(f"编号 {value} 不存在", code="not_found", details={"field": param.name})


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("缺少访问令牌：请在请求头中提供 Authorization: Bearer <token>")
    return token.strip()


@contextlib.contextmanager
def unit_of_work(request: Request, *, write: bool) -> Iterator[Context]:
    token = _bearer(request)
    with database(request).transaction(write=write) as session:
        caller = authenticate_key(session, token)
        yield Context(session, caller.user, scope_for(caller.user), caller.token_id)
