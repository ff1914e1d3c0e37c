"""The unit inbox: sections, countdowns, the unit's actions, other units refused, CSRF."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from hotline.kit import clock
from hotline.tickets import lifecycle
from hotline.tickets.models import RequestType, TicketRequest
from hotline.tickets.states import Status
from hotline.web.routes.unit import countdown
from tests.builders import make_ticket

DISPATCHED_AT = datetime(2026, 11, 25, 1, 26, tzinfo=UTC)  # a Wednesday, 09:26 in Shanghai


def section(html: str, name: str) -> str:
    """The HTML of one inbox section (from its heading to the next section)."""
    start = html.index(f"<h2>{name} ")
    end = html.find("<h2>", start + 4)
    return html[start:end if end > 0 else None]


def row(html: str, number: str) -> str:
    """The HTML of the table row of ticket ``number``."""
    at = html.index(f'href="/tickets/{number}"')
    return html[html.rindex("<tr", 0, at):html.index("</tr>", at)]


def test_countdown_text():
    now = datetime(2026, 5, 6, 9, 0)
    # Hours and minutes under a day (never 1 h 59 m read as 「1 小时」), days and hours beyond.
    assert countdown(now + timedelta(hours=5, minutes=20), now) == "剩余 5 小时 20 分"
    assert countdown(now + timedelta(hours=1, minutes=59, seconds=30), now) == "剩余 1 小时 59 分"
    assert countdown(now + timedelta(hours=5), now) == "剩余 5 小时"
    assert countdown(now - timedelta(hours=3, minutes=1), now) == "已超期 3 小时 1 分"
    assert countdown(now + timedelta(minutes=30), now) == "剩余 30 分钟"
    assert countdown(now + timedelta(hours=30, minutes=40), now) == "剩余 1 天 6 小时"
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
    assert r.status_code == 303 and r.headers["location"] == f"/unit?done=accept&number={number}"
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
    ticket = make_ticket(session, people, Status.in_progress)
    session.commit()
    clock.freeze(ticket.reply_due_at + timedelta(hours=3, minutes=5))
    client, _ = site.signed_in("handler_a")
    late = section(client.get("/unit").text, "已超期")
    assert ticket.number in late and "反馈已超期 3 小时" in late and "反馈超期" in late
    assert f'action="/unit/{ticket.number}/reply"' in row(late, ticket.number)  # worked on from here too
    admin, _ = site.signed_in("admin")
    assert "请选择承办单位" in admin.get("/unit").text
    assert ticket.number in admin.get(f"/unit?unit_id={people.unit_a}").text
    agent, _ = site.signed_in("agent")
    assert agent.get("/unit").status_code == 403


def test_a_refused_action_on_a_ticket_listed_twice_opens_its_form_once(site, session, people):
    ticket = make_ticket(session, people, Status.in_progress)
    session.commit()
    clock.freeze(ticket.reply_due_at + timedelta(hours=1))  # 办理中 and 已超期 both list it
    client, csrf = site.signed_in("handler_a")
    r = client.post(f"/unit/{ticket.number}/reply", data={"csrf": csrf, "text": " "})
    assert r.status_code == 422 and r.text.count(f'href="/tickets/{ticket.number}"') == 2
    assert r.text.count('<details class="actions" open>') == 1


def test_a_refused_action_keeps_the_address_bar_on_the_inbox(site, session, people):
    """htmx draws the refusal in place; without ``HX-Push-Url: false`` the address bar showed the
    form's action (/unit/N/suspend), and a reload fetched it by GET: 405."""
    ticket = make_ticket(session, people, Status.in_progress)
    session.commit()
    client, csrf = site.signed_in("handler_a")
    r = client.post(f"/unit/{ticket.number}/suspend", data={"csrf": csrf, "reason": ""},
                    headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert r.status_code == 422 and "挂起理由" in r.text and r.headers["HX-Push-Url"] == "false"
    assert client.get(f"/unit/{ticket.number}/suspend").status_code == 405  # what a reload of that address got
    r = client.post(f"/unit/{ticket.number}/suspend", data={"csrf": csrf, "reason": "等待来电人补充材料"},
                    headers={"HX-Request": "true"}, follow_redirects=False)
    assert r.status_code == 303 and "HX-Push-Url" not in r.headers  # a success goes to /unit?done=…


def test_a_unit_action_without_its_csrf_token_is_refused(site, session, people):
    ticket = make_ticket(session, people, Status.dispatched)
    session.commit()
    client, _ = site.signed_in("handler_a")
    r = client.post(f"/unit/{ticket.number}/accept", data={})
    assert r.status_code == 403 and "页面已过期" in r.text
    assert ticket.number in section(client.get("/unit").text, "待签收")


def test_the_row_shows_urgency_and_counts_down_to_the_next_deadline_the_unit_must_meet(site, session, people):
    clock.freeze(DISPATCHED_AT)
    urgent = make_ticket(session, people, Status.dispatched)  # the builder registers as 紧急
    emergency = make_ticket(session, people, Status.dispatched, urgency="emergency")
    normal = make_ticket(session, people, Status.dispatched, urgency="normal")
    session.commit()
    accept_due, contact_due = urgent.accept_due_at, urgent.contact_due_at
    assert accept_due < contact_due < urgent.reply_due_at
    clock.freeze(DISPATCHED_AT + timedelta(minutes=1))
    client, csrf = site.signed_in("handler_a")
    waiting = section(client.get("/unit").text, "待签收")
    mine = row(waiting, urgent.number)
    assert '<span class="badge urgency-urgent">紧急</span>' in mine
    # 签收 is due first: the row names it and counts down to it, not to the reply two days away.
    assert f"签收{countdown(accept_due, clock.now())}" in mine and "签收剩余 1 小时 59 分" in mine
    assert clock.local(accept_due).strftime("%m-%d %H:%M") in mine and "反馈剩余" not in mine
    assert "特急" in row(waiting, emergency.number) and "紧急" not in row(waiting, emergency.number)
    assert "urgency-" not in row(waiting, normal.number) and "一般" not in row(waiting, normal.number)

    assert client.post(f"/unit/{urgent.number}/accept", data={"csrf": csrf}).status_code == 303
    mine = row(section(client.get("/unit").text, "办理中"), urgent.number)
    assert f"联系来电人{countdown(contact_due, clock.now())}" in mine and "签收剩余" not in mine
    assert client.post(f"/unit/{urgent.number}/contact", data={"csrf": csrf}).status_code == 303
    mine = row(section(client.get("/unit").text, "办理中"), urgent.number)
    assert "反馈剩余 1 天 23 小时" in mine and "联系来电人剩余" not in mine

    # Past its 签收 deadline the row says which deadline was missed, and the ticket is under 已超期.
    clock.freeze(emergency.accept_due_at + timedelta(minutes=30))
    client, _ = site.signed_in("handler_a")
    late = row(section(client.get("/unit").text, "已超期"), emergency.number)
    assert "签收已超期 30 分钟" in late and "签收超期" in late


def test_a_suspended_ticket_shows_its_clock_paused_not_overdue(site, session, people):
    ticket = make_ticket(session, people, Status.suspended)
    session.commit()
    for moved in (ticket.reply_due_at - timedelta(hours=5), ticket.reply_due_at + timedelta(days=3, hours=5)):
        clock.freeze(moved)
        client, _ = site.signed_in("handler_a")
        page = client.get("/unit").text
        mine = row(section(page, "办理中"), ticket.number)
        assert "已挂起" in mine and "已暂停计时" in mine
        assert "已超期" not in mine and "剩余" not in mine and "超期</span>" not in mine
        assert ticket.number not in section(page, "已超期") and ticket.number not in section(page, "即将到期")


def test_the_handler_suspends_while_waiting_for_the_caller_and_resumes_with_the_time_given_back(site, session, people):
    clock.freeze(DISPATCHED_AT)
    ticket = make_ticket(session, people, Status.in_progress)
    session.commit()
    number, due = ticket.number, ticket.reply_due_at
    client, csrf = site.signed_in("handler_a")
    mine = row(client.get("/unit").text, number)
    assert f"/unit/{number}/suspend" in mine and f"/unit/{number}/resume" not in mine
    r = client.post(f"/unit/{number}/suspend", data={"csrf": csrf, "reason": " "})
    assert r.status_code == 422 and "挂起理由" in r.text  # a reason is needed
    r = client.post(f"/unit/{number}/suspend", data={"csrf": csrf, "reason": "等待来电人提供购房合同"})
    assert r.status_code == 303 and r.headers["location"] == f"/unit?done=suspend&number={number}"
    page = client.get(r.headers["location"]).text
    assert f"工单 {number} 已挂起" in page
    mine = row(page, number)
    # Suspended: only 恢复办理 is offered (contact, reply, extension and return would fail).
    assert "已暂停计时" in mine and f"/unit/{number}/resume" in mine
    for gone in ("contact", "reply", "extension", "return", "suspend"):
        assert f"/unit/{number}/{gone}" not in mine
    clock.freeze(DISPATCHED_AT + timedelta(hours=3))
    r = client.post(f"/unit/{number}/resume", data={"csrf": csrf, "note": "来电人已提供合同"})
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert f"工单 {number} 已恢复办理" in page and f"/unit/{number}/reply" in row(page, number)
    session.expire_all()
    back = session.get(type(ticket), ticket.id)
    assert back.status == Status.in_progress and back.reply_due_at > due  # the paused time is given back


def test_each_action_in_the_inbox_is_confirmed_with_a_notice(site, session, people):
    first = make_ticket(session, people, Status.dispatched)
    second = make_ticket(session, people, Status.accepted)
    session.commit()
    client, csrf = site.signed_in("handler_a")

    def done(path: str, **form: str) -> str:
        r = client.post(path, data={"csrf": csrf, **form})
        assert r.status_code == 303 and r.headers["location"].startswith("/unit?")
        return client.get(r.headers["location"]).text

    assert f'<p class="notice" role="status">工单 {first.number} 已签收</p>' in done(f"/unit/{first.number}/accept")
    assert f"工单 {first.number} 已记录联系来电人" in done(f"/unit/{first.number}/contact", note="已电话联系")
    assert f"工单 {first.number} 已申请延期，等待热线中心审批" in done(
        f"/unit/{first.number}/extension", amount="３", reason="需协调多个部门")  # full-width, as an IME types it
    with site.db.transaction(write=False) as s:
        asked = s.query(TicketRequest).filter_by(ticket_id=first.id, type=RequestType.extension).one()
        assert asked.amount == 3
    page = done(f"/unit/{first.number}/reply", text="已更换闸阀，恢复供水")
    assert f"工单 {first.number} 已反馈，等待热线中心审核" in page
    assert f'href="/tickets/{first.number}"' not in page  # it left the inbox, and the notice says where it went
    assert f"工单 {second.number} 已申请退单，等待热线中心审核" in done(f"/unit/{second.number}/return",
                                                                   reason="不属于本单位职责")
    # A plain visit shows no notice, and a crafted link cannot put its own words on the page.
    assert 'class="notice"' not in client.get("/unit").text
    assert 'class="notice"' not in client.get("/unit?done=accept&number=请拨打 400 电话").text
    assert 'class="notice"' not in client.get(f"/unit?done=任意文字&number={first.number}").text


def test_the_co_handler_sees_its_own_part_not_the_lead_units(site, session, people):
    clock.freeze(DISPATCHED_AT)
    ticket = make_ticket(session, people, Status.accepted)  # the lead (水利局) has signed; the co has not
    session.commit()
    client, csrf = site.signed_in("handler_a_co")
    page = client.get("/unit").text
    mine = row(section(page, "待签收"), ticket.number)
    assert "<td><span class=\"nowrap\">待签收</span> <small" in mine and "主办已签收" in mine and "协办" in mine
    assert "签收剩余" in mine and "联系来电人" not in mine  # calling the caller back is the lead's
    assert ticket.number not in section(page, "办理中")

    # Its own 签收 is late although the lead signed in time: 已超期, under its name.
    clock.freeze(ticket.accept_due_at + timedelta(hours=1, minutes=1))
    client, csrf = site.signed_in("handler_a_co")
    page = client.get("/unit").text
    mine = row(section(page, "已超期"), ticket.number)
    assert "签收已超期 1 小时" in mine and "签收超期" in mine

    assert client.post(f"/unit/{ticket.number}/accept", data={"csrf": csrf}).status_code == 303
    page = client.get("/unit").text
    mine = row(section(page, "办理中"), ticket.number)
    assert "<td><span class=\"nowrap\">已签收</span> <small" in mine and "反馈剩余" in mine
    # The lead's missed 联系来电人 is not the co-handler's: the co's row is not overdue.
    clock.freeze(ticket.contact_due_at + timedelta(hours=1))
    client, _ = site.signed_in("handler_a_co")
    page = client.get("/unit").text
    assert ticket.number not in section(page, "已超期") and "超期" not in row(section(page, "办理中"), ticket.number)
    lead, _ = site.signed_in("handler_a")
    assert "联系来电人已超期 1 小时" in row(section(lead.get("/unit").text, "已超期"), ticket.number)


def test_a_return_waiting_for_the_centre_offers_nothing_that_would_fail(site, session, people):
    before_accepting = make_ticket(session, people, Status.dispatched)
    lifecycle.request_return(session, before_accepting, actor=people.handler_a, reason="不属于本单位职责")
    after_accepting = make_ticket(session, people, Status.return_requested)
    session.commit()
    client, csrf = site.signed_in("handler_a")
    page = client.get("/unit").text
    for ticket in (before_accepting, after_accepting):
        mine = row(page, ticket.number)
        assert "退单待审" in mine and "退单待审，等待热线中心处理" in mine
        assert "<button" not in mine and "剩余" not in mine
        # The 截止时间 cell starts with its text, not an empty line before 「反馈 …」.
        deadline = re.findall(r'<td class="nowrap">(.*?)</td>', mine, re.S)[1]
        assert deadline.startswith('<small class="muted">反馈 '), deadline
    # Posted anyway (an old page), the refusal names no action of the centre's.
    r = client.post(f"/unit/{before_accepting.number}/accept", data={"csrf": csrf})
    assert r.status_code == 409 and "不能签收" in r.text and "改派" not in r.text and "当前可执行" not in r.text
    # Its co-handler still signs for its own part.
    co, _ = site.signed_in("handler_a_co")
    assert f"/unit/{after_accepting.number}/accept" in row(co.get("/unit").text, after_accepting.number)


def test_the_place_is_not_repeated_when_the_address_adds_nothing(site, session, people):
    same = make_ticket(session, people, Status.dispatched, address="夏县裴介镇朱吕村")
    more = make_ticket(session, people, Status.dispatched, address="夏县裴介镇朱吕村村东供水闸阀井")
    session.commit()
    client, _ = site.signed_in("handler_a")
    page = client.get("/unit").text
    assert "<td>夏县裴介镇朱吕村</td>" in row(page, same.number)
    assert "<td>夏县裴介镇朱吕村（村东供水闸阀井）</td>" in row(page, more.number)


def test_the_action_buttons_keep_their_labels_on_one_line(site):
    css = site.browser().get("/static/app.css").text
    rule = css[css.index(".actions form button {"):]
    assert "white-space: nowrap" in rule[:rule.index("}")]
    form = css[css.index(".actions form {"):]
    assert "flex-wrap: wrap" in form[:form.index("}")]


def test_the_inbox_offers_the_reply_only_once_the_caller_is_contacted(site, session, people):
    ticket = make_ticket(session, people, Status.accepted)
    session.commit()
    client, csrf = site.signed_in("handler_a")
    mine = row(client.get("/unit").text, ticket.number)
    # 已签收: the lifecycle takes 反馈 only from 办理中, so the row offers 联系来电人 and says so.
    assert f"/unit/{ticket.number}/contact" in mine and f"/unit/{ticket.number}/reply" not in mine
    assert "联系来电人后（办理中）可提交反馈" in mine
    co, co_csrf = site.signed_in("handler_a_co")  # a co-handler replies on its accepted part while the lead's is 已签收
    assert co.post(f"/unit/{ticket.number}/accept", data={"csrf": co_csrf}).status_code == 303
    assert f"/unit/{ticket.number}/reply" in row(co.get("/unit").text, ticket.number)
    assert client.post(f"/unit/{ticket.number}/contact", data={"csrf": csrf, "note": "已电话联系"}).status_code == 303
    mine = row(client.get("/unit").text, ticket.number)
    assert f"/unit/{ticket.number}/reply" in mine and ">反馈</button>" in mine


def test_a_reopened_ticket_is_marked_with_why_in_the_inbox(site, session, people):
    fresh = make_ticket(session, people, Status.dispatched)
    reopened = make_ticket(session, people, Status.callback_done)  # 来电人：「水还是时有时无」
    lifecycle.reopen(session, reopened, actor=people.agent, reason="水压仍不稳定，请再次检修")
    session.commit()
    client, _ = site.signed_in("handler_a")
    page = section(client.get("/unit").text, "待签收")
    again = row(page, reopened.number)
    assert ">重办</span>" in again and "重办理由：水压仍不稳定，请再次检修" in again
    assert "来电人意见：水还是时有时无" in again
    assert "重办" not in row(page, fresh.number)
