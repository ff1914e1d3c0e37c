"""The pages in a real browser: Debian's Chromium driven by Playwright, against `hotline serve`.

Screenshots of each page go to docs/screenshots/ (the README shows the best ones). The project's
setup (`make test`) installs chromium and fonts-noto-cjk; without them these tests skip, saying so.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
HOTLINE = str(Path(sys.executable).with_name("hotline"))
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "demo-pass-12345"
PEOPLE = [("agent1", "agent", "yuncheng-12345"), ("dispatcher1", "dispatcher", "yuncheng-12345"),
          ("water1", "handler", "xiaxian-water"), ("housing1", "handler", "xiaxian-housing"),
          ("admin1", "admin", "yuncheng-12345"), ("supervisor1", "supervisor", "yuncheng-12345")]

MISSING = not os.path.exists(CHROMIUM)
if MISSING and os.environ.get("HOTLINE_REQUIRE_BROWSER") == "1":
    raise RuntimeError(f"HOTLINE_REQUIRE_BROWSER=1 but {CHROMIUM} is missing (make browser installs it)")
pytestmark = pytest.mark.skipif(MISSING, reason="Debian's chromium is not installed (make test installs it)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _api(url: str, token: str, path: str, body: dict) -> dict:
    request = urllib.request.Request(f"{url}/api/v1/{path}", data=json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def _serve(env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    """`hotline serve` (no worker) on a free port, once it answers."""
    port = _free_port()
    proc = subprocess.Popen([HOTLINE, "serve", "--port", str(port), "--no-worker"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60  # a loaded machine (other tests in parallel) starts it slowly
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            urllib.request.urlopen(url + "/healthz", timeout=1)
            return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    pytest.fail("hotline serve did not start: " + proc.stderr.read().decode())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    data = tmp_path_factory.mktemp("site") / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env["HOTLINE_DATA_DIR"] = str(data)
    subprocess.run([HOTLINE, "init"], env=env, check=True, capture_output=True)
    for name, role, unit in PEOPLE:
        subprocess.run([HOTLINE, "user", "add", name, "--role", role, "--unit", unit, "--password", PASSWORD],
                       env=env, check=True, capture_output=True)
    tokens = {name: subprocess.run([HOTLINE, "token", "create", "--user", name], env=env, check=True,
                                   capture_output=True, text=True).stdout.strip() for name, _, _ in PEOPLE}
    proc, url = _serve(env)
    ticket = _api(url, tokens["agent1"], "tickets", {
        "channel": "phone", "kind": "help", "category_code": "0103", "urgency": "urgent",
        "region_code": "140828102207", "address": "朱吕村村东供水闸阀井", "caller_name": "朱先生",
        "caller_phone": "13935900001",
        "content": "夏县裴介镇朱吕村村东的供水闸阀井漏水了，整个供水站停水，附近几个村都没水吃，请尽快抢修。"})
    _api(url, tokens["dispatcher1"], f"tickets/{ticket['id']}/dispatch", {})
    yield {"url": url, "number": ticket["number"], "tokens": tokens}
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    yield context.new_page()
    context.close()


def shot(page, name: str, *, full_page: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


# Counts the swaps htmx makes for boosted forms and links, so a test can wait for one.
COUNT_SWAPS = ("document.addEventListener('htmx:afterSettle', function (e) {"
               " if (e.detail.boosted) window.__swaps = (window.__swaps || 0) + 1; });")


def act(page, selector: str | None = None, *, keys: str | None = None) -> None:
    """Submit a form as a person would (click ``selector`` or press ``keys`` in the focused field),
    wait until htmx has swapped the answer in, and check that the page was not reloaded."""
    page.evaluate("window.__kept = true; window.__swaps = window.__swaps || 0")
    before = page.evaluate("window.__swaps")
    if selector:
        page.click(selector)
    else:
        page.keyboard.press(keys)
    page.wait_for_function(f"window.__swaps > {before}")
    assert page.evaluate("window.__kept === true"), "the action reloaded the whole page"


def sign_in(page, url: str, username: str, password: str = PASSWORD) -> None:
    page.goto(url + "/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def test_sign_in_refuses_a_wrong_password_then_opens_the_console(server, page):
    page.goto(server["url"] + "/")
    assert page.url.endswith("/login")
    shot(page, "login")
    sign_in(page, server["url"], "agent1", "wrong")
    assert "用户名或密码错误" in page.inner_text("[role=alert]")
    assert page.input_value("input[name=username]") == "agent1"  # what was typed is kept
    sign_in(page, server["url"], "agent1")
    assert "agent1（坐席）" in page.inner_text("header")


def test_the_handler_sees_the_ticket_page_with_deadlines_and_timeline(server, page):
    sign_in(page, server["url"], "water1")
    page.goto(f"{server['url']}/tickets/{server['number']}")
    body = page.inner_text("main")
    assert server["number"] in body and "夏县水利局" in body
    assert "时限" in body and "派单" in body and "签收" in body
    shot(page, "ticket")
    page.goto(f"{server['url']}/tickets")
    assert server["number"] in page.inner_text("table")
    shot(page, "tickets")
    # 导出 Excel downloads the workbook; the page stays (not the file's bytes swapped into it).
    with page.expect_download() as download:
        page.click("text=导出 Excel")
    assert download.value.suggested_filename.endswith(".xlsx")
    with zipfile.ZipFile(download.value.path()) as book:
        assert "xl/workbook.xml" in book.namelist()
    assert page.url.endswith("/tickets") and server["number"] in page.inner_text("table")


def test_a_handler_of_another_unit_is_refused(server, page):
    sign_in(page, server["url"], "housing1")
    response = page.goto(f"{server['url']}/tickets/{server['number']}")
    assert response.status == 404
    assert "不存在或不在您的权限范围内" in page.inner_text("[role=alert]")


def test_a_form_posted_without_its_csrf_token_is_refused(server, page):
    sign_in(page, server["url"], "agent1")
    page.goto(server["url"] + "/tickets")
    page.evaluate("document.querySelector('form[action=\"/logout\"] input[name=csrf]').remove()")
    with page.expect_navigation():
        page.click("form[action='/logout'] button")
    assert "页面已过期" in page.inner_text("main")
    page.goto(server["url"] + "/tickets")
    assert "agent1（坐席）" in page.inner_text("header")  # still signed in: nothing happened


def test_the_whole_loop_through_the_pages(server, browser):
    """Agent registers → dispatcher dispatches → the unit accepts and replies → the dispatcher
    reviews → the callback agent records a satisfied caller → closed; a screenshot of each page."""
    url = server["url"]

    def as_(username: str):
        context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
        context.add_init_script(COUNT_SWAPS)
        p = context.new_page()
        sign_in(p, url, username)
        return p

    agent = as_("agent1")
    assert agent.url.endswith("/agent/intake")
    agent.fill("input[name=caller_phone]", "13935900002")
    agent.fill("input[name=caller_name]", "王女士")
    agent.keyboard.press("Alt+c")  # keyboard first: the access keys shown on the form
    agent.keyboard.type("供水管网漏水（0103）")
    agent.keyboard.press("Alt+r")
    agent.keyboard.type("140828102207")
    agent.keyboard.press("Tab")
    agent.fill("input[name=address]", "朱吕村五组")
    agent.fill("textarea[name=content]", "朱吕村五组这边停水了，听说是村东供水站的阀门井漏水，家里没水用。")
    agent.uncheck("input[name=direct]")  # the dispatcher decides this one
    # The open leak at the east valve well is offered for merging (not chosen by default); the agent
    # registers this call on its own all the same.
    agent.wait_for_selector(f"#nearby input[name=merge_into][value='{server['number']}']")
    assert agent.is_checked("#nearby input[name=merge_into][value='']")
    # 智能建议 found the village in the words; the knowledge base offers the water answers.
    agent.wait_for_selector("#suggest button[data-fill=region][data-value='夏县裴介镇朱吕村（140828102207）']")
    agent.wait_for_selector("#kb-hits li.kb-hit")
    agent.focus("textarea[name=content]")
    act(agent, keys="Control+Enter")
    notice = agent.locator(".notice[role=status]")
    number = notice.locator("a[href^='/tickets/']").first.inner_text().strip()
    assert number.startswith("20") and "查询码" in notice.inner_text()

    dispatcher = as_("dispatcher1")
    assert dispatcher.url.endswith("/dispatch") and number in dispatcher.inner_text("main")
    shot(dispatcher, "dispatch")
    # the row's picker holds its suggestion only; focusing it brings every unit, the suggestion kept
    picker = dispatcher.locator(f"form[action='/dispatch/{number}'] select[name=lead_unit_id]")
    suggested = picker.input_value()
    assert suggested and picker.locator("option").count() == 2
    picker.focus()
    assert picker.locator("option").count() > 20 and picker.input_value() == suggested
    act(dispatcher, f"form[action='/dispatch/{number}'] button[type=submit]")
    assert "已派单" in dispatcher.inner_text("main")

    handler = as_("water1")
    assert handler.url.endswith("/unit") and number in handler.inner_text("main")
    shot(handler, "unit-inbox")
    row = f"tr:has(a[href='/tickets/{number}'])"
    handler.locator(f"{row} summary").first.click()
    act(handler, f"form[action='/unit/{number}/accept'] button")
    handler.locator(f"{row} summary").first.click()
    handler.fill(f"form[action='/unit/{number}/contact'] input[name=note]", "已电话联系王女士，维修队出发")
    act(handler, f"form[action='/unit/{number}/contact'] button")
    handler.locator(f"{row} summary").first.click()
    handler.fill(f"form[action='/unit/{number}/reply'] textarea[name=text]", "已派维修队更换破裂管段，当日恢复供水。")
    act(handler, f"form[action='/unit/{number}/reply'] button")

    dispatcher.goto(url + "/dispatch")
    act(dispatcher, f"form[action='/dispatch/{number}/accept-reply'] button")

    agent.goto(url + "/callbacks")
    assert number in agent.inner_text("main")
    # the unit's reply is in the row: the agent asks about it without opening the ticket
    assert "已派维修队更换破裂管段" in agent.inner_text(f"tr:has(a[href='/tickets/{number}'])")
    form = agent.locator(f"form[action='/callbacks/{number}']")
    form.locator("input[name=reached][value=yes]").check()
    form.locator("input[name=resolved][value=yes]").check()
    form.locator("input[name=satisfaction][value=satisfied]").check()
    form.locator("input[name=comment]").fill("已经来水了，满意")
    shot(agent, "callbacks")
    act(agent, f"form[action='/callbacks/{number}'] button[type=submit]")
    assert "已办结" in agent.inner_text("main")

    agent.goto(f"{url}/tickets/{number}")
    body = agent.inner_text("main")
    assert "已办结" in body
    for step in ("受理", "派单", "签收", "提交反馈", "审核通过", "回访", "办结"):
        assert step in body, step
    assert "联系上，已解决，满意" in agent.inner_text("#callback-result")  # the verdict stays once closed
    shot(agent, "ticket-closed")
    for p in (agent, dispatcher, handler):
        p.context.close()


def test_the_dispatch_queue_s_co_handlers_follow_the_suggested_lead_unit(server, browser):
    """The catalogue's co-handler is ticked with its suggested lead unit, unticked when another lead
    is picked and ticked again with the suggestion; another unit added from the page's list co-handles
    too, and the ticket page says where the ticket went."""
    url = server["url"]
    ticket = _api(url, server["tokens"]["agent1"], "tickets", {
        "channel": "phone", "kind": "help", "category_code": "0103", "urgency": "normal",
        "region_code": "140828102207", "caller_name": "李女士", "caller_phone": "13935900003",
        "content": "朱吕村村东供水闸阀井又在漏水，路面都是水。"})
    number = ticket["number"]
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    context.add_init_script(COUNT_SWAPS)
    dispatcher = context.new_page()
    sign_in(dispatcher, url, "dispatcher1")
    form = f"form[action='/dispatch/{number}']"
    lead = dispatcher.locator(f"{form} select[name=lead_unit_id]")
    box = dispatcher.locator(f"{form} input[type=checkbox][name=co_unit_id]")
    suggested = lead.input_value()
    assert box.count() == 1 and box.is_checked() and "夏县朱吕集中供水站" in dispatcher.inner_text(form)
    lead.focus()
    lead.select_option(label="夏县住房和城乡建设局")
    assert not box.is_checked()
    lead.select_option(suggested)
    assert box.is_checked()
    added = dispatcher.locator(f"{form} select[aria-label=添加协办单位]")
    added.focus()
    added.select_option(label="夏县住房和城乡建设局")
    act(dispatcher, f"{form} button[type=submit]")
    assert f"工单 {number} 已派单" in dispatcher.inner_text("main")
    dispatcher.goto(f"{url}/tickets/{number}")
    assert "→ 夏县水利局（协办：夏县朱吕集中供水站、夏县住房和城乡建设局）" in dispatcher.inner_text("main")
    context.close()


def test_a_citizen_submits_on_a_phone_and_follows_the_request(server, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True)
    phone = context.new_page()
    errors = _watch_errors(phone)
    phone.goto(server["url"] + "/portal")
    phone.fill("input[name=caller_name]", "李先生")
    phone.fill("input[name=caller_phone]", "13935900003")
    phone.select_option("select[name=category_code]", "0103")
    phone.fill("input[name=region]", "裴介镇 朱吕村")  # as people say it: the hint says where it will go
    phone.wait_for_selector("#region-hints >> text=将登记为：夏县裴介镇朱吕村")
    phone.fill("textarea[name=content]", "我家门口的自来水管一直在漏水，已经两天了，请派人来修一下。")
    shot(phone, "portal-submit")
    phone.click("button[type=submit]")
    assert "请记下工单号和查询码" in phone.inner_text("body")
    number, code = phone.inner_text("#number").strip(), phone.inner_text("#query-code").strip()
    assert re.fullmatch(r"\d{8}-\d{6}", number) and re.fullmatch(r"\d{6}", code)
    shot(phone, "portal-done")
    assert phone.url == server["url"] + "/portal/done" and code not in phone.url
    phone.reload()  # no resubmission: the number and code are shown once, nothing is filed again
    body = phone.inner_text("body")
    assert "提交结果只显示一次" in body and code not in body
    assert errors == []  # a favicon too: no 404 in the console
    phone.goto(server["url"] + "/portal/track")
    phone.fill("input[name=number]", number)
    phone.fill("input[name=code]", "000000" if code != "000000" else "111111")
    phone.click("button[type=submit]")
    assert "工单号或查询码不正确" in phone.inner_text("body")
    phone.fill("input[name=number]", number)
    phone.fill("input[name=code]", code)
    phone.click("button[type=submit]")
    body = phone.inner_text("body")
    assert number in body and "受理" in body and "agent1" not in body
    shot(phone, "portal-track")
    context.close()


def test_the_admin_sees_the_directory_and_the_supervisor_the_board(server, page):
    """Units, categories with their time limits, the dispatch catalogue; then the supervisor's board."""
    url = server["url"]
    sign_in(page, url, "admin1")
    page.wait_for_url("**/admin")
    page.goto(url + "/admin/units?q=夏县")
    assert "夏县水利局" in page.inner_text("main") and "未办结工单" in page.inner_text("main")
    shot(page, "admin-units")
    page.goto(url + "/admin/categories")
    body = page.inner_text("main")
    assert "供水管网漏水" in body and "已登记工单的截止时间不会改变" in body and "工作日" in body
    page.goto(url + "/admin/catalogue?region=140828&suggest_category=0103&suggest_region=140828102207")
    assert "夏县水利局" in page.inner_text("#suggestion") and "派单规则" in page.inner_text("main")
    shot(page, "admin-catalogue")
    # Deleting a rule asks first; declined, the rule stays (under hx-boost a plain onsubmit confirm
    # did not stop the request).
    rule = page.locator("form[action$='/delete'][action^='/admin/catalogue/']").first
    action = rule.get_attribute("action")
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    rule.locator("button").click()
    page.wait_for_timeout(500)
    assert asked and asked[0].startswith("删除第 ") and asked[0].endswith("条派单规则？")
    page.reload()
    assert page.locator(f"form[action='{action}']").count() == 1
    page.context.clear_cookies()
    sign_in(page, url, "supervisor1")
    page.wait_for_url("**/supervision")
    assert "督办" in page.inner_text("main")
    shot(page, "supervision-board")


def test_the_agent_answers_a_question_from_the_knowledge_base_without_a_reload(server, browser):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    context.add_init_script(COUNT_SWAPS + "document.addEventListener('htmx:afterSettle', function (e) {"
                            " if (e.detail.elt.id === 'kb-hits') window.__kb = (window.__kb || 0) + 1; });")
    agent = context.new_page()
    sign_in(agent, server["url"], "agent1")
    agent.fill("input[name=caller_phone]", "13935900004")
    agent.fill("input[name=region]", "140828102207")
    agent.fill("textarea[name=content]", "我的社保卡丢了，怎么挂失补办？")  # the panel follows what is typed
    first = agent.locator("#kb-hits li.kb-hit").first
    first.wait_for()
    assert "社保卡" in first.inner_text()
    agent.fill("input[name=category_code]", "社会保险（0802）")
    # Pressing 采用此答复 takes the focus from 分类, whose change redraws the panel; the redraw lands
    # before the button is released (as it can under a person's finger), so the button pressed is gone.
    first.locator("[data-adopt]").hover()
    drawn = agent.evaluate("window.__kb || 0")
    agent.mouse.down()
    agent.wait_for_function(f"(window.__kb || 0) > {drawn}")
    agent.mouse.up()
    answer = agent.input_value("textarea[name=answer]")
    assert "社保卡" in answer and len(answer) > 40
    shot(agent, "intake-knowledge")
    act(agent, "button[name=action][value=answer]")
    notice = agent.locator(".notice[role=status]")
    assert "已直接答复并办结" in notice.inner_text()
    number = notice.locator("a[href^='/tickets/']").first.inner_text().strip()
    agent.goto(f"{server['url']}/tickets/{number}")
    assert "已办结" in agent.inner_text("main") and "挂失" in agent.inner_text("main")
    context.close()



def test_a_suggestion_or_merge_pressed_as_its_panel_redraws_is_still_taken(server, browser):
    """The agent leaves a field the panels follow by pressing a suggestion chip or a 并入 choice; the
    field's change redraws the panel before the button is released, so no click arrives: the press
    alone must fill the field or make the choice."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    context.add_init_script("document.addEventListener('htmx:afterSettle', function (e) {"
                            " window['__' + e.detail.elt.id] = (window['__' + e.detail.elt.id] || 0) + 1; });")
    agent = context.new_page()
    sign_in(agent, server["url"], "agent1")

    def press_while_redrawn(selector: str, panel: str) -> None:
        agent.hover(selector)
        drawn = agent.evaluate(f"window.__{panel} || 0")
        agent.mouse.down()
        agent.wait_for_function(f"(window.__{panel} || 0) > {drawn}")
        agent.mouse.up()

    agent.fill("textarea[name=content]", "夏县裴介镇朱吕村村东的供水闸阀井漏水了")
    chip = "#suggest button[data-fill=region][data-value='夏县裴介镇朱吕村（140828102207）']"
    agent.wait_for_selector(chip)
    agent.fill("input[name=category_code]", "供水管网漏水（0103）")  # still in the field
    press_while_redrawn(chip, "suggest")
    assert agent.input_value("input[name=region]") == "夏县裴介镇朱吕村（140828102207）"

    target = f"#nearby input[name=merge_into][value='{server['number']}']"
    agent.wait_for_selector(target)
    agent.fill("input[name=region]", "140828102207")  # retyped, still in the field
    press_while_redrawn(target, "nearby")
    agent.wait_for_selector(target)
    assert agent.is_checked(target)
    context.close()


def test_a_refused_intake_keeps_the_merge_chosen_and_the_corrected_call_is_merged(server, browser):
    """The agent chooses 并入 the open leak, mistypes the phone: the form comes back with the error
    and the choice still made, after the panel has drawn itself again; the corrected call merges."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    context.add_init_script(COUNT_SWAPS + "document.addEventListener('htmx:afterSettle', function (e) {"
                            " if (e.detail.elt.id === 'nearby') window.__nearby = (window.__nearby || 0) + 1; });")
    agent = context.new_page()
    sign_in(agent, server["url"], "agent1")
    agent.fill("input[name=caller_phone]", "1393590")
    agent.fill("input[name=category_code]", "供水管网漏水（0103）")
    agent.fill("input[name=region]", "夏县裴介镇朱吕村（140828102207）")
    agent.fill("textarea[name=content]", "夏县裴介镇朱吕村村东的供水闸阀井漏水了")
    target = f"#nearby input[name=merge_into][value='{server['number']}']"
    agent.check(target)
    drawn = agent.evaluate("window.__nearby || 0")
    act(agent, "#intake-form button[type=submit]:not([name])")
    assert "不是有效号码" in agent.inner_text("[role=alert]")
    agent.wait_for_function(f"window.__nearby > {drawn}")  # the panel asked the server again on load
    assert agent.is_checked(target)
    agent.fill("input[name=caller_phone]", "13935900005")
    agent.focus("textarea[name=content]")
    act(agent, keys="Control+Enter")
    assert f"已并入 {server['number']}" in agent.inner_text(".notice[role=status]")
    context.close()

def test_a_place_typed_last_and_sent_at_once_is_not_registered_past_the_merge_offer(server, browser):
    """The place typed last, Ctrl+Enter pressed at once: the 附近同类未办结工单 panel had not yet
    answered for it, so the form comes back with the open leak offered and a notice; pressed again,
    the call is registered on its own. Typed and left there, the panel follows it without a blur."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    context.add_init_script(COUNT_SWAPS)
    agent = context.new_page()
    sign_in(agent, server["url"], "agent1")
    target = f"#nearby input[name=merge_into][value='{server['number']}']"
    agent.fill("input[name=caller_phone]", "13935900007")
    agent.fill("input[name=category_code]", "供水管网漏水（0103）")
    agent.fill("textarea[name=content]", "朱吕村村东供水闸阀井漏水，家里停水了")
    agent.uncheck("input[name=direct]")
    agent.keyboard.press("Alt+r")
    agent.keyboard.type("140828102207")
    act(agent, keys="Control+Enter")
    assert "附近有疑似同一问题的未办结工单，请确认是否并单后再登记" in agent.inner_text("[role=alert]")
    assert agent.locator(".notice[role=status]").count() == 0  # not registered
    agent.wait_for_selector(target)
    assert agent.is_checked("#nearby input[name=merge_into][value='']")
    agent.focus("textarea[name=content]")
    act(agent, keys="Control+Enter")  # seen, not merged: registered on its own
    notice = agent.inner_text(".notice[role=status]")
    assert "工单已登记" in notice and "已并入" not in notice

    agent.fill("input[name=caller_phone]", "13935900008")
    agent.fill("input[name=category_code]", "供水管网漏水（0103）")
    agent.fill("textarea[name=content]", "朱吕村村东供水闸阀井漏水")
    agent.wait_for_timeout(1500)  # the content box's own refresh (800 ms after typing) is over
    assert agent.locator("#nearby input[name=merge_into]").count() == 0  # no place yet: nothing offered
    agent.keyboard.press("Alt+r")
    agent.keyboard.type("140828102207")
    # still typing in the field, no blur: the panel follows it (the call just registered is offered)
    agent.wait_for_selector("#nearby input[name=merge_into]:not([value=''])", timeout=5000)
    assert agent.evaluate("document.activeElement.name") == "region"
    context.close()


def test_without_javascript_the_agent_is_shown_the_open_duplicate_and_merges_into_it(server, browser):
    """No JavaScript (or an older page): the 附近同类未办结工单 panel never drew, so the form carries
    no marker. The plain 登记 comes back (200, not an error page) with the open duplicate listed in
    the notice and everything typed; 并入 chosen in the panel, the call is merged."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN",
                                  java_script_enabled=False)
    agent = context.new_page()
    sign_in(agent, server["url"], "agent1")
    agent.goto(server["url"] + "/agent/intake")
    agent.fill("input[name=caller_phone]", "13935900011")
    agent.fill("input[name=caller_name]", "钱女士")
    agent.fill("input[name=category_code]", "供水管网漏水（0103）")
    agent.fill("input[name=region]", "夏县裴介镇朱吕村（140828102207）")
    agent.fill("textarea[name=content]", "朱吕村村东供水闸阀井漏水，家里停水了")
    with agent.expect_navigation() as sent:
        agent.click("#intake-form button[type=submit]:not([name])")
    assert sent.value.status == 200
    alert = agent.inner_text("[role=alert]")
    assert "附近有疑似同一问题的未办结工单" in alert and "本次尚未登记" in alert
    listed = agent.inner_text("#unseen-duplicates a")  # the open leak (or a call registered on it earlier)
    assert agent.locator(".notice[role=status]").count() == 0  # not registered
    assert agent.input_value("input[name=caller_name]") == "钱女士"
    assert agent.input_value("textarea[name=content]") == "朱吕村村东供水闸阀井漏水，家里停水了"
    agent.check(f"#nearby input[name=merge_into][value='{listed}']")
    with agent.expect_navigation():
        agent.click("#intake-form button[type=submit]:not([name])")
    assert f"已并入 {listed}" in agent.inner_text(".notice[role=status]")
    context.close()


def test_an_emergency_call_is_handed_off_from_the_keyboard(server, browser):
    """Alt+E reaches 转往; Ctrl+Enter in the hand-off note presses 登记并转应急部门, not the plain
    登记 (which would dispatch a fire to a bureau)."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    context.add_init_script(COUNT_SWAPS)
    agent = context.new_page()
    sign_in(agent, server["url"], "agent1")
    agent.fill("input[name=caller_phone]", "13935900006")
    agent.fill("input[name=category_code]", "漏水")
    agent.fill("input[name=region]", "夏县裴介镇朱吕村（140828102207）")
    agent.fill("textarea[name=content]", "朱吕村村东仓库起火，火势较大")
    agent.focus("textarea[name=content]")
    agent.keyboard.press("Alt+e")
    assert agent.evaluate("document.activeElement.name") == "handoff_to"
    agent.select_option("select[name=handoff_to]", "119")
    agent.fill("input[name=handoff_note]", "已告知拨打119并通报消防")
    agent.focus("input[name=handoff_note]")
    act(agent, keys="Control+Enter")
    assert "已转 119（消防）" in agent.inner_text(".notice[role=status]")
    context.close()


# ── 数据分析: the dashboard, the assessment ranking and the wall display, over demo history ──


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A site with 45 days of generated history (400 tickets, rollups built by `hotline demo`),
    signed in as the demo accounts (password demo12345)."""
    data = tmp_path_factory.mktemp("demo") / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env["HOTLINE_DATA_DIR"] = str(data)
    subprocess.run([HOTLINE, "demo", "--tickets", "400", "--days", "45"], env=env, check=True, capture_output=True)
    proc, url = _serve(env)
    yield url
    proc.terminate()
    proc.wait(10)


def _watch_errors(page) -> list[str]:
    """JavaScript errors and console errors of a page (a missing favicon included)."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    return errors


def _drawn(page, box: str) -> None:
    """The chart in ``box`` has an ECharts canvas with something painted on it."""
    page.wait_for_selector(f"{box} canvas")
    page.wait_for_function("""(sel) => {
        const c = document.querySelector(sel + ' canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        for (let i = 3; i < d.length; i += 4 * 97) if (d[i] !== 0) return true;
        return false; }""", arg=box)


def _click_chart(page, box: str, point: list) -> None:
    """Click a chart where ECharts draws ``point`` (data coordinates of its first series)."""
    x, y = page.evaluate("""([sel, point]) => {
        const chart = echarts.getInstanceByDom(document.querySelector(sel));
        return chart.convertToPixel({seriesIndex: 0}, point); }""", [box, point])
    page.locator(box).scroll_into_view_if_needed()
    bounds = page.locator(box).bounding_box()
    page.mouse.click(bounds["x"] + x, bounds["y"] + y)


CHANNEL_SUM = """() => echarts.getInstanceByDom(document.querySelector('#chart-channel')).getOption().series
    .reduce((n, s) => n + s.data.reduce((m, d) => m + d.value, 0), 0)"""


def test_the_dashboard_draws_every_chart_and_a_click_drills_down(demo_server, browser):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    context.add_init_script(COUNT_SWAPS)
    page = context.new_page()
    errors = _watch_errors(page)
    sign_in(page, demo_server, "supervisor1", "demo12345")
    page.wait_for_url("**/supervision")
    page.click("header nav a[href='/analytics']")
    page.wait_for_url("**/analytics")
    for box in ("#chart-channel", "#chart-kind", "#chart-heat", "#chart-map", "#chart-deadlines", "#chart-trend"):
        _drawn(page, box)
    assert page.evaluate("!!echarts.getMap('yuncheng')"), "the county map was not registered"
    assert int(page.inner_text("#kpi-received")) > 0
    page.wait_for_timeout(1200)  # the charts' entry animation, for the screenshot
    shot(page, "analytics-dashboard")
    # Hovering the 三率 trend shows the day's three rates in percent (its tooltip's value format is a
    # function ECharts needs: a template string there threw on every mouse move and showed nothing).
    point = page.evaluate("""() => { const o = echarts.getInstanceByDom(document.querySelector('#chart-trend')).getOption();
        const i = o.series[0].data.findIndex(d => d.value !== null); return [o.xAxis[0].data[i], o.series[0].data[i].value]; }""")
    x, y = page.evaluate("""(point) => echarts.getInstanceByDom(document.querySelector('#chart-trend'))
        .convertToPixel({seriesIndex: 0}, point)""", point)
    page.locator("#chart-trend").scroll_into_view_if_needed()
    bounds = page.locator("#chart-trend").bounding_box()
    page.mouse.move(bounds["x"] + x, bounds["y"] + y)
    page.mouse.move(bounds["x"] + x + 1, bounds["y"] + y)
    page.wait_for_function("""() => { const t = document.querySelector('#chart-trend').innerText;
        return t.includes('响应率') && t.includes('满意率') && /\\d%/.test(t); }""", timeout=5000)
    assert f"{point[1]}%" in page.inner_text("#chart-trend")
    assert errors == []
    city_channel = page.evaluate(CHANNEL_SUM)
    assert city_channel == int(page.inner_text("#kpi-received"))
    # A county on the map opens its townships, in place (no reload).
    page.evaluate("window.__kept = true; window.__swaps = window.__swaps || 0")
    before = page.evaluate("window.__swaps")
    _click_chart(page, "#chart-map", [111.30, 35.12])  # inside 夏县 on the schematic map
    page.wait_for_function(f"window.__swaps > {before}")
    assert page.evaluate("window.__kept === true") and "region=140828" in page.url
    assert "事项分类 × 乡镇（街道）" in page.inner_text("main") and "夏县" in page.inner_text("main")
    _drawn(page, "#chart-heat")
    # Every chart follows the county: the channel chart now counts 夏县's tickets alone.
    _drawn(page, "#chart-channel")
    county_channel = page.evaluate(CHANNEL_SUM)
    assert 0 < county_channel < city_channel and county_channel == int(page.inner_text("#kpi-received"))
    assert "受理工单 · 夏县" in page.inner_text(".kpis")
    # A heat map cell lists its tickets: as many as the cell says.
    cell = page.evaluate("""() => echarts.getInstanceByDom(document.querySelector('#chart-heat'))
        .getOption().series[0].data.reduce((a, b) => (b.value[2] > a.value[2] ? b : a))""")
    before = page.evaluate("window.__swaps")
    _click_chart(page, "#chart-heat", cell["value"][:2])
    page.wait_for_function(f"window.__swaps > {before}")
    assert "/analytics/tickets" in page.url and page.evaluate("window.__kept === true")
    assert f"共 {cell['value'][2]} 件" in page.inner_text("main h1")
    assert page.locator("#drill a[href^='/tickets/']").count() == min(cell["value"][2], 50)
    assert errors == []
    context.close()


def test_the_assessment_ranking_opens_the_tickets_behind_a_count(demo_server, page):
    errors = _watch_errors(page)
    sign_in(page, demo_server, "supervisor1", "demo12345")
    page.wait_for_url("**/supervision")
    page.goto(demo_server + "/analytics/assessment")
    rows = page.locator("#ranking tbody tr[data-key]")
    assert rows.count() > 5 and "%" in rows.first.inner_text()
    shot(page, "analytics-assessment", full_page=False)  # the top of a long table
    link = rows.first.locator("a[href*='measure=response&']").first
    expected = int(link.inner_text())
    link.click()
    page.wait_for_url("**/analytics/tickets**")
    heading = page.inner_text("main h1")
    assert "响应率分母" in heading
    # The figure counts orders: as many tickets, or fewer tickets with the orders said above the list
    # (a ticket re-dispatched after reopening is two orders of one unit; the demo has such days).
    if f"共 {expected} 件" not in heading:
        assert f"统计数为 {expected} 个派单" in page.inner_text("#counted")
    page.locator("#drill a[href^='/tickets/']").first.click()
    page.wait_for_url(re.compile(r".*/tickets/\d{8}-\d{6}$"))
    assert "时限" in page.inner_text("main")
    assert errors == []


def test_the_wall_display_refreshes_its_figures_without_a_reload(demo_server, browser):
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    page = context.new_page()
    errors = _watch_errors(page)
    sign_in(page, demo_server, "supervisor1", "demo12345")
    page.wait_for_url("**/supervision")
    page.goto(demo_server + "/wall?refresh=2")
    assert page.locator("header.top").count() == 0  # no navigation chrome
    for box in ("#wall-map-chart", "#wall-hourly-chart", "#wall-daily-chart"):
        _drawn(page, box)
    assert int(page.inner_text("#wall-month")) > 0 and page.inner_text("#wall-satisfaction").strip() != "—%"
    first = page.inner_text("#wall-refreshed")
    page.evaluate("""window.__kept = true; window.__live = 0;
        document.body.addEventListener('htmx:afterSwap', (e) => { if (e.detail.target.id === 'wall-live') window.__live++; });""")
    page.wait_for_function("window.__live >= 1", timeout=15000)
    page.wait_for_function(f"document.querySelector('#wall-refreshed').textContent !== {json.dumps(first)}")
    assert page.evaluate("window.__kept === true"), "the wall reloaded the whole page"
    for box in ("#wall-map-chart", "#wall-hourly-chart", "#wall-daily-chart"):
        _drawn(page, box)  # drawn again on the new fragment
    shot(page, "wall")
    assert errors == []
    context.close()


def test_the_supervisor_confirms_the_demo_s_water_outage_incident(demo_server, browser):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    errors = _watch_errors(page)
    sign_in(page, demo_server, "supervisor1", "demo12345")
    page.wait_for_url("**/supervision")
    page.click("header nav a[href='/incidents']")
    page.wait_for_url("**/incidents")
    assert "待确认 1 件" in page.inner_text("main h1")
    waiting = page.locator("section.incident.proposed")
    assert waiting.count() == 1
    text = waiting.inner_text()
    assert "裴介镇" in text and "停水" in text and "人" in text  # area, problem, population
    assert waiting.locator("a[href^='/tickets/']").count() >= 6
    # The earlier ones: a power cut confirmed with its note, yesterday's road collapse confirmed with its
    # public notice up, consultations dismissed with the reason.
    assert page.locator("section.incident.confirmed", has_text="线路故障").count() == 1
    road = page.locator("section.incident.confirmed", has_text="公路")
    assert "对外公告" in road.inner_text() and "请过往车辆和行人绕行" in road.inner_text()
    assert "不是突发事件" in page.locator("section.incident.dismissed").inner_text()
    shot(page, "incidents", full_page=False)
    asked: list[str] = []  # each irreversible step asks first
    number = waiting.locator("a[href^='/tickets/']").first.inner_text().strip()
    waiting.locator("input[name=note]").fill("裴介镇供水站水泵故障，已派人抢修")
    # Declined, nothing happens (the page is boosted: a plain onsubmit confirm would not stop it).
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    waiting.locator("button[type=submit]", has_text="确认事件并关联工单").click()
    page.wait_for_timeout(500)
    assert asked and asked[-1].startswith("确认后这")
    page.reload()
    assert "待确认 1 件" in page.inner_text("main h1")

    def say_yes(dialog) -> None:  # from here the supervisor says yes
        asked.append(dialog.message)
        dialog.accept()

    page.on("dialog", say_yes)
    waiting.locator("input[name=note]").fill("裴介镇供水站水泵故障，已派人抢修")
    waiting.locator("button[type=submit]", has_text="确认事件并关联工单").click()
    page.wait_for_url("**/incidents?confirmed=*")
    assert asked and asked[-1].startswith("确认后这") and "件工单将关联到该事件" in asked[-1]
    assert "待确认 0 件" in page.inner_text("main h1")
    assert "裴介镇供水站水泵故障" in page.inner_text("main")
    # The ticket's timeline now leads back to the incident.
    page.goto(f"{demo_server}/tickets/{number}")
    assert "确认为突发事件" in page.inner_text("main")
    # Citizens are told: the supervisor publishes a notice, edited from the draft offered.
    page.goto(f"{demo_server}/incidents")
    water = page.locator("section.incident.confirmed", has_text="裴介镇供水站水泵故障")
    water.locator("summary", has_text="发布对外公告").click()
    draft = water.locator("textarea[name=notice]")
    assert "相关部门正在处理" in draft.input_value()
    notice = "裴介镇部分村庄停水，供水站水泵正在抢修，预计今晚恢复供水，请提前储水。"
    draft.fill(notice)
    water.locator("button[type=submit]", has_text="发布公告").click()
    page.wait_for_url("**/incidents?published=*")
    assert "来电人发送短信" in asked[-1]
    assert notice in page.locator("section.incident.confirmed", has_text="裴介镇供水站水泵故障").inner_text()
    assert errors == []
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True).new_page()
    phone.goto(f"{demo_server}/portal")
    shown = phone.locator("section.public-notices").inner_text()
    assert notice in shown and "水头镇洛沱湾村至镇区公路发生路面塌陷" in shown  # newest first
    assert shown.index(notice) < shown.index("水头镇洛沱湾村")
    assert "裴介镇供水站水泵故障" not in phone.inner_text("body")  # the internal note is not shown
    phone.fill("input[name=region]", "裴介镇 大吕村")
    phone.wait_for_selector("#region-hints >> text=该地区有公告")
    shot(phone, "portal-notice")
    phone.context.close()
    context.close()


def test_typing_a_master_number_on_the_ticket_page_picks_that_choice(server, browser):
    """并单 on a ticket registered twice: the detector's offer is picked first, then the dispatcher
    types another number instead; the typed choice becomes the one sent (kept last in this module:
    it leaves a second open leak at 朱吕村)."""
    twin = _api(server["url"], server["tokens"]["agent1"], "tickets", {
        "channel": "phone", "kind": "help", "category_code": "0103", "urgency": "urgent",
        "region_code": "140828102207", "caller_name": "吕女士", "caller_phone": "13935900009",
        "content": "朱吕村村东供水闸阀井漏水，供水站停水了，村里没水吃。"})
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    sign_in(page, server["url"], "dispatcher1")
    page.goto(f"{server['url']}/tickets/{twin['number']}")
    # the detector's best offer (the module's other tests leave more open leaks here)
    offer = "#merge input[name=master]:not([value=''])"
    page.wait_for_selector(offer)
    page.check(offer)
    page.click("#merge input[name=master_number]")
    assert page.is_checked("#merge-typed") and not page.is_checked(offer)
    page.check(offer)
    page.type("#merge input[name=master_number]", "2026")
    assert page.is_checked("#merge-typed")
    context.close()


def test_typing_a_date_on_the_dashboard_chooses_a_custom_period(server, page):
    """本月 is chosen; typing a day picks 自定义 at once, and 查看 counts the days typed."""
    sign_in(page, server["url"], "supervisor1")
    page.wait_for_url("**/supervision")
    page.goto(server["url"] + "/analytics")
    assert page.is_checked("input[name=period][value=month]")
    page.fill("input[name=first]", "2026-10-01")
    assert page.is_checked("input[name=period][value=custom]")
    page.fill("input[name=last]", "2026-10-31")
    page.click(".period-picker button[type=submit]")
    page.wait_for_url("**period=custom**")
    assert "自定义（2026-10-01 至 2026-10-31）" in page.inner_text("main h1")


def test_stopping_a_user_or_a_knowledge_article_asks_first(server, page):
    """停用 on the user list and on an article posts only once the admin confirms, as deleting a
    catalogue rule or a time limit does; declined, nothing changes."""
    url = server["url"]
    sign_in(page, url, "admin1")
    page.wait_for_url("**/admin")
    page.goto(url + "/admin/users")
    page.fill("form[action='/admin/users'] input[name=username]", "stop-me")
    page.fill("form[action='/admin/users'] input[name=display_name]", "待停用's")
    page.select_option("form[action='/admin/users'] select[name=role]", "agent")
    page.fill("form[action='/admin/users'] input[name=password]", PASSWORD)
    page.click("form[action='/admin/users'] button[type=submit]")
    page.wait_for_selector("text=已添加用户 stop-me")
    asked: list[str] = []

    def answer(accept: bool):
        def on_dialog(dialog) -> None:
            asked.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()
        return on_dialog

    row = page.locator("tr", has_text="stop-me")
    declined = answer(False)
    page.once("dialog", declined)
    row.locator("button", has_text="停用").click()
    page.wait_for_timeout(800)  # a post would have swapped in the notice by now
    assert asked == ["停用用户 stop-me（待停用's）？停用后该账号不能登录，已登录的浏览器将退出登录。"]
    assert "在用" in page.locator("tr", has_text="stop-me").inner_text() and "已停用用户" not in page.inner_text("main")
    page.once("dialog", answer(True))
    page.locator("tr", has_text="stop-me").locator("button", has_text="停用").click()
    page.wait_for_selector("text=已停用用户 stop-me")
    assert "已停用" in page.locator("tr", has_text="stop-me").inner_text()

    page.goto(url + "/admin/knowledge")
    page.locator("main a[href^='/admin/knowledge/']").first.click()
    page.wait_for_selector("text=停用这条知识")
    title = page.locator("main h2").first.inner_text()
    page.once("dialog", answer(False))
    page.click("button:has-text('停用这条知识')")
    page.wait_for_timeout(800)
    assert asked[-1].startswith("停用知识「") and asked[-1].endswith("」？停用后坐席不再检索到这条知识。")
    assert page.locator("button:has-text('停用这条知识')").count() == 1 and "已停用" not in title
    # deleting a time limit, declined, deletes nothing either (htmx's boost once sent it regardless)
    page.goto(url + "/admin/categories")
    limits = page.locator("#limits tbody tr").count()
    page.once("dialog", answer(False))
    page.locator("#limits tbody tr").first.locator("button", has_text="删除").click()
    page.wait_for_timeout(800)
    assert asked[-1].startswith("删除第 ") and page.locator("#limits tbody tr").count() == limits
    assert "已删除" not in page.inner_text("main")


def test_the_demo_s_models_suggest_category_kind_urgency_place_and_unit_as_the_agent_types(demo_server, browser):
    """The demo trains its models: typing a gas smell at 朱吕村 suggests 燃气, a kind and an urgency
    (how urgent the demo's model finds it depends on its generated history), the village and a
    unit; one click fills the urgency."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    errors = _watch_errors(page)
    sign_in(page, demo_server, "agent1", "demo12345")
    page.wait_for_url("**/agent/intake")
    page.fill("textarea[name=content]", "夏县裴介镇朱吕村五组家里燃气味道很大，可能是管道漏气了，请尽快派人来看看")
    page.wait_for_selector("#suggest button[data-fill=category_code]", timeout=15000)
    panel = page.inner_text("#suggest")
    assert "燃气" in panel and "朱吕村" in panel and "承办" in panel, panel
    assert page.locator("#suggest button[data-fill=kind]").count() >= 1
    urgency = page.locator("#suggest button[data-fill=urgency]").last
    pressing = urgency.get_attribute("data-value") != "normal"
    assert ("pressing" in (urgency.get_attribute("class") or "")) == pressing
    urgency.click()
    assert page.input_value("select[name=urgency]") == urgency.get_attribute("data-value")
    page.wait_for_timeout(800)  # the knowledge and nearby panels answer the text too
    shot(page, "intake")
    assert errors == []
    context.close()
