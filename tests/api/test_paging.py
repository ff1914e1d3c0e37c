"""Paging: the lists paged by limit/offset take page/per_page too, to the same rows; one style a
request."""

from __future__ import annotations

from datetime import date, datetime, timedelta
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
    r = api.as_("admin").get(path + "page=2&per_page=10")
    assert r.status_code == 200
    # each says how many rows match in all: in the body, or (a bare array) in X-Total-Count
    assert (r.json()["total"] if isinstance(r.json(), dict) else int(r.headers["X-Total-Count"])) == 0


PAGING = {"limit", "offset", "page", "per_page"}


def test_every_limit_offset_list_takes_its_paging_from_the_one_dependency():
    """The four parameters are declared once (``paging.rows``), not by hand in each list, and each
    list still says its own most rows."""
    import importlib
    import pkgutil

    from fastapi.routing import APIRoute

    from hotline.api import open311, routes

    routers = [open311.router] + [importlib.import_module(f"hotline.api.routes.{m.name}").router
                                  for m in pkgutil.iter_modules(routes.__path__)]
    paged = {}
    for route in (r for router in routers for r in router.routes):
        if not isinstance(route, APIRoute) or "GET" not in route.methods:
            continue
        own = {p.name for p in route.dependant.query_params}
        shared = [d for d in route.dependant.dependencies if d.call.__qualname__.startswith("rows.")]
        assert "offset" not in own, f"{route.path} declares its paging by hand: {sorted(own & PAGING)}"
        if shared:
            (window,) = shared
            assert {p.name for p in window.query_params} == PAGING
            paged[route.path] = {p.name: p.field_info.metadata for p in window.query_params}
    assert {"/analytics/tickets", "/supervision-orders", "/fieldwork/tasks", "/callback-tasks"} <= set(paged)
    for params in paged.values():
        assert str(params["limit"]) == str(params["per_page"])  # per_page at most what limit is


def _incidents(session, n: int) -> list[int]:
    """``n`` incidents without tickets, the first two dismissed, the rest proposed."""
    from hotline.incidents.models import Incident, IncidentState

    now = clock.now()
    rows = [Incident(state=IncidentState.dismissed if i < 2 else IncidentState.proposed, category_code="0103",
                     title=f"停水 {i}", area_code="140828102", first_ticket_at=now - timedelta(hours=i + 1),
                     last_ticket_at=now - timedelta(hours=i), detected_at=now, updated_at=now) for i in range(n)]
    session.add_all(rows)
    session.flush()
    return [r.id for r in rows]


@pytest.mark.parametrize(("path", "params", "most"), [
    ("/incidents", {}, 200),
    ("/incidents", {"state": "dismissed"}, 200),
    ("/regions", {"parent": "140828"}, 2000),
    ("/units", {}, 2000),  # 372 units in the shipped directory
    ("/dispatch-rules", {}, 5000),  # 539 rules
])
def test_a_list_longer_than_its_limit_pages_and_says_its_total(api, session, people, path, params, most):
    """Lists that answered only their first rows page like the others (limit/offset or
    page/per_page) and say in X-Total-Count how many rows match; the body stays an array."""
    clock.freeze(datetime(2026, 1, 12, 8, tzinfo=CST))
    _incidents(session, 7)
    session.commit()
    sup = api.as_("supervisor")
    whole = sup.get(path, params=params | {"limit": most})
    assert whole.status_code == 200, whole.text
    every = [r.get("id", r.get("code")) for r in whole.json()]
    total = int(whole.headers["X-Total-Count"])
    assert total == len(every) >= 2 + ("state" not in params) * 3
    first = sup.get(path, params=params | {"limit": 1})
    assert [r.get("id", r.get("code")) for r in first.json()] == every[:1]
    assert int(first.headers["X-Total-Count"]) == total  # was: one row, and no way to the rest
    rest = sup.get(path, params=params | {"limit": most, "offset": 1}).json()
    assert [r.get("id", r.get("code")) for r in rest] == every[1:]
    paged = sup.get(path, params=params | {"page": 2, "per_page": 1}).json()
    assert [r.get("id", r.get("code")) for r in paged] == every[1:2]
    if "state" in params:
        assert {r["state"] for r in whole.json()} == {params["state"]}


def _jobs(session, people) -> None:
    """Seven job postings, the oldest two closed."""
    from hotline.employment import service as employment
    from hotline.employment.scope import EVERYWHERE
    from tests.employment.conftest import ZHULV

    for i in range(7):
        job = employment.add_job(session, EVERYWHERE, actor=None, employer=f"车间 {i}", region_code=ZHULV,
                                 title=f"手工编织 {i}", openings=5, pay="计件")
        if i < 2:
            employment.set_job_state(session, EVERYWHERE, job, state="closed")


def _activities(session, people) -> None:
    """Seven 帮扶台账 activities of 朱吕村's station, a day apart."""
    from hotline.employment import service as employment
    from hotline.employment.scope import EVERYWHERE
    from tests.employment.conftest import ZHULV

    for i in range(7):
        employment.add_activity(session, EVERYWHERE, actor=None, village_code=ZHULV, kind="ledger",
                                title=f"台账更新 {i}", on_day=date(2026, 1, 1 + i))


def _dead_messages(session, people) -> None:
    """Seven SMS the gateway refused until they were set aside (and one still pending)."""
    from hotline.notify.models import MessageState, OutboxMessage
    from hotline.notify.outbox import enqueue

    for i in range(8):
        m = enqueue(session, key=f"paging-{i}", channel="sms", recipient=f"+86138035900{i:02d}",
                    template_code="caller.receipt", context={"ticket_number": f"20260112-{i:06d}", "query_code": "1"})
        clock.advance(timedelta(minutes=1))
        session.flush()
        if i < 7:
            session.get(OutboxMessage, m.id).state = MessageState.dead


def _employment_user(api, session, people):
    from hotline.accounts.service import create_token
    from tests.api.conftest import Caller
    from tests.employment.conftest import make_staff

    staff = make_staff(session, people)
    token = create_token(session, username=staff.township.username, name="test")[1]
    session.commit()
    return Caller(api.client, token)


@pytest.mark.parametrize(("path", "params", "seed", "most", "total"), [
    ("/employment/jobs", {}, _jobs, 1000, 7),
    ("/employment/jobs", {"state": "closed"}, _jobs, 1000, 2),
    ("/employment/activities", {}, _activities, 2000, 7),
    ("/employment/activities", {"since": "2026-01-03"}, _activities, 2000, 5),
    ("/outbox", {}, _dead_messages, 1000, 7),
    ("/outbox", {"state": "pending"}, _dead_messages, 1000, 1),
])
def test_the_lists_that_answered_their_first_rows_page_and_say_their_total(api, session, people, path, params,
                                                                             seed, most, total):
    """Employment jobs and activities and the outbox page like the incidents and units lists, say
    in X-Total-Count how many rows match, and keep answering a bare array of the same rows."""
    clock.freeze(datetime(2026, 1, 12, 8, tzinfo=CST))
    caller = _employment_user(api, session, people) if path.startswith("/employment") else api.as_("admin")
    seed(session, people)
    session.commit()
    whole = caller.get(path, params=params | {"limit": most})
    assert whole.status_code == 200, whole.text
    every = [r["id"] for r in whole.json()]
    assert int(whole.headers["X-Total-Count"]) == len(every) == total
    assert [r["id"] for r in caller.get(path, params=params).json()] == every  # the default answers them all
    first = caller.get(path, params=params | {"limit": 1})
    assert [r["id"] for r in first.json()] == every[:1]
    assert int(first.headers["X-Total-Count"]) == total  # was: one row, and no way to the rest
    if total > 2:
        page1, page2 = (caller.get(path, params=params | {"page": n, "per_page": 2}) for n in (1, 2))
        assert [r["id"] for r in page1.json()] == every[:2] and [r["id"] for r in page2.json()] == every[2:4]
        assert int(page2.headers["X-Total-Count"]) == total
        assert [r["id"] for r in caller.get(path, params=params | {"limit": 3, "offset": 4}).json()] == every[4:7]
    assert caller.get(path, params=params | {"page": 2, "limit": 2}).status_code == 422  # one style a request
