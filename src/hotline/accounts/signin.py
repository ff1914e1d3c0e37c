"""Password sign-in with lockout, and browser sessions.

Five wrong passwords in a row lock the account for 15 minutes (the message says until when); a
right password resets the count. The count and the lock are written by conditional UPDATEs that
read the row as it is in the database (``failed_logins = failed_logins + 1 … RETURNING``), so
guesses sent at once, from any number of processes, each count, and none gets past a lock another
has just set. The same message answers an unknown user and a wrong password,
so the form does not tell which usernames exist. Sessions last 12 hours (one agent shift plus
margin); signing out deletes the row.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

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
        return _wrong(session, user, now)
    # Reset the count, unless a guess made at the same time has locked the account meanwhile.
    if _unless_locked(session, user, now, failed_logins=0, locked_until=None) is None:
        return _locked(_reread(session, user))
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.add(WebSession(token_hash=hash_token(token), user_id=user.id, csrf_token=csrf, created_at=now,
                           expires_at=now + SESSION_FOR))
    session.flush()
    return Signed(user, token, csrf)


@dataclass(frozen=True)
class Refusal:
    message: str


def _unless_locked(session: Session, user: User, now: datetime, **values: object) -> int | None:
    """UPDATE the user's row unless it is locked at ``now``; the count after it, or None when locked.

    On PostgreSQL the UPDATE waits for a concurrent sign-in's uncommitted change of the row and then
    checks the lock again on the committed row; SQLite writers run one at a time."""
    row = session.execute(
        update(User).where(User.id == user.id, or_(User.locked_until.is_(None), User.locked_until <= now))
        .values(**values).returning(User.failed_logins, User.locked_until)
        .execution_options(synchronize_session=False)).first()
    if row is None:
        return None
    set_committed_value(user, "failed_logins", row.failed_logins)
    set_committed_value(user, "locked_until", row.locked_until)
    return row.failed_logins


def _wrong(session: Session, user: User, now: datetime) -> Refusal:
    """One more wrong password, counted in the database; the guess that makes it MAX_FAILURES locks."""
    count = _unless_locked(session, user, now, failed_logins=User.failed_logins + 1)
    if count is None:  # a guess made at the same time has just locked it
        return _locked(_reread(session, user))
    if count >= MAX_FAILURES:
        _unless_locked(session, user, now, failed_logins=0, locked_until=now + LOCK_FOR)  # the row is ours
        return _locked(user)
    return Refusal(f"{WRONG}（再错 {MAX_FAILURES - count} 次将锁定 15 分钟）")


def _reread(session: Session, user: User) -> User:
    session.refresh(user, ["failed_logins", "locked_until"])
    return user


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
