"""The ticket list (工单查询, /tickets): paging through everything in scope, filtering by status and
overdue, and a status it does not know answered on the page."""

from __future__ import annotations

import re

from hotline.tickets.states import Status
from tests.builders import make_ticket


def numbers(html: str) -> list[str]:
    return re.findall(r'<a href="/tickets/([0-9]{8}-[0-9]+)">', html)


def pager(html: str) -> str:
    found = re.search(r'<p class="pager">(.*?)</p>', html, re.S)
    return " ".join(found.group(1).split()) if found else ""


def test_every_ticket_can_be_reached_page_by_page(site, session, people):
    made = [make_ticket(session, people, Status.registered) for _ in range(52)]
    session.commit()
    client, _ = site.signed_in("dispatcher")
    first = client.get("/tickets").text
    assert "共 52 件" in first and len(numbers(first)) == 50
    assert "第 1 / 2 页" in pager(first) and 'href="/tickets?page_no=2"' in pager(first)
    second = client.get("/tickets?page_no=2").text
    assert "第 2 / 2 页" in pager(second) and "上一页" in pager(second) and "下一页" not in pager(second)
    assert sorted(numbers(first) + numbers(second)) == sorted(t.number for t in made)
    # A page past the end shows the last one; a page that is not a number the first.
    assert numbers(client.get("/tickets?page_no=9").text) == numbers(second)
    assert numbers(client.get("/tickets?page_no=x").text) == numbers(first)


def test_the_list_filters_by_status_and_keeps_the_filter_when_paging(site, session, people):
    waiting = make_ticket(session, people, Status.registered)
    sent = make_ticket(session, people, Status.dispatched)
    session.commit()
    client, _ = site.signed_in("dispatcher")
    page = client.get("/tickets?status=dispatched").text
    assert numbers(page) == [sent.number] and "共 1 件" in page
    assert '<option value="dispatched" selected>待签收</option>' in page
    assert numbers(client.get("/tickets?status=registered").text) == [waiting.number]
    assert numbers(client.get("/tickets?overdue=1").text) == []


def test_an_unknown_status_is_explained_on_the_page(site, session, people):
    ticket = make_ticket(session, people, Status.registered)
    session.commit()
    client, _ = site.signed_in("dispatcher")
    r = client.get("/tickets?status=bogus")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert "未知的工单状态「bogus」" in r.text and numbers(r.text) == [ticket.number]


def test_the_dashboards_open_now_opens_the_same_tickets_in_the_list(site, session, people):
    """当前在办 N on /analytics leads to /tickets?status=open, which lists those N (not every ticket)."""
    still_open = [make_ticket(session, people, s) for s in (Status.registered, Status.dispatched,
                                                            Status.in_progress, Status.replied,
                                                            Status.callback_pending)]
    finished = [make_ticket(session, people, s) for s in (Status.closed, Status.refused, Status.archived)]
    session.commit()
    client, _ = site.signed_in("supervisor")
    dashboard = client.get("/analytics").text
    tile = re.search(r'<a class="kpi" href="([^"]+)"><span>当前在办</span><strong>(\d+)</strong>', dashboard)
    assert tile and tile.group(2) == "5"
    listed = client.get(tile.group(1).replace("&amp;", "&")).text
    assert "共 5 件" in listed and sorted(numbers(listed)) == sorted(t.number for t in still_open)
    assert not set(numbers(listed)) & {t.number for t in finished}
    assert '<option value="open" selected>' in listed
    assert "共 8 件" in client.get("/tickets").text
