"""The portal's per-network limits hold across web processes: they are counted in the database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from hotline.config import Settings
from hotline.kit import clock, ratelimit
from hotline.kit.db import Database
from hotline.web.app import create_site
from hotline.web.routes import portal
from hotline.worker import jobs
from tests.web.conftest import csrf_of
from tests.web.test_portal import _fields, _form, _recover


@pytest.fixture
def second_process(site, tmp_path) -> Iterator[TestClient]:
    """Another web process on the same database: an app of its own, with a database object (engine,
    pool) of its own, as a second uvicorn worker has."""
    other = Database(site.db.url)
    app = create_site(Settings(data_dir=tmp_path / "other", database_url=site.db.url), database=other)
    yield TestClient(app, follow_redirects=False)
    other.dispose()


def test_submissions_from_one_network_count_in_every_web_process(site, second_process):
    one, two = site.browser(), second_process
    csrf_one, csrf_two = _form(one), _form(two)
    for i in range(portal.IP_LIMIT):
        client, csrf = (one, csrf_one) if i % 2 else (two, csrf_two)
        assert client.post("/portal/submit", data=_fields(csrf, caller_phone=f"1390359100{i}")).status_code == 303
    for client, csrf in ((one, csrf_one), (two, csrf_two)):
        r = client.post("/portal/submit", data=_fields(csrf, caller_phone="13903591009"))
        assert r.status_code == 429 and "本网络提交过于频繁（每小时最多 5 件）" in r.text


def test_recovery_requests_from_one_network_count_in_every_web_process(site, second_process):
    one, two = site.browser(), second_process
    for i in range(portal.RECOVER_LIMIT):
        assert _recover(one if i < 3 else two, f"1390359200{i}").status_code == 200
    for client in (one, two):
        refused = _recover(client, "13903592009")
        assert refused.status_code == 429 and "本网络找回查询码过于频繁" in refused.text


def test_wrong_track_attempts_count_in_every_web_process_and_a_restart_forgets_none(site, second_process):
    one = site.browser()
    csrf = csrf_of(one.get("/portal/track").text)
    for _ in range(portal.TRACK_FAIL_LIMIT):
        assert one.post("/portal/track", data={"csrf": csrf, "number": "X", "code": "123456"}).status_code == 404
    two = second_process  # also: the first process restarted
    csrf = csrf_of(two.get("/portal/track").text)
    r = two.post("/portal/track", data={"csrf": csrf, "number": "X", "code": "123456"})
    assert r.status_code == 429 and "查询失败次数过多" in r.text


def test_a_window_passes_and_the_worker_removes_hits_older_than_a_day(site):
    client = site.browser()
    csrf = _form(client)
    clock.freeze(clock.now())
    for i in range(portal.IP_LIMIT):
        assert client.post("/portal/submit", data=_fields(csrf, caller_phone=f"1390359300{i}")).status_code == 303
    assert client.post("/portal/submit", data=_fields(csrf, caller_phone="13903593009")).status_code == 429
    clock.advance(timedelta(hours=1, seconds=1))
    assert client.post("/portal/submit", data=_fields(csrf, caller_phone="13903593009")).status_code == 303
    with site.db.transaction(write=False) as s:
        assert ratelimit.count(s, ratelimit.Limit(portal.SUBMIT.bucket, 99, timedelta(days=2)), "testclient") == 6
    clock.advance(timedelta(hours=23))
    assert jobs.purge_rate_limit_hits(site.db) == 5  # the sixth is not a day old yet
