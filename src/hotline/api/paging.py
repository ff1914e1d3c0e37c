"""Paging of the JSON API's lists, said once.

Two styles are in use: ``page``/``per_page`` (``GET /tickets``, the labour ledger), and
``limit``/``offset`` (the callback queue, supervision orders, field tasks, the tickets behind a
figure, incidents, regions, units, the dispatch catalogue, employment jobs and activities, the
outbox, the knowledge base). The ``limit``/``offset`` lists take ``page``/``per_page`` too, so a client can page every
pageable list the same way; one request uses one style (both at once is a 422). Those lists take
their four parameters from one dependency, :func:`rows` (each list passes its default and its most
rows). The lists that answer a bare JSON array (supervision orders, the knowledge base, and
incidents, regions, units, the dispatch catalogue, employment jobs and activities and the outbox,
which answered their first rows before they could be paged) still do,
so their clients keep working, and say how many rows match in all in the ``X-Total-Count``
header (:data:`TOTAL_DOC`); the others carry ``total`` in their body. The remaining lists answer
their first ``limit`` rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Query, Request, Response

from hotline.kit.errors import Invalid

MAX_PAGE = 1_000_000
MAX_OFFSET = 1_000_000  # rows skipped by a list's offset: no list is longer

PAGE = "page number, from 1: `page`/`per_page` instead of `limit`/`offset` (not both)"
PER_PAGE = "rows per page (with `page`; default: `limit`'s default)"
PAGE_ONLY = "page number, from 1 (the answer's `total` says how many rows match)"
PER_PAGE_ONLY = "rows per page"
LIMIT = "rows to answer at most"
FIRST_ROWS = "rows to answer at most: this list answers its first rows and cannot be paged"
OFFSET = "rows to skip first (with `limit`)"

TOTAL = "X-Total-Count"
# The header a paged list answering a bare array reports its total in, as the document says it.
TOTAL_DOC: dict[int | str, dict] = {200: {"headers": {TOTAL: {
    "description": "rows matching in all; the body holds at most `limit` of them, from `offset`",
    "schema": {"type": "integer", "minimum": 0}}}}}


def window(
    request: Request, *, limit: int, offset: int, page: int | None, per_page: int | None
) -> tuple[int, int]:
    """The rows asked for as (limit, offset), in whichever style the request used."""
    if page is None and per_page is None:
        return limit, offset
    given = set(request.query_params)
    if given & {"limit", "offset"}:
        raise Invalid(
            "分页参数只能用一种：limit/offset 或 page/per_page",
            code="invalid_page",
            details={"field": "page" if page is not None else "per_page"},
        )
    size = per_page or limit
    return size, ((page or 1) - 1) * size


@dataclass(frozen=True)
class Window:
    """The rows a request asked for, whichever style it used."""

    limit: int
    offset: int


def rows(*, default: int, most: int) -> Callable[..., Window]:
    """The FastAPI dependency of a ``limit``/``offset`` list: ``limit`` (``default`` rows, at most
    ``most``), ``offset``, and ``page``/``per_page`` instead (``per_page`` at most ``most`` too)."""

    def window_asked(
        request: Request,
        limit: int = Query(default=default, ge=1, le=most, description=LIMIT),
        offset: int = Query(default=0, ge=0, le=MAX_OFFSET, description=OFFSET),
        page: int | None = Query(default=None, ge=1, le=MAX_PAGE, description=PAGE),
        per_page: int | None = Query(default=None, ge=1, le=most, description=PER_PAGE),
    ) -> Window:
        return Window(*window(request, limit=limit, offset=offset, page=page, per_page=per_page))

    return window_asked


def report_total(response: Response, total: int) -> None:
    """Say in the answer's ``X-Total-Count`` header how many rows match in all."""
    response.headers[TOTAL] = str(int(total))
