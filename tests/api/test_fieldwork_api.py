"""The field work API: a coordinator's program runs an operation; villages report; others are refused."""

from __future__ import annotations

import pytest

from hotline.accounts.models import Role
from hotline.accounts.service import add_user, create_token
from tests.api.conftest import Caller
from tests.fieldwork.conftest import DALV, PEIJIE, XIANDI, ZHULV, blind_once, in_season  # noqa: F401 (in_season: a fixture)

pytestmark = pytest.mark.usefixtures("in_season")


@pytest.fixture
def field(api):
    with api.db.transaction() as s:
        for name, unit in (("a-town", "xiaxian-peijie"), ("a-village", "xiaxian-peijie-zhulv"), ("a-xiandi", "yaodu-xiandi")):
            add_user(s, username=name, display_name=name, role=Role.handler, unit_code=unit)
        tokens = {n: create_token(s, username=n, name="test")[1] for n in ("a-town", "a-village", "a-xiandi")}
    return {n: Caller(api.client, t) for n, t in tokens.items()}


def _op(town: Caller) -> dict:
    r = town.post("/fieldwork/operations", json={"name": "裴介镇秋季抢收抢种", "township_code": PEIJIE, "crops": "谷子",
                                                 "start_date": "2026-10-01", "target_date": "2026-10-20"})
    assert r.status_code == 201, r.text
    return r.json()


def _task(town: Caller, op_id: int, **kw) -> dict:
    body = {"village_code": ZHULV, "plot": "村东谷子地", "work_kind": "harvest", "area": 6, "due_date": "2026-10-08"}
    body.update(kw)
    r = town.post(f"/fieldwork/operations/{op_id}/tasks", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_a_coordinators_program_runs_a_task_through(api, field):
    town, village = field["a-town"], field["a-village"]
    op = _op(town)
    t = _task(town, op["id"])
    assert t["state"] == "pending" and t["village"] == {"code": ZHULV, "name": "朱吕村"}
    m = town.post("/fieldwork/machines", json={"township_code": PEIJIE, "kind": "harvester", "label": "GE80",
                                               "owner": "裴介农机合作社", "owner_kind": "cooperative",
                                               "village_code": ZHULV}).json()
    sugg = town.get(f"/fieldwork/tasks/{t['id']}/suggestions").json()
    assert [x["id"] for x in sugg["machines"]] == [m["id"]]
    r = town.post(f"/fieldwork/tasks/{t['id']}/assign", json={"machine_id": m["id"]})
    assert r.status_code == 200 and r.json()["state"] == "scheduled" and r.json()["machines"][0]["id"] == m["id"]
    other = _task(town, op["id"], village_code=DALV)
    r = town.post(f"/fieldwork/tasks/{other['id']}/assign", json={"machine_id": m["id"]})
    assert r.status_code == 409 and r.json()["error"]["code"] == "resource_busy"
    assert "正在任务" in r.json()["error"]["message"]
    r = village.post(f"/fieldwork/tasks/{t['id']}/progress", json={"area": 7})
    assert r.status_code == 422 and r.json()["error"]["code"] == "area_exceeded"
    r = village.post(f"/fieldwork/tasks/{t['id']}/progress", json={"area": 6, "note": "收完了"})
    assert r.status_code == 200 and r.json()["area_done"] == 6 and r.json()["state"] == "working"
    assert village.post(f"/fieldwork/tasks/{t['id']}/complete", json={}).status_code == 403
    r = town.post(f"/fieldwork/tasks/{t['id']}/complete", json={})
    assert r.status_code == 200 and r.json()["state"] == "done" and r.json()["machines"] == []
    assert [e["action"] for e in r.json()["events"]][-2:] == ["complete", "release"]
    assert town.get("/fieldwork/machines", params={"state": "available"}).json()[0]["id"] == m["id"]
    board = town.get(f"/fieldwork/operations/{op['id']}").json()["dashboard"]
    assert board["area_done"] == 6 and board["machines"]["available"] == 1


def test_scope_and_refusals(api, field):
    town, village, xiandi = field["a-town"], field["a-village"], field["a-xiandi"]
    op = _op(town)
    _task(town, op["id"], plot="朱吕"), _task(town, op["id"], village_code=DALV, plot="大吕")
    assert [t["plot"] for t in village.get("/fieldwork/tasks").json()["items"]] == ["朱吕"]
    assert xiandi.get("/fieldwork/tasks").json() == {"total": 0, "items": []}
    assert xiandi.get(f"/fieldwork/operations/{op['id']}").status_code == 404
    r = xiandi.post(f"/fieldwork/operations/{op['id']}/tasks", json={"village_code": ZHULV, "plot": "x", "area": 1,
                                                                     "due_date": "2026-10-08"})
    assert r.status_code == 404
    r = api.as_("handler_b").get("/fieldwork/tasks")
    assert r.status_code == 403 and r.json()["error"]["code"] == "fieldwork_forbidden"
    assert village.get("/fieldwork/machines").status_code == 403
    r = town.post("/fieldwork/operations", json={"name": "x", "township_code": XIANDI, "crops": "谷子",
                                                 "start_date": "2026-10-01", "target_date": "2026-10-20"})
    assert r.status_code == 403
    assert api.as_("supervisor").get("/fieldwork/tasks").json()["total"] == 2
    assert town.get("/fieldwork/tasks/99999999999").status_code in (404, 422)
    r = town.post(f"/fieldwork/operations/{op['id']}/tasks", json={"village_code": ZHULV, "plot": "x",
                                                                   "work_kind": "harvest", "due_date": "2026-10-08"})
    assert r.status_code == 422 and "面积" in r.json()["error"]["message"]


def test_a_task_made_from_a_ticket_by_api(api, field):
    op = _op(field["a-town"])
    ticket = api.as_("agent").register(content="朱吕村谷子地被淹，请求帮助抢收。")
    sup = api.as_("supervisor")
    r = sup.post(f"/fieldwork/operations/{op['id']}/tasks", json={"ticket": ticket["number"], "area": 5})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["due_date"] == "2026-10-20"  # no day given: the operation's target day
    assert body["ticket_id"] == ticket["id"] and body["ticket_number"] == ticket["number"]
    assert body["village"]["code"] == ZHULV and body["farmer_name"] == "张先生"
    again = sup.post(f"/fieldwork/operations/{op['id']}/tasks", json={"ticket": ticket["number"], "area": 5,
                                                                      "due_date": "2026-10-06"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "ticket_has_task"


def test_the_endpoints_are_documented(api):
    spec = api.client.get("/api/v1/openapi.json").json()
    paths = [p for p in spec["paths"] if p.startswith("/api/v1/fieldwork/")]
    assert "/api/v1/fieldwork/tasks/{task_id}/assign" in paths and "/api/v1/fieldwork/operations" in paths
    assert all(op.get("tags") == ["fieldwork"] for p in paths for op in spec["paths"][p].values())


def test_a_task_priority_is_1_to_3_as_documented(api, field):
    town = field["a-town"]
    op = _op(town)
    body = {"village_code": ZHULV, "plot": "村东谷子地", "work_kind": "harvest", "area": 6, "due_date": "2026-10-08"}
    for wrong in (0, 4):
        r = town.post(f"/fieldwork/operations/{op['id']}/tasks", json=body | {"priority": wrong})
        assert r.status_code == 422, r.text
        assert "优先级须为 1（一般）、2（紧急）或 3（特急）" in r.json()["error"]["message"]
    assert town.get("/fieldwork/tasks").json()["total"] == 0
    assert [_task(town, op["id"], priority=p)["priority"] for p in (1, 2, 3)] == [1, 2, 3]


def test_a_coordinator_moves_the_target_day_by_api(api, field):
    town, village = field["a-town"], field["a-village"]
    op = _op(town)
    _task(town, op["id"], due_date="2026-10-18")
    r = town.post(f"/fieldwork/operations/{op['id']}/target", json={"target_date": "2026-10-31"})
    assert r.status_code == 200 and r.json()["target_date"] == "2026-10-31"
    assert _task(town, op["id"], due_date="2026-10-30")["due_date"] == "2026-10-30"
    r = town.post(f"/fieldwork/operations/{op['id']}/target", json={"target_date": "2026-10-25"})
    assert r.status_code == 422 and "2026-10-30" in r.json()["error"]["message"]
    assert village.post(f"/fieldwork/operations/{op['id']}/target", json={"target_date": "2026-11-05"}).status_code == 403


def test_a_twin_saved_by_another_program_at_the_same_instant_is_409_in_the_checks_words(api, field, monkeypatch):
    """The unique index refuses a row the check could not yet see (another request not yet
    committed): 409 with the check's code and words, not 「数据冲突，操作未保存」."""
    town = field["a-town"]
    body = {"township_code": PEIJIE, "kind": "harvester", "label": "GE80", "owner": "裴介农机合作社",
            "owner_kind": "cooperative", "phone": "13903590001"}
    first = town.post("/fieldwork/machines", json=body).json()["id"]
    blind_once(monkeypatch, "_same_machine")
    r = town.post("/fieldwork/machines", json={**body, "label": "ge80"})
    assert r.status_code == 409, r.text
    assert r.json()["error"] == {"code": "machine_exists", "details": {"machine_id": first},
                                 "message": f"本镇已登记这台农机：#{first} 收割机「GE80」裴介农机合作社（可调派），无须重复登记"}
    op = _op(town)
    blind_once(monkeypatch, "_open_named")
    r = town.post("/fieldwork/operations", json={"name": "裴介镇秋季抢收抢种", "township_code": PEIJIE, "crops": "谷子",
                                                 "start_date": "2026-10-02", "target_date": "2026-10-20"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "operation_exists"
    assert r.json()["error"]["message"].startswith(f"裴介镇已有进行中的行动「裴介镇秋季抢收抢种」（#{op['id']}，")
    assert len(town.get("/fieldwork/machines").json()) == 1 and len(town.get("/fieldwork/operations").json()) == 1


def test_a_program_corrects_a_task_a_machine_and_a_volunteer_by_patch(api, field):
    town, village = field["a-town"], field["a-village"]
    op = _op(town)
    t = _task(town, op["id"], area=9000)  # 90 亩 meant
    r = town.request("PATCH", f"/fieldwork/tasks/{t['id']}", json={"area": 100000})
    assert r.status_code == 422 and "一块地不能超过 10,000 亩" in r.json()["error"]["message"]
    r = town.request("PATCH", f"/fieldwork/tasks/{t['id']}", json={"area": 90, "farmer_phone": "13803595678"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["area"], body["farmer_phone"], body["plot"], body["due_date"]) == (90, "+8613803595678", "村东谷子地",
                                                                                    "2026-10-08")
    assert body["events"][-1]["action"] == "edit" and "面积：9000 亩 → 90 亩" in body["events"][-1]["note"]
    assert village.request("PATCH", f"/fieldwork/tasks/{t['id']}", json={"area": 80}).status_code == 403
    r = town.request("PATCH", f"/fieldwork/tasks/{t['id']}", json={"due_date": "2026-09-29"})
    assert r.status_code == 422 and "要求完成日期不能早于行动开始日期 2026-10-01" in r.json()["error"]["message"]

    m = town.post("/fieldwork/machines", json={"township_code": PEIJIE, "kind": "harvester", "label": "GE80",
                                               "owner": "裴介农机合作社", "phone": "13903590001"}).json()
    r = town.request("PATCH", f"/fieldwork/machines/{m['id']}", json={"phone": "13903590009"})
    assert r.status_code == 200 and r.json()["phone"] == "+8613903590009" and r.json()["label"] == "GE80"

    p = town.post("/fieldwork/volunteers", json={"township_code": PEIJIE, "name": "李墙", "phone": "13703590002"}).json()
    r = town.post("/fieldwork/volunteers", json={"township_code": PEIJIE, "name": "李墙", "phone": "13703590002"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "volunteer_exists"
    assert r.json()["error"]["message"].startswith(f"本镇已登记这位志愿者：#{p['id']} 李墙 13703590002")
    r = town.request("PATCH", f"/fieldwork/volunteers/{p['id']}", json={"name": "李强"})
    assert r.status_code == 200 and (r.json()["name"], r.json()["phone"]) == ("李强", "+8613703590002")
    assert town.get("/fieldwork/volunteers").json()[0]["name"] == "李强"
