"""Text a citizen or a station typed is exported as text, never as a live formula: a request filed
on the portal as ``=HYPERLINK(...)`` (content, name, address, and the title cut from the content
with …) and a ledger note or skill written the same way are shown in the workbooks exactly as typed,
as string cells with a quote prefix; no sheet holds a formula."""

from __future__ import annotations

from hotline.tickets.models import Ticket
from tests.employment.conftest import ZHULV, make_staff, make_worker
from tests.kit.test_sheets import assert_no_formulas
from tests.web.test_portal import _fields, _form, _submit

LINK = '=HYPERLINK("http://evil.example/x","点击查看详情")'
CONTENT = LINK + " 村口路灯不亮已经一周了，晚上看不见路，请尽快修理，谢谢"
NAME = '=HYPERLINK("http://evil.example/y","李")'


def test_a_request_filed_as_formulas_on_the_portal_is_exported_as_typed(site):
    citizen = site.browser()
    filed = _submit(citizen, _fields(_form(citizen), content=CONTENT, caller_name=NAME, address="=1+1"))
    assert filed.status_code == 200, filed.text
    with site.db.transaction(write=False) as s:
        ticket = s.query(Ticket).one()
        title = ticket.title
    assert title.startswith("=HYPERLINK(") and title.endswith("…")  # a formula cut in two
    client, _ = site.signed_in("dispatcher")
    r = client.get("/tickets.xlsx")
    assert r.status_code == 200
    assert_no_formulas(r.content, CONTENT, NAME, "=1+1", title)


def test_a_ledger_note_and_skill_written_as_formulas_are_exported_as_typed(site, session, people):
    make_staff(session, people)
    make_worker(session, ZHULV, note="=1+1", skills='@SUM(1,2)')
    make_worker(session, ZHULV, name="李秀英", note="\t=HYPERLINK(\"http://evil.example/z\")", skills="-2+3")
    session.commit()
    client, _ = site.signed_in("admin")
    r = client.get("/employment/workers.xlsx")
    assert r.status_code == 200, r.text
    assert_no_formulas(r.content, "=1+1", "@SUM(1,2)", "=HYPERLINK(\"http://evil.example/z\")", "-2+3")
