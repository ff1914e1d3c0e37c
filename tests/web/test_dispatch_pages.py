"""The dispatcher's queue: the catalogue's suggestion pre-selected, dispatch, reviews, refusals."""

from __future__ import annotations

from sqlalchemy import select

from hotline.accounts.models import Role
from hotline.tickets import lifecycle
from hotline.tickets.models import Ticket, TicketUnit, UnitTaskStatus
from hotline.tickets.states import Status
from hotline.web.render import NAV
from tests.builders import make_ticket


def _status(site, number: str) -> Status:
    with site.db.transaction(write=False) as s:
        return s.scalar(select(Ticket.status).where(Ticket.number == number))


def test_the_dispatcher_sees_the_suggestion_pre_selected_and_dispatches(site, session, people):
    assert NAV[Role.dispatcher][0] == ("/dispatch", "派单")
    ticket = make_ticket(session, people)
    session.commit()
    dispatcher, csrf = site.signed_in("dispatcher")
    assert dispatcher.get("/").headers["location"] == "/dispatch"
    page = dispatcher.get("/dispatch")
    assert page.status_code == 200 and ticket.number in page.text
    assert f'<option value="{people.unit_a}" selected>夏县水利局</option>' in page.text
    r = dispatcher.post(f"/dispatch/{ticket.number}", data={"csrf": csrf, "lead_unit_id": str(people.unit_a)})
    assert r.status_code == 303 and r.headers["location"].startswith("/dispatch?done=")
    assert _status(site, ticket.number) == Status.dispatched
    after = dispatcher.get(r.headers["location"])
    assert f"工单 {ticket.number} 已派单" in after.text and "没有待派单的工单" in after.text


def test_returns_extensions_and_replies_are_reviewed_from_the_queue(site, session, people):
    returned = make_ticket(session, people, Status.return_requested)
    replied = make_ticket(session, people, Status.replied)
    extended = make_ticket(session, people, Status.accepted)
    lifecycle.request_extension(session, extended, actor=people.handler_a, amount=3, reason="需要采购配件")
    session.commit()
    dispatcher, csrf = site.signed_in("dispatcher")
    page = dispatcher.get("/dispatch").text
    for number in (returned.number, replied.number, extended.number):
        assert number in page
    assert "不属于本单位职责" in page and "需要采购配件" in page and "已更换闸阀阀杆" in page
    # A refused action shows the Chinese error and changes nothing.
    r = dispatcher.post(f"/dispatch/{returned.number}/reject-return", data={"csrf": csrf, "reason": ""})
    assert r.status_code == 422 and "驳回理由" in r.text and 'class="error"' in r.text
    assert _status(site, returned.number) == Status.return_requested
    r = dispatcher.post(f"/dispatch/{returned.number}/redispatch",
                        data={"csrf": csrf, "lead_unit_id": str(people.unit_b)})
    assert r.status_code == 303 and _status(site, returned.number) == Status.dispatched
    r = dispatcher.post(f"/dispatch/{extended.number}/approve-extension", data={"csrf": csrf})
    assert r.status_code == 303
    r = dispatcher.post(f"/dispatch/{replied.number}/send-back-reply", data={"csrf": csrf, "reason": "未说明是否恢复供水"})
    assert r.status_code == 303 and _status(site, replied.number) == Status.in_progress
    page = dispatcher.get("/dispatch").text
    assert "没有待审核的退单申请" in page and "没有待审批的延期申请" in page and "没有待审核的反馈" in page
    # An action the ticket's status does not allow is refused with the reason.
    r = dispatcher.post(f"/dispatch/{replied.number}/accept-reply", data={"csrf": csrf})
    assert r.status_code == 409 and "不能" in r.text


def test_an_extension_request_pending_at_the_reply_leaves_the_queue(site, session, people):
    ticket = make_ticket(session, people, Status.accepted)
    lifecycle.request_extension(session, ticket, actor=people.handler_a, amount=2, reason="需要采购闸阀配件")
    session.commit()
    handler, csrf = site.signed_in("handler_a")
    for action, data in (("contact", {}), ("reply", {"text": "已更换闸阀，恢复供水"})):
        assert handler.post(f"/unit/{ticket.number}/{action}", data={"csrf": csrf, **data}).status_code == 303
    dispatcher, _ = site.signed_in("dispatcher")
    page = dispatcher.get("/dispatch").text
    waiting = page[page.index("<h2>延期待审批</h2>"):page.index("<h2>反馈待审核</h2>")]
    assert ticket.number not in waiting and "没有待审批的延期申请" in waiting
    assert ticket.number in page[page.index("<h2>反馈待审核</h2>"):]  # the reply waits for review
    assert "已反馈，延期申请自动撤销" in dispatcher.get(f"/tickets/{ticket.number}").text


def test_a_handler_gets_403_and_a_post_without_csrf_is_refused(site, session, people):
    ticket = make_ticket(session, people)
    session.commit()
    handler, handler_csrf = site.signed_in("handler_a")
    r = handler.get("/dispatch")
    assert r.status_code == 403 and "派单员" in r.text
    r = handler.post(f"/dispatch/{ticket.number}", data={"csrf": handler_csrf, "lead_unit_id": str(people.unit_a)})
    assert r.status_code == 403
    dispatcher, _ = site.signed_in("dispatcher")
    r = dispatcher.post(f"/dispatch/{ticket.number}", data={"lead_unit_id": str(people.unit_a)})
    assert r.status_code == 403 and "页面已过期" in r.text
    assert _status(site, ticket.number) == Status.registered


def _parts(site, number: str) -> dict[int, str]:
    """The ticket's units of the current round: unit id → role (lead, co)."""
    with site.db.transaction(write=False) as s:
        rows = s.execute(select(TicketUnit.unit_id, TicketUnit.role).join(Ticket, Ticket.id == TicketUnit.ticket_id)
                         .where(Ticket.number == number, TicketUnit.status != UnitTaskStatus.withdrawn)).all()
    return {u: r.value for u, r in rows}


def test_dispatching_the_suggestion_sends_its_co_handlers_which_the_dispatcher_may_change(site, session, people):
    kept, dropped, added = (make_ticket(session, people) for _ in range(3))
    session.commit()
    dispatcher, csrf = site.signed_in("dispatcher")
    page = dispatcher.get("/dispatch").text
    # The catalogue's co-handler of the suggested unit is offered ticked, bound to that lead unit.
    box = (f'<input type="checkbox" name="co_unit_id" value="{people.unit_a_co}" checked '
           f'data-with-lead="{people.unit_a}"> 协办：夏县朱吕集中供水站')
    assert page.count(box) == 3 and 'aria-label="添加协办单位"' in page
    # The form as the browser sends it: the lead, the ticked box, the empty 添加协办单位 picker.
    r = dispatcher.post(f"/dispatch/{kept.number}", data={
        "csrf": csrf, "lead_unit_id": str(people.unit_a), "co_unit_id": [str(people.unit_a_co), ""]})
    assert r.status_code == 303
    assert _parts(site, kept.number) == {people.unit_a: "lead", people.unit_a_co: "co"}
    co_handler, _ = site.signed_in("handler_a_co")
    assert kept.number in co_handler.get("/unit").text
    # Unticked: the lead alone; another unit picked: it co-handles as well.
    r = dispatcher.post(f"/dispatch/{dropped.number}", data={"csrf": csrf, "lead_unit_id": str(people.unit_a),
                                                            "co_unit_id": [""]})
    assert r.status_code == 303 and _parts(site, dropped.number) == {people.unit_a: "lead"}
    r = dispatcher.post(f"/dispatch/{added.number}", data={
        "csrf": csrf, "lead_unit_id": str(people.unit_a), "co_unit_id": [str(people.unit_a_co), str(people.unit_b)]})
    assert r.status_code == 303
    assert _parts(site, added.number) == {people.unit_a: "lead", people.unit_a_co: "co", people.unit_b: "co"}
    # The timeline names where the ticket went.
    timeline = dispatcher.get(f"/tickets/{added.number}").text
    assert "→ 夏县水利局（协办：夏县朱吕集中供水站、夏县住房和城乡建设局）" in timeline


def test_a_co_handler_picked_as_the_lead_unit_is_the_lead_only(site, session, people):
    ticket = make_ticket(session, people)
    session.commit()
    dispatcher, csrf = site.signed_in("dispatcher")
    r = dispatcher.post(f"/dispatch/{ticket.number}", data={
        "csrf": csrf, "lead_unit_id": str(people.unit_a_co), "co_unit_id": [str(people.unit_a_co)]})
    assert r.status_code == 303 and _parts(site, ticket.number) == {people.unit_a_co: "lead"}
    other = make_ticket(session, people)
    session.commit()
    r = dispatcher.post(f"/dispatch/{other.number}", data={"csrf": csrf, "lead_unit_id": str(people.unit_a), "co_unit_id": ["abc"]})
    assert r.status_code == 422 and "协办单位无效" in r.text and _status(site, other.number) == Status.registered


def test_redispatch_keeps_the_co_handlers_offered_and_the_timeline_names_both_units(site, session, people):
    ticket = make_ticket(session, people, Status.return_requested)  # dispatched with unit_a_co co-handling
    session.commit()
    dispatcher, csrf = site.signed_in("dispatcher")
    page = dispatcher.get("/dispatch").text
    row = page[page.index(f'action="/dispatch/{ticket.number}/redispatch"'):]
    row = row[:row.index("</form>")]
    assert f'name="co_unit_id" value="{people.unit_a_co}" checked> 协办：夏县朱吕集中供水站' in row
    r = dispatcher.post(f"/dispatch/{ticket.number}/redispatch", data={
        "csrf": csrf, "lead_unit_id": str(people.unit_b), "co_unit_id": [str(people.unit_a_co), ""]})
    assert r.status_code == 303
    assert _parts(site, ticket.number) == {people.unit_b: "lead", people.unit_a_co: "co"}
    timeline = dispatcher.get(f"/tickets/{ticket.number}").text
    assert "夏县水利局 → 夏县住房和城乡建设局（协办：夏县朱吕集中供水站）" in timeline
    assert "→ 夏县水利局（协办：夏县朱吕集中供水站）" in timeline  # the first 派单


def test_the_queue_notice_is_only_the_apps_own_sentence(site, session, people):
    ticket = make_ticket(session, people)
    session.commit()
    dispatcher, csrf = site.signed_in("dispatcher")
    r = dispatcher.post(f"/dispatch/{ticket.number}", data={"csrf": csrf, "lead_unit_id": str(people.unit_a)})
    assert "已派单" not in r.headers["location"]  # the address carries the number and the action only
    assert f"工单 {ticket.number} 已派单" in dispatcher.get(r.headers["location"]).text
    for query in ("done=系统通知：账号即将停用，请访问 http://evil.example 重新登录",
                  f"done={ticket.number}&action=系统通知", f"done={ticket.number}x&action=dispatch",
                  "done=工单已派单"):
        page = dispatcher.get(f"/dispatch?{query}")
        assert page.status_code == 200 and 'class="notice"' not in page.text, query
