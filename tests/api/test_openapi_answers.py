"""Every GET operation of the OpenAPI document, called on seeded data: each answer is checked
against /api/v1/openapi.json by the test client (``CheckedClient``: the status documented, the JSON
valid by its schema, no key the document leaves out), and each list answers rows, so the schemas of
their items are checked too. An operation added to the document without a call here fails."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hotline.accounts.models import Role
from hotline.accounts.service import add_user, create_token
from hotline.analytics import rollups
from hotline.analytics.hotspots import refresh_snapshots
from hotline.employment import service as employment
from hotline.employment.scope import EVERYWHERE
from hotline.kit import clock
from hotline.notify.delivery import deliver_due
from hotline.supervision.sweep import sweep_deadlines
from tests.analytics.test_rates import handled
from tests.api.conftest import Api, Caller
from tests.builders import register
from tests.employment.conftest import DALV, ZHULV, make_staff, make_worker
from tests.fieldwork.conftest import PEIJIE, SEASON
from tests.incidents.test_detect import _detected
from tests.knowledge.kb import article_id

CST = ZoneInfo("Asia/Shanghai")
# Answers whose lists may stay empty here: their item schemas are checked by other calls.
EMPTY_OK = {
    "/analytics/overview",  # best and worst units: a unit is ranked from five orders a month (rates has them)
    "/open311/v2/services/0101.json",
}  # attributes: always empty
V2 = "/open311/v2"


class Sent:
    def send(self, message: Any) -> None:
        pass


def _seed(api: Api, session: Any, people: Any) -> dict[str, Any]:
    """A little of everything, in the order of the calendar: January's tickets (hot spots, the
    assessment), June's outage burst (an incident) and labour ledger, September's field work, and a
    ticket under supervision now."""
    p, ids = people, {}
    clock.freeze(datetime(2026, 1, 12, 8, tzinfo=CST))
    for i, text in enumerate(
        [
            "朱吕村停水了，供水站闸阀井漏水，村里一天没水",
            "朱吕村又停水，闸阀井漏水严重，请派人修",
            "我们朱吕村停水两天了，供水闸阀井一直漏水",
            "朱吕村供水站闸阀井漏水导致全村停水",
        ]
    ):
        clock.advance(timedelta(minutes=20))
        register(session, p, content=text, caller_phone=f"1380359{i:04d}")
    clock.freeze(datetime(2026, 1, 12, 9, tzinfo=CST))
    ids["closed"] = handled(session, p, co=False).number
    ids["callback"] = handled(
        session, p, verdict=None
    ).number  # replied and accepted: waiting for its callback
    clock.freeze(datetime(2026, 1, 13, 9, tzinfo=CST))
    refresh_snapshots(session, clock.now())
    rollups.rebuild(session)
    session.commit()

    ids["incident"] = _detected(session, people).id
    session.commit()

    clock.freeze(datetime(2026, 6, 15, 10, 0))
    staff = make_staff(session, people)
    worker = make_worker(session, ZHULV, name="张麦环", employment_status="未就业")
    make_worker(session, DALV, name="李秀英", employment_status="稳定就业")
    make_worker(
        session, DALV, name="同镇", employment_status="未就业"
    )  # a candidate (张麦环 is recommended already)
    job = employment.add_job(
        session,
        EVERYWHERE,
        actor=None,
        employer="朱吕村扶贫车间",
        workshop=True,
        region_code=ZHULV,
        title="手工编织",
        openings=8,
        pay="计件",
    )
    employment.add_activity(
        session,
        EVERYWHERE,
        actor=None,
        village_code=ZHULV,
        kind="job_fair",
        title="家门口招聘会",
        participants=30,
        worker_ids=[worker.id],
    )
    employment.recommend(session, EVERYWHERE, job, worker, actor=None, note="有编织经验")
    session.commit()
    ids |= {"worker": worker.id, "job": job.id, "employment_user": staff.township.username}

    clock.freeze(SEASON)
    with api.db.transaction() as s:
        add_user(
            s, username="f-town", display_name="裴介镇干部", role=Role.handler, unit_code="xiaxian-peijie"
        )
        town = Caller(api.client, create_token(s, username="f-town", name="test")[1])
    op = town.post(
        "/fieldwork/operations",
        json={
            "name": "裴介镇秋季抢收抢种",
            "township_code": PEIJIE,
            "crops": "谷子",
            "start_date": "2026-10-01",
            "target_date": "2026-10-20",
        },
    ).json()
    task = town.post(
        f"/fieldwork/operations/{op['id']}/tasks",
        json={
            "village_code": ZHULV,
            "plot": "村东谷子地",
            "work_kind": "harvest",
            "area": 6,
            "due_date": "2026-10-08",
        },
    ).json()
    machine = town.post(
        "/fieldwork/machines",
        json={
            "township_code": PEIJIE,
            "kind": "harvester",
            "label": "GE80",
            "owner": "裴介农机合作社",
            "owner_kind": "cooperative",
            "village_code": ZHULV,
        },
    ).json()
    town.post(
        "/fieldwork/machines",
        json={
            "township_code": PEIJIE,
            "kind": "harvester",
            "label": "GE90",
            "owner": "张三",
            "village_code": ZHULV,
        },
    )
    town.post(
        "/fieldwork/volunteers", json={"township_code": PEIJIE, "name": "王志愿", "phone": "13903550001"}
    )
    town.post(
        "/fieldwork/buyers",
        json={"township_code": PEIJIE, "name": "裴介粮站", "crops": "谷子", "daily_tons": 30},
    )
    assert (
        town.post(f"/fieldwork/tasks/{task['id']}/assign", json={"machine_id": machine["id"]}).status_code
        == 200
    )
    assert (
        town.post(f"/fieldwork/tasks/{task['id']}/progress", json={"area": 2, "note": "开始收"}).status_code
        == 200
    )
    ids |= {"operation": op["id"], "task": task["id"], "town": town}

    clock.freeze(datetime(2026, 11, 26, 23, 45))  # a Thursday night
    t = api.as_("agent").register(urgency="normal")
    api.as_("dispatcher").do(t["id"], "dispatch")
    clock.advance(timedelta(hours=25))
    sweep_deadlines(api.db)
    supervisor = api.as_("supervisor")
    assert (
        supervisor.post(
            f"/tickets/{t['id']}/supervise", json={"note": "请今天内签收", "working_days": 2}
        ).status_code
        == 201
    )
    deliver_due(api.db, Sent(), worker="w")
    ids["ticket"] = t["number"]
    return ids


def _rows(body: Any) -> bool:
    """Whether an answer holds something: a non-empty list, or an object with one."""
    if isinstance(body, list):
        return bool(body)
    lists = [v for v in body.values() if isinstance(v, list)]
    return not lists or any(lists)


def test_every_get_operation_answers_as_the_document_says(api: Api, session, people, kb):
    ids = _seed(api, session, people)
    with api.db.transaction(write=False) as s:
        article = article_id(s, "sbk-lost")
    sup, admin, handler = api.as_("supervisor"), api.as_("admin"), api.as_("handler_a")
    with api.db.transaction() as s:
        employment_user = Caller(api.client, create_token(s, username=ids["employment_user"], name="test")[1])
        key = create_token(s, username=people.agent.username, name="city-app")[1]
    town: Caller = ids["town"]
    r = api.client.post(
        f"{V2}/requests.json",
        data={
            "api_key": key,
            "service_code": "0101",
            "description": "朱吕村停水了",
            "address_string": "夏县裴介镇朱吕村",
        },
    )
    assert r.status_code == 201, r.text
    open311_number = r.json()[0]["service_request_id"]
    number, month = ids["ticket"], {"first": "2026-01-01", "last": "2026-01-31"}
    incident = f"/incidents/{ids['incident']}"  # a call taken out, then every step: the detail's lists hold rows
    taken_out = sup.get(incident).json()["tickets"][0]["number"]
    for step, body in ((f"/tickets/{taken_out}/remove", None), ("/confirm", {}), ("/end", None), ("/reopen", None)):
        assert sup.post(incident + step, json=body).status_code == 200, step
    calls: list[tuple[Caller | None, str, dict[str, Any]]] = [
        (sup, "/me", {}),
        (sup, "/stats", {}),
        (sup, "/tickets", {}),
        (sup, f"/tickets/{number}", {}),
        (sup, f"/tickets/{number}/events", {}),
        (api.as_("dispatcher"), f"/tickets/{number}/suggested-units", {}),
        (sup, f"/tickets/{number}/alerts", {}),
        (sup, "/supervision-orders", {}),
        (sup, "/supervision/board", {}),
        (api.as_("agent"), "/callback-tasks", {}),
        (sup, "/regions", {"parent": "140828102"}),
        (sup, "/regions/140828102207", {}),
        (sup, "/units", {}),
        (sup, f"/units/{people.unit_a}", {}),
        (sup, "/categories", {}),
        (sup, "/time-limits", {}),
        (sup, "/dispatch-rules", {}),
        (sup, "/holidays", {"year": 2026}),
        (handler, "/inbox", {}),
        (admin, "/outbox", {"state": "sent"}),
        (admin, "/message-templates", {}),
        (sup, "/settings", {}),
        (admin, "/tokens", {}),
        (sup, "/incidents", {}),
        (sup, incident, {}),
        (sup, "/analytics/rates", month),
        (sup, "/analytics/rankings/2026/1", {}),
        (sup, "/analytics/tickets", month | {"measure": "received"}),
        (sup, "/analytics/dashboard", month),
        (sup, "/analytics/overview", {}),
        (sup, "/analytics/hotspots", {"period": "yesterday"}),
        (sup, "/analytics/hotspots", {"first": "2026-01-12", "last": "2026-01-12"}),
        (employment_user, "/employment/workers", {}),
        (employment_user, f"/employment/workers/{ids['worker']}", {}),
        (employment_user, "/employment/jobs", {}),
        (employment_user, f"/employment/jobs/{ids['job']}", {}),
        (employment_user, f"/employment/jobs/{ids['job']}/candidates", {}),
        (employment_user, "/employment/activities", {}),
        (employment_user, "/employment/villages", {"year": 2026}),
        (api.as_("agent"), "/knowledge", {"q": "社保卡丢了"}),
        (api.as_("agent"), f"/knowledge/{article}", {}),
        (town, "/fieldwork/operations", {}),
        (town, f"/fieldwork/operations/{ids['operation']}", {}),
        (town, "/fieldwork/tasks", {}),
        (town, f"/fieldwork/tasks/{ids['task']}", {}),
        (town, f"/fieldwork/tasks/{ids['task']}/suggestions", {}),
        (town, "/fieldwork/machines", {}),
        (town, "/fieldwork/volunteers", {}),
        (town, "/fieldwork/buyers", {}),
        (None, "/healthz", {}),
        (None, f"{V2}/discovery.json", {}),
        (None, f"{V2}/services.json", {}),
        (None, f"{V2}/services/0101.json", {}),
        (None, f"{V2}/requests.json", {"api_key": key}),
        (None, f"{V2}/requests/{open311_number}.json", {"api_key": key}),
    ]
    called, empty = set(), []
    for caller, path, params in calls:
        r = caller.get(path, params=params) if caller else api.client.get(path, params=params)
        assert r.status_code == 200, (
            path,
            r.status_code,
            r.text[:300],
        )  # and CheckedClient held it to the document
        found = api.client.document().operation("GET", r.request.url.path)
        assert found is not None, path
        called.add(found[0])
        if not _rows(r.json()) and path not in EMPTY_OK:
            empty.append(path)
    assert empty == [], empty
    detail = sup.get(incident).json()
    assert [t["number"] for t in detail["removed_tickets"]] == [taken_out]
    assert [e["action"] for e in detail["history"]] == ["removed", "confirmed", "ended", "reopened"]
    spec = api.client.document().spec
    assert {p for p, item in spec["paths"].items() if "get" in item} - called == set()
