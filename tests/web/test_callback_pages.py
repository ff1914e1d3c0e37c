"""The callback queue: a satisfied callback, a dissatisfied one reopening the ticket, refusals."""

from __future__ import annotations

import re

from hotline.tickets import lifecycle
from hotline.tickets.models import Ticket
from hotline.tickets.states import Status
from tests.builders import make_ticket


def status_of(site, ticket_id: int) -> Status:
    with site.db.transaction(write=False) as s:
        return s.get(Ticket, ticket_id).status


def test_the_agent_records_a_satisfied_callback(site, session, people):
    ticket = make_ticket(session, people, Status.callback_pending)
    session.commit()
    client, csrf = site.signed_in("agent")
    page = client.get("/callbacks")
    assert page.status_code == 200 and ticket.number in page.text
    assert "满意" in page.text and "基本满意" in page.text and "不满意" in page.text
    r = client.post(f"/callbacks/{ticket.number}", data={"csrf": csrf, "reached": "yes", "resolved": "yes",
                                                         "satisfaction": "satisfied", "comment": "修好了"})
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "已办结" in page and f'href="/tickets/{ticket.number}"' not in page
    assert status_of(site, ticket.id) == Status.closed  # resolved and satisfied: saving closes it


def test_a_dissatisfied_callback_reopens_the_ticket_to_the_unit(site, session, people):
    ticket = make_ticket(session, people, Status.callback_pending)
    session.commit()
    client, csrf = site.signed_in("dispatcher")
    r = client.post(f"/callbacks/{ticket.number}", data={"csrf": csrf, "reached": "yes", "resolved": "no",
                                                         "satisfaction": "dissatisfied", "comment": "还是没水"})
    assert r.status_code == 303
    assert "已退回承办单位重新办理" in client.get(r.headers["location"]).text
    assert status_of(site, ticket.id) == Status.dispatched
    handler, _ = site.signed_in("handler_a")
    assert ticket.number in handler.get("/unit").text


def test_a_refused_callback_keeps_what_was_typed_and_others_are_refused(site, session, people):
    ticket = make_ticket(session, people, Status.callback_pending)
    session.commit()
    client, csrf = site.signed_in("agent")
    r = client.post(f"/callbacks/{ticket.number}", data={"csrf": csrf, "reached": "yes", "comment": "说不清楚"})
    assert r.status_code == 422 and "是否已解决" in r.text and 'value="说不清楚"' in r.text
    assert client.post(f"/callbacks/{ticket.number}", data={"reached": "yes"}).status_code == 403
    handler, csrf_h = site.signed_in("handler_a")
    assert handler.get("/callbacks").status_code == 403
    assert status_of(site, ticket.id) == Status.callback_pending


def _alert(html: str) -> str:
    found = re.search(r'<p class="error" role="alert">(.*?)</p>', html)
    return found.group(1) if found else ""


def test_a_callback_without_the_satisfaction_asks_for_it_in_chinese(site, session, people):
    ticket = make_ticket(session, people, Status.callback_pending)
    session.commit()
    client, csrf = site.signed_in("agent")
    answers = {"csrf": csrf, "reached": "yes", "resolved": "yes", "comment": "修好了"}
    r = client.post(f"/callbacks/{ticket.number}", data=answers | {"satisfaction": ""})
    assert r.status_code == 422 and _alert(r.text) == "请选择满意度"
    r = client.post(f"/callbacks/{ticket.number}", data=answers | {"satisfaction": "happy"})  # not one offered
    assert _alert(r.text) == ("未知满意度「happy」，可选：满意（satisfied）、基本满意（basically_satisfied）、"
                              "不满意（dissatisfied）")
    assert status_of(site, ticket.id) == Status.callback_pending


def test_an_anonymous_caller_reads_as_such_in_the_queue(site, session, people):
    ticket = make_ticket(session, people, Status.callback_pending, caller_anonymous=True, caller_name=None,
                         caller_phone=None)
    session.commit()
    client, _ = site.signed_in("agent")
    page = client.get("/callbacks").text
    row = page.split(f'">{ticket.number}</a>')[1].split("</tr>")[0]
    assert "<td>匿名</td>" in row


def _timeline_line(html: str, label: str) -> str:
    """The timeline's ``<li>`` whose action is ``label`` (the last such)."""
    timeline = html[html.index("<h2>办理过程</h2>"):]
    start = timeline.rindex(f"<b>{label}</b>")
    return re.sub(r"\s+", " ", timeline[start:timeline.index("</li>", start)])


def _box(html: str) -> str:
    start = html.index("<h2>回访结果")
    return re.sub(r"\s+", " ", html[start:html.index("</section>", start)])


def test_the_verdict_stays_on_the_ticket_page_once_closed_or_reopened(site, session, people):
    closed = make_ticket(session, people, Status.callback_pending)
    reopened = make_ticket(session, people, Status.callback_pending)
    session.commit()
    agent, csrf = site.signed_in("agent")
    agent.post(f"/callbacks/{closed.number}", data={"csrf": csrf, "reached": "yes", "resolved": "yes",
                                                     "satisfaction": "satisfied", "comment": "修好了"})
    agent.post(f"/callbacks/{reopened.number}", data={"csrf": csrf, "reached": "no", "comment": "无人接听"})
    agent.post(f"/callbacks/{reopened.number}", data={"csrf": csrf, "reached": "yes", "resolved": "no",
                                                       "satisfaction": "dissatisfied", "comment": "还是没水"})
    assert status_of(site, closed.id) == Status.closed and status_of(site, reopened.id) == Status.dispatched

    page = agent.get(f"/tickets/{closed.number}").text
    line = _timeline_line(page, "回访")
    assert "联系上，已解决，满意" in line and "修好了" in line
    assert "联系上，已解决，满意" in _box(page) and "已办结" in _box(page)

    page = agent.get(f"/tickets/{reopened.number}").text
    assert "未联系上（第 1 次）" in _timeline_line(page, "回访未联系上")
    assert "联系上，未解决，不满意" in _timeline_line(page, "回访")
    box = _box(page)
    assert "联系上，未解决，不满意" in box and "还是没水" in box and "已重办" in box


def test_the_queue_row_shows_the_units_reply(site, session, people):
    short = make_ticket(session, people, Status.callback_pending)  # 「已更换闸阀阀杆和减压阀，恢复供水」
    long = make_ticket(session, people, Status.in_progress)
    text = "经现场查看，村东供水闸阀井内阀杆锈蚀断裂导致漏水，已关闭上游总阀，更换闸阀阀杆和减压阀，" \
           "冲洗管网后于当日18时恢复供水，并告知来电人今后发现漏水可直接拨打供水站值班电话。"
    lifecycle.reply(session, long, actor=people.handler_a, text=text)
    lifecycle.accept_reply(session, long, actor=people.dispatcher)
    session.commit()
    client, _ = site.signed_in("agent")
    page = client.get("/callbacks").text

    def row(number: str) -> str:
        at = page.index(f'href="/tickets/{number}"')
        return page[page.rindex("<tr", 0, at):page.index("</tr>", at)]

    assert "<th>办理结果</th>" in page
    assert "已更换闸阀阀杆和减压阀，恢复供水" in row(short.number)
    mine = row(long.number)
    assert text[:40] + "…" in mine and f'title="{text}"' in mine  # shortened; the whole on hover ...
    assert f"</summary>{text}</details>" in mine  # ... and on expanding
