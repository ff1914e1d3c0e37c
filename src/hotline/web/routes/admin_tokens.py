"""System administration of API tokens (接口令牌): the keys other systems (a city app, a partner's
platform) call the JSON API and Open311 with. Admins only, as the rest of 系统管理 (``admin.py``):
every change is a POST with the session's CSRF token, a refusal renders the page again with the
message in Chinese and what was typed.

The list never shows a token, only its first characters. A new token is shown once, on the page
answering the POST (not a redirect: the token must not travel in an address), marked not to be
cached. Issuing, listing and revoking are ``accounts.service``'s, as for ``hotline token`` and
``/api/v1/tokens``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy import select

from hotline.accounts.models import ROLE_LABELS, User
from hotline.accounts.service import (
    TOKEN_DAYS_MAX,
    TOKEN_NAME_MAX,
    create_token,
    forget_tokens,
    list_tokens,
    revoke_token,
    token_expiry,
    token_row,
)
from hotline.kit.errors import DomainError, Invalid
from hotline.web.routes.admin import _back, _not_admin, _page, _refused
from hotline.web.session import PageContext, page_work

router = APIRouter(include_in_schema=False)
TITLE = "接口令牌"


def _tokens_page(
    request: Request,
    ctx: PageContext,
    *,
    status_code: int = 200,
    error: str | None = None,
    typed: dict[str, Any] | None = None,
    notice: str | None = None,
) -> Response:
    accounts = [
        (u.username, f"{u.username}（{u.display_name}，{ROLE_LABELS[u.role]}）")
        for u in ctx.session.scalars(select(User).where(User.active).order_by(User.role, User.username))
    ]
    rows = list(reversed(list_tokens(ctx.session)))  # newest first
    return _page(
        request,
        "admin/tokens.html",
        TITLE,
        status_code=status_code,
        rows=rows,
        accounts=accounts,
        error=error,
        typed=typed or {},
        notice=notice,
        name_max=TOKEN_NAME_MAX,
        days_max=TOKEN_DAYS_MAX,
    )


def _days(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()):
        raise Invalid(f"有效天数须为整数（收到「{text[:20]}」）；不填则永不过期", details={"field": "days"})
    return int(text[:9])  # a longer number is out of range anyway, and said so by token_expiry


@router.get("/admin/tokens")
def tokens_page(request: Request, notice: str = "") -> Response:
    with page_work(request, write=False) as ctx:
        if _not_admin(ctx):
            return _refused(request)
        return _tokens_page(request, ctx, notice=notice or None)


@router.post("/admin/tokens")
def create_token_form(
    request: Request, csrf: str = Form(""), user: str = Form(""), name: str = Form(""), days: str = Form("")
) -> Response:
    typed = {"user": user, "name": name, "days": days}
    with page_work(request, write=True, posted_csrf=csrf) as ctx:
        if _not_admin(ctx):
            return _refused(request)
        try:
            if not user.strip():
                raise Invalid("请选择令牌所属的账号", details={"field": "user"})
            token, plain = create_token(
                ctx.session, username=user, name=name, expires_at=token_expiry(_days(days))
            )
            row = token_row(ctx.session, token.id)
        except DomainError as err:
            ctx.session.rollback()
            return _tokens_page(request, ctx, status_code=err.http_status, error=err.message, typed=typed)
        response = _page(request, "admin/token_created.html", TITLE, row=row, plain=plain)
    response.headers["Cache-Control"] = "no-store"  # the token is on this page, and only here
    return response


@router.post("/admin/tokens/{token_id}/revoke")
def revoke_token_form(request: Request, token_id: int, csrf: str = Form("")) -> Response:
    with page_work(request, write=True, posted_csrf=csrf) as ctx:
        if _not_admin(ctx):
            return _refused(request)
        try:
            revoke_token(ctx.session, token_id)
            row = token_row(ctx.session, token_id)
        except DomainError as err:
            ctx.session.rollback()
            return _tokens_page(request, ctx, status_code=err.http_status, error=err.message)
    forget_tokens()  # after the commit too: a call read in between would have cached it as valid
    return _back(
        "/admin/tokens",
        f"已吊销令牌 {row.id}（{row.username}，{row.name}，{row.prefix}…）：使用它的系统从下一次调用起被拒绝",
    )
