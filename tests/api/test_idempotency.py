"""Retrying a POST that registers a ticket (``Idempotency-Key``): a client whose request timed out
sends it again with the same key and gets the first answer, not a second ticket; on the JSON API and
on Open311, on SQLite and PostgreSQL, also when both copies arrive at the same instant."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from hotline.accounts.service import create_token
from hotline.kit import clock
from hotline.tickets import lifecycle
from hotline.tickets.idempotency import IdempotencyKey
from hotline.tickets.models import Ticket
from hotline.worker import jobs
from tests.api.conftest import BASE, leak
from tests.builders import LEAK

KEY = "7c1e2f4a-0b9d-4c55-9e1e-2d8f3a6b5c10"
V2 = "/open311/v2"


def tickets(api) -> int:
    with api.db.transaction(write=False) as s:
        return s.scalar(select(func.count()).select_from(Ticket))


def keys(api) -> int:
    with api.db.transaction(write=False) as s:
        return s.scalar(select(func.count()).select_from(IdempotencyKey))


def register(api, persona: str = "agent", key: str | bytes | None = KEY, **overrides: Any):
    headers = {} if key is None else {"Idempotency-Key": key}
    return api.as_(persona).post("/tickets", json=leak(**overrides), headers=headers)


def test_a_retry_with_the_same_key_gets_the_first_answer_and_registers_one_ticket(api, night):
    first = register(api)
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers
    clock.advance(timedelta(minutes=3))  # the client gave up waiting, and tries again
    again = register(api)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.content == first.content and again.headers["content-type"] == first.headers["content-type"]
    assert tickets(api) == 1 and again.json()["number"] == first.json()["number"]
    # Another token of the same account shares its keys (a partner rotating tokens mid-retry).
    with api.db.transaction() as s:
        other_token = create_token(s, username=api.people.agent.username, name="second")[1]
    r = api.client.post(
        f"{BASE}/tickets",
        json=leak(),
        headers={"Authorization": f"Bearer {other_token}", "Idempotency-Key": KEY},
    )
    assert r.headers["Idempotent-Replayed"] == "true" and r.json()["number"] == first.json()["number"]
    # Without the header, or with another key, each POST is a new ticket, as before.
    assert register(api, key=None).json()["number"] != first.json()["number"]
    assert register(api, key="another-key").json()["number"] != first.json()["number"]
    assert tickets(api) == 3


def test_the_same_key_with_another_body_is_refused_and_registers_nothing(api, night):
    assert register(api).status_code == 201
    r = register(api, content="另一件事：村口路灯不亮已经一周")
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "idempotency_key_reused" and error["details"] == {"header": "Idempotency-Key"}
    assert error["message"].startswith(
        f"请求头 Idempotency-Key「{KEY[:40]}」已于 2025-11-27 23:45:00 用于另一个请求"
    )
    assert tickets(api) == 1
    # Fields in another order are the same request.
    body = leak()
    same = api.as_("agent").post(
        "/tickets", json=dict(reversed(body.items())), headers={"Idempotency-Key": KEY}
    )
    assert same.headers["Idempotent-Replayed"] == "true"


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("", "为空"),
        ("k" * 256, "有 256 个字符，超过 255 个"),
        ("订单-1".encode(), "第 1 个字符不是可打印的 ASCII 字符"),
        (b"ab\x01cd", "第 3 个字符不是可打印的 ASCII 字符"),
    ],
)
def test_a_key_that_is_not_1_to_255_printable_ascii_characters_is_refused(api, key, why):
    r = register(api, key=key)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["code"] == "invalid_idempotency_key" and error["details"] == {"header": "Idempotency-Key"}
    assert error["message"].startswith(f"请求头 Idempotency-Key 无效：{why}")
    assert "须为 1–255 个可打印的 ASCII 字符" in error["message"]
    assert tickets(api) == 0
    # The longest key, and one of any printable characters, are taken.
    assert register(api, key="k" * 255).status_code == 201
    assert register(api, key='"a b~!{}"').status_code == 201


def test_each_account_has_its_own_keys(api, night):
    mine, theirs = register(api, "agent"), register(api, "dispatcher")
    assert mine.status_code == theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs.headers and mine.json()["number"] != theirs.json()["number"]
    assert register(api, "dispatcher").json()["number"] == theirs.json()["number"]
    assert tickets(api) == 2


def test_a_refusal_is_not_kept_the_key_is_used_again_once_the_request_is_put_right(api, night):
    late = register(
        api, received_at="2025-11-28T09:00:00+08:00"
    )  # the future: refused after the key was taken
    assert late.status_code == 422 and late.json()["error"]["code"] == "invalid_datetime"
    assert tickets(api) == 0 and keys(api) == 0
    first = register(api)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    assert register(api).headers["Idempotent-Replayed"] == "true" and tickets(api) == 1


def test_a_key_is_kept_24_hours_then_free_again_and_the_worker_removes_it(api, night):
    first = register(api)
    register(api, key="kept-for-the-purge")
    clock.advance(timedelta(hours=23, minutes=59))
    assert register(api).json()["number"] == first.json()["number"]
    clock.advance(timedelta(minutes=2))  # 24 hours and a minute: the key names a new request now
    later = register(api)
    assert later.status_code == 201 and "Idempotent-Replayed" not in later.headers
    assert later.json()["number"] != first.json()["number"] and tickets(api) == 3
    assert jobs.purge_idempotency_keys(api.db) == 1 and keys(api) == 1  # KEY was taken over: it stays
    assert register(api).json()["number"] == later.json()["number"]


def _until_waiting(db, thread: threading.Thread) -> None:
    """Until ``thread``'s request waits for the first one: on PostgreSQL on a lock (the first's key,
    not yet committed), on SQLite for the single writer."""
    if db.dialect != "postgresql":
        time.sleep(0.5)
        return
    deadline = time.monotonic() + 10
    with db.engine.connect() as watch:
        while not watch.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"
            )
        ):
            assert time.monotonic() < deadline and thread.is_alive(), "the second request never waited"
            time.sleep(0.05)
            watch.rollback()


def test_two_requests_with_one_key_at_the_same_instant_register_one_ticket(api, night, monkeypatch):
    real, entered, release = lifecycle.register, [], threading.Event()
    inside = threading.Event()

    def held(*args: Any, **kwargs: Any) -> Ticket:
        """The first request stops before registering, its key taken but not committed."""
        entered.append(1)
        if len(entered) == 1:
            inside.set()
            release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(lifecycle, "register", held)
    answers: dict[str, Any] = {}

    def post(which: str) -> None:
        client = TestClient(api.client.app)  # a connection of its own
        answers[which] = client.post(
            f"{BASE}/tickets",
            json=leak(),
            headers={"Authorization": f"Bearer {api.tokens['agent']}", "Idempotency-Key": KEY},
        )

    first = threading.Thread(target=post, args=("first",))
    first.start()
    assert inside.wait(10)
    second = threading.Thread(target=post, args=("second",))
    second.start()
    try:
        _until_waiting(api.db, second)
    finally:
        release.set()
        first.join(20)
        second.join(20)
    a, b = answers["first"], answers["second"]
    assert a.status_code == b.status_code == 201, (a.text, b.text)
    assert "Idempotent-Replayed" not in a.headers and b.headers["Idempotent-Replayed"] == "true"
    assert a.content == b.content and tickets(api) == 1 and len(entered) == 1


# --- Open311 ---------------------------------------------------------------------------------


def submit(api, key: str | bytes | None = KEY, fmt: str = "json", **fields: str):
    form = {
        "api_key": api.tokens["agent"],
        "service_code": "0101",
        "description": LEAK,
        "address_string": "裴介镇 朱吕村",
        "phone": "13803590001",
        **fields,
    }
    headers = {} if key is None else {"Idempotency-Key": key}
    return api.client.post(f"{V2}/requests.{fmt}", data=form, headers=headers)


def test_open311_a_retried_request_is_registered_once(api, night):
    first = submit(api)
    assert first.status_code == 201, first.text
    again = submit(api)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.content == first.content and tickets(api) == 1
    # XML answers are replayed as they were sent too.
    xml = submit(api, key="xml-1", fmt="xml")
    assert xml.status_code == 201 and xml.headers["content-type"] == "text/xml; charset=utf-8"
    replay = submit(api, key="xml-1", fmt="xml")
    assert replay.content == xml.content and replay.headers["content-type"] == "text/xml; charset=utf-8"
    assert replay.headers["Idempotent-Replayed"] == "true" and tickets(api) == 2


def test_open311_a_key_reused_for_another_request_or_a_bad_key_gets_the_specifications_error(api, night):
    assert submit(api).status_code == 201
    for other in (
        submit(api, description="停水第二天了"),
        submit(api, fmt="xml"),
        api.as_("agent").post("/tickets", json=leak(), headers={"Idempotency-Key": KEY}),
    ):
        assert other.status_code in (400, 422), other.text
        assert "已于 2025-11-27 23:45:00 用于另一个请求" in other.text
    [error] = submit(api, description="停水第二天了").json()
    assert error["code"] == 400 and error["description"].startswith(f"请求头 Idempotency-Key「{KEY}」已于")
    [error] = submit(api, key="k" * 256).json()
    assert error["code"] == 400 and error["description"].startswith(
        "请求头 Idempotency-Key 无效：有 256 个字符"
    )
    assert tickets(api) == 1
