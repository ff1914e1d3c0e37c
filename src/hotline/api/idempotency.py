"""The ``Idempotency-Key`` request header (as Stripe and the IETF draft have it) on the POSTs that
register a ticket: ``POST /api/v1/tickets`` and Open311's ``POST requests.{json,xml}``.

A client that retries after a timeout sends the same key again: with the same body it gets the
first answer again (same status and body, plus ``Idempotent-Replayed: true``) and nothing new is
registered; with another body it is refused (422, Open311 400: the key belongs to another request).
Two requests with one key at the same instant register one ticket: the second waits for the first
and gets its answer (:func:`hotline.tickets.idempotency.claim`). Only a successful answer is kept:
a refusal rolls the whole transaction back, key included, so it registered nothing and the key may
be sent again (with the body put right). Without the header nothing changes.

The rows live in :mod:`hotline.tickets.idempotency` (the migrations and the worker's cleanup, which
may not import the API, see them there); this module is the HTTP side: the header, the request's
fingerprint and the answer replayed.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Header
from fastapi.responses import Response
from pydantic import WithJsonSchema
from sqlalchemy.orm import Session

from hotline.kit import clock
from hotline.kit.errors import DomainError, Invalid
from hotline.tickets import idempotency as store

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
_PRINTABLE = re.compile(r"[\x20-\x7e]*")

# The header as an endpoint's parameter: documented with its limits, checked by :func:`parse` (whose
# refusal says what is wrong, in the API's words) rather than by FastAPI.
KEY_SCHEMA: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": store.MAX_KEY, "pattern": "^[\\x20-\\x7e]+$"}
KeyHeader = Annotated[
    str | None,
    WithJsonSchema(dict(KEY_SCHEMA)),
    Header(
        alias=HEADER,
        description=(
            f"Optional, 1–{store.MAX_KEY} printable ASCII characters (a new UUID per request). A retry with "
            "the same key and body gets the first answer again, with `Idempotent-Replayed: true`, and "
            "registers nothing; the same key with another body is refused (422 `idempotency_key_reused`); "
            "a key outside these limits is refused (400 `invalid_idempotency_key`). "
            "Keys are per account (all its tokens) and kept 24 hours; only successful answers are kept, "
            "so after a refusal the key may be sent again with the request put right."
        ),
    ),
]
# The response header, for the OpenAPI document of the endpoints that take the key.
REPLAYED_DOC: dict[str, Any] = {
    REPLAYED: {
        "description": "`true` when this is the stored answer to an earlier request with the same Idempotency-Key",
        "schema": {"type": "string", "enum": ["true"]},
    }
}


class BadKey(DomainError):
    code = "invalid_idempotency_key"
    http_status = 400


def parse(value: str | None) -> str | None:
    """The key sent, or ``None`` without the header; :class:`BadKey` names what is wrong with it."""
    if value is None:
        return None
    problem = None
    if not value:
        problem = "为空"
    elif len(value) > store.MAX_KEY:
        problem = f"有 {len(value)} 个字符，超过 {store.MAX_KEY} 个"
    elif not _PRINTABLE.fullmatch(value):
        at = next(i for i, c in enumerate(value) if not " " <= c <= "~")
        problem = f"第 {at + 1} 个字符不是可打印的 ASCII 字符（不能含中文、控制字符）"
    if problem:
        raise BadKey(
            f"请求头 {HEADER} 无效：{problem}；须为 1–{store.MAX_KEY} 个可打印的 ASCII 字符，"
            "建议每个新请求用一个新的 UUID",
            details={"header": HEADER},
        )
    return value


def fingerprint(endpoint: str, payload: Any) -> str:
    """SHA-256 of the endpoint and the request's content as canonical JSON (keys sorted), so the same
    request sent again matches whatever order its fields came in."""
    text = json.dumps([endpoint, payload], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Once:
    """One request's use of its key. ``replay`` is the stored answer when the key was used before
    with the same request (return it and do nothing else); otherwise do the work and return
    ``keep(response, ticket_id=…)`` inside the same transaction. Without a key both are no-ops."""

    def __init__(self, session: Session, claim: store.Claim | None):
        self.session, self.claim = session, claim
        self.replay = None if claim is None or claim.new else _replayed(claim.row)

    def keep(self, response: Response, *, ticket_id: int | None) -> Response:
        if self.claim is not None:
            store.keep(
                self.session,
                self.claim.row,
                status_code=response.status_code,
                media_type=response.headers.get("content-type", "application/json"),
                body=bytes(response.body).decode("utf-8"),
                ticket_id=ticket_id,
            )
        return response


def start(
    session: Session, *, user_id: int, key: str | None, endpoint: str, content: Callable[[], Any]
) -> Once:
    """Claim ``key`` for this request (see :class:`Once`); ``content()`` is what identifies the
    request besides its ``endpoint`` (the parsed body; not computed without a key). The same key used
    by the account for another request is refused with 422 ``idempotency_key_reused``."""
    if key is None:
        return Once(session, None)
    sent = fingerprint(endpoint, content())
    claim = store.claim(session, user_id=user_id, key=key, fingerprint=sent)
    if not claim.new and claim.row.fingerprint != sent:
        raise Invalid(
            f"请求头 {HEADER}「{_short(key)}」已于 {clock.local(claim.row.created_at):%Y-%m-%d %H:%M:%S} 用于另一个请求"
            "（地址或内容不同）：同一个键只能用来重试完全相同的请求；新的请求请换一个新键",
            code="idempotency_key_reused",
            details={"header": HEADER},
        )
    return Once(session, claim)


def _replayed(row: store.IdempotencyKey) -> Response:
    assert row.status_code is not None and row.body is not None, "a committed key always has its answer"
    return Response(
        row.body.encode("utf-8"),
        status_code=row.status_code,
        media_type=row.media_type,
        headers={REPLAYED: "true"},
    )


def _short(key: str) -> str:
    return key if len(key) <= 40 else key[:40] + "…"
