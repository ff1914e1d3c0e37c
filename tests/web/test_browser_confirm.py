"""Steps that end or hand back a ticket ask first, in a real browser: the unit's 退单 in its inbox,
and 不予受理 on the ticket page. Declined, nothing is sent and the ticket is as it was; confirmed,
the step is taken.

The site, browser, page and helpers are ``test_browser``'s (a fixture bound to a name of this module
is found by pytest here); its mark skips without chromium.
"""

from __future__ import annotations

from tests.web import test_browser as tb
from tests.web.test_browser import _api, _watch_errors, sign_in

browser, page, server, pytestmark = tb.browser, tb.page, tb.server, tb.pytestmark


def _answering(page, asked: list[str], *, accept: bool) -> None:
    def on_dialog(dialog) -> None:
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", on_dialog)


def _register(server: dict, content: str) -> dict:
    return _api(server["url"], server["tokens"]["agent1"], "tickets", {
        "channel": "phone", "kind": "help", "category_code": "0103", "urgency": "normal",
        "region_code": "140828102207", "address": "朱吕村二组", "caller_name": "李先生",
        "caller_phone": "13935900077", "content": content})


def test_the_unit_is_asked_before_its_return_goes_to_the_centre(server, page):
    url = server["url"]
    ticket = _register(server, "朱吕村二组的自来水管子冻裂了，一直在漏水，请供水站来看看。")
    _api(url, server["tokens"]["dispatcher1"], f"tickets/{ticket['id']}/dispatch", {})
    _api(url, server["tokens"]["water1"], f"tickets/{ticket['id']}/accept", {})
    number = ticket["number"]
    errors = _watch_errors(page)
    sign_in(page, url, "water1")
    page.wait_for_url("**/unit")
    row = page.locator(f"tr:has(a[href='/tickets/{number}'])")
    row.locator("summary").click()
    form = f"form[action='/unit/{number}/return']"
    page.fill(f"{form} input[name=reason]", "属村内自建管网，不归供水站管理")

    asked: list[str] = []
    _answering(page, asked, accept=False)
    page.click(f"{form} button")
    page.wait_for_timeout(800)  # a post would have swapped the answer in by now
    assert len(asked) == 1 and number in asked[0] and "退回热线中心" in asked[0]
    assert "退单待审" not in row.inner_text()
    assert page.input_value(f"{form} input[name=reason]") == "属村内自建管网，不归供水站管理"  # kept

    _answering(page, asked, accept=True)
    page.click(f"{form} button")
    page.wait_for_selector(f"tr:has(a[href='/tickets/{number}']) :text('退单待审，等待热线中心处理')")
    assert len(asked) == 2
    assert errors == []


def test_refusing_a_ticket_on_its_page_is_confirmed_first(server, page):
    url = server["url"]
    ticket = _register(server, "咨询一下朱吕村今年的自来水费每吨多少钱。")
    number = ticket["number"]
    sign_in(page, url, "agent1")
    page.wait_for_url("**/agent/intake")
    page.goto(f"{url}/tickets/{number}")
    form = f"form[action='/tickets/{number}/refuse']"
    page.fill(f"{form} input[name=reason]", "重复来电，已在另一工单答复")

    asked: list[str] = []
    _answering(page, asked, accept=False)
    page.click(f"{form} button")
    page.wait_for_timeout(800)
    assert len(asked) == 1 and number in asked[0] and "不予受理" in asked[0]
    page.reload()
    assert page.locator(form).count() == 1  # still registered: the form is still offered

    _answering(page, asked, accept=True)
    page.fill(f"{form} input[name=reason]", "重复来电，已在另一工单答复")
    page.click(f"{form} button")
    page.wait_for_function(f"!document.querySelector(\"{form}\")")
    assert "不予受理" in page.inner_text("main") and len(asked) == 2
