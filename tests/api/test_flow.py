"""The whole loop through the JSON API, each step by the persona who does it in real life."""

from __future__ import annotations

from datetime import datetime, timedelta

from hotline.directory import settings as rules
from hotline.kit import clock
from tests.api.conftest import UNIT_A, UNIT_A_CO, UNIT_B, Api

MINUTES = timedelta(minutes=1)


def later(minutes: int) -> None:
    clock.advance(minutes * MINUTES)


def test_night_leak_goes_round_the_whole_loop(api: Api, night: datetime):
    agent, dispatcher = api.as_("agent"), api.as_("dispatcher")
    bureau, station = api.as_("handler_a"), api.as_("handler_a_co")

    # 23:40 a villager of 朱吕村 calls; the agent registers it five minutes later.
    t = agent.register(received_at="2025-11-27T23:40:00")
    key = t["id"]
    assert t["number"].startswith("20251127-")
    assert (t["status"], t["status_label"], t["urgency"]) == ("registered", "已受理", "urgent")
    assert t["region"]["code"] == "140828102207" and "朱吕" in t["region"]["name"]
    assert t["received_at"] == "2025-11-27T23:40:00+08:00"
    assert t["deadlines"]["dispatch"]["due_at"] == "2025-11-28T01:40:00+08:00"  # water: 2 hours
    assert t["caller"] == {"name": "张先生", "phone": "13803590001", "confidential": False, "anonymous": False,
                           "visible": True}

    suggestion = dispatcher.get(f"/tickets/{key}/suggested-units").json()
    assert suggestion["source"] == "catalogue"
    assert suggestion["lead_unit"]["name"] == UNIT_A
    assert [u["name"] for u in suggestion["co_units"]] == [UNIT_A_CO]

    # The dispatcher sends it on without choosing: the catalogue's lead and co-handler.
    later(10)
    t = dispatcher.do(key, "dispatch", version=t["version"])
    assert t["status"] == "dispatched" and t["status_label"] == "待签收"
    assert t["lead_unit"]["id"] == api.people.unit_a
    assert {(u["name"], u["role"], u["status"]) for u in t["units"]} == {
        (UNIT_A, "lead", "dispatched"), (UNIT_A_CO, "co", "dispatched")}
    assert t["deadlines"]["dispatch"]["state"] == "met"
    assert t["deadlines"]["accept"]["state"] == "running"

    later(15)
    t = bureau.do(key, "accept", version=t["version"])
    assert t["status"] == "accepted"
    t = station.do(key, "accept", version=t["version"])
    assert station.last_event["action"] == "accept_part"
    assert t["status"] == "accepted"  # a co-handler's acceptance does not move the ticket
    assert {u["role"]: u["status"] for u in t["units"]} == {"lead": "accepted", "co": "accepted"}

    later(5)
    t = bureau.do(key, "contact", note="已电话联系来电人，启动应急预案，抢修队正在赶往现场", version=t["version"])
    assert t["status"] == "in_progress" and t["deadlines"]["contact"]["state"] == "met"

    # The station reports its part of the repair; the bureau, which leads, replies for the ticket.
    later(600)
    t = station.do(key, "reply", text="夜间低峰停水，已更换闸阀井阀门", version=t["version"])
    assert station.last_event["action"] == "reply_part" and t["status"] == "in_progress"
    co = next(u for u in t["units"] if u["role"] == "co")
    assert (co["status"], co["reply_text"]) == ("replied", "夜间低峰停水，已更换闸阀井阀门")
    later(30)
    t = bureau.do(key, "reply", text="启动应急预案抢修，10小时修复，六村恢复供水", version=t["version"])
    assert t["status"] == "replied" and t["reply_text"] == "启动应急预案抢修，10小时修复，六村恢复供水"
    assert bureau.last_event["details"]["co_units_without_reply"] == []

    later(30)
    t = dispatcher.do(key, "accept-reply", version=t["version"])
    assert t["status"] == "callback_pending"
    later(60)
    t = agent.do(key, "callback", reached=True, resolved=True, satisfaction="satisfied", comment="水来了，谢谢",
                 version=t["version"])
    assert t["status"] == "callback_done"
    assert t["callback"]["satisfaction_label"] == "满意" and t["callback"]["resolved"] is True
    t = agent.do(key, "close", version=t["version"])
    assert (t["status"], t["close_reason"]) == ("closed", "callback") and t["closed_at"]

    events = agent.events(key)
    steps = [(e["action"], e["actor"], e["from_status"], e["to_status"]) for e in events]
    assert steps == [
        ("register", "t-agent", None, "registered"),
        ("dispatch", "t-dispatcher", "registered", "dispatched"),
        ("accept", "t-handler-a", "dispatched", "accepted"),
        ("accept_part", "t-handler-a-co", None, None),
        ("record_contact", "t-handler-a", "accepted", "in_progress"),
        ("reply_part", "t-handler-a-co", None, None),
        ("reply", "t-handler-a", "in_progress", "replied"),
        ("accept_reply", "t-dispatcher", "replied", "callback_pending"),
        ("record_callback", "t-agent", "callback_pending", "callback_done"),
        ("close", "t-agent", "callback_done", "closed"),
    ]
    assert [e["at"] for e in events] == sorted(e["at"] for e in events)
    assert events[0]["at"] == "2025-11-27T23:40:00+08:00"
    assert events[1]["details"]["lead_unit"] == UNIT_A
    assert events[3]["unit"]["name"] == UNIT_A_CO
    assert events[8]["details"] == {"resolved": True, "satisfaction": "satisfied"}

    t = dispatcher.do(key, "archive", version=t["version"])
    assert t["status"] == "archived" and t["archived_at"] and t["allowed_actions"] == []


def _working(api: Api, **overrides) -> dict:
    """A ticket dispatched to unit A (no co-handler), accepted and the caller contacted."""
    t = api.as_("agent").register(**overrides)
    api.as_("dispatcher").do(t["id"], "dispatch", lead_unit_id=api.people.unit_a, co_unit_ids=[])
    api.as_("handler_a").do(t["id"], "accept")
    return api.as_("handler_a").do(t["id"], "contact", note="已联系")


def test_returned_ticket_is_redispatched_to_another_unit(api: Api, night: datetime):
    unit_a, housing, dispatcher = api.as_("handler_a"), api.as_("handler_b"), api.as_("dispatcher")
    t = api.as_("agent").register(category_code="0402", kind="help", content="朱吕村一户老房墙体开裂，担心倒塌")
    dispatcher.do(t["id"], "dispatch", lead_unit_id=api.people.unit_a)
    unit_a.do(t["id"], "accept")

    t = unit_a.do(t["id"], "request-return", reason="房屋安全不属于水利部门职责，应由住建部门处理")
    assert t["status"] == "return_requested" and t["status_label"] == "退单待审"
    t = dispatcher.do(t["id"], "redispatch", lead_unit_id=api.people.unit_b, note="同意退单，改派住建局")
    assert t["status"] == "dispatched"
    assert t["lead_unit"]["name"] == UNIT_B
    assert t["dispatch_count"] == 2
    assert {(u["name"], u["status"]) for u in t["units"]} == {
        (UNIT_A, "withdrawn"), (UNIT_B, "dispatched")}

    assert unit_a.get(f"/tickets/{t['id']}").status_code == 404  # no longer unit A's
    t = housing.do(t["id"], "accept")
    assert t["status"] == "accepted"
    actions = [e["action"] for e in housing.events(t["id"])]
    assert actions == ["register", "dispatch", "accept", "request_return", "redispatch", "accept"]


def test_approved_extension_moves_the_reply_deadline_later(api: Api, night: datetime):
    unit_a, dispatcher = api.as_("handler_a"), api.as_("dispatcher")
    t = _working(api)
    before = datetime.fromisoformat(t["deadlines"]["reply"]["due_at"])

    t = unit_a.do(t["id"], "request-extension", amount=3, unit="working_days", reason="需采购专用阀门，三天到货")
    assert t["status"] == "in_progress"  # work goes on while the centre decides
    assert unit_a.last_event["action"] == "request_extension"
    t = dispatcher.do(t["id"], "approve-extension", note="同意")
    after = datetime.fromisoformat(t["deadlines"]["reply"]["due_at"])
    assert after > before + timedelta(days=3)
    assert t["extension_count"] == 1
    assert dispatcher.last_event["details"]["reply_due_at"]["to"] != dispatcher.last_event["details"]["reply_due_at"]["from"]
    # Only one request can be pending, and a decided one cannot be approved twice.
    r = dispatcher.act(t["id"], "approve-extension")
    assert r.status_code == 409 and r.json()["error"]["code"] == "transition_not_allowed"


def _replied_and_reviewed(api: Api) -> dict:
    t = _working(api)
    api.as_("handler_a").do(t["id"], "reply", text="已调整减压阀")
    return api.as_("dispatcher").do(t["id"], "accept-reply")


def test_dissatisfied_callback_reopens_to_the_same_unit(api: Api, night: datetime):
    unit_a, agent = api.as_("handler_a"), api.as_("agent")
    t = _replied_and_reviewed(api)
    t = agent.do(t["id"], "callback", reached=True, resolved=False, satisfaction="dissatisfied",
                 comment="水压还是很低，二楼上不去水")
    assert agent.last_event["action"] == "record_callback"
    assert agent.last_event["details"] == {"resolved": False, "satisfaction": "dissatisfied"}
    # The rule (callback.reopen_on_negative, on by default) sends it straight back to the same unit.
    assert t["status"] == "dispatched" and t["reopen_count"] == 1
    assert t["lead_unit"]["id"] == api.people.unit_a
    assert t["callback"]["satisfaction"] is None
    reopen = agent.events(t["id"])[-1]
    assert (reopen["action"], reopen["actor"], reopen["reason"]) == ("reopen", "系统", "水压还是很低，二楼上不去水")
    t = unit_a.do(t["id"], "accept")  # back with the same unit, which accepts again
    assert t["status"] == "accepted"


def test_without_automatic_reopening_the_centre_decides_after_a_bad_callback(api: Api, night: datetime):
    with api.db.transaction() as s:
        rules.set_value(s, "callback.reopen_on_negative", False)
    agent = api.as_("agent")
    t = _replied_and_reviewed(api)
    t = agent.do(t["id"], "callback", reached=True, resolved=False, satisfaction="dissatisfied",
                 comment="水压还是很低，二楼上不去水")
    assert t["status"] == "callback_done" and t["callback"]["satisfaction_label"] == "不满意"

    r = agent.act(t["id"], "close")  # closing a bad callback needs a stated reason
    assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "reason"

    t = agent.do(t["id"], "reopen", version=t["version"])
    assert t["status"] == "dispatched" and t["reopen_count"] == 1
    assert t["lead_unit"]["id"] == api.people.unit_a
    assert agent.last_event["reason"] == "水压还是很低，二楼上不去水"


def test_duplicate_is_merged_into_its_master(api: Api, night: datetime):
    agent = api.as_("agent")
    master = agent.register()
    api.as_("dispatcher").do(master["id"], "dispatch")
    later(20)
    dup = agent.register(caller_name="李女士", caller_phone="13903590002", content="朱吕村没水了，听说是阀门井坏了")

    dup = agent.do(dup["id"], "merge", master=master["number"], note="同一漏水点")
    assert dup["status"] == "merged" and dup["master_id"] == master["id"]
    m = agent.ticket(master["id"])
    assert m["merged_tickets"] == [{"id": dup["id"], "number": dup["number"], "title": dup["title"]}]
    assert m["status"] == "dispatched"
    assert any(e["action"] == "note" and dup["number"] in e["reason"] for e in agent.events(master["id"]))
    dup = api.as_("dispatcher").do(dup["id"], "archive")
    assert dup["status"] == "archived"


def test_answer_hand_off_and_refuse_close_at_intake_and_archive(api: Api, night: datetime):
    agent, dispatcher = api.as_("agent"), api.as_("dispatcher")

    t = agent.register(kind="consultation", category_code="0104", urgency="normal", content="请问水费怎么交？")
    t = agent.do(t["id"], "answer", answer="可到供水站营业厅或通过“夏县供水”公众号缴纳")
    assert (t["status"], t["close_reason"]) == ("closed", "answered_directly")
    assert t["direct_answer"] == "可到供水站营业厅或通过“夏县供水”公众号缴纳"

    fire = agent.register(category_code="1302", urgency="emergency", content="村东仓库着火了，有人被困")
    fire = agent.do(fire["id"], "hand-off", to="119", note="已转119并电话确认")
    assert (fire["status"], fire["status_label"], fire["handoff_to"]) == ("handed_off", "已转应急", "119")

    lawsuit = agent.register(kind="complaint", category_code="9901", urgency="normal", content="要求热线判决邻里宅基地纠纷")
    lawsuit = agent.do(lawsuit["id"], "refuse", reason="涉及诉讼程序，请通过法院解决")
    assert lawsuit["status"] == "refused" and lawsuit["refusal_reason"] == "涉及诉讼程序，请通过法院解决"

    for done in (t, fire, lawsuit):
        archived = dispatcher.do(done["id"], "archive")
        assert archived["status"] == "archived" and archived["archived_at"]
        assert [e["action"] for e in dispatcher.events(done["id"])][-1] == "archive"


def test_stale_version_is_a_conflict_and_changes_nothing(api: Api, night: datetime):
    agent, dispatcher = api.as_("agent"), api.as_("dispatcher")
    seen = agent.register()
    now = dispatcher.do(seen["id"], "dispatch", version=seen["version"])
    assert now["version"] > seen["version"]

    # The agent still looks at the old version and tries to refuse it.
    r = agent.act(seen["id"], "refuse", reason="重复来电", version=seen["version"])
    assert r.status_code == 409
    error = r.json()["error"]
    assert error["code"] == "conflict" and "刷新" in error["message"]
    assert error["details"]["current_version"] == now["version"]
    after = agent.ticket(seen["id"])
    assert (after["status"], after["version"]) == ("dispatched", now["version"])
    assert [e["action"] for e in agent.events(seen["id"])] == ["register", "dispatch"]


def test_a_version_below_1_is_refused_as_bad_input_not_as_a_conflict(api: Api, night: datetime):
    """Versions start at 1 (the document says so): 0 is a mistake in the request, not someone else's change."""
    agent = api.as_("agent")
    t = agent.register()
    r = agent.act(t["id"], "refuse", reason="重复来电", version=0)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["message"] == "version: 须不小于 1"
    assert agent.ticket(t["id"])["status"] == t["status"]
    assert agent.act(t["id"], "refuse", reason="重复来电", version=t["version"]).status_code == 200
