"""Password sign-in with lockout, and browser sessions.

Five wrong passwords in a row lock the account for 15 minutes (the message says until when); a
right password resets the count. The same message answers an unknown user and a wrong password,
so the form does not tell which usernames exist. Sessions last 12 hours (one agent shift plus
margin); signing out deletes the row.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from hotline.accounts.models import User, WebSession
from hotline.accounts.service import hash_password, hash_token, verify_password
from hotline.kit import clock

MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)
SESSION_FOR = timedelta(hours=12)
WRONG = "用户名或密码错误"
_DUMMY = User(password_hash=hash_password("not-a-real-password"))


@dataclass(frozen=True)
class Signed:
    user: User
    token: str  # for the cookie; only its hash is stored
    csrf_token: str


def sign_in(session: Session, username: str, password: str) -> Signed | Refusal:
    """Check the password (counting failures, honouring the lock) and open a browser session.

    A refusal is returned, not raised, so the caller commits the failure count with it."""
    now = clock.now()
    # Usernames are unique whatever their case (index uq_users_username_lower): Agent1 signs in as agent1.
    user = session.scalar(select(User).where(func.lower(User.username) == (username or "").strip().lower()))
    if user is None or not user.active or not user.password_hash:
        verify_password(_DUMMY, password or "")  # same time as a real check: no username probing
        return Refusal(WRONG)
    if user.locked_until is not None and user.locked_until > now:
        return _locked(user)
    if not verify_password(user, password or ""):
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= MAX_FAILURES:
            user.locked_until, user.failed_logins = now + LOCK_FOR, 0
            return _locked(user)
        return Refusal(f"{WRONG}（再错 {MAX_FAILURES - user.failed_logins} 次将锁定 15 分钟）")
    user.failed_logins, user.locked_until = 0, None
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.add(WebSession(token_hash=hash_token(token), user_id=user.id, csrf_token=csrf, created_at=now,
                           expires_at=now + SESSION_FOR))
    session.flush()
    return Signed(user, token, csrf)


@dataclass(frozen=True)
class Refusal:
    message: str


def _locked(user: User) -> Refusal:
    until = clock.local(user.locked_until)
    return Refusal(f"密码连续输错 {MAX_FAILURES} 次，账号已锁定至 {until:%H:%M}，请稍后再试或联系管理员")


def current(session: Session, token: str | None) -> tuple[User, WebSession] | None:
    """The signed-in user and their session for a cookie token, or None (absent, unknown, expired)."""
    if not token:
        return None
    row = session.execute(select(WebSession, User).join(User, User.id == WebSession.user_id)
                          .where(WebSession.token_hash == hash_token(token))).first()
    if row is None:
        return None
    web, user = row
    if web.expires_at <= clock.now() or not user.active:
        return None
    return user, web


def sign_out(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(WebSession).where(WebSession.token_hash == hash_token(token)))


def purge_expired(session: Session, now: datetime | None = None) -> int:
    return session.execute(delete(WebSession).where(WebSession.expires_at <= (now or clock.now()))).rowcount
