"""The supervisor board: counts by unit, overdue tickets, urging by hand, who may see it."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta

from sqlalchemy import func, select, update

from hotline.accounts.models import User
from hotline.kit import clock
from hotline.tickets.models import TicketEvent
from hotline.tickets.states import Status
from tests.builders import make_ticket


def test_the_supervisor_urges_an_overdue_ticket(site, session, people):
    clock.freeze(clock.now())
    ticket = make_ticket(session, people, Status.accepted)
    session.commit()
    client, csrf = site.signed_in("supervisor")
    assert client.get("/").headers["location"] == "/supervision"
    page = client.get("/supervision").text
    assert "督办看板" in page and "夏县水利局" in page and "暂无超期工单" in page
    clock.advance(ticket.reply_due_at - clock.now() + timedelta(hours=2))
    client, csrf = site.signed_in("supervisor")  # days later: a fresh sign-in
    page = client.get("/supervision").text
    assert f"/supervision/{ticket.number}/urge" in page and "已超期" in page and "反馈" in page
    r = client.post(f"/supervision/{ticket.number}/urge", data={"csrf": csrf, "note": "请今天内反馈"})
    assert r.status_code == 303
    assert f"已催办工单 {ticket.number}" in client.get(r.headers["location"]).text
    timeline = client.get(f"/tickets/{ticket.number}").text
    assert "催办" in timeline and "请今天内反馈" in timeline


def test_urging_a_closed_ticket_is_refused_in_chinese(site, session, people):
    ticket = make_ticket(session, people, Status.closed)
    session.commit()
    client, csrf = site.signed_in("admin")
    r = client.post(f"/supervision/{ticket.number}/urge", data={"csrf": csrf, "note": "看看"})
    assert r.status_code == 409 and "不能催办" in r.text


def test_a_handler_may_not_open_the_board_and_a_post_without_csrf_is_refused(site, session, people):
    ticket = make_ticket(session, people, Status.accepted)
    session.commit()
    handler, csrf = site.signed_in("handler_a")
    assert handler.get("/supervision").status_code == 403
    assert handler.post(f"/supervision/{ticket.number}/urge", data={"csrf": csrf}).status_code == 403
    supervisor, _ = site.signed_in("supervisor")
    r = supervisor.post(f"/supervision/{ticket.number}/urge", data={"note": "x"})
    assert r.status_code == 403 and "页面已过期" in r.text
    dispatcher, _ = site.signed_in("dispatcher")
    assert dispatcher.get("/supervision").status_code == 200


def test_the_supervisor_sees_late_work_by_unit_and_township_and_issues_a_supervision_order(site, session, people):
    clock.freeze(clock.now())
    ticket = make_ticket(session, people, Status.accepted)
    session.commit()
    clock.advance(ticket.reply_due_at - clock.now() + timedelta(hours=2))
    supervisor, csrf = site.signed_in("supervisor")
    board = supervisor.get("/supervision").text
    chart = json.loads(html.unescape(re.search(r"data-chart='([^']*)'", board).group(1)))
    assert chart["yAxis"]["data"] == ["夏县水利局"] and chart["series"][1] == chart["series"][1] | {"name": "超期", "data": [1]}
    assert "裴介镇" in board.split("各乡镇在办与超期")[1].split("</table>")[0]
    # A refusal keeps what was typed: the note is required.
    r = supervisor.post(f"/supervision/{ticket.number}/supervise",
                        data={"csrf": csrf, "level": "key", "working_days": "3", "note": " "})
    assert r.status_code == 422 and "督办意见" in r.text
    assert '<option value="key" selected>' in r.text and 'value="3"' in r.text
    r = supervisor.post(f"/supervision/{ticket.number}/supervise",
                        data={"csrf": csrf, "level": "listed", "working_days": "99", "note": "限期解决"})
    assert r.status_code == 422 and "1–30 个工作日" in r.text
    r = supervisor.post(f"/supervision/{ticket.number}/supervise",
                        data={"csrf": csrf, "level": "key", "working_days": "3", "note": "请三日内解决并答复"})
    assert r.status_code == 303
    assert f"已对工单 {ticket.number} 下达督办单" in supervisor.get(r.headers["location"]).text
    assert "请三日内解决并答复" in supervisor.get(f"/tickets/{ticket.number}").text
    # Dispatchers see the board and may urge, but only supervisors and admins issue orders.
    dispatcher, dcsrf = site.signed_in("dispatcher")
    assert "下达督办单" not in dispatcher.get("/supervision").text
    r = dispatcher.post(f"/supervision/{ticket.number}/supervise", data={"csrf": dcsrf, "note": "督办"})
    assert r.status_code == 403


def test_the_board_counts_every_open_order_not_just_a_page_of_them(site, session, people):
    from hotline.supervision.models import OrderLevel, OrderState, SupervisionOrder

    ticket = make_ticket(session, people, Status.accepted)
    now = clock.now()
    for i in range(130):
        state = OrderState.open if i < 123 else OrderState.answered
        session.add(SupervisionOrder(ticket_id=ticket.id, unit_id=people.unit_a, level=OrderLevel.general,
                                     state=state, note=f"督办 {i}", issued_at=now, due_at=now + timedelta(days=3)))
    session.commit()
    supervisor, _ = site.signed_in("supervisor")
    board = supervisor.get("/supervision").text
    assert "未结督办单 123 件" in board
    listed = _order_section(board)
    assert "按答复时限列出前 50 件" in listed and listed.count(f'href="/tickets/{ticket.number}#orders"') == 50


def test_the_board_lists_the_open_orders_earliest_due_first_with_the_late_ones_marked(site, session, people):
    from hotline.supervision.models import OrderLevel, OrderState, SupervisionOrder

    late, soon, done = (make_ticket(session, people, Status.accepted) for _ in range(3))
    now = clock.now()
    for ticket, due, state, note in ((soon, now + timedelta(days=2), OrderState.open, "两日内答复"),
                                     (late, now - timedelta(hours=5), OrderState.open, "逾期未复"),
                                     (done, now + timedelta(days=1), OrderState.answered, "已经答复")):
        session.add(SupervisionOrder(ticket_id=ticket.id, unit_id=people.unit_a, level=OrderLevel.key, state=state,
                                     note=note, issued_at=now - timedelta(days=1), due_at=due))
    session.commit()
    supervisor, _ = site.signed_in("supervisor")
    listed = _order_section(supervisor.get("/supervision").text)
    assert "未结督办单 <small>（2）" in listed
    assert listed.index("逾期未复") < listed.index("两日内答复")  # the earliest due first
    assert "已经答复" not in listed
    row = listed[listed.rindex("<tr", 0, listed.index("逾期未复")):listed.index("</tr>", listed.index("逾期未复"))]
    assert 'class="late"' in row and "已超期 5 小时" in row and "重点督办" in row


def _order_section(page: str) -> str:
    return page.split('<section class="card" id="orders">', 1)[1].split("</section>", 1)[0] if 'id="orders"' in page else ""


def test_the_ordered_unit_sees_the_order_in_its_inbox_and_answers_it_on_the_ticket_page(site, session, people):
    ticket = make_ticket(session, people, Status.accepted)
    session.commit()
    supervisor, csrf = site.signed_in("supervisor")
    r = supervisor.post(f"/supervision/{ticket.number}/supervise",
                        data={"csrf": csrf, "level": "key", "working_days": "2", "note": "请两日内修复并答复"})
    assert r.status_code == 303
    # The unit's inbox points to it; the ticket page shows it with a form to answer.
    handler, hcsrf = site.signed_in("handler_a")
    inbox = _order_section(handler.get("/unit").text)
    assert "督办单待答复" in inbox and f'href="/tickets/{ticket.number}#orders"' in inbox
    assert "重点督办" in inbox and "请两日内修复并答复" in inbox
    page = handler.get(f"/tickets/{ticket.number}").text
    action = re.search(rf'action="(/tickets/{ticket.number}/supervision/\d+/answer)"', page).group(1)
    assert "请两日内修复并答复" in _order_section(page)
    r = handler.post(action, data={"csrf": hcsrf, "answer": " "})
    assert r.status_code == 422 and "督办答复不能为空" in r.text
    r = handler.post(action, data={"csrf": hcsrf, "answer": "已更换阀门，漏水已止住"})
    assert r.status_code == 303
    page = handler.get(r.headers["location"]).text
    assert "督办答复已提交" in page and "已更换阀门，漏水已止住" in _order_section(page)
    assert action not in page and "督办单待答复" not in handler.get("/unit").text
    # The supervisor reads the answer on the ticket page; a second answer is refused.
    assert "已更换阀门，漏水已止住" in _order_section(supervisor.get(f"/tickets/{ticket.number}").text)
    assert handler.post(action, data={"csrf": hcsrf, "answer": "再答一次"}).status_code == 409


def test_another_unit_neither_sees_nor_answers_the_order(site, session, people):
    ticket = make_ticket(session, people, Status.accepted)
    session.commit()
    supervisor, csrf = site.signed_in("supervisor")
    supervisor.post(f"/supervision/{ticket.number}/supervise", data={"csrf": csrf, "note": "请尽快办理"})
    page = supervisor.get(f"/tickets/{ticket.number}").text
    action = re.search(r'/supervision/(\d+)/answer', page)
    assert action is None and "待答复" in _order_section(page)  # supervisors read it, they do not answer
    lead, _ = site.signed_in("handler_a")
    order_id = re.search(r'/supervision/(\d+)/answer', lead.get(f"/tickets/{ticket.number}").text).group(1)
    co, co_csrf = site.signed_in("handler_a_co")  # the co-unit sees the ticket, not the lead unit's order
    assert _order_section(co.get(f"/tickets/{ticket.number}").text) == ""
    r = co.post(f"/tickets/{ticket.number}/supervision/{order_id}/answer", data={"csrf": co_csrf, "answer": "x"})
    assert r.status_code == 404


def test_a_supervisor_bound_to_the_ordered_unit_is_offered_no_answer_the_service_would_refuse(site, session,
                                                                                             people):
    """A supervisor bound to a handling unit (possible before accounts refused it) reads orders to
    that unit; only the unit's handlers (or an admin) answer them."""
    ticket = make_ticket(session, people, Status.accepted)
    session.execute(update(User).where(User.id == people.supervisor.id).values(unit_id=people.unit_a))
    session.commit()
    supervisor, csrf = site.signed_in("supervisor")
    supervisor.post(f"/supervision/{ticket.number}/supervise", data={"csrf": csrf, "note": "请尽快办理"})
    section = _order_section(supervisor.get(f"/tickets/{ticket.number}").text)
    assert "请尽快办理" in section and "待答复" in section and "答复督办</button>" not in section


def test_the_timeline_shows_a_supervisor_acting_on_a_unit_not_as_one_of_its_staff(site, session, people):
    ticket = make_ticket(session, people, Status.accepted)
    session.commit()
    supervisor, csrf = site.signed_in("supervisor")
    supervisor.post(f"/supervision/{ticket.number}/urge", data={"csrf": csrf, "note": "请今天内反馈"})
    page = supervisor.get(f"/tickets/{ticket.number}").text
    name = people.supervisor.display_name
    assert f"{name} → 夏县水利局" in page and f"{name}（夏县水利局）" not in page


def test_a_ticket_not_yet_dispatched_is_not_offered_for_urging(site, session, people):
    clock.freeze(clock.now())
    ticket = make_ticket(session, people, Status.registered)
    session.commit()
    clock.advance(ticket.dispatch_due_at - clock.now() + timedelta(hours=1))
    supervisor, _ = site.signed_in("supervisor")
    board = supervisor.get("/supervision").text
    assert ticket.number in board and "尚未派单" in board
    assert f"/supervision/{ticket.number}/urge" not in board and f"/supervision/{ticket.number}/supervise" not in board


def test_the_warned_tickets_are_listed_to_urge_before_the_deadline_and_repeats_are_refused(site, session, people):
    from hotline.notify.templates import load_templates
    from hotline.supervision.sweep import sweep_deadlines

    load_templates(session)
    clock.freeze(clock.now())
    ticket = make_ticket(session, people, Status.accepted)
    session.commit()
    clock.freeze(ticket.reply_due_at - timedelta(minutes=30))  # warned, not yet due
    sweep_deadlines(site.db, worker="test")
    supervisor, csrf = site.signed_in("supervisor")
    board = supervisor.get("/supervision").text
    warned = board.split('id="warned"')[1].split("</section>")[0]
    assert "预警工单 <small>（1）" in warned and ticket.number in warned and "反馈" in warned
    assert f'action="/supervision/{ticket.number}/urge"' in warned
    assert '<a href="#warned">1</a>' in board  # the unit's 预警 count leads to the list
    # Urged once; a second 催办 of the same unit within the hour is refused, saying when and by whom.
    assert supervisor.post(f"/supervision/{ticket.number}/urge", data={"csrf": csrf, "note": "请抓紧"}).status_code == 303
    r = supervisor.post(f"/supervision/{ticket.number}/urge", data={"csrf": csrf, "note": "再催"})
    assert r.status_code == 409 and "1 小时内不重复催办" in r.text and people.supervisor.username in r.text
    clock.advance(timedelta(minutes=61))
    assert supervisor.post(f"/supervision/{ticket.number}/urge", data={"csrf": csrf}).status_code == 303
    # One open order of a level at a time: the same level again is refused, a higher one is issued.
    order = {"csrf": csrf, "level": "key", "working_days": "3", "note": "请三日内解决"}
    assert supervisor.post(f"/supervision/{ticket.number}/supervise", data=order).status_code == 303
    r = supervisor.post(f"/supervision/{ticket.number}/supervise", data={**order, "level": "general"})
    assert r.status_code == 409 and "已有未答复的重点督办单" in r.text
    assert supervisor.post(f"/supervision/{ticket.number}/supervise", data={**order, "level": "listed"}).status_code == 303
    # The notice after an action names a ticket number, nothing else typed into the address.
    assert "已催办工单" not in supervisor.get("/supervision?urged=任意内容").text
    assert f"已催办工单 {ticket.number}" in supervisor.get(f"/supervision?urged={ticket.number}").text


def test_the_board_lists_what_the_units_answered(site, session, people):
    from hotline.supervision import orders

    ticket = make_ticket(session, people, Status.accepted)
    order = orders.supervise(session, ticket, actor=people.supervisor, level="key", note="请三日内解决并答复")
    session.commit()
    handler, csrf = site.signed_in("handler_a")
    r = handler.post(f"/tickets/{ticket.number}/supervision/{order.id}/answer",
                     data={"csrf": csrf, "answer": "已更换闸阀，今日恢复供水"})
    assert r.status_code == 303
    supervisor, _ = site.signed_in("supervisor")
    board = supervisor.get("/supervision").text
    assert "暂无未结督办单" in board
    answered = board.split("已答复督办单")[1].split("</table>")[0]
    assert f'href="/tickets/{ticket.number}#orders"' in answered
    assert "已更换闸阀，今日恢复供水" in answered and "夏县水利局" in answered and "重点督办" in answered


def test_a_warning_leaves_the_board_once_the_unit_has_done_the_work_and_a_replied_ticket_is_not_urged(
        site, session, people):
    """Warned on 反馈 with half an hour to go, the unit replies: the ticket is no longer in 预警工单 nor in
    the unit's 预警 count, and 催办 on it is refused saying the centre has the next step."""
    from hotline.notify.templates import load_templates
    from hotline.supervision.sweep import sweep_deadlines
    from hotline.tickets import lifecycle

    load_templates(session)
    clock.freeze(clock.now())
    ticket = make_ticket(session, people, Status.in_progress)
    session.commit()
    clock.freeze(ticket.reply_due_at - timedelta(minutes=30))
    sweep_deadlines(site.db, worker="test")
    supervisor, csrf = site.signed_in("supervisor")
    board = supervisor.get("/supervision").text
    assert ticket.number in _warned_section(board) and '<a href="#warned">1</a>' in board
    lifecycle.reply(session, ticket, actor=people.handler_a, text="已更换闸阀，恢复供水")
    session.commit()
    board = supervisor.get("/supervision").text
    warned = _warned_section(board)
    assert ticket.number not in warned and "预警工单 <small>（0）" in warned and "暂无预警工单" in warned
    assert '<a href="#warned">' not in board
    r = supervisor.post(f"/supervision/{ticket.number}/urge", data={"csrf": csrf, "note": "请抓紧"})
    assert r.status_code == 409 and "反馈待审" in r.text and "等待中心审核" in r.text and "不能催办" in r.text
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(TicketEvent).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.action == "urge")) == 0


def test_a_warning_for_signing_no_longer_counts_once_the_unit_has_signed(site, session, people):
    from hotline.notify.templates import load_templates
    from hotline.supervision.sweep import sweep_deadlines
    from hotline.tickets import lifecycle

    load_templates(session)
    clock.freeze(clock.now())
    ticket = make_ticket(session, people, Status.dispatched)
    session.commit()
    clock.freeze(ticket.accept_due_at - timedelta(minutes=10))
    sweep_deadlines(site.db, worker="test")
    supervisor, _ = site.signed_in("supervisor")
    assert "签收" in _warned_section(supervisor.get("/supervision").text)
    lifecycle.accept(session, ticket, actor=people.handler_a)
    session.commit()
    warned = _warned_section(supervisor.get("/supervision").text)
    assert ticket.number not in warned


def test_a_ticket_the_unit_asked_to_hand_back_is_not_offered_for_urging(site, session, people):
    clock.freeze(clock.now())
    ticket = make_ticket(session, people, Status.return_requested)
    session.commit()
    clock.freeze(ticket.reply_due_at + timedelta(hours=1))
    supervisor, csrf = site.signed_in("supervisor")
    board = supervisor.get("/supervision").text
    assert "另有 1 件退单待审" in board  # not among the overdue: the centre decides, not the unit
    assert f'action="/supervision/{ticket.number}/urge"' not in board
    r = supervisor.post(f"/supervision/{ticket.number}/urge", data={"csrf": csrf})
    assert r.status_code == 409 and "退单待审" in r.text


def _warned_section(page: str) -> str:
    return page.split('id="warned"', 1)[1].split("</section>", 1)[0]


def test_the_notice_after_urging_says_when_the_unit_has_no_accounts_to_tell(site, session, people):
    ticket = make_ticket(session, people, Status.accepted)
    session.commit()
    supervisor, csrf = site.signed_in("supervisor")
    r = supervisor.post(f"/supervision/{ticket.number}/urge", data={"csrf": csrf})
    assert "夏县水利局已收到通知" in supervisor.get(r.headers["location"]).text
    # The unit's only handler account is switched off: nobody there hears of the next 催办 or 督办.
    session.execute(update(User).where(User.id == people.handler_a.id).values(active=False))
    session.commit()
    clock.freeze(clock.now() + timedelta(minutes=61))
    supervisor, csrf = site.signed_in("supervisor")
    page = supervisor.get(supervisor.post(f"/supervision/{ticket.number}/urge", data={"csrf": csrf})
                          .headers["location"]).text
    assert f"已催办工单 {ticket.number}" in page and "已收到通知" not in page
    assert "夏县水利局没有可接收通知的账号，单位未收到通知" in page
    r = supervisor.post(f"/supervision/{ticket.number}/supervise", data={"csrf": csrf, "note": "请尽快办理"})
    page = supervisor.get(r.headers["location"]).text
    assert f"已对工单 {ticket.number} 下达督办单" in page and "没有可接收通知的账号" in page
    assert "须按期答复" not in page


def test_a_notice_cannot_be_made_up_in_the_address(site, session, people):
    """?urged= and ?supervised= show a notice only for what this person just did to that ticket."""
    closed = make_ticket(session, people, Status.closed)
    ticket = make_ticket(session, people, Status.accepted)
    session.commit()
    supervisor, csrf = site.signed_in("supervisor")
    for query in (f"urged={closed.number}", f"supervised={closed.number}", f"urged={ticket.number}",
                  "urged=20990101-000001", "supervised=随便写的话"):
        page = supervisor.get(f"/supervision?{query}").text
        assert 'class="notice"' not in page, query
    supervisor.post(f"/supervision/{ticket.number}/urge", data={"csrf": csrf})
    assert "已催办工单" in supervisor.get(f"/supervision?urged={ticket.number}").text
    assert "下达督办单" not in supervisor.get(f"/supervision?supervised={ticket.number}").text
    admin, _ = site.signed_in("admin")  # someone else did it
    assert 'class="notice"' not in admin.get(f"/supervision?urged={ticket.number}").text
    clock.freeze(clock.now() + timedelta(minutes=30))  # long after
    supervisor, _ = site.signed_in("supervisor")
    assert 'class="notice"' not in supervisor.get(f"/supervision?urged={ticket.number}").text


def test_no_township_with_overdue_tickets_is_left_out_of_the_table(site, session, people):
    """23 townships with an overdue ticket and 4 with open ones only: all 23 are listed (the table
    stopped at 20, its 超期 column summing to 20 of 23), the other 4 folded under 另有 4 个乡镇."""
    from hotline.directory.models import Region

    villages = []
    for town in session.scalars(select(Region.code).where(Region.level == 4).order_by(Region.code)):
        village = session.scalar(select(Region.code).where(Region.parent_code == town).order_by(Region.code).limit(1))
        if village:
            villages.append(village)
        if len(villages) == 27:
            break
    assert len(villages) == 27
    clock.freeze(clock.now())
    late = [make_ticket(session, people, Status.accepted, region_code=v) for v in villages[:23]]
    clock.advance(late[-1].reply_due_at - clock.now() + timedelta(hours=1))
    for v in villages[23:]:
        make_ticket(session, people, Status.accepted, region_code=v)
    session.commit()
    supervisor, _ = site.signed_in("supervisor")
    board = supervisor.get("/supervision").text
    card = board.split("各乡镇在办与超期")[1].split("</section>")[0]
    table = card.split("</table>")[0]
    assert table.count('<tr class="late">') == 23 and "（27 个乡镇）" in card
    assert re.search(r'<th>全部乡镇合计</th><td class="num">27</td><td class="num">23</td>', table)
    folded = card.split("<details")[1]
    assert "另有 4 个乡镇有在办工单、无超期" in folded and folded.count("<tr>") == 4


def test_a_return_waiting_for_review_is_shown_beside_the_overdue_not_among_them(site, session, people):
    """The unit has handed the ticket back and the centre decides: past its reply deadline it is
    not 超期 on the board, the ticket page or the unit's inbox; the board says how many wait."""
    clock.freeze(clock.now())
    ticket = make_ticket(session, people, Status.return_requested)
    session.commit()
    clock.advance(ticket.reply_due_at - clock.now() + timedelta(hours=2))
    supervisor, _ = site.signed_in("supervisor")
    board = supervisor.get("/supervision").text
    assert "暂无超期工单" in board and "暂无预警或超期工单" in board
    assert "另有 1 件退单待审" in board and "期间不计超期" in board
    page = supervisor.get(f"/tickets/{ticket.number}").text
    assert "退单待审，不计超期" in page and "已超期" not in page
    for who in ("handler_a", "handler_a_co"):
        inbox = site.signed_in(who)[0].get("/unit").text
        assert ticket.number in inbox and "超期" not in inbox.split(ticket.number, 1)[1].split("</tr>", 1)[0], who


def _urge_cell(board: str, number: str) -> str:
    """The 催办 cell of the overdue table's row of ``number``."""
    late = board.split("超期工单 <small>", 1)[1].split("</section>", 1)[0]
    return late.split(f">{number}</a>", 1)[1].split("</tr>", 1)[0]


def test_a_ticket_urged_within_the_hour_shows_when_and_by_whom_instead_of_the_button(site, session, people):
    """The ladder (or a person) urged the unit a moment ago: the board does not offer a 催办 that
    would be refused, it says when and by whom; an hour later the button is back."""
    from hotline.supervision import orders

    clock.freeze(clock.now())
    ticket = make_ticket(session, people, Status.accepted)
    session.commit()
    clock.advance(ticket.reply_due_at - clock.now() + timedelta(hours=2))
    orders.urge(session, ticket, actor=None)  # as the escalation ladder does: by 系统
    session.commit()
    supervisor, _ = site.signed_in("supervisor")
    cell = _urge_cell(supervisor.get("/supervision").text, ticket.number)
    assert f"已催办 {clock.local(clock.now()):%H:%M}（系统）" in cell
    assert 'class="muted urged"' in cell and f"/supervision/{ticket.number}/urge" not in cell
    assert "下达督办单" in cell  # 督办 is still offered
    clock.advance(timedelta(minutes=61))
    cell = _urge_cell(supervisor.get("/supervision").text, ticket.number)
    assert "已催办" not in cell and f'action="/supervision/{ticket.number}/urge"' in cell
