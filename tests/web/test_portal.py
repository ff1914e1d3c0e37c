"""The citizen portal: submit without an account, follow the ticket with number + query code,
rate it when it waits for the callback; rate limits and the double-submit CSRF token."""

from __future__ import annotations

import re

from hotline.tickets.models import Channel, Ticket
from hotline.tickets.states import Status
from tests.builders import LEAK, ZHULV, make_ticket
from tests.web.conftest import csrf_of


def _form(client) -> str:
    r = client.get("/portal")
    assert r.status_code == 200
    assert 'name="viewport"' in r.text and "我要反映" in r.text and "退出" not in r.text
    assert "portal_csrf" in r.headers.get("set-cookie", "")
    assert "samesite=strict" in r.headers["set-cookie"].lower()
    return csrf_of(r.text)


def _fields(csrf: str, **overrides: str) -> dict[str, str]:
    data = {"csrf": csrf, "caller_name": "李女士", "caller_phone": "13903590002", "kind": "help",
            "category_code": "0103", "region": ZHULV, "address": "朱吕村村东", "content": LEAK}
    data.update(overrides)
    return data


def _done(html: str) -> tuple[str, str]:
    number = re.search(r'id="number">([^<]+)<', html)
    code = re.search(r'id="query-code">(\d{6})<', html)
    assert number and code, html
    return number.group(1), code.group(1)


def test_a_citizen_submits_and_follows_the_request(site):
    client = site.browser()
    csrf = _form(client)
    r = client.post("/portal/submit", data=_fields(csrf))
    assert r.status_code == 200, r.text
    assert "请记下工单号和查询码" in r.text
    number, code = _done(r.text)
    with site.db.transaction(write=False) as s:
        ticket = s.query(Ticket).filter_by(number=number).one()
        assert ticket.channel == Channel.web and ticket.registered_by_id is None
        assert ticket.caller_phone == "+8613903590002" and ticket.query_code == code

    page = client.post("/portal/track", data={"csrf": csrf, "number": number, "code": code})
    assert page.status_code == 200
    assert "已受理" in page.text and "受理" in page.text and LEAK in page.text


def test_the_track_page_shows_citizen_terms_and_no_staff_names(site, session, people):
    ticket = make_ticket(session, people, Status.callback_pending)
    session.commit()
    client = site.browser()
    csrf = csrf_of(client.get("/portal/track").text)
    page = client.post("/portal/track", data={"csrf": csrf, "number": ticket.number, "code": ticket.query_code})
    assert page.status_code == 200
    text = page.text
    assert "派单至夏县水利局" in text and "办理中" in text and "已更换闸阀阀杆和减压阀，恢复供水" in text
    assert "t-agent" not in text and "t-dispatcher" not in text and "t-handler-a" not in text
    assert "请对办理结果进行评价" in text


def test_a_wrong_code_or_number_gets_the_same_refusal(site, session, people):
    ticket = make_ticket(session, people)
    session.commit()
    client = site.browser()
    csrf = csrf_of(client.get("/portal/track").text)
    wrong_code = "000000" if ticket.query_code != "000000" else "111111"
    a = client.post("/portal/track", data={"csrf": csrf, "number": ticket.number, "code": wrong_code})
    b = client.post("/portal/track", data={"csrf": csrf, "number": "NOPE-1", "code": ticket.query_code})
    for r in (a, b):
        assert r.status_code == 404 and "工单号或查询码不正确" in r.text and LEAK not in r.text


def test_wrong_track_attempts_are_limited_per_ip(site, session, people):
    ticket = make_ticket(session, people)
    session.commit()
    client = site.browser()
    csrf = csrf_of(client.get("/portal/track").text)
    for _ in range(10):
        assert client.post("/portal/track", data={"csrf": csrf, "number": "X", "code": "123456"}).status_code == 404
    r = client.post("/portal/track", data={"csrf": csrf, "number": ticket.number, "code": ticket.query_code})
    assert r.status_code == 429 and "查询失败次数过多" in r.text


def test_missing_content_keeps_what_was_typed(site):
    client = site.browser()
    csrf = _form(client)
    r = client.post("/portal/submit", data=_fields(csrf, content="  ", address="朱吕村村东第三户"))
    assert r.status_code == 422
    assert 'class="error"' in r.text and "诉求内容" in r.text
    for kept in ("李女士", "13903590002", "朱吕村村东第三户", ZHULV):
        assert kept in r.text
    assert 'value="0103" selected' in r.text


def test_a_missing_phone_is_refused_in_chinese(site):
    client = site.browser()
    csrf = _form(client)
    r = client.post("/portal/submit", data=_fields(csrf, caller_phone=""))
    assert r.status_code == 422 and "请留下手机号码" in r.text and LEAK in r.text


def test_the_fourth_submission_of_a_phone_in_a_day_is_refused(site):
    client = site.browser()
    csrf = _form(client)
    for _ in range(3):
        assert client.post("/portal/submit", data=_fields(csrf, caller_phone="13803590001")).status_code == 200
    r = client.post("/portal/submit", data=_fields(csrf, caller_phone="13803590001"))
    assert r.status_code == 429
    assert "该手机号码今天已提交 3 件诉求" in r.text and LEAK in r.text
    with site.db.transaction(write=False) as s:
        assert s.query(Ticket).filter_by(channel=Channel.web).count() == 3


def test_submissions_are_limited_per_ip(site):
    client = site.browser()
    csrf = _form(client)
    for i in range(5):
        phone = f"1390359000{i}"
        assert client.post("/portal/submit", data=_fields(csrf, caller_phone=phone)).status_code == 200
    r = client.post("/portal/submit", data=_fields(csrf, caller_phone="13903590009"))
    assert r.status_code == 429 and "提交过于频繁" in r.text


def test_a_post_without_the_form_token_is_refused(site):
    client = site.browser()
    _form(client)  # the cookie is set, but the field is missing or wrong
    for data in (_fields(""), _fields("forged-token")):
        r = client.post("/portal/submit", data=data)
        assert r.status_code == 403 and "安全令牌" in r.text
    stranger = site.browser()  # no cookie at all, a token copied from elsewhere
    r = stranger.post("/portal/submit", data=_fields("forged-token"))
    assert r.status_code == 403
    with site.db.transaction(write=False) as s:
        assert s.query(Ticket).count() == 0


def test_rating_a_ticket_that_waits_for_its_callback(site, session, people):
    ticket = make_ticket(session, people, Status.callback_pending)
    session.commit()
    client = site.browser()
    csrf = csrf_of(client.get("/portal/track").text)
    base = {"csrf": csrf, "number": ticket.number, "code": ticket.query_code}
    r = client.post("/portal/rate", data=base | {"resolved": "yes", "comment": "来得很快"})
    assert r.status_code == 422 and "请选择满意程度" in r.text and "来得很快" in r.text
    r = client.post("/portal/rate", data=base | {"resolved": "yes", "satisfaction": "satisfied", "comment": "来得很快"})
    assert r.status_code == 200 and "感谢您的评价" in r.text
    assert "请对办理结果进行评价" not in r.text
    with site.db.transaction(write=False) as s:
        t = s.get(Ticket, ticket.id)
        assert t.status == Status.callback_done and t.resolved is True
        assert t.satisfaction.value == "satisfied" and t.callback_comment == "来得很快"
    again = client.post("/portal/rate", data=base | {"resolved": "yes", "satisfaction": "satisfied"})
    assert again.status_code == 422 and "无需评价" in again.text


def test_rating_with_a_wrong_code_is_refused(site, session, people):
    ticket = make_ticket(session, people, Status.callback_pending)
    session.commit()
    client = site.browser()
    csrf = csrf_of(client.get("/portal/track").text)
    wrong = "000000" if ticket.query_code != "000000" else "111111"
    r = client.post("/portal/rate", data={"csrf": csrf, "number": ticket.number, "code": wrong,
                                          "resolved": "yes", "satisfaction": "satisfied"})
    assert r.status_code == 404 and "工单号或查询码不正确" in r.text
    with site.db.transaction(write=False) as s:
        assert s.get(Ticket, ticket.id).status == Status.callback_pending
