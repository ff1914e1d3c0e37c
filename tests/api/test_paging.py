"""Paging: the lists paged by limit/offset take page/per_page too, to the same rows; one style a
request."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hotline.analytics import rollups
from hotline.kit import clock
from tests.builders import register

CST = ZoneInfo("Asia/Shanghai")
SPAN = {"measure": "received", "first": "2026-01-12", "last": "2026-01-12"}


def test_page_and_per_page_answer_the_rows_limit_and_offset_do(api, session, people):
    clock.freeze(datetime(2026, 1, 12, 8, tzinfo=CST))
    for i in range(5):
        clock.advance(timedelta(minutes=10))
        register(session, people, caller_phone=f"1380359{i:04d}")
    clock.freeze(datetime(2026, 1, 13, 9, tzinfo=CST))
    rollups.rebuild(session)
    session.commit()
    sup = api.as_("supervisor")

    def numbers(**params) -> list[str]:
        r = sup.get("/analytics/tickets", params=SPAN | params)
        assert r.status_code == 200, r.text
        assert r.json()["total"] == 5
        return [t["number"] for t in r.json()["tickets"]]

    every = numbers()
    assert len(every) == 5
    assert numbers(page=2, per_page=2) == numbers(limit=2, offset=2) == every[2:4]
    assert numbers(page=3, per_page=2) == every[4:]
    assert numbers(page=1) == every  # per_page: limit's default
    assert numbers(per_page=3) == every[:3]  # page 1


@pytest.mark.parametrize(
    "path",
    ["/analytics/tickets?measure=received&", "/supervision-orders?", "/fieldwork/tasks?", "/callback-tasks?"],
)
def test_one_paging_style_a_request(api, path):
    r = api.as_("admin").get(path + "page=2&limit=10")
    assert r.status_code == 422, r.text
    assert (
        r.json()["error"]["code"] == "invalid_page"
        and "limit/offset 或 page/per_page" in r.json()["error"]["message"]
    )
    assert api.as_("admin").get(path + "page=2&per_page=10").status_code == 200
