"""抢收抢种 in a real browser: the 县底镇 coordinator works one task of the demo operation from the
dashboard to completion, and the dashboard's figures follow.

The browser, page and helpers are ``test_browser``'s (a fixture bound to a name of this module is
found by pytest here); the site is the demo with a small caseload, whose field-work operation is
always played in full. Screenshots: docs/screenshots/fieldwork-dashboard.png and fieldwork-task.png.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator

import pytest

from tests.web import test_browser as tb
from tests.web.test_browser import HOTLINE, _serve, _watch_errors, shot, sign_in

# test_browser's fixtures, found by pytest here under their own names; its mark skips without chromium.
browser, page, pytestmark = tb.browser, tb.page, tb.pytestmark

COORDINATOR = "yaodu-xiandi-1"  # 冯俊峰, 县底镇人民政府


@pytest.fixture(scope="module")
def field_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo (accounts, the 县底镇 operation with its registers) over a small caseload: seconds."""
    data = tmp_path_factory.mktemp("fieldwork") / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env["HOTLINE_DATA_DIR"] = str(data)
    subprocess.run([HOTLINE, "demo", "--tickets", "40", "--days", "10"], env=env, check=True, capture_output=True)
    proc, url = _serve(env)
    yield url
    proc.terminate()
    proc.wait(10)


def _state_count(page, label: str) -> int:
    return int(page.inner_text(f"#states tr:has(td:text-is('{label}')) a"))


def _area(page) -> tuple[float, float]:
    done, total = page.inner_text("a.kpi:has(span:text-is('完成面积（亩）')) strong").split(" / ")
    return float(done), float(total)


def _notice(page, words: str) -> None:
    page.wait_for_selector(f"p.notice:has-text('{words}')")


def test_the_coordinator_sends_a_machine_reports_and_completes_and_the_dashboard_follows(field_site, page):
    errors = _watch_errors(page)
    sign_in(page, field_site, COORDINATOR, "demo12345")
    page.wait_for_selector("header nav a[href='/fieldwork']")
    page.click("header nav a[href='/fieldwork']")
    page.wait_for_selector("main h1:has-text('抢收抢种')")
    page.click("main table a:text-is('县底镇秋季抢收抢种')")
    page.wait_for_selector("#states")
    dashboard = page.url
    waiting, done = _state_count(page, "待安排"), _state_count(page, "已完成")
    area_done, area = _area(page)
    assert waiting > 0 and area_done < area
    assert "作业中农机" in page.inner_text(".kpis") and "超期任务" in page.inner_text(".kpis")
    shot(page, "fieldwork-dashboard")

    # 待安排 opens the waiting tasks; the coordinator takes a harvest.
    page.click("#states tr:has(td:text-is('待安排')) a")
    page.wait_for_selector(f"main h1:has-text('共 {waiting} 项')")
    row = page.locator("table.list tbody tr", has=page.locator("td:text-is('抢收')")).first
    row.locator("a").first.click()
    page.wait_for_selector("main h1:has-text('待安排')")
    task_url = page.url
    assert re.search(r"/fieldwork/tasks/\d+$", task_url)

    # The suggested machine is a free harvester; sending it schedules the task.
    suggestion = page.inner_text("select[name=machine_id] option:first-child")
    assert suggestion.startswith("建议：收割机")
    page.click("button:text-is('调派农机')")
    _notice(page, "已调派")
    machine = suggestion.removeprefix("建议：").split("」")[0] + "」"
    assert "已安排" in page.inner_text("main h1") and machine in page.inner_text("#resources")

    # Progress: more than is left is refused with what is left, the typed figure kept; then the rest.
    left = float(re.search(r"尚余 ([\d.]+) 亩", page.get_attribute("input[name=area]", "placeholder")).group(1))
    page.fill("input[name=area]", f"{left + 5:g}")
    page.click("#progress-form button:text-is('上报')")
    page.wait_for_selector("p.error:has-text('超过剩余面积')")
    assert page.input_value("input[name=area]") == f"{left + 5:g}"
    page.fill("input[name=area]", f"{left:g}")
    page.fill("input[name=note]", "两台收割机抢收完毕，湿谷已送烘干点")
    page.click("#progress-form button:text-is('上报')")
    _notice(page, "进度已上报")
    assert "作业中" in page.inner_text("main h1") and "（100%）" in page.inner_text("main")
    shot(page, "fieldwork-task")

    # Completing asks first, naming the task: declined, nothing happens; confirmed, it completes.
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.click("button:text-is('完成任务')")
    page.wait_for_timeout(500)
    task_id = task_url.rsplit("/", 1)[1]
    assert asked and asked[0].startswith(f"确认任务 #{task_id}（") and "已完成？" in asked[0]
    assert "作业中" in page.inner_text("main h1")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:text-is('完成任务')")
    _notice(page, "任务已完成")
    assert "已完成" in page.inner_text("main h1") and "任务已结束，农机和人员已释放" in page.inner_text("#resources")

    # Back on the dashboard: one waiting task fewer, one done more, the area counted.
    page.click("main dl a:has-text('县底镇秋季抢收抢种')")
    page.wait_for_selector("#states")
    assert page.url == dashboard
    assert _state_count(page, "待安排") == waiting - 1 and _state_count(page, "已完成") == done + 1
    now_done, now_area = _area(page)
    assert now_area == area and round(now_done - area_done, 1) == round(left, 1)
    assert [e for e in errors if "status of 422" not in e] == []  # Chromium logs the refused report's 422
