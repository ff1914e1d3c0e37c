"""系统管理 › 接口令牌 in a real browser: the admin issues a token for a partner system, sees it once,
the token opens the API; revoking asks first (declined, the token keeps working; confirmed, the API
refuses it); other roles are refused the page.

The site, browser, page and helpers are ``test_browser``'s (a fixture bound to a name of this module
is found by pytest here); its mark skips without chromium.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from tests.web import test_browser as tb
from tests.web.test_browser import _watch_errors, sign_in

browser, page, server, pytestmark = tb.browser, tb.page, tb.server, tb.pytestmark


def _me(url: str, token: str) -> int | str:
    """GET /api/v1/me with the token: the username, or the HTTP status it was refused with."""
    request = urllib.request.Request(f"{url}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)["username"]
    except urllib.error.HTTPError as err:
        return err.code


def test_the_admin_issues_a_token_sees_it_once_and_revokes_it_after_confirming(server, page):
    url = server["url"]
    errors = _watch_errors(page)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url)
    sign_in(page, url, "admin1")
    page.wait_for_url("**/admin")
    page.click("nav.admin a:text-is('接口令牌')")
    page.wait_for_selector("main h1:has-text('接口令牌')")

    form = "form[action='/admin/tokens']"
    page.select_option(f"{form} select[name=user]", "agent1")
    page.fill(f"{form} input[name=name]", "city-app")
    page.fill(f"{form} input[name=days]", "30")
    page.click(f"{form} button[type=submit]")
    page.wait_for_selector("[role=alert]:has-text('只显示一次，请立即复制')")
    plain = page.input_value("#token-secret")
    assert plain.startswith("hl_") and "agent1" in page.inner_text("#token-created")
    page.click("button[data-copy]")
    page.wait_for_selector("button[data-copy]:text-is('已复制')")
    assert page.evaluate("navigator.clipboard.readText()") == plain
    assert _me(url, plain) == "agent1"  # the token opens the API as its account

    page.click("text=返回令牌列表")
    page.wait_for_selector("#tokens")
    row = page.locator("#tokens tbody tr", has_text="city-app")
    assert "有效" in row.inner_text() and plain[:10] in row.inner_text()
    assert plain not in page.content()  # shown once: the list has only its first characters

    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    row.locator("button", has_text="吊销").click()
    page.wait_for_timeout(800)  # a post would have swapped in the notice by now
    assert (
        len(asked) == 1
        and asked[0].startswith("吊销令牌 ")
        and "city-app" in asked[0]
        and "agent1" in asked[0]
    )
    assert "有效" in row.inner_text() and "已吊销令牌" not in page.inner_text("main")
    assert _me(url, plain) == "agent1"  # declined: still working

    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    row.locator("button", has_text="吊销").click()
    page.wait_for_selector("p.notice:has-text('已吊销令牌')")
    row = page.locator("#tokens tbody tr", has_text="city-app")
    assert "已吊销" in row.inner_text() and row.locator("button", has_text="吊销").count() == 0
    assert len(asked) == 2
    assert _me(url, plain) == 401  # confirmed: refused
    assert errors == []


def test_other_roles_are_refused_the_tokens_page(server, page):
    sign_in(page, server["url"], "agent1")
    page.wait_for_url("**/agent/intake")
    response = page.goto(server["url"] + "/admin/tokens")
    assert response.status == 403 and "只有管理员可以进入系统管理" in page.inner_text("[role=alert]")
    assert "签发令牌" not in page.inner_text("main")
