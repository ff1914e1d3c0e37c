"""考核认定 on the ticket page: a supervisor rules a malicious request out of 三率 with a reason
(shown on the page and the timeline) and back in; a handler sees no form and cannot post one."""

from __future__ import annotations

from hotline.tickets.states import Status
from tests.builders import make_ticket


def test_a_supervisor_rules_a_ticket_out_of_the_assessment_and_back(site, session, people):
    ticket = make_ticket(session, people, Status.closed)
    session.commit()
    client, csrf = site.signed_in("supervisor")
    page = client.get(f"/tickets/{ticket.number}").text
    assert "考核认定" in page and "认定为恶意诉求，不计入考核" in page
    r = client.post(f"/tickets/{ticket.number}/assessment", data={"csrf": csrf, "reason": "malicious", "note": " "})
    assert r.status_code == 422 and "认定的依据" in r.text
    r = client.post(f"/tickets/{ticket.number}/assessment",
                    data={"csrf": csrf, "reason": "malicious", "note": "来电人多次无理纠缠，经核实为恶意诉求"})
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "不计入考核：恶意诉求" in page and "经核实为恶意诉求" in page and "恢复计入考核" in page
    r = client.post(f"/tickets/{ticket.number}/assessment", data={"csrf": csrf, "reason": "count", "note": "复核为正常诉求"})
    assert r.status_code == 303 and "不计入考核：" not in client.get(r.headers["location"]).text


def test_a_handler_gets_no_form_and_is_refused(site, session, people):
    ticket = make_ticket(session, people, Status.closed)
    session.commit()
    client, csrf = site.signed_in("handler_a")
    assert "保存认定" not in client.get(f"/tickets/{ticket.number}").text
    r = client.post(f"/tickets/{ticket.number}/assessment", data={"csrf": csrf, "reason": "invalid", "note": "x"})
    assert r.status_code == 403
