"""突发事件 in a real browser: the supervisor takes a wrong call out of the demo's proposed water
outage before confirming it, and reopens an incident ended too early; each step asks first
(hx-confirm), and saying no leaves the incident as it was.

The browser and helpers are ``test_browser``'s (a fixture bound to a name of this module is found by
pytest here); the site is the demo over a small caseload (its four incidents are always played).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.web import test_browser as tb
from tests.web.test_browser import HOTLINE, _serve, _watch_errors, sign_in

browser, page, pytestmark = tb.browser, tb.page, tb.pytestmark


@pytest.fixture(scope="module")
def incident_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("incidents") / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env["HOTLINE_DATA_DIR"] = str(data)
    subprocess.run([HOTLINE, "demo", "--tickets", "40", "--days", "10"], env=env, check=True, capture_output=True)
    proc, url = _serve(env)
    yield url
    proc.terminate()
    proc.wait(10)


class Answers:
    """Answers the page's confirmation dialogs (hx-confirm's window.confirm) as told, keeping what they asked."""

    def __init__(self, page) -> None:
        self.asked: list[str] = []
        self.yes = False
        page.on("dialog", self._answer)

    def _answer(self, dialog) -> None:
        self.asked.append(dialog.message)
        dialog.accept() if self.yes else dialog.dismiss()


def _count(page) -> int:
    return int(re.search(r"（(\d+)）", page.inner_text("#tickets h2")).group(1))


def test_a_wrong_call_is_taken_out_of_the_proposal_before_it_is_confirmed(incident_site, page):
    errors = _watch_errors(page)
    answers = Answers(page)
    sign_in(page, incident_site, "supervisor1", "demo12345")
    page.wait_for_url("**/supervision")
    page.goto(incident_site + "/incidents")
    proposal = page.locator("section.incident.proposed")
    proposal.locator("p.muted a", has_text="事件详情").click()
    page.wait_for_selector("#tickets")
    before = _count(page)
    row = page.locator("#tickets tbody tr").last
    number = row.locator("a").inner_text().strip()
    # Declined: nothing changes (the page is boosted: only hx-confirm stops the request).
    row.locator("button", has_text="移出").click()
    page.wait_for_timeout(500)
    assert answers.asked and answers.asked[-1].startswith(f"将工单 {number} 移出本事件？确认事件时不再关联该工单")
    page.reload()
    assert _count(page) == before and page.locator("#removed").count() == 0
    answers.yes = True
    page.locator("#tickets tbody tr", has_text=number).locator("button", has_text="移出").click()
    page.wait_for_selector(f"p.notice:has-text('工单 {number} 已移出本事件')")
    assert _count(page) == before - 1 and number not in page.inner_text("#tickets")
    assert number in page.inner_text("#removed") and "移出工单" in page.inner_text("#history")
    page.goto(incident_site + "/incidents")
    page.locator("section.incident.proposed button", has_text="确认事件并关联工单").click()
    page.wait_for_url("**/incidents?confirmed=*")
    assert answers.asked[-1].startswith(f"确认后这 {before - 1} 件工单将关联到该事件")
    page.goto(f"{incident_site}/tickets/{number}")
    assert "确认为突发事件" not in page.inner_text("main")  # the call taken out was not linked
    assert errors == []


def test_an_incident_ended_too_early_is_reopened(incident_site, page):
    errors = _watch_errors(page)
    answers = Answers(page)
    answers.yes = True
    sign_in(page, incident_site, "supervisor1", "demo12345")
    page.wait_for_url("**/supervision")
    page.goto(incident_site + "/incidents")
    power = page.locator("section.incident", has_text="瑶峰镇5处集中反映停电")
    power.locator("button", has_text="结束事件").click()
    page.wait_for_url("**/incidents?ended=*")
    power = page.locator("section.incident.ended", has_text="瑶峰镇5处集中反映停电")
    assert "不再关联新来电" in power.inner_text()
    # Declined: it stays ended.
    answers.yes = False
    power.locator("button", has_text="重新开启").click()
    page.wait_for_timeout(500)
    assert answers.asked[-1].startswith("重新开启后该事件恢复为已确认") and answers.asked[-1].endswith("确定重新开启？")
    page.reload()
    assert page.locator("section.incident.ended", has_text="瑶峰镇5处集中反映停电").count() == 1
    answers.yes = True
    page.locator("section.incident.ended", has_text="瑶峰镇5处集中反映停电").locator(
        "button", has_text="重新开启").click()
    page.wait_for_url("**/incidents?reopened=*")
    assert "已重新开启" in page.inner_text("p.notice")
    # htmx keeps the old section's class ("ended") for its 20 ms settle, so wait for the new one.
    power = page.locator("section.incident.confirmed", has_text="瑶峰镇5处集中反映停电")
    expect(power.locator("button", has_text="结束事件")).to_have_count(1)
    power.locator("h2 a").click()
    page.wait_for_selector("#history")
    history = page.inner_text("#history")
    assert history.index("结束事件") < history.index("重新开启")
    assert errors == []
