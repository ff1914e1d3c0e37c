"""Paging of the JSON API's lists, said once.

Two styles are in use: ``page``/``per_page`` (``GET /tickets``, the labour ledger), and
``limit``/``offset`` (the callback queue, supervision orders, field tasks, the tickets behind a
figure). The ``limit``/``offset`` lists take ``page``/``per_page`` too, so a client can page every
pageable list the same way; one request uses one style (both at once is a 422). Other lists answer
their first ``limit`` rows (or everything) and cannot be paged.
"""

from __future__ import annotations

from fastapi import Request

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
