"""Incidents through the API: the proposal is listed with its regions and tickets, a supervisor
confirms it, a handler may not see it, a dismissal needs a reason."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from hotline.incidents.detect import detect
from hotline.incidents.models import Incident, IncidentState
from hotline.incidents.service import confirm
from hotline.kit import clock
from tests.incidents.test_detect import START, _burst


def test_a_supervisor_lists_and_confirms_a_proposed_incident(api, session, people):
    numbers = {t.number for t in _burst(session, people)}
    clock.freeze(START + timedelta(minutes=65))
    detect(session)
    incident_id = session.scalars(select(Incident.id)).one()
    session.commit()
    supervisor = api.as_("supervisor")
    r = supervisor.get("/incidents", params={"state": "proposed"})
    assert r.status_code == 200, r.text
    [listed] = r.json()
    assert listed["id"] == incident_id and listed["area"]["name"].endswith("裴介镇")
    assert {t["number"] for t in listed["tickets"]} <= numbers and listed["population"] > 0
    assert api.as_("handler_a").get("/incidents").status_code == 403
    assert supervisor.get("/incidents", params={"state": "lost"}).status_code == 422
    r = supervisor.post(f"/incidents/{incident_id}/dismiss", json={"reason": " "})
    assert r.status_code == 422 and "排除理由" in r.json()["error"]["message"]
    r = supervisor.post(f"/incidents/{incident_id}/confirm", json={"note": "朱吕供水站闸阀井故障"})
    assert r.status_code == 200 and r.json()["state"] == "confirmed"
    assert supervisor.post(f"/incidents/{incident_id}/confirm", json={}).status_code == 409
    assert supervisor.get("/incidents", params={"state": "confirmed"}).json()[0]["id"] == incident_id


def test_a_supervisor_publishes_and_withdraws_the_public_notice(api, session, people):
    _burst(session, people)
    clock.freeze(START + timedelta(minutes=65))
    detect(session)
    incident_id = session.scalars(select(Incident.id)).one()
    session.commit()
    supervisor = api.as_("supervisor")
    text = "裴介镇朱吕村等4个村停水，供水站正在抢修，预计今晚恢复。"
    r = supervisor.post(f"/incidents/{incident_id}/notice", json={"text": text})
    assert r.status_code == 409 and r.json()["error"]["code"] == "incident_not_confirmed"
    supervisor.post(f"/incidents/{incident_id}/confirm", json={})
    r = supervisor.post(f"/incidents/{incident_id}/notice", json={"text": "停水"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "notice_required"
    assert supervisor.post(f"/incidents/{incident_id}/notice", json={}).status_code == 422  # no text at all
    assert api.as_("handler_a").post(f"/incidents/{incident_id}/notice", json={"text": text}).status_code == 403
    r = supervisor.post(f"/incidents/{incident_id}/notice", json={"text": text})
    assert r.status_code == 200, r.text
    notice = r.json()["public_notice"]
    assert notice["text"] == text and notice["expires_at"] > notice["published_at"]
    assert supervisor.get("/incidents").json()[0]["public_notice"]["text"] == text
    r = supervisor.post(f"/incidents/{incident_id}/notice/withdraw")
    assert r.status_code == 200 and r.json()["public_notice"] is None
    assert supervisor.get("/incidents").json()[0]["public_notice"] is None
    assert supervisor.post(f"/incidents/{incident_id}/notice/withdraw").status_code == 409
    paths = api.as_("supervisor").get("/openapi.json").json()["paths"]
    assert "/api/v1/incidents/{incident_id}/notice" in paths and "/api/v1/incidents/{incident_id}/notice/withdraw" in paths


def test_a_supervisor_corrects_the_tickets_of_an_incident_and_ends_it(api, session, people):
    from tests.builders import make_ticket

    tickets = _burst(session, people)
    clock.freeze(START + timedelta(minutes=65))
    detect(session)
    incident_id = session.scalars(select(Incident.id)).one()
    stray = make_ticket(session, people, category_code="0101", region_code="140828100001", urgency="normal",
                        content="咨询居民用水价格标准。")
    session.commit()
    supervisor = api.as_("supervisor")
    supervisor.post(f"/incidents/{incident_id}/confirm", json={})
    r = supervisor.post(f"/incidents/{incident_id}/tickets", json={"numbers": [stray.number]})
    assert r.status_code == 200 and r.json()["added"] == 1 and r.json()["area"]["code"] == "140828"
    r = supervisor.post(f"/incidents/{incident_id}/tickets/{stray.number}/remove")
    assert r.status_code == 200 and r.json()["area"]["code"] == "140828102"
    assert stray.number not in {t["number"] for t in r.json()["tickets"]} and len(r.json()["tickets"]) == len(tickets)
    assert api.as_("handler_a").post(f"/incidents/{incident_id}/end").status_code == 403
    r = supervisor.post(f"/incidents/{incident_id}/end")
    assert r.status_code == 200 and r.json()["state"] == "ended" and r.json()["ended_at"]
    assert supervisor.get("/incidents", params={"state": "ended"}).json()[0]["id"] == incident_id
    r = supervisor.post(f"/incidents/{incident_id}/tickets", json={"numbers": [stray.number]})
    assert r.status_code == 409 and "已结束" in r.json()["error"]["message"]


def test_a_supervisor_takes_a_ticket_out_of_a_proposal_and_reopens_an_ended_incident(api, session, people):
    tickets = _burst(session, people)
    clock.freeze(START + timedelta(minutes=65))
    detect(session)
    incident_id = session.scalars(select(Incident.id)).one()
    session.commit()
    supervisor = api.as_("supervisor")
    wrong = tickets[3].number  # 郭村's only call
    r = supervisor.post(f"/incidents/{incident_id}/tickets/{wrong}/remove")
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "proposed" and wrong not in {t["number"] for t in r.json()["tickets"]}
    assert r.json()["ticket_count"] == 6 and len(r.json()["regions"]) == 3
    assert supervisor.post(f"/incidents/{incident_id}/tickets/{wrong}/remove").status_code == 404
    r = supervisor.get(f"/incidents/{incident_id}")
    assert r.status_code == 200 and [t["number"] for t in r.json()["removed_tickets"]] == [wrong]
    assert r.json()["removed_tickets"][0]["removed_by_id"] == people.supervisor.id
    assert supervisor.post(f"/incidents/{incident_id}/reopen").status_code == 409  # not ended
    supervisor.post(f"/incidents/{incident_id}/confirm", json={})
    supervisor.post(f"/incidents/{incident_id}/end")
    assert api.as_("handler_a").post(f"/incidents/{incident_id}/reopen").status_code == 403
    r = supervisor.post(f"/incidents/{incident_id}/reopen")
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "confirmed" and r.json()["ended_at"] is None and r.json()["ticket_count"] == 6
    r = supervisor.post(f"/incidents/{incident_id}/reopen")
    assert r.status_code == 409 and r.json()["error"]["code"] == "incident_not_ended"
    history = supervisor.get(f"/incidents/{incident_id}").json()["history"]
    assert [(h["action"], h["actor_id"], h["ticket_number"]) for h in history] == [
        ("removed", people.supervisor.id, wrong), ("confirmed", people.supervisor.id, None),
        ("ended", people.supervisor.id, None), ("reopened", people.supervisor.id, None)]
    assert supervisor.get("/incidents/99999").status_code == 404
    paths = supervisor.get("/openapi.json").json()["paths"]
    assert "/api/v1/incidents/{incident_id}/reopen" in paths and "/api/v1/incidents/{incident_id}" in paths


def test_the_list_by_state_holds_the_first_rows_in_that_state(api, session, people):
    """Before, the first ``limit`` incidents were read and then filtered: with a proposal listed
    first, ``?state=confirmed&limit=1`` answered nothing."""
    _burst(session, people)
    clock.freeze(START + timedelta(minutes=65))
    detect(session)
    confirmed = session.scalars(select(Incident)).one()
    confirm(session, confirmed, actor=people.supervisor)
    proposal = Incident(**{c: getattr(confirmed, c) for c in (
        "category_code", "title", "area_code", "region_codes", "population", "keywords", "first_ticket_at",
        "last_ticket_at", "ticket_count", "detected_at", "updated_at")}, state=IncidentState.proposed)
    session.add(proposal)
    session.commit()
    supervisor = api.as_("supervisor")
    assert [i["id"] for i in supervisor.get("/incidents", params={"limit": 1}).json()] == [proposal.id]
    r = supervisor.get("/incidents", params={"state": "confirmed", "limit": 1})
    assert r.status_code == 200 and [i["id"] for i in r.json()] == [confirmed.id], r.text
