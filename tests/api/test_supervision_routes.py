"""Urging, supervision orders, alerts and the supervisor board through the API."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from hotline.directory import reference
from hotline.kit import clock
from hotline.notify.models import OutboxMessage
from hotline.supervision.models import DeadlineAlert, SupervisionOrder
from hotline.supervision.orders import sweep_orders
from hotline.supervision.sweep import sweep_deadlines
from hotline.tickets.models import Ticket, TicketUnit
from tests.api.conftest import UNIT_A
from tests.builders import unit_id


def dispatched(api) -> dict:
    t = api.as_("agent").register(urgency="normal")
    api.as_("dispatcher").do(t["id"], "dispatch")
    return t


def templates_for(api, user_id: int) -> list[str]:
    with api.db.session() as s:
        return list(s.scalars(select(OutboxMessage.template_code).where(OutboxMessage.recipient == str(user_id),
                                                                        OutboxMessage.channel == "inbox")
                              .order_by(OutboxMessage.id)))


def test_a_supervisor_urges_and_the_unit_is_told_at_once(api, night):
    t = dispatched(api)
    r = api.as_("supervisor").post(f"/tickets/{t['id']}/urge", json={"note": "群众反映强烈，请今天内处理"})
    assert r.status_code == 200, r.text
    assert r.json()["event"]["action_label"] == "催办"
    assert "unit.urge_early" in templates_for(api, api.people.handler_a.id)  # not overdue yet
    with api.db.session() as s:
        urge_sms = s.scalars(select(OutboxMessage).where(OutboxMessage.template_code == "unit.urge_early")).all()
    assert all(m.urgent for m in urge_sms)  # urging is not held by the night's quiet hours
    assert api.as_("handler_a").post(f"/tickets/{t['id']}/urge", json={}).status_code == 403
    # A ticket nobody handles yet cannot be urged.
    fresh = api.as_("agent").register()
    r = api.as_("supervisor").post(f"/tickets/{fresh['id']}/urge", json={})
    assert r.status_code == 409 and "没有正在办理的承办单位" in r.json()["error"]["message"]


def test_a_supervision_order_is_answered_by_its_unit_only(api, night):
    t = dispatched(api)
    r = api.as_("supervisor").post(f"/tickets/{t['id']}/supervise",
                                   json={"level": "key", "note": "请于两个工作日内解决并书面答复", "working_days": 2})
    assert r.status_code == 201, r.text
    order = r.json()["order"]
    assert order["level_label"] == "重点" and order["unit"]["name"] == UNIT_A and order["state"] == "open"
    assert "unit.supervision" in templates_for(api, api.people.handler_a.id)

    mine = api.as_("handler_a").get("/supervision-orders").json()
    assert [o["id"] for o in mine] == [order["id"]]
    assert api.as_("handler_b").get("/supervision-orders").json() == []
    assert api.as_("handler_b").post(f"/supervision-orders/{order['id']}/answer",
                                     json={"answer": "不是我们的"}).status_code == 404
    assert api.as_("handler_a").post(f"/supervision-orders/{order['id']}/answer",
                                     json={"answer": ""}).status_code == 422
    r = api.as_("handler_a").post(f"/supervision-orders/{order['id']}/answer",
                                  json={"answer": "已组织抢修，明日恢复供水"})
    assert r.status_code == 200 and r.json()["state"] == "answered"
    again = api.as_("handler_a").post(f"/supervision-orders/{order['id']}/answer", json={"answer": "再答一次"})
    assert again.status_code == 409
    actions = [e["action"] for e in api.as_("supervisor").events(t["id"])]
    assert actions[-2:] == ["supervise", "answer_supervision"]
    bad = api.as_("supervisor").post(f"/tickets/{t['id']}/supervise", json={"level": "top", "note": "x"})
    assert bad.status_code == 422


def test_an_unanswered_order_goes_overdue_once_and_supervisors_hear_of_it(api, night):
    t = dispatched(api)
    r = api.as_("supervisor").post(f"/tickets/{t['id']}/supervise", json={"note": "请尽快处理", "working_days": 1})
    due = r.json()["order"]["due_at"]
    clock.advance(timedelta(days=3))
    assert sweep_orders(api.db)["overdue"] == 1
    assert sweep_orders(api.db)["overdue"] == 0
    assert "supervisor.order_overdue" in templates_for(api, api.people.supervisor.id)
    [listed] = api.as_("supervisor").get("/supervision-orders", params={"state": "open"}).json()
    assert listed["overdue"] is True and listed["due_at"] == due


def test_alerts_and_the_board_show_what_the_sweep_did(api, night):
    t = dispatched(api)  # dispatched at 23:45: accept within 24 hours
    clock.advance(timedelta(hours=25))
    sweep_deadlines(api.db)
    steps = [(a["stage"], a["step"]) for a in api.as_("supervisor").get(f"/tickets/{t['id']}/alerts").json()]
    assert ("accept", "warn") in steps and ("accept", "overdue") in steps
    board = api.as_("supervisor").get("/supervision/board").json()
    row = next(r for r in board if r["unit"]["name"] == UNIT_A)
    assert row["overdue"] == 1 and row["open"] == 1
    assert api.as_("handler_a").get("/supervision/board").status_code == 403
    assert api.as_("handler_b").get(f"/tickets/{t['id']}/alerts").status_code == 404


def test_the_order_limits_in_the_document_are_the_ones_kept(api, night):
    """督办 within 1–30 working days at a listed level: the document's range and choices; outside
    them the order is refused in the words the pages use, and none is issued."""
    t = dispatched(api)
    sup = api.as_("supervisor")
    for body, words in [({"working_days": 31}, "督办时限须为 1–30 个工作日"), ({"working_days": 0}, "督办时限须为 1–30 个工作日"),
                        ({"level": "top"}, "督办级别须为 general（一般）、key（重点）或 listed（挂牌）")]:
        r = sup.post(f"/tickets/{t['id']}/supervise", json={"note": "请尽快答复", **body})
        assert r.status_code == 422, r.text
        assert words in r.json()["error"]["message"]
    assert sup.get("/supervision-orders").json() == []
    r = sup.post(f"/tickets/{t['id']}/supervise", json={"note": "请尽快答复", "level": "listed", "working_days": 30})
    assert r.status_code == 201, r.text
    assert r.json()["order"]["level"] == "listed"


def test_no_supervision_order_goes_to_the_hotline_centre(api, night):
    """A ticket left at the centre by an earlier release (dispatch refuses the centre now) gets no
    order there: nobody at the centre answers one."""
    t = dispatched(api)
    with api.db.transaction() as s:
        centre = unit_id(s, "yuncheng-12345")
        s.execute(update(Ticket).where(Ticket.id == t["id"]).values(lead_unit_id=centre))
        s.execute(update(TicketUnit).where(TicketUnit.ticket_id == t["id"], TicketUnit.role == "lead")
                  .values(unit_id=centre))
    reference.invalidate()
    r = api.as_("supervisor").post(f"/tickets/{t['id']}/supervise", json={"note": "请尽快处理"})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["message"].endswith("的主办单位「运城市12345热线中心」是热线中心，不承办工单，不能向其督办；"
                                                 "请先把工单派给承办单位")
    clock.advance(timedelta(days=30))
    sweep_deadlines(api.db)  # the ladder's escalations record their steps but write no order
    with api.db.session() as s:
        assert s.scalar(select(SupervisionOrder).where(SupervisionOrder.ticket_id == t["id"])) is None
        assert s.scalar(select(DeadlineAlert).where(DeadlineAlert.ticket_id == t["id"],
                                                    DeadlineAlert.step == "escalate")) is not None
