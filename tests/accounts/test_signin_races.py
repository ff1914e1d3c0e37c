"""The lockout under guesses sent at once (several web processes on PostgreSQL): each wrong
password counts, and a password tried while another guess locks the account waits for the lock."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update

from hotline.accounts.models import User
from hotline.accounts.service import hash_password
from hotline.accounts.signin import MAX_FAILURES, Refusal, sign_in
from hotline.kit import clock
from tests.race import at_once

PASSWORD = "right-horse-battery"


def _account(db, people, failed: int = 0) -> str:
    clock.freeze(datetime(2026, 6, 15, 10, 0))
    with db.transaction() as s:
        s.execute(
            update(User)
            .where(User.id == people.dispatcher.id)
            .values(password_hash=hash_password(PASSWORD), failed_logins=failed)
        )
    return people.dispatcher.username


def _state(db, people) -> tuple[int, datetime | None]:
    with db.transaction(write=False) as s:
        user = s.get(User, people.dispatcher.id)
        return user.failed_logins, user.locked_until


def test_two_wrong_passwords_sent_at_once_both_count(db, people):
    """Before: each request read failed_logins=0 and wrote 1, so 30 parallel guesses left it at 2."""
    name = _account(db, people)
    first, second = at_once(db, lambda s: sign_in(s, name, "guess-1"), lambda s: sign_in(s, name, "guess-2"))
    assert first == Refusal("用户名或密码错误（再错 4 次将锁定 15 分钟）")
    assert second == Refusal("用户名或密码错误（再错 3 次将锁定 15 分钟）")
    assert _state(db, people) == (2, None)


def test_the_right_password_sent_with_the_fifth_wrong_one_finds_the_account_locked(db, people):
    """Before: the right password, read before the fifth guess committed, signed in and cleared the
    lock that guess had just set."""
    name = _account(db, people, failed=MAX_FAILURES - 1)
    first, second = at_once(db, lambda s: sign_in(s, name, "guess-5"), lambda s: sign_in(s, name, PASSWORD))
    until = clock.now() + timedelta(minutes=15)
    locked = Refusal(f"密码连续输错 5 次，账号已锁定至 {clock.local(until):%H:%M}，请稍后再试或联系管理员")
    assert first == locked and second == locked
    assert _state(db, people) == (0, until)
