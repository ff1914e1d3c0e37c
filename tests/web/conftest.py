"""The site (API + pages) over the test database, and signing in as a persona."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from hotline.accounts.models import User
from hotline.accounts.service import hash_password
from hotline.config import Settings
from hotline.kit.db import Database
from hotline.web.app import create_site
from tests.builders import Personas

PASSWORD = "correct horse 12345"


@dataclass
class Site:
    db: Database
    people: Personas
    app: object

    def browser(self) -> TestClient:
        """A fresh client: its own cookie jar, like a separate browser."""
        return TestClient(self.app, follow_redirects=False)

    def signed_in(self, persona: str) -> tuple[TestClient, str]:
        """A client signed in as ``persona`` and the CSRF token of its session."""
        client = self.browser()
        r = client.post("/login", data={"username": getattr(self.people, persona).username, "password": PASSWORD})
        assert r.status_code == 303, r.text
        return client, csrf_of(client.get("/tickets").text)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


@pytest.fixture
def site(db: Database, people: Personas, tmp_path) -> Site:
    with db.transaction() as s:
        s.execute(update(User).values(password_hash=hash_password(PASSWORD)))
    return Site(db, people, create_site(Settings(data_dir=tmp_path, database_url=db.url), database=db))
