"""The dispatcher's queue: the catalogue's suggestion pre-selected, dispatch, reviews, refusals."""

from __future__ import annotations

from sqlalchemy import select

from hotline.accounts.models import Role
from hotline.tickets import lifecycle
from hotline.tickets.models import Ticket
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
