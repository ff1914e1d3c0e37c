"""The unit inbox: sections, countdowns, the unit's actions, other units refused, CSRF."""

from __future__ import annotations

from datetime import datetime, timedelta

from hotline.kit import clock
from hotline.tickets.states import Status
from hotline.web.routes.unit import countdown
from tests.builders import make_ticket


def section(html: str, name: str) -> str:
    """The HTML of one inbox section (from its heading to the next section)."""
    start = html.index(f"<h2>{name} ")
    end = html.find("<h2>", start + 4)
    return html[start:end if end > 0 else None]


def test_countdown_text():
    now = datetime(2026, 5, 6, 9, 0)
    assert countdown(now + timedelta(hours=5, minutes=20), now) == "剩余 5 小时"
    assert countdown(now - timedelta(hours=3, minutes=1), now) == "已超期 3 小时"
    assert countdown(now + timedelta(minutes=30), now) == "剩余 30 分钟"
    assert countdown(now + timedelta(days=3, hours=2), now) == "剩余 3 天 2 小时"
    assert countdown(None, now) == ""


def test_the_handler_accepts_then_replies_from_the_inbox(site, session, people):
    ticket = make_ticket(session, people, Status.dispatched)
    session.commit()
    number = ticket.number
    client, csrf = site.signed_in("handler_a")
    assert client.get("/").headers["location"] == "/unit"
    page = client.get("/unit")
    assert page.status_code == 200 and "本单位工单" in page.text
    waiting = section(page.text, "待签收")
    assert f'href="/tickets/{number}"' in waiting and "剩余" in waiting
    assert f"/unit/{number}/accept" in waiting and 'name="csrf"' in waiting

    r = client.post(f"/unit/{number}/accept", data={"csrf": csrf})
    assert r.status_code == 303 and r.headers["location"] == "/unit"
    page = client.get("/unit").text
    assert number not in section(page, "待签收") and number in section(page, "办理中")

    # A refused reply (empty text) says why in Chinese; a refused extension keeps what was typed.
    r = client.post(f"/unit/{number}/reply", data={"csrf": csrf, "text": "  "})
    assert r.status_code == 422 and 'class="error"' in r.text and "办理结果" in r.text
    r = client.post(f"/unit/{number}/extension", data={"csrf": csrf, "amount": "99", "reason": "需协调多个部门"})
    assert r.status_code == 422 and "延期时长" in r.text and 'value="需协调多个部门"' in r.text

    r = client.post(f"/unit/{number}/contact", data={"csrf": csrf, "note": "已电话联系"})
    assert r.status_code == 303
    r = client.post(f"/unit/{number}/reply", data={"csrf": csrf, "text": "已更换闸阀，恢复供水"})
    assert r.status_code == 303
    assert number not in client.get("/unit").text
    detail = client.get(f"/tickets/{number}").text
    assert "已更换闸阀，恢复供水" in detail


def test_the_co_handler_accepts_its_part(site, session, people):
    ticket = make_ticket(session, people, Status.accepted)
    session.commit()
    client, csrf = site.signed_in("handler_a_co")
    page = client.get("/unit").text
    assert ticket.number in section(page, "待签收") and "协办" in page
    assert client.post(f"/unit/{ticket.number}/accept", data={"csrf": csrf}).status_code == 303
    page = client.get("/unit").text
    assert ticket.number in section(page, "办理中") and "协办反馈" in page
    assert f"/unit/{ticket.number}/return" not in page  # returning is the lead unit's
    assert client.post(f"/unit/{ticket.number}/reply", data={"csrf": csrf, "text": "供水站已配合抢修"}).status_code == 303
    assert ticket.number not in client.get("/unit").text


def test_another_units_handler_neither_sees_nor_accepts_the_ticket(site, session, people):
    ticket = make_ticket(session, people, Status.dispatched)
    session.commit()
    client, csrf = site.signed_in("handler_b")
    assert ticket.number not in client.get("/unit").text
    r = client.post(f"/unit/{ticket.number}/accept", data={"csrf": csrf})
    assert r.status_code == 404 and "不存在或不在" in r.text


def test_an_overdue_ticket_is_listed_under_overdue_and_the_admin_picks_the_unit(site, session, people):
    ticket = make_ticket(session, people, Status.accepted)
    session.commit()
    clock.freeze(ticket.reply_due_at + timedelta(hours=3, minutes=5))
    client, _ = site.signed_in("handler_a")
    late = section(client.get("/unit").text, "已超期")
    assert ticket.number in late and "已超期 3 小时" in late
    admin, _ = site.signed_in("admin")
    assert "请选择承办单位" in admin.get("/unit").text
    assert ticket.number in admin.get(f"/unit?unit_id={people.unit_a}").text
    agent, _ = site.signed_in("agent")
    assert agent.get("/unit").status_code == 403


def test_a_unit_action_without_its_csrf_token_is_refused(site, session, people):
    ticket = make_ticket(session, people, Status.dispatched)
    session.commit()
    client, _ = site.signed_in("handler_a")
    r = client.post(f"/unit/{ticket.number}/accept", data={})
    assert r.status_code == 403 and "页面已过期" in r.text
    assert ticket.number in section(client.get("/unit").text, "待签收")
