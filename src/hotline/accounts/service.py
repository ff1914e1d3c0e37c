"""Creating users, hashing passwords, issuing and checking API tokens."""

from __future__ import annotations

import re
import threading
import time
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.accounts.models import ROLE_LABELS, ApiToken, Role, User
from hotline.directory.models import Unit
from hotline.kit import clock, phones
from hotline.kit.errors import Invalid, NotFound, Unauthenticated
from hotline.kit.ids import hash_token, new_token

_hasher = PasswordHasher()
# What a username may hold: typed at sign-in and after --by, so no spaces or look-alike characters.
USERNAME = re.compile(r"[A-Za-z0-9._-]{1,60}")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(user: User, password: str) -> bool:
    if not user.password_hash:
        return False
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        return False


def add_user(
    session: Session,
    *,
    username: str,
    display_name: str,
    role: Role | str,
    unit_code: str | None = None,
    password: str | None = None,
    phone: str | None = None,
) -> User:
    """Create a user. A handler must belong to a unit; other roles may name the hotline center."""
    try:
        role = Role(role)
    except ValueError:
        raise Invalid(f"未知角色「{role}」，可选：{'、'.join(ROLE_LABELS.values())}",
                      details={"field": "role"}) from None
    if not USERNAME.fullmatch(username or ""):
        raise Invalid(f"用户名「{username}」无效：须为 1–60 个字母、数字或 - _ . （如 xiaxian-water-1），不能有空格",
                      details={"field": "username"})
    # Unique regardless of case, so no two accounts differ only in it (qa-h1, QA-H1); sign-in and
    # --by still match the name exactly as stored, which is then never ambiguous.
    same = session.scalar(select(User.username).where(func.lower(User.username) == username.lower()))
    if same is not None:
        raise Invalid(f"用户名 {username} 已存在" + (f"（已有用户 {same}，用户名不区分大小写）" if same != username else ""),
                      code="duplicate", details={"field": "username"})
    unit_id = None
    if unit_code:
        unit_id = session.scalar(select(Unit.id).where(Unit.code == unit_code))
        if unit_id is None:
            raise Invalid(f"未知单位编码 {unit_code}", code="unknown_unit")
    if role == Role.handler and unit_id is None:
        raise Invalid("承办人必须绑定一个承办单位", details={"field": "unit_code"})
    user = User(
        username=username,
        display_name=display_name or username,
        role=role,
        unit_id=unit_id,
        phone=phones.checked(phone, field="phone"),
        password_hash=hash_password(password) if password else None,
        active=True,
        created_at=clock.now(),
    )
    session.add(user)
    session.flush()
    return user


def create_token(
    session: Session, *, username: str, name: str = "cli", expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Issue a token; the plain token is returned once and never stored."""
    user = session.scalar(select(User).where(func.lower(User.username) == username.lower()))
    if user is None:
        raise NotFound(f"用户 {username} 不存在")
    plain = new_token()
    token = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=hash_token(plain),
        prefix=plain[:10],
        created_at=clock.now(),
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    return token, plain


TOKEN_CACHE_SECONDS = 10.0
_token_cache: dict[tuple[str, str], tuple[float, User, datetime | None]] = {}
_token_lock = threading.Lock()


def authenticate_token(session: Session, plain: str) -> User:
    """The user behind a bearer token.

    A per-process cache keeps the hot path (every API call) from querying for the same token again
    within ``TOKEN_CACHE_SECONDS``; revoking a token in this process clears it at once, elsewhere
    within that time. The returned user is a detached read-only copy: act with it, don't edit it.
    """
    digest = hash_token(plain)
    key = (str(session.get_bind().url), digest)
    now = clock.now()
    hit = _token_cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < TOKEN_CACHE_SECONDS and (hit[2] is None or hit[2] > now):
        return hit[1]
    row = session.execute(
        select(ApiToken, User).join(User, User.id == ApiToken.user_id).where(ApiToken.token_hash == digest)
    ).first()
    if row is None:
        raise Unauthenticated("令牌无效")
    token, user = row
    if token.revoked_at is not None or (token.expires_at is not None and token.expires_at <= now):
        raise Unauthenticated("令牌已失效")
    if not user.active:
        raise Unauthenticated("账号已停用")
    copy = User(id=user.id, username=user.username, display_name=user.display_name, role=user.role,
                unit_id=user.unit_id, phone=user.phone, active=user.active, created_at=user.created_at)
    with _token_lock:
        if len(_token_cache) > 10_000:
            _token_cache.clear()
        _token_cache[key] = (time.monotonic(), copy, token.expires_at)
    return copy


def forget_tokens() -> None:
    """Drop the token cache (after revoking tokens or deactivating users)."""
    with _token_lock:
        _token_cache.clear()


def revoke_token(session: Session, token_id: int) -> None:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound("令牌不存在")
    token.revoked_at = clock.now()
    forget_tokens()
