"""Who sees what through the API, and the list filters as a user would use them."""

from __future__ import annotations

from datetime import datetime, timedelta

from hotline.kit import clock
from tests.api.conftest import Api, leak


def _dispatched_to_a(api: Api, **overrides) -> dict:
    t = api.as_("agent").register(**overrides)
    return api.as_("dispatcher").do(t["id"], "dispatch", lead_unit_id=api.people.unit_a,
                                    co_unit_ids=[api.people.unit_a_co])


def test_another_unit_cannot_see_or_touch_the_ticket(api: Api):
    t = _dispatched_to_a(api)
    other = api.as_("handler_b")
    assert t["number"] not in other.numbers()
    assert other.get("/tickets", params={"q": t["number"]}).json()["total"] == 0
    for path in (f"/tickets/{t['id']}", f"/tickets/{t['number']}", f"/tickets/{t['id']}/events",
                 f"/tickets/{t['id']}/suggested-units"):
        r = other.get(path)
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", path
    for action, body in (("accept", {}), ("contact", {"note": "x"}), ("request-return", {"reason": "不归我们管"})):
        assert other.act(t["id"], action, **body).status_code == 404
    # Nothing leaked into the other unit's counts either.
    assert other.get("/stats").json()["total"] == 0

    unit_a = api.as_("handler_a")
    assert t["number"] in unit_a.numbers()
    assert unit_a.ticket(t["number"])["id"] == t["id"]
    assert unit_a.do(t["id"], "accept")["status"] == "accepted"
    assert unit_a.get("/stats").json()["total"] == 1


def test_co_handler_sees_the_ticket_but_cannot_act_as_lead(api: Api):
    t = _dispatched_to_a(api)
    co = api.as_("handler_a_co")
    assert t["number"] in co.numbers()
    assert co.ticket(t["id"])["lead_unit"]["id"] == api.people.unit_a
    assert [e["action"] for e in co.events(t["id"])] == ["register", "dispatch"]
    api.as_("handler_a").do(t["id"], "accept")
    r = co.act(t["id"], "contact", note="联系了")
    assert r.status_code == 403 and "协办" in r.json()["error"]["message"]


def test_confidential_caller_is_hidden_from_units_only(api: Api):
    t = _dispatched_to_a(api, caller_name="王某", caller_phone="13903590099", caller_confidential=True,
                         kind="report", category_code="0603", content="村里有人往河道偷排污水，请为我保密")
    hidden = {"name": None, "phone": None, "confidential": True, "anonymous": False, "visible": False}
    unit_a = api.as_("handler_a")
    detail = unit_a.ticket(t["id"])
    assert detail["caller"] == hidden and detail["query_code"] is None
    assert "13903590099" not in unit_a.get(f"/tickets/{t['id']}").text
    listed = next(i for i in unit_a.get("/tickets").json()["items"] if i["id"] == t["id"])
    assert listed["caller"] == hidden
    assert "王某" not in unit_a.get(f"/tickets/{t['id']}/events").text

    for staff in ("agent", "dispatcher", "supervisor"):
        caller = api.as_(staff).ticket(t["id"])["caller"]
        assert (caller["name"], caller["phone"], caller["visible"]) == ("王某", "13903590099", True), staff


def test_supervisor_sees_everything_but_cannot_dispatch(api: Api):
    a = _dispatched_to_a(api)
    waiting = api.as_("agent").register(category_code="0401", kind="complaint", urgency="normal",
                                        content="小区物业不作为，电梯坏了一个月没人修")
    boss = api.as_("supervisor")
    assert set(boss.numbers()) == {a["number"], waiting["number"]}
    assert boss.ticket(a["id"])["status"] == "dispatched"
    assert len(boss.events(a["id"])) == 2
    r = boss.act(waiting["id"], "dispatch", lead_unit_id=api.people.unit_b)
    assert r.status_code == 403 and r.json()["error"]["code"] == "permission_denied"
    assert "派单" in r.json()["error"]["message"]
    r = boss.post("/tickets", json=leak())
    assert r.status_code == 403 and "受理" in r.json()["error"]["message"]
    assert boss.ticket(waiting["id"])["status"] == "registered"


def test_list_filters(api: Api, night: datetime):
    agent, dispatcher = api.as_("agent"), api.as_("dispatcher")
    # Yesterday morning: a consultation answered on the spot (closed, so never overdue).
    fee = agent.register(kind="consultation", category_code="0104", urgency="normal", region_code="140828102206",
                         content="四辛庄村水费怎么交", address=None, received_at="2025-11-26T10:00:00")
    agent.do(fee["id"], "answer", answer="到供水站营业厅缴纳")
    # Tonight: the 朱吕村 leak (dispatched to unit A) and a noise complaint in 盐湖区 (waiting).
    leak = _dispatched_to_a(api)
    noise = agent.register(kind="complaint", category_code="0601", urgency="normal", region_code="140802001",
                           content="中城街道某KTV深夜噪音扰民", address="运城市盐湖区中城街道")

    def found(**params) -> set[str]:
        return set(dispatcher.numbers(**params))

    L, N, F = leak["number"], noise["number"], fee["number"]
    assert found() == {L, N, F}
    assert found(status="dispatched") == {L}
    assert found(status=["registered", "closed"]) == {N, F}
    assert found(status="registered,dispatched") == {L, N}
    assert found(unit_id=api.people.unit_a) == {L}
    assert found(unit_id=api.people.unit_b) == set()
    assert found(region_code="140828") == {L, F}  # 夏县 and everything in it
    assert found(region_code="140828102207") == {L}
    assert found(region_code="1408") == {L, N, F}
    assert found(category_code="01") == {L, F}
    assert found(category_code="06") == {N}
    assert found(kind="complaint") == {N}
    assert found(urgency="urgent") == {L}
    assert found(q="闸阀井") == {L}
    assert found(q="噪音 中城") == {N}
    assert found(q="朱吕 水费") == set()
    assert found(q=F) == {F}
    assert found(received_from="2025-11-27") == {L, N}
    assert found(received_to="2025-11-26") == {F}  # a date is the whole day
    assert found(received_from="2025-11-26", received_to="2025-11-26") == {F}
    assert found(received_from="2025-11-26T09:00:00+08:00", received_to="2025-11-26T10:00:00+08:00") == set()

    # Nothing is late at 23:45; three hours later unit A has not accepted the urgent leak.
    assert found(overdue="true") == set()
    assert found(overdue="false") == {L, N, F}
    clock.freeze(night + timedelta(hours=3))
    assert found(overdue="true") == {L}
    assert found(overdue="false") == {N, F}
    late = next(i for i in dispatcher.get("/tickets", params={"overdue": "true"}).json()["items"])
    assert "accept" in late["overdue_stages"]
    assert dispatcher.get("/stats").json()["overdue_by_stage"]["accept"] == 1

    # Newest first, two to a page.
    first = dispatcher.get("/tickets", params={"per_page": 2}).json()
    second = dispatcher.get("/tickets", params={"per_page": 2, "page": 2}).json()
    assert (first["total"], first["page"], first["per_page"], second["total"]) == (3, 1, 2, 3)
    assert [i["number"] for i in first["items"] + second["items"]] == [N, L, F]
    assert dispatcher.get("/tickets", params={"per_page": 2, "page": 3}).json()["items"] == []

    # Filters never widen a unit's scope.
    unit_b = api.as_("handler_b")
    assert set(unit_b.numbers(unit_id=api.people.unit_a)) == set()
    assert set(api.as_("handler_a").numbers(region_code="1408")) == {L}


def test_status_open_lists_every_ticket_not_yet_finished(api: Api):
    kept = _dispatched_to_a(api)
    fresh = api.as_("agent").register()
    refused = api.as_("agent").register()
    assert api.as_("agent").do(refused["id"], "refuse", reason="不属于热线受理范围")["status"] == "refused"
    listed = api.as_("supervisor").get("/tickets", params={"status": "open"}).json()
    assert listed["total"] == 2 and {t["id"] for t in listed["items"]} == {kept["id"], fresh["id"]}
