"""Tokens: a revoked token stops working at once; the created ticket has the documented shape."""

from __future__ import annotations

from sqlalchemy import select

from hotline.accounts.models import ApiToken
from hotline.accounts.service import edit_user, revoke_token
from hotline.api.schemas import TicketOut
from hotline.kit.ids import hash_token
from tests.api.conftest import Api


def test_a_revoked_token_is_refused_on_the_next_call(api: Api):
    agent = api.as_("agent")
    assert agent.get("/me").status_code == 200  # now cached in this process
    with api.db.transaction() as s:
        token_id = s.scalar(select(ApiToken.id).where(ApiToken.token_hash == hash_token(api.tokens["agent"])))
        revoke_token(s, token_id)
    r = agent.get("/me")
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthenticated"


def test_me_names_the_unit(api: Api):
    me = api.as_("handler_a").get("/me").json()
    assert me["role"] == "handler" and me["unit"] == "夏县水利局"


def test_a_handler_moved_to_another_unit_acts_for_it_on_the_next_call(api: Api):
    handler = api.as_("handler_a")
    assert handler.get("/me").json()["unit"] == "夏县水利局"  # now cached in this process
    with api.db.transaction() as s:
        edit_user(s, user_id=api.people.handler_a.id, display_name="王工", role="handler",
                  unit_code="xiaxian-housing", phone="")
    me = handler.get("/me").json()
    assert (me["unit"], me["display_name"]) == ("夏县住房和城乡建设局", "王工")


def test_the_created_ticket_matches_the_documented_schema(api: Api):
    r = api.as_("agent").post("/tickets", json={
        "kind": "help", "category_code": "0103", "urgency": "urgent", "region_code": "140828102207",
        "content": "朱吕村村东的供水闸阀井漏水了", "caller_phone": "13803590001",
        "attachments": [{"filename": "现场.jpg", "content_type": "image/jpeg", "size": 1024}],
    })
    assert r.status_code == 201
    ticket = TicketOut.model_validate(r.json())
    assert ticket.status == "registered" and ticket.units == [] and ticket.number
    assert r.json()["attachments"][0]["filename"] == "现场.jpg"
    assert r.json()["deadlines"]["dispatch"]["state"] == "running"


def test_a_ticket_registered_through_the_api_records_the_token_it_came_with(api: Api):
    """As an Open311 request does: the ticket and its 受理 line name the token (of two the account
    has) that registered it, so an admin can tell which system sent it."""
    from hotline.accounts.service import create_token
    from hotline.tickets.models import Ticket

    with api.db.transaction() as s:
        token, plain = create_token(s, username=api.people.agent.username, name="city-app")
        token_id = token.id
    r = api.client.post("/api/v1/tickets", headers={"Authorization": f"Bearer {plain}"}, json={
        "kind": "help", "category_code": "0103", "urgency": "normal", "region_code": "140828102207",
        "content": "朱吕村村东的供水闸阀井漏水了", "caller_phone": "13803590001"})
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    with api.db.transaction(write=False) as s:
        assert s.scalar(select(Ticket.api_token_id).where(Ticket.number == number)) == token_id
    [register] = [e for e in api.as_("admin").events(number) if e["action"] == "register"]
    assert register["details"]["api_token_id"] == token_id
    other = api.as_("agent").register()["number"]  # the account's other token
    with api.db.transaction(write=False) as s:
        assert s.scalar(select(Ticket.api_token_id).where(Ticket.number == other)) not in (None, token_id)


def test_an_admin_lists_tokens_without_their_secret_and_revokes_one(api: Api):
    admin, agent = api.as_("admin"), api.as_("agent")
    r = admin.get("/tokens", params={"user": api.people.agent.username})
    assert r.status_code == 200, r.text
    [row] = r.json()
    assert row["username"] == api.people.agent.username and row["state"] == "active" and row["state_label"] == "有效"
    assert row["prefix"] == api.tokens["agent"][:10] and api.tokens["agent"] not in r.text
    assert row["expires_at"] is None and row["revoked_at"] is None
    assert len(admin.get("/tokens").json()) == len(api.tokens)

    assert agent.get("/tokens").status_code == 403  # only admins
    assert agent.request("DELETE", f"/tokens/{row['id']}").status_code == 403

    r = admin.request("DELETE", f"/tokens/{row['id']}")
    assert r.status_code == 200 and (r.json()["state"], r.json()["state_label"]) == ("revoked", "已吊销")
    assert agent.get("/me").status_code == 401
    missing = admin.request("DELETE", "/tokens/99999")
    assert missing.status_code == 404 and missing.json()["error"]["message"] == "令牌 99999 不存在"
