"""The dispatch queue stays small and quick however many tickets wait: the list of units is on the
page once (each row's picker holds its suggested unit, filled in from that list when used), and
dispatching from a row still sends the ticket to the unit chosen from the list. Without script,
a row's 其他单位 link opens the whole list for that ticket."""

from __future__ import annotations

import re

from sqlalchemy import select

from hotline.directory import reference
from hotline.tickets.models import Ticket
from hotline.tickets.states import Status
from tests.builders import make_ticket

ROW_BUDGET = 2_000  # bytes a waiting ticket may add to the page; the old per-row unit list was ~40 KB in the demo


def _lead(site, number: str) -> tuple[Status, int | None]:
    with site.db.transaction(write=False) as s:
        return s.execute(select(Ticket.status, Ticket.lead_unit_id).where(Ticket.number == number)).one()


def _active_units(site) -> dict[int, str]:
    """The units a ticket can be sent to: the active ones, except the hotline centre (it handles none)."""
    with site.db.transaction(write=False) as s:
        snap = reference.snapshot(s)
        return {uid: name for uid, (_code, name, active) in snap.units.items()
                if active and snap.unit_kinds[uid] != "hotline_center"}


def _picker(html: str, action: str) -> str:
    """The <select> of the row form posting to ``action``."""
    found = re.search(rf'<form method="post" action="{re.escape(action)}">(.*?)</form>', html, re.S)
    assert found, f"no form posting to {action}"
    return found.group(1)


def test_the_unit_list_is_on_the_page_once_however_many_tickets_wait(site, session, people):
    first = make_ticket(session, people)
    session.commit()
    dispatcher, _ = site.signed_in("dispatcher")
    units = _active_units(site)
    assert len(units) > 20  # the shipped directory: a real list to repeat or not
    one = dispatcher.get("/dispatch").text
    more = [make_ticket(session, people) for _ in range(12)]
    returned = [make_ticket(session, people, Status.return_requested) for _ in range(3)]
    session.commit()
    page = dispatcher.get("/dispatch").text
    assert all(t.number in page for t in [first, *more, *returned])
    # Every active unit is offered once on the page, in the one list the pickers share (the suggested
    # unit also pre-selected in each new ticket's row).
    for uid, name in units.items():
        rows = 13 if uid == people.unit_a else 0
        assert page.count(f'<option value="{uid}"') == 1 + rows, name
        assert f'<option value="{uid}">{name}</option>' in page
    assert page.count('<template id="unit-options">') == 1
    assert "运城市12345热线中心</option>" not in page  # the centre is not offered as a handling unit
    # Each new ticket's picker holds its suggested unit, pre-selected, and nothing else to send.
    for t in [first, *more]:
        picker = _picker(page, f"/dispatch/{t.number}")
        assert f'<option value="{people.unit_a}" selected>夏县水利局</option>' in picker
        assert 'name="lead_unit_id"' in picker and "data-units" in picker
        lead = picker[picker.index('name="lead_unit_id"'):]
        assert len(re.findall(r"<option", lead[:lead.index("</select>")])) == 2  # 选择承办单位 and the suggestion
        # The 添加协办单位 picker too is filled in from the page's one list when used.
        co = picker[picker.index('aria-label="添加协办单位"'):]
        assert "data-units" in co and len(re.findall(r"<option", co[:co.index("</select>")])) == 1
    # A returned ticket's picker is filled in without the unit that sent it back.
    picker = _picker(page, f"/dispatch/{returned[0].number}/redispatch")
    assert f'data-exclude="{people.unit_a}"' in picker and f'value="{people.unit_a}"' not in picker
    # So a waiting ticket costs a row, not a copy of the directory.
    grown = len(page.encode()) - len(one.encode())
    assert grown < ROW_BUDGET * 15, f"{grown} bytes for 15 more tickets"


def test_dispatching_from_a_row_sends_the_ticket_to_the_unit_chosen_from_the_list(site, session, people):
    ticket = make_ticket(session, people)
    returned = make_ticket(session, people, Status.return_requested)
    session.commit()
    dispatcher, csrf = site.signed_in("dispatcher")
    page = dispatcher.get("/dispatch").text
    # The dispatcher picks 夏县住房和城乡建设局 from the page's list instead of the suggestion.
    units = re.search(r'<template id="unit-options">(.*?)</template>', page, re.S).group(1)
    chosen = re.search(r'<option value="(\d+)">夏县住房和城乡建设局</option>', units).group(1)
    assert int(chosen) == people.unit_b
    r = dispatcher.post(f"/dispatch/{ticket.number}", data={"csrf": csrf, "lead_unit_id": chosen})
    assert r.status_code == 303
    assert _lead(site, ticket.number) == (Status.dispatched, people.unit_b)
    after = dispatcher.get(r.headers["location"]).text
    assert f"工单 {ticket.number} 已派单" in after and f"/dispatch/{ticket.number}\"" not in after
    r = dispatcher.post(f"/dispatch/{returned.number}/redispatch", data={"csrf": csrf, "lead_unit_id": chosen})
    assert r.status_code == 303 and _lead(site, returned.number) == (Status.dispatched, people.unit_b)
    # With no unit chosen the refusal is shown and the list is still there, once.
    again = make_ticket(session, people)
    session.commit()
    r = dispatcher.post(f"/dispatch/{again.number}", data={"csrf": csrf, "lead_unit_id": ""})
    assert r.status_code == 422 and "请选择承办单位" in r.text
    assert r.text.count(f'<option value="{people.unit_b}">夏县住房和城乡建设局</option>') == 1


def test_without_script_a_row_links_to_the_whole_list_for_its_ticket(site, session, people):
    ticket = make_ticket(session, people)
    returned = make_ticket(session, people, Status.return_requested)
    done = make_ticket(session, people, Status.dispatched)
    session.commit()
    dispatcher, csrf = site.signed_in("dispatcher")
    page = dispatcher.get("/dispatch").text
    assert f'<noscript><a href="/dispatch/{ticket.number}/choose">其他单位…</a></noscript>' in page
    assert f'href="/dispatch/{returned.number}/choose"' in page
    units = _active_units(site)
    choose = dispatcher.get(f"/dispatch/{ticket.number}/choose")
    assert choose.status_code == 200 and ticket.number in choose.text
    assert f'<form method="post" action="/dispatch/{ticket.number}">' in choose.text
    assert f'<option value="{people.unit_a}" selected>夏县水利局</option>' in choose.text
    assert all(f'<option value="{uid}"' in choose.text for uid in units)
    assert f'name="co_unit_id" value="{people.unit_a_co}" checked data-with-lead="{people.unit_a}"' in choose.text
    r = dispatcher.post(f"/dispatch/{ticket.number}", data={"csrf": csrf, "lead_unit_id": str(people.unit_b)})
    assert r.status_code == 303 and _lead(site, ticket.number) == (Status.dispatched, people.unit_b)
    # A return is redispatched from its page, the unit that sent it back left out.
    choose = dispatcher.get(f"/dispatch/{returned.number}/choose").text
    assert f'action="/dispatch/{returned.number}/redispatch"' in choose
    assert f'value="{people.unit_a}"' not in choose and f'value="{people.unit_b}"' in choose
    # Nothing to choose for a ticket already dispatched, one not found, or a user who may not dispatch.
    r = dispatcher.get(f"/dispatch/{done.number}/choose")
    assert r.status_code == 409 and "不能派单" in r.text
    assert dispatcher.get("/dispatch/NOPE/choose").status_code == 404
    assert dispatcher.get(f"/dispatch/{done.id}/choose").status_code == 404
    handler, _ = site.signed_in("handler_a")
    r = handler.get(f"/dispatch/{ticket.number}/choose")
    assert r.status_code == 403 and "派单员" in r.text
