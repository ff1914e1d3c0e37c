"""站内信 on the web: the notices a unit's staff get (派单, 催办 …) read on a page, not only by API."""

from __future__ import annotations

from hotline.notify.delivery import deliver_due
from hotline.supervision import orders
from hotline.tickets.states import Status
from tests.builders import make_ticket


class LogSms:
    def send(self, message) -> None:  # the SMS half of the notices: nothing to check here
        pass


def test_a_handler_reads_the_urge_on_the_messages_page_and_marks_it_read(site, session, people):
    ticket = make_ticket(session, people, Status.accepted)  # lead 夏县水利局, handler_a's unit
    orders.urge(session, ticket, actor=people.supervisor, note="请今天内联系来电人")
    session.commit()
    deliver_due(site.db, LogSms(), worker="test")
    handler, csrf = site.signed_in("handler_a")
    assert 'href="/messages"' in handler.get("/unit").text  # every page's header leads there
    page = handler.get("/messages").text
    assert "站内信" in page and "未读" in page and "请今天内联系来电人" in page
    assert f'href="/tickets/{ticket.number}"' in page
    unread = int(page.split("未读 ")[1].split(" 条")[0])
    assert unread >= 1
    item_id = int(page.split('<table')[1].split('action="/messages/')[1].split("/read")[0])
    r = handler.post(f"/messages/{item_id}/read", data={"csrf": csrf})
    assert r.status_code == 303
    assert f"未读 {unread - 1} 条" in handler.get("/messages").text
    # Another person's message is as unknown as a missing one; all read at once.
    other, other_csrf = site.signed_in("handler_b")
    assert other.post(f"/messages/{item_id}/read", data={"csrf": other_csrf}).status_code == 404
    assert "请今天内联系来电人" not in other.get("/messages").text
    handler.post("/messages/read-all", data={"csrf": csrf})
    page = handler.get("/messages").text
    assert "未读 0 条" in page and "全部标为已读" not in page and "请今天内联系来电人" in page


def test_marking_read_needs_the_form_s_csrf_token(site, session, people):
    handler, _ = site.signed_in("handler_a")
    assert handler.post("/messages/read-all", data={}).status_code == 403
