"""API tokens for admins: list them (never the token itself, only its first characters) and revoke
one. A token is created on the command line (``hotline token create``) or on the admin page
(系统管理 › 接口令牌), where it is shown once; the rules are ``accounts.service``'s."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request
from pydantic import Field

from hotline.accounts.models import Role
from hotline.accounts.service import TokenRow, list_tokens, revoke_token, token_row
from hotline.api.edge import Context, unit_of_work
from hotline.api.schemas import Out, Timestamp
from hotline.kit.errors import PermissionDenied
from hotline.tickets.views import iso

router = APIRouter(prefix="/tokens", tags=["tokens"])


class TokenOut(Out):
    id: int
    username: str
    name: str = Field(description="what the token is for")
    prefix: str = Field(description="the token's first characters, to recognise it")
    created_at: Timestamp
    expires_at: Timestamp | None = Field(description="null: never expires")
    revoked_at: Timestamp | None
    state: Literal["active", "expired", "revoked"]
    state_label: str = Field(description="the state in Chinese: 有效, 已过期 or 已吊销")


def _admin(ctx: Context) -> None:
    if ctx.user.role != Role.admin:
        raise PermissionDenied("只有管理员可以查看和吊销接口令牌")


def _out(t: TokenRow) -> TokenOut:
    return TokenOut(id=t.id, username=t.username, name=t.name, prefix=t.prefix, created_at=iso(t.created_at),
                    expires_at=iso(t.expires_at), revoked_at=iso(t.revoked_at), state=t.state,  # type: ignore[arg-type]
                    state_label=t.state_label)


@router.get("", response_model=list[TokenOut], summary="API tokens, oldest first, optionally one user's (admins)")
def get_tokens(request: Request, user: str | None = Query(default=None, max_length=60, description="a username")):
    with unit_of_work(request, write=False) as ctx:
        _admin(ctx)
        return [_out(t) for t in list_tokens(ctx.session, username=user)]


@router.delete("/{token_id}", response_model=TokenOut, summary="Revoke an API token (admins); it stops working at once")
def delete_token(token_id: int, request: Request):
    with unit_of_work(request, write=True) as ctx:
        _admin(ctx)
        revoke_token(ctx.session, token_id)
        return _out(token_row(ctx.session, token_id))

