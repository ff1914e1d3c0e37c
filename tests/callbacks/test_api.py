"""The callback queue through the API, and callbacks recorded through the ticket endpoint."""

from __future__ import annotations

from datetime import datetime, timedelta

from hotline.kit import clock
from tests.api.conftest import Api


def _reviewed(api: Api, **overrides) -> dict:
    t = api.as_("agent").register(**overrides)
    api.as_("dispatcher").do(t["id"], "dispatch", lead_unit_id=api.people.unit_a, co_unit_ids=[])
    bureau = api.as_("handler_a")
    bureau.do(t["id"], "accept")
    bureau.do(t["id"], "contact", note="已联系")
    bureau.do(t["id"], "reply", text="已更换阀门，恢复供水")
    return api.as_("dispatcher").do(t["id"], "accept-reply")


def _queue(api: Api, persona: str = "agent", **params) -> dict:
    r = api.as_(persona).get("/callback-tasks", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_the_agent_sees_the_callback_queue_and_a_handler_does_not(api: Api, night: datetime):
    t = _reviewed(api)
    [task] = _queue(api)["items"]
    assert (task["number"], task["title"], task["attempts"], task["overdue"]) == (t["number"], t["title"], 0, False)
    assert task["caller"]["phone"] == "13803590001"  # the agent needs the number to ring
    assert task["due_at"] == "2025-11-28T23:45:00+08:00"  # reviewed Thursday 23:45 → due Friday
    assert task["reply_text"] == "已更换阀门，恢复供水"  # what the caller is asked about, as the web queue shows

    for persona in ("dispatcher", "admin"):
        assert _queue(api, persona)["total"] == 1
    for persona in ("handler_a", "supervisor"):
        r = api.as_(persona).get("/callback-tasks")
        assert r.status_code == 403 and r.json()["error"]["code"] == "permission_denied"


def test_the_queue_puts_the_next_attempt_first_and_flags_overdue_callbacks(api: Api, night: datetime):
    first, second = _reviewed(api), _reviewed(api, caller_phone="13903590002")
    agent = api.as_("agent")
    agent.do(first["id"], "callback", reached=False, comment="无人接听")  # tried again in two hours
    assert [task["number"] for task in _queue(api)["items"]] == [second["number"], first["number"]]

    clock.advance(timedelta(days=2))
    page = _queue(api, limit=1)
    assert page["total"] == 2 and len(page["items"]) == 1 and page["items"][0]["overdue"] is True


def test_three_unanswered_api_callbacks_close_the_ticket(api: Api, night: datetime):
    agent = api.as_("agent")
    t = _reviewed(api)
    for _ in range(3):
        t = agent.do(t["id"], "callback", reached=False, comment="无人接听")
    assert agent.last_event["action"] == "callback_attempt"
    assert (t["status"], t["close_reason"]) == ("closed", "not_reached")
    assert _queue(api)["items"] == []
