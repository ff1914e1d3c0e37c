"""A database that stops answering is a 503 saying to try again (JSON for the API, a page for the
pages), and no error costs the client its keep-alive connection."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from hotline.accounts.service import create_token
from hotline.api import edge
from hotline.config import Settings
from hotline.kit.db import Database
from hotline.web import session as web_session
from hotline.web.app import create_site
from tests.web.conftest import Site

UNAVAILABLE = "数据库暂时不可用，请稍后重试"


class ServerGone(Exception):
    """What a driver says when the server went away under it."""

    def __str__(self) -> str:
        return "server closed the connection unexpectedly"


def lost(kind: type[DBAPIError] = OperationalError, *, invalidated: bool = False) -> DBAPIError:
    return kind("SELECT 1", {}, ServerGone(), connection_invalidated=invalidated)


def token(site: Site, persona: str = "agent") -> dict[str, str]:
    with site.db.transaction() as s:
        plain = create_token(s, username=getattr(site.people, persona).username, name="test")[1]
    return {"Authorization": f"Bearer {plain}"}


def fail_with(monkeypatch: pytest.MonkeyPatch, exc: Exception) -> None:
    """Every API call and every signed-in page meets ``exc`` when it reads who is asking."""

    def failing(*_args: object, **_kwargs: object) -> None:
        raise exc

    monkeypatch.setattr(edge, "authenticate_key", failing)
    monkeypatch.setattr(web_session, "current", failing)


@pytest.mark.parametrize(
    "exc",
    [lost(), lost(InterfaceError), lost(DBAPIError, invalidated=True)],
    ids=["operational", "interface", "invalidated"],
)
def test_a_lost_database_is_a_503_in_json_and_on_a_page_saying_to_try_again(site: Site, monkeypatch, exc):
    headers = token(site)
    signed, _ = site.signed_in("agent")
    fail_with(monkeypatch, exc)

    r = TestClient(site.app).get("/api/v1/tickets", headers=headers)
    assert r.status_code == 503 and r.headers["retry-after"] == "5"
    assert r.json() == {"error": {"code": "database_unavailable", "message": UNAVAILABLE, "details": {}}}

    r = signed.get("/tickets")
    assert r.status_code == 503 and r.headers["retry-after"] == "5"
    assert r.headers["content-type"].startswith("text/html")
    assert "服务暂时不可用" in r.text and UNAVAILABLE in r.text and "ServerGone" not in r.text


def test_other_database_errors_stay_a_500(site: Site, monkeypatch):
    headers = token(site)
    fail_with(monkeypatch, lost(DBAPIError))
    r = TestClient(site.app).get("/api/v1/tickets", headers=headers)
    assert r.status_code == 500 and r.json()["error"]["code"] == "internal_error"
    assert "retry-after" not in r.headers


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(site: Site) -> Iterator[int]:
    """The site under a real uvicorn (as `hotline serve` runs it), on a free port."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(site.app, host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield port
    server.should_exit = True
    thread.join(10)


def test_after_a_500_the_next_request_on_the_same_connection_is_answered(
    site: Site, served: int, monkeypatch
):
    """Starlette answered the 500 and raised on, and uvicorn closed the connection: a client's next
    request on it failed (RemoteDisconnected / ConnectionResetError)."""
    headers = token(site)
    cookie = site.signed_in("agent")[0].cookies
    fail_with(monkeypatch, RuntimeError("disk on fire"))
    conn = http.client.HTTPConnection("127.0.0.1", served, timeout=30)
    try:
        for path, kind in (("/api/v1/tickets", "application/json"), ("/tickets", "text/html")):
            conn.request(
                "GET", path, headers={**headers, "Cookie": "; ".join(f"{k}={v}" for k, v in cookie.items())}
            )
            r = conn.getresponse()
            body = r.read().decode()
            assert r.status == 500 and r.getheader("content-type").startswith(kind)
            assert "服务器内部错误" in body and "disk on fire" not in body
            conn.request("GET", "/healthz")  # the same connection
            r = conn.getresponse()
            assert r.status == 200 and r.read() == b'{"status":"ok"}'
    finally:
        conn.close()


def _terminate(db: Database, application: str) -> int:
    with db.transaction() as s:
        return len(
            s.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :a"),
                {"a": application},
            ).all()
        )


@pytest.mark.parametrize("db", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_when_postgresql_drops_the_connections_the_requests_after_it_are_answered(
    site: Site, tmp_path, monkeypatch
):
    """The connections of the site's pool are killed by the server (a restart, a failover,
    pg_terminate_backend): a request that was using one gets the 503, the next ones are served on
    fresh connections (``pool_pre_ping`` replaces a dead pooled connection before it is used)."""
    own = Database(site.db.url, connect_args={"application_name": "hotline-outage-test"})
    try:
        app = create_site(Settings(data_dir=tmp_path, database_url=own.url), database=own)
        client, headers = TestClient(app), token(site)
        assert client.get("/api/v1/tickets", headers=headers).status_code == 200
        assert _terminate(site.db, "hotline-outage-test") >= 1  # the idle connections in the pool
        r = client.get("/api/v1/tickets", headers=headers)
        assert r.status_code == 200, r.text

        real = edge.authenticate_key

        def killed_under_the_request(session, plain):  # the server ends this very connection
            session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
            return real(session, plain)

        monkeypatch.setattr(edge, "authenticate_key", killed_under_the_request)
        r = client.get("/api/v1/tickets", headers=headers)
        assert r.status_code == 503 and r.json()["error"]["message"] == UNAVAILABLE, r.text
        monkeypatch.setattr(edge, "authenticate_key", real)
        assert client.get("/api/v1/tickets", headers=headers).status_code == 200
    finally:
        own.dispose()
