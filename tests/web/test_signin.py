"""Signing in and out: the cookie, the lockout, CSRF, navigation by role, the ticket pages' scope."""

from __future__ import annotations

from datetime import timedelta

from hotline.accounts.models import Role
from hotline.kit import clock
from hotline.web.render import NAV
from tests.builders import make_ticket
from tests.web.conftest import PASSWORD


def test_the_home_address_asks_for_sign_in_and_then_opens_the_roles_page(site):
    browser = site.browser()
    r = browser.get("/")
    assert r.status_code == 303 and r.headers["location"] == "/login"
    r = browser.get("/tickets")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/tickets"
    r = browser.post("/login", data={"username": "t-agent", "password": PASSWORD, "next": "/tickets"})
    assert r.status_code == 303 and r.headers["location"] == "/tickets"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    assert browser.get("/").headers["location"] == NAV[Role.agent][0][0]
    page = browser.get("/tickets").text
    assert "工单查询" in page and "t-agent（坐席）" in page
    # The sign-in form never sends people to another site.
    r = site.browser().post("/login", data={"username": "t-agent", "password": PASSWORD,
                                            "next": "//evil.example/x"})
    assert r.headers["location"] == NAV[Role.agent][0][0]


def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(site):
    clock.freeze(clock.now())
    browser = site.browser()
    for left in (4, 3, 2, 1):
        r = browser.post("/login", data={"username": "t-dispatcher", "password": "wrong"})
        assert r.status_code == 401 and f"再错 {left} 次将锁定" in r.text
    r = browser.post("/login", data={"username": "t-dispatcher", "password": "wrong"})
    assert "已锁定至" in r.text
    r = browser.post("/login", data={"username": "t-dispatcher", "password": PASSWORD})
    assert r.status_code == 401 and "已锁定至" in r.text  # even the right password waits
    assert 'value="t-dispatcher"' in r.text  # what was typed is kept
    clock.advance(timedelta(minutes=16))
    assert browser.post("/login", data={"username": "t-dispatcher", "password": PASSWORD}).status_code == 303
    # An unknown user gets the same answer as a wrong password.
    r = browser.post("/login", data={"username": "nobody", "password": "x"})
    assert r.status_code == 401 and "用户名或密码错误" in r.text


def test_a_form_posted_without_its_csrf_token_is_refused_and_signing_out_ends_the_session(site):
    browser, csrf = site.signed_in("agent")
    r = browser.post("/logout", data={})
    assert r.status_code == 403 and "页面已过期" in r.text
    r = browser.post("/logout", data={"csrf": "forged"})
    assert r.status_code == 403
    assert browser.get("/tickets").status_code == 200  # still signed in
    r = browser.post("/logout", data={"csrf": csrf})
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert browser.get("/tickets").status_code == 303


def test_a_handler_sees_their_units_ticket_and_not_another_units(site, session, people):
    ticket = make_ticket(session, people, make_ticket.__globals__["Status"].dispatched)
    session.commit()
    mine, _ = site.signed_in("handler_a")
    page = mine.get(f"/tickets/{ticket.number}")
    assert page.status_code == 200 and ticket.number in page.text and "夏县水利局" in page.text
    assert "派单" in page.text and "签收" in page.text  # timeline and deadlines
    other, _ = site.signed_in("handler_b")
    refused = other.get(f"/tickets/{ticket.number}")
    assert refused.status_code == 404 and "不存在或不在" in refused.text
    assert ticket.number not in other.get("/tickets").text
