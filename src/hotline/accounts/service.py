"""Creating users, hashing passwords, issuing and checking API tokens."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from hotline.accounts.models import ROLE_LABELS, ApiToken, Role, User, WebSession
from hotline.directory.models import Unit, UnitKind
from hotline.kit import clock, phones
from hotline.kit.errors import Invalid, NotFound, Unauthenticated
from hotline.kit.ids import hash_token, new_token
from hotline.kit.text import no_control_characters

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


# Roles whose people work at the hotline center: their unit only labels what they do on a ticket's
# timeline (「崔建国（运城市12345热线中心）」); what they see never depends on it (``scope.scope_for``).
CENTER_ROLES = frozenset({Role.agent, Role.dispatcher, Role.supervisor, Role.admin})
PASSWORD_MIN, PASSWORD_MAX = 8, 128
NAME_MAX = 60


def _role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise Invalid(f"未知角色「{role}」，可选：{'、'.join(ROLE_LABELS.values())}",
                      details={"field": "role"}) from None


def _unit_for(session: Session, role: Role, unit_code: str | None, current_id: int | None = None) -> int | None:
    """The unit a user of ``role`` is bound to. A handler needs one (it decides which tickets they
    see and act on); the hotline center's roles may name a hotline center or none: bound to a
    handling unit, their actions would be shown as that unit's and the unit would mean nothing else.
    A deactivated unit is refused unless the user already belongs to it."""
    code = (unit_code or "").strip()
    unit = None
    if code:
        unit = session.scalar(select(Unit).where(Unit.code == code))
        if unit is None:
            raise Invalid(f"未知单位编码 {code}", code="unknown_unit", details={"field": "unit_code"})
        if not unit.active and unit.id != current_id:
            raise Invalid(f"所属单位：{unit.name}已停用，请选择在用的单位", details={"field": "unit_code"})
    if role == Role.handler and unit is None:
        raise Invalid("承办人必须绑定一个承办单位", details={"field": "unit_code"})
    if role == Role.handler and unit is not None and unit.kind == UnitKind.hotline_center:
        # a handler sees the tickets of their unit, and no ticket is ever dispatched to the center
        raise Invalid(f"所属单位：承办人必须绑定一个承办单位；{unit.name}是热线中心，不承办工单。"
                      f"若此人在热线中心工作，请把角色设为坐席、派单员、督办员或管理员", code="unit_not_for_role",
                      details={"field": "unit_code"})
    if role in CENTER_ROLES and unit is not None and unit.kind != UnitKind.hotline_center:
        raise Invalid(f"所属单位：{ROLE_LABELS[role]}是热线中心的岗位，只能属于热线中心或不选单位；{unit.name}是承办单位，"
                      f"若此人在该单位办理工单，请把角色设为承办人", code="unit_not_for_role",
                      details={"field": "unit_code"})
    return unit.id if unit is not None else None


def check_password(password: str) -> str:
    """A password an admin types for someone (at creation or a reset): 8 to 128 characters."""
    if len(password or "") < PASSWORD_MIN:
        raise Invalid(f"密码至少 {PASSWORD_MIN} 位", details={"field": "password"})
    if len(password) > PASSWORD_MAX:
        raise Invalid(f"密码过长（最多 {PASSWORD_MAX} 位）", details={"field": "password"})
    return password


def _display_name(value: str | None) -> str:
    text = (value or "").strip()
    if not text:
        raise Invalid("请填写姓名", details={"field": "display_name"})
    if len(text) > NAME_MAX:
        raise Invalid(f"姓名过长（最多 {NAME_MAX} 字）", details={"field": "display_name"})
    return no_control_characters(text, "姓名", "display_name")


def _phone(value: str | None) -> str | None:
    if len((value or "").strip()) > 20:
        raise Invalid("电话号码过长（最多 20 位）", details={"field": "phone"})
    return phones.checked(value, field="phone")


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
    role = _role(role)
    if not USERNAME.fullmatch(username or ""):
        raise Invalid(f"用户名「{username}」无效：须为 1–60 个字母、数字或 - _ . （如 xiaxian-water-1），不能有空格",
                      details={"field": "username"})
    # Unique regardless of case, so no two accounts differ only in it (qa-h1, QA-H1); sign-in and
    # --by still match the name exactly as stored, which is then never ambiguous.
    same = session.scalar(select(User.username).where(func.lower(User.username) == username.lower()))
    if same is not None:
        raise Invalid(f"用户名 {username} 已存在" + (f"（已有用户 {same}，用户名不区分大小写）" if same != username else ""),
                      code="duplicate", details={"field": "username"})
    unit_id = _unit_for(session, role, unit_code)
    user = User(
        username=username,
        display_name=_display_name(display_name or username),
        role=role,
        unit_id=unit_id,
        phone=_phone(phone),
        password_hash=hash_password(check_password(password)) if password else None,
        active=True,
        created_at=clock.now(),
    )
    session.add(user)
    session.flush()
    return user


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id) if 0 < user_id < 2**31 else None
    if user is None:
        raise NotFound(f"用户 {user_id} 不存在")
    return user


def edit_user(session: Session, *, user_id: int, display_name: str, role: Role | str, unit_code: str | None,
              phone: str | None, by: User | None = None) -> User:
    """Change a user's name, role, unit and phone (the username stays: it is typed at sign-in and
    in ``--by``). The user's next request sees the change: a browser session reads the user afresh
    on every request, and the API token cache is dropped here (other processes drop theirs within
    ``TOKEN_CACHE_SECONDS``). An admin cannot take the admin role from themselves."""
    user = _user(session, user_id)
    new_role = _role(role)
    if by is not None and by.id == user.id and user.role == Role.admin and new_role != Role.admin:
        raise Invalid("不能取消自己的管理员角色；如需交接，请由另一位管理员修改", details={"field": "role"})
    user.unit_id = _unit_for(session, new_role, unit_code, current_id=user.unit_id)
    user.display_name = _display_name(display_name)
    user.role = new_role
    user.phone = _phone(phone)
    session.flush()
    forget_tokens()
    return user


def reset_password(session: Session, *, user_id: int, password: str, keep_session_id: int | None = None) -> User:
    """Set a password an admin typed (the creation rules), clear a sign-in lock, and sign the user
    out of every browser (but the one ``keep_session_id``, the admin's own when resetting their own)."""
    user = _user(session, user_id)
    user.password_hash = hash_password(check_password(password))
    user.failed_logins, user.locked_until = 0, None
    ended = delete(WebSession).where(WebSession.user_id == user.id)
    if keep_session_id is not None:
        ended = ended.where(WebSession.id != keep_session_id)
    session.execute(ended)
    session.flush()
    return user


def set_active(session: Session, *, user_id: int, active: bool, by: User | None = None) -> User:
    """Start or stop an account. Stopping it signs the user out of every browser, as a password
    reset does, so starting it again does not bring the old sessions back (a stopped account's
    cookie, kept on a shared computer, would otherwise work again). An admin cannot stop themselves."""
    user = _user(session, user_id)
    if by is not None and by.id == user.id and not active:
        raise Invalid("不能停用自己的账号", code="own_account")
    user.active = active
    if not active:
        session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    session.flush()
    forget_tokens()  # a stopped user's API token is refused on its next call
    return user


TOKEN_NAME_MAX = 80  # the column's width


def create_token(
    session: Session, *, username: str, name: str = "cli", expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Issue a token; the plain token is returned once and never stored. The command line
    (``hotline token create``) and the admin page (系统管理 › 接口令牌) both issue through here.
    ``name`` says what the token is for (a partner system: 「city-app」); a stopped account is
    refused, its token could never be used."""
    label = no_control_characters(" ".join(name.split()), "用途", "name")
    if not label:
        raise Invalid("请填写令牌用途（例：city-app，接入的系统名称）", details={"field": "name"})
    if len(label) > TOKEN_NAME_MAX:
        raise Invalid(f"令牌用途最多 {TOKEN_NAME_MAX} 个字（收到 {len(label)} 个）", details={"field": "name"})
    user = session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))
    if user is None:
        raise NotFound(f"用户 {username} 不存在")
    if not user.active:
        raise Invalid(f"用户 {user.username} 已停用，不能为其签发令牌", code="inactive_user", details={"field": "user"})
    plain = new_token()
    token = ApiToken(
        user_id=user.id,
        name=label,
        token_hash=hash_token(plain),
        prefix=plain[:10],
        created_at=clock.now(),
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    return token, plain


TOKEN_CACHE_SECONDS = 10.0


@dataclass(frozen=True)
class Caller:
    """Who is calling with a bearer token: the account, and which of its tokens (Open311 limits a
    client's queries to the requests sent with its own key)."""

    user: User
    token_id: int


_token_cache: dict[tuple[str, str], tuple[float, Caller, datetime | None]] = {}
_token_lock = threading.Lock()


def authenticate_token(session: Session, plain: str) -> User:
    """The user behind a bearer token (see :func:`authenticate_key`)."""
    return authenticate_key(session, plain).user


def authenticate_key(session: Session, plain: str) -> Caller:
    """The user behind a bearer token, and the token's id.

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
    caller = Caller(copy, token.id)
    with _token_lock:
        if len(_token_cache) > 10_000:
            _token_cache.clear()
        _token_cache[key] = (time.monotonic(), caller, token.expires_at)
    return caller


def forget_tokens() -> None:
    """Drop the token cache (after revoking tokens or deactivating users)."""
    with _token_lock:
        _token_cache.clear()


TOKEN_DAYS_MAX = 3650  # ten years: a partner system's key outlives no review longer than that


def token_expiry(days: int | None, now: datetime | None = None) -> datetime | None:
    """When a token issued now for ``days`` days expires: None (never) when no days are given; 0
    or a negative number would make a token that never expires or is dead at birth, refused."""
    if days is None:
        return None
    if not 1 <= days <= TOKEN_DAYS_MAX:
        raise Invalid(f"有效天数须为 1–{TOKEN_DAYS_MAX} 天（收到 {days}）；不填则永不过期", code="invalid_days",
                      details={"field": "days"})
    return (now or clock.now()) + timedelta(days=days)


TOKEN_STATE_LABELS = {"active": "有效", "expired": "已过期", "revoked": "已吊销"}


@dataclass(frozen=True)
class TokenRow:
    """A token as an admin sees it: never the token itself, only the prefix that identifies it."""

    id: int
    username: str
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    state: str
    display_name: str = ""
    user_active: bool = True  # a stopped account's tokens are refused whatever their state

    @property
    def state_label(self) -> str:
        return TOKEN_STATE_LABELS[self.state]


def _state(token: ApiToken, now: datetime) -> str:
    if token.revoked_at is not None:
        return "revoked"
    return "expired" if token.expires_at is not None and token.expires_at <= now else "active"


def _rows(session: Session, query: Select) -> list[TokenRow]:
    now = clock.now()
    return [TokenRow(t.id, u.username, t.name, t.prefix, t.created_at, t.expires_at, t.revoked_at, _state(t, now),
                     u.display_name, u.active)
            for t, u in session.execute(query)]


def list_tokens(session: Session, *, username: str | None = None) -> list[TokenRow]:
    """Every token (of ``username`` when given), oldest first."""
    query = select(ApiToken, User).join(User, User.id == ApiToken.user_id).order_by(ApiToken.id)
    if username:
        user = session.scalar(select(User).where(func.lower(User.username) == username.lower()))
        if user is None:
            raise NotFound(f"用户 {username} 不存在")
        query = query.where(ApiToken.user_id == user.id)
    return _rows(session, query)


def token_row(session: Session, token_id: int) -> TokenRow:
    """One token as :func:`list_tokens` shows it."""
    query = select(ApiToken, User).join(User, User.id == ApiToken.user_id).where(ApiToken.id == token_id)
    rows = _rows(session, query) if 0 < token_id < 2**31 else []
    if not rows:
        raise NotFound(f"令牌 {token_id} 不存在", code="unknown_token")
    return rows[0]


def revoke_token(session: Session, token_id: int) -> ApiToken:
    """Revoke a token: refused on its next call in this process, in the others within
    ``TOKEN_CACHE_SECONDS``. Revoking one already revoked changes nothing (it keeps its time)."""
    token = session.get(ApiToken, token_id) if 0 < token_id < 2**31 else None
    if token is None:
        raise NotFound(f"令牌 {token_id} 不存在", code="unknown_token")
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        session.flush()
    forget_tokens()
    return token
