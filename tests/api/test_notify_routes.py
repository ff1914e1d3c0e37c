"""Notifications through the API: one's own inbox; the failed messages and templates an admin sees."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select

from hotline.kit import clock
from hotline.notify.delivery import deliver_due
from hotline.notify.models import InboxItem, OutboxMessage
from hotline.notify.outbox import enqueue
from hotline.notify.templates import load_templates
from tests.api.conftest import Api
from tests.builders import make_failed_messages, make_ticket

NOON = datetime(2026, 11, 30, 12, 0)
PHONE = "+8613803590001"


class Broken:
    def send(self, message):
        raise ConnectionError("短信网关连接被拒绝")


class Recorder:
    def __init__(self):
        self.sent: list[str] = []

    def send(self, message):
        self.sent.append(message.body)


@pytest.fixture
def templates(api: Api) -> Api:
    with api.db.transaction() as s:
        load_templates(s)
    return api


def _receipt(api: Api, key: str, *, ticket: bool = False) -> int:
    """A receipt SMS in the outbox (for a real ticket when ``ticket``); returns its id."""
    with api.db.transaction() as s:
        ticket_id = make_ticket(s, api.people).id if ticket else None
        m = enqueue(s, key=key, channel="sms", recipient=PHONE, template_code="caller.receipt",
                    context={"ticket_number": "20261130-000042", "query_code": "482913"}, ticket_id=ticket_id,
                    urgent=True)
        return m.id


def _fail_for_good(api: Api, attempts: int = 2) -> None:
    """The gateway refuses every try until the messages are set aside."""
    for _ in range(attempts):
        deliver_due(api.db, Broken(), worker="w", max_attempts=attempts)
        clock.advance(timedelta(hours=1))


def _ours(rows: list[dict], *ids: int) -> list[dict]:
    return [r for r in rows if r["id"] in ids]


# ---------------------------------------------------------------- outbox


def test_a_page_of_failed_messages_reads_only_its_rows(api: Api):
    """Like the admin page, the API cuts the failed messages in SQL: a page of 10 among 250 reads 10
    rows, the newest first after the offset, and X-Total-Count counts them all."""
    with api.db.transaction() as s:
        newest_first = make_failed_messages(s, 250, start=NOON.replace(tzinfo=UTC))
    loaded: list[int] = []

    def on_load(target, _context) -> None:
        loaded.append(target.id)

    event.listen(OutboxMessage, "load", on_load)
    try:
        r = api.as_("admin").get("/outbox", params={"limit": 10, "offset": 20})
    finally:
        event.remove(OutboxMessage, "load", on_load)
    assert r.status_code == 200 and r.headers["X-Total-Count"] == "250"
    assert [m["id"] for m in r.json()] == newest_first[20:30] == loaded


def test_a_message_that_kept_failing_is_shown_with_its_error_and_goes_out_after_a_retry(templates: Api):
    api, admin = templates, templates.as_("admin")
    clock.freeze(NOON)
    mid = _receipt(api, "receipt-1", ticket=True)
    _fail_for_good(api)

    dead = _ours(admin.get("/outbox").json(), mid)  # the ticket's own notices may fail beside it
    assert [(m["id"], m["state"], m["attempts"]) for m in dead] == [(mid, "dead", 2)]
    m = dead[0]
    assert "短信网关连接被拒绝" in m["last_error"] and "ConnectionError" in m["last_error"]
    assert m["recipient"].endswith("0001") and "1380359" not in m["recipient"]
    assert m["template"] == "caller.receipt" and m["channel"] == "sms"
    assert m["ticket_id"] is not None and m["ticket_number"]
    assert m["created_at"] == "2026-11-30T12:00:00+08:00"

    r = admin.post("/outbox/retry", json={"ids": [mid]})
    assert r.status_code == 200, r.text
    assert r.json() == {"retried": 1, "skipped": []}
    assert _ours(admin.get("/outbox").json(), mid) == []
    pending = _ours(admin.get("/outbox", params={"state": "pending"}).json(), mid)
    assert [(p["state"], p["attempts"], p["last_error"]) for p in pending] == [("pending", 0, m["last_error"])]

    gateway = Recorder()
    deliver_due(api.db, gateway, worker="w")
    assert any("482913" in body for body in gateway.sent)
    assert _ours(admin.get("/outbox", params={"state": "sent"}).json(), mid)[0]["state"] == "sent"


def test_retry_all_and_retry_of_what_is_not_a_failed_message(templates: Api):
    api, admin = templates, templates.as_("admin")
    clock.freeze(NOON)
    first, second = _receipt(api, "r-1"), _receipt(api, "r-2")
    _fail_for_good(api)
    assert {m["id"] for m in admin.get("/outbox").json()} == {first, second}

    r = admin.post("/outbox/retry", json={"ids": [first, 2_000_000]})
    assert r.json() == {"retried": 1, "skipped": [2_000_000]}
    assert admin.post("/outbox/retry", json={"ids": [first]}).json() == {"retried": 0, "skipped": [first]}
    assert admin.post("/outbox/retry", json={"all": True}).json() == {"retried": 1, "skipped": []}
    assert admin.get("/outbox").json() == []


@pytest.mark.parametrize("body", [{}, {"ids": []}, {"all": False}, {"ids": [1], "all": True}, {"ids": [2**40]},
                                  {"ids": "all"}])
def test_a_retry_needs_ids_or_all(templates: Api, body: dict):
    r = templates.as_("admin").post("/outbox/retry", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["message"]


def test_an_unknown_outbox_state_is_refused(templates: Api):
    r = templates.as_("admin").get("/outbox", params={"state": "lost"})
    assert r.status_code == 422 and "state" in r.json()["error"]["message"]


@pytest.mark.parametrize("persona", ["handler_a", "dispatcher", "supervisor", "agent"])
def test_only_admins_see_the_outbox_and_the_templates(templates: Api, persona: str):
    clock.freeze(NOON)
    mid = _receipt(templates, "r-1")
    _fail_for_good(templates)
    someone = templates.as_(persona)
    for r in (someone.get("/outbox"), someone.post("/outbox/retry", json={"all": True}),
              someone.get("/message-templates"),
              someone.request("PUT", "/message-templates/caller.closed", json={"subject": "已办结", "body": "好"}),
              someone.post("/message-templates/caller.closed/reset")):
        assert r.status_code == 403, r.text
        assert "只有管理员" in r.json()["error"]["message"]
    assert [m["id"] for m in templates.as_("admin").get("/outbox").json()] == [mid]  # still set aside


# ---------------------------------------------------------------- inbox


def _inbox(api: Api, user_id: int, subject: str, at: datetime, *, read: bool = False) -> int:
    with api.db.transaction() as s:
        item = InboxItem(user_id=user_id, subject=subject, body=f"{subject}：请及时处理", created_at=clock.aware(at),
                         read_at=clock.aware(at) if read else None)
        s.add(item)
        s.flush()
        return item.id


def test_the_inbox_shows_only_ones_own_messages_unread_first(api: Api):
    a, b = api.people.handler_a.id, api.people.handler_b.id
    _inbox(api, a, "新派工单（旧，已读）", datetime(2026, 11, 30, 12, 0), read=True)
    _inbox(api, a, "预警：即将超期", datetime(2026, 11, 30, 9, 0))
    _inbox(api, a, "督办单", datetime(2026, 11, 30, 10, 0))
    _inbox(api, b, "住建局的消息", datetime(2026, 11, 30, 11, 0))

    mine = api.as_("handler_a").get("/inbox").json()
    assert mine["unread"] == 2
    assert [(i["subject"], i["read"]) for i in mine["items"]] == [
        ("督办单", False), ("预警：即将超期", False), ("新派工单（旧，已读）", True)]
    unread = api.as_("handler_a").get("/inbox", params={"unread": "true"}).json()
    assert [i["subject"] for i in unread["items"]] == ["督办单", "预警：即将超期"]
    theirs = api.as_("handler_b").get("/inbox").json()
    assert [i["subject"] for i in theirs["items"]] == ["住建局的消息"] and theirs["unread"] == 1
    assert api.as_("admin").get("/inbox").json() == {"unread": 0, "items": []}


def test_reading_marks_only_ones_own_messages(api: Api):
    clock.freeze(NOON)
    a, b = api.people.handler_a.id, api.people.handler_b.id
    first = _inbox(api, a, "预警：即将超期", datetime(2026, 11, 30, 9, 0))
    _inbox(api, a, "督办单", datetime(2026, 11, 30, 10, 0))
    theirs = _inbox(api, b, "住建局的消息", datetime(2026, 11, 30, 11, 0))
    bureau, housing = api.as_("handler_a"), api.as_("handler_b")

    r = housing.post(f"/inbox/{first}/read")
    assert r.status_code == 404 and "不存在" in r.json()["error"]["message"]
    assert bureau.get("/inbox").json()["unread"] == 2

    r = bureau.post(f"/inbox/{first}/read")
    assert r.status_code == 200 and r.json()["read"] is True
    assert r.json()["read_at"] == "2026-11-30T12:00:00+08:00"
    assert bureau.get("/inbox").json()["unread"] == 1
    assert bureau.post("/inbox/read-all").json() == {"marked": 1}
    assert bureau.get("/inbox").json()["unread"] == 0
    assert housing.get("/inbox").json()["unread"] == 1  # read-all touched only handler A's messages
    assert bureau.post("/inbox/99999999999/read").status_code == 404
    assert bureau.post("/inbox/abc/read").status_code == 422
    with api.db.transaction(write=False) as s:
        assert s.scalar(select(InboxItem.read_at).where(InboxItem.id == theirs)) is None


# ---------------------------------------------------------------- templates


def _template(api: Api, code: str) -> dict:
    rows = api.as_("admin").get("/message-templates").json()
    return next(t for t in rows if t["code"] == code)


def test_templates_list_their_placeholders_and_whether_they_were_changed(templates: Api):
    receipt = _template(templates, "caller.receipt")
    assert receipt["channel"] == "sms" and "{query_code}" in receipt["body"]
    assert receipt["placeholders"] == ["ticket_number", "query_code"]
    assert receipt["customized"] is False and receipt["default"]["body"] == receipt["body"]


def test_an_edited_template_is_used_for_the_next_message_and_can_be_reset(templates: Api):
    api, admin = templates, templates.as_("admin")
    shipped = _template(api, "caller.receipt")
    wording = {"subject": "已受理", "body": "【运城12345】已受理，工单号{ticket_number}，查询码{query_code}。"}
    r = admin.request("PUT", "/message-templates/caller.receipt", json=wording)
    assert r.status_code == 200, r.text
    assert r.json()["customized"] is True and _template(api, "caller.receipt")["body"] == wording["body"]

    mid = _receipt(api, "after-edit")
    with api.db.transaction(write=False) as s:
        assert s.get(OutboxMessage, mid).body == "【运城12345】已受理，工单号20261130-000042，查询码482913。"

    r = admin.post("/message-templates/caller.receipt/reset")
    assert r.status_code == 200 and r.json()["customized"] is False
    assert _template(api, "caller.receipt")["body"] == shipped["body"]


@pytest.mark.parametrize(("body", "named"), [
    ("您好{caller_name}，工单号{ticket_number}", "{caller_name}"),
    ("工单号{ticket_number", "花括号"),
    ("工单号{ticket_number}}", "花括号"),
    ("   ", "不能为空"),
    ("工单号{ticket_number!r}", "{ticket_number}"),
    ("工单号{0}", "{0}"),
    ("工单号{ticket_number}，查询码{query_code}\x1b[0m", "模板正文含有不可见的控制字符（U+001B）"),
])
def test_a_bad_template_is_refused_and_the_old_text_kept(templates: Api, body: str, named: str):
    api, admin = templates, templates.as_("admin")
    before = _template(api, "caller.receipt")
    r = admin.request("PUT", "/message-templates/caller.receipt", json={"subject": "已受理", "body": body})
    assert r.status_code == 422, r.text
    assert named in r.json()["error"]["message"]
    after = _template(api, "caller.receipt")
    assert (after["subject"], after["body"], after["customized"]) == (before["subject"], before["body"], False)


def test_a_template_leaving_out_a_placeholder_of_its_default_needs_confirming(templates: Api):
    api, admin = templates, templates.as_("admin")
    before = _template(api, "caller.receipt")
    wording = {"subject": "已受理", "body": "【12345】已受理，工单号{ticket_number}。"}
    r = admin.request("PUT", "/message-templates/caller.receipt", json=wording)
    assert r.status_code == 422 and r.json()["error"]["code"] == "placeholders_dropped"
    assert "{query_code}（查询码）" in r.json()["error"]["message"]
    assert _template(api, "caller.receipt")["body"] == before["body"]
    r = admin.request("PUT", "/message-templates/caller.receipt", json={**wording, "confirm_dropped": True})
    assert r.status_code == 200 and r.json()["body"] == wording["body"]


@pytest.mark.parametrize(("body", "words"), [
    ("工单号{ticket_number", "模板正文格式错误：花括号不成对，第 4 个字符「{」（{ticket_number）后面没有对应的「}」"),
    ("工单号{ticket_number}}", "模板正文格式错误：花括号不成对，第 19 个字符「}」前面没有对应的「{」"),
])
def test_an_unpaired_brace_is_explained_in_chinese_with_where_it_is(templates: Api, body: str, words: str):
    r = templates.as_("admin").request("PUT", "/message-templates/caller.receipt", json={"subject": "已受理", "body": body})
    message = r.json()["error"]["message"]
    assert r.status_code == 422 and message.startswith(words), message
    assert not re.search(r"[A-Za-z]{3,}", message.replace("ticket_number", "")), message  # no Python's English


def test_an_unknown_template_is_404(templates: Api):
    admin = templates.as_("admin")
    r = admin.request("PUT", "/message-templates/caller.nothing", json={"subject": "a", "body": "b"})
    assert r.status_code == 404 and "caller.nothing" in r.json()["error"]["message"]
    assert admin.post("/message-templates/caller.nothing/reset").status_code == 404
