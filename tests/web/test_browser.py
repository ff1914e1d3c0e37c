"""The pages in a real browser: Debian's Chromium driven by Playwright, against `hotline serve`.

Screenshots of each page go to docs/screenshots/ (the README shows the best ones). The project's
setup (`make test`) installs chromium and fonts-noto-cjk; without them these tests skip, saying so.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
HOTLINE = str(Path(sys.executable).with_name("hotline"))
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "demo-pass-12345"
PEOPLE = [("agent1", "agent", "yuncheng-12345"), ("dispatcher1", "dispatcher", "yuncheng-12345"),
          ("water1", "handler", "xiaxian-water"), ("housing1", "handler", "xiaxian-housing")]

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
    port = _free_port()
    proc = subprocess.Popen([HOTLINE, "serve", "--port", str(port), "--no-worker"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            urllib.request.urlopen(url + "/healthz", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("hotline serve did not start: " + proc.stderr.read().decode())
    ticket = _api(url, tokens["agent1"], "tickets", {
        "channel": "phone", "kind": "help", "category_code": "0103", "urgency": "urgent",
        "region_code": "140828102207", "address": "朱吕村村东供水闸阀井", "caller_name": "朱先生",
        "caller_phone": "13935900001",
        "content": "夏县裴介镇朱吕村村东的供水闸阀井漏水了，整个供水站停水，附近几个村都没水吃，请尽快抢修。"})
    _api(url, tokens["dispatcher1"], f"tickets/{ticket['id']}/dispatch", {})
    yield {"url": url, "number": ticket["number"]}
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


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


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
