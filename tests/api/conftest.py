"""An HTTP client over the real app, and one bearer token per persona.

``api.as_("handler_a").post(...)`` calls the API the way that person's program would; the app runs
on the test's database (SQLite and PostgreSQL, through the ``db`` fixture).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from hotline.accounts.service import create_token
from hotline.api.app import create_app
from hotline.config import Settings
from hotline.kit import clock
from hotline.kit.db import Database
from tests.api.openapi_check import Document
from tests.builders import LEAK, ZHULV, Personas

PERSONAS = ("agent", "dispatcher", "handler_a", "handler_a_co", "handler_b", "supervisor", "admin")
BASE = "/api/v1"
# A Thursday night in a year the holiday table covers: the leak is reported at 23:40 local time.
NIGHT = datetime(2025, 11, 27, 23, 45)
# The personas' units (see tests/builders.py): the catalogue sends the 朱吕村 leak to A with A_CO.
UNIT_A, UNIT_A_CO, UNIT_B = "夏县水利局", "夏县朱吕集中供水站", "夏县住房和城乡建设局"


def leak(**overrides: Any) -> dict[str, Any]:
    """The 朱吕村 valve-well leak, as the agent types it."""
    body: dict[str, Any] = {
        "channel": "phone", "kind": "help", "category_code": "0103", "urgency": "urgent",
        "region_code": ZHULV, "content": LEAK, "caller_name": "张先生", "caller_phone": "13803590001",
        "address": "夏县裴介镇朱吕村村东供水站闸阀井",
    }
    body.update(overrides)
    return body


class Caller:
    """One persona's HTTP client: every request carries their token."""

    def __init__(self, client: TestClient, token: str | None):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def request(self, method: str, path: str, **kwargs: Any) -> Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.request(method, BASE + path, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Response:
        return self.request("POST", path, **kwargs)

    def register(self, **overrides: Any) -> dict[str, Any]:
        r = self.post("/tickets", json=leak(**overrides))
        assert r.status_code == 201, r.text
        return r.json()

    def act(self, key: int | str, action: str, **body: Any) -> Response:
        return self.post(f"/tickets/{key}/{action}", json=body)

    def do(self, key: int | str, action: str, **body: Any) -> dict[str, Any]:
        """An action that must succeed; returns the ticket after it (the event is in ``last_event``)."""
        r = self.act(key, action, **body)
        assert r.status_code == 200, f"{action}: {r.status_code} {r.text}"
        out = r.json()
        self.last_event = out["event"]
        return out["ticket"]

    def ticket(self, key: int | str) -> dict[str, Any]:
        r = self.get(f"/tickets/{key}")
        assert r.status_code == 200, r.text
        return r.json()

    def events(self, key: int | str) -> list[dict[str, Any]]:
        r = self.get(f"/tickets/{key}/events")
        assert r.status_code == 200, r.text
        return r.json()

    def numbers(self, **params: Any) -> list[str]:
        """The ticket numbers a list query returns (one page of up to 200)."""
        r = self.get("/tickets", params={"per_page": 200, **params})
        assert r.status_code == 200, r.text
        return [t["number"] for t in r.json()["items"]]


_document: list[Document] = []


class CheckedClient(TestClient):
    """A test client that holds every answer to the OpenAPI document: its status is one the
    operation documents, its media type too, and its JSON body (success or error) is valid by that
    status's schema, with no key the document leaves out. Addresses the document does not have are
    not checked."""

    def request(self, method: str, url: Any, **kwargs: Any) -> Response:  # type: ignore[override]
        response = super().request(method, url, **kwargs)
        path, kind = response.request.url.path, response.headers.get("content-type", "")
        if not path.endswith("/openapi.json"):
            body = response.json() if kind.startswith("application/json") else None
            problems = self.document().check(response.request.method, path, response.status_code, kind, body)
            assert problems == [], "the answer differs from /api/v1/openapi.json:\n" + "\n".join(problems[:10])
        return response

    def document(self) -> Document:
        """Read once: every app the tests make has the same document."""
        if not _document:
            _document.append(Document(self.get(BASE + "/openapi.json").json()))
        return _document[0]


@dataclass
class Api:
    client: TestClient
    people: Personas
    db: Database
    tokens: dict[str, str] = field(default_factory=dict)

    def as_(self, persona: str) -> Caller:
        return Caller(self.client, self.tokens[persona])

    @property
    def anonymous(self) -> Caller:
        return Caller(self.client, None)


@pytest.fixture
def api(db: Database, people: Personas, tmp_path) -> Api:
    app = create_app(Settings(data_dir=tmp_path, database_url=db.url), database=db)
    with db.transaction() as s:
        tokens = {name: create_token(s, username=getattr(people, name).username, name="test")[1] for name in PERSONAS}
    return Api(CheckedClient(app), people, db, tokens)


@pytest.fixture
def night() -> datetime:
    """The clock stands at 23:45 on a weekday night (tests move it on with ``clock.advance``)."""
    clock.freeze(NIGHT)
    return NIGHT


@pytest.fixture
def kb(db: Database) -> Iterator[Database]:
    """The shipped knowledge articles and no others (emptied again afterwards, as tests/knowledge does)."""
    from tests.knowledge.kb import reset_knowledge

    reset_knowledge(db)
    yield db
    reset_knowledge(db, seed=False)
