"""就业服务站 in a real browser (Debian's Chromium, as in test_browser): a township's station staff
place a job seeker of the ledger and see the village's figures change.

The fixtures come from test_browser: pytest takes fixtures from a test module's names, imported
ones too (``demo_server`` is module-scoped, so this module runs its own demo site).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pytest

from tests.web.test_browser import (  # noqa: F401 - fixtures, used by name
    COUNT_SWAPS,
    MISSING,
    _watch_errors,
    act,
    browser,
    demo_server,
    shot,
    sign_in,
)

pytestmark = pytest.mark.skipif(MISSING, reason="Debian's chromium is not installed (make test installs it)")

XINSHE = "洪井镇信社村"
# Screenshots that only a person checking a layout looks at: not the README's, in docs/screenshots.
SHOTS_TMP = Path(os.environ.get("HOTLINE_SHOTS_TMP") or tempfile.gettempdir())


def _village_row(page) -> dict[str, str]:
    """信社村's row of the 充分就业村 table, cell by heading."""
    headings = page.locator("main table.list thead th").all_inner_texts()
    cells = page.locator(f"main table.list tbody tr:has(td:text-is('{XINSHE}')) td").all_inner_texts()
    return dict(zip(headings, cells, strict=False))


def test_station_staff_place_a_job_seeker_and_the_village_figures_move(demo_server, browser):  # noqa: F811 - fixtures
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    context.add_init_script(COUNT_SWAPS)
    page = context.new_page()
    errors = _watch_errors(page)
    sign_in(page, demo_server, "licheng-hongjing-1", "demo12345")  # 洪井镇: 3 station villages
    page.wait_for_url("**/unit")
    act(page, "header nav a[href='/employment']")
    act(page, "main a[href='/employment/villages']")
    assert page.url.endswith("/employment/villages")
    before = _village_row(page)
    assert before["村"] == XINSHE and before["就业率"].endswith("%")

    # A job in the village: a new posting, so nobody has been recommended to it yet.
    act(page, "main a[href='/employment/jobs']")
    page.fill("input[name=employer]", "信社村食用菌合作社")
    page.select_option("select[name=region]", label=XINSHE)
    page.fill("input[name=title]", "香菇采摘工")
    page.fill("input[name=openings]", "3")
    page.fill("input[name=pay]", "120元/天")
    act(page, "main form button:text-is('发布')")
    assert "岗位已发布" in page.inner_text("main") and "香菇采摘工" in page.inner_text("main h1")
    job_path = page.url.removeprefix(demo_server).split("?")[0]

    # The ledger, narrowed to the village's job seekers out of work.
    act(page, "main a[href='/employment/workers']")
    page.select_option("select[name=village]", label=XINSHE)
    page.select_option("select[name=status]", label="未就业")
    act(page, "form.filters button[type=submit]")
    assert "status=unemployed" in page.url and "就业状态：未就业" in page.inner_text("main")
    # The first who said what work they want (the job's matching lists only those).
    row = page.locator("main table.list tbody tr").filter(has=page.locator("td:nth-child(7):not(:empty)")).first
    name = row.locator("td a").first.inner_text()
    worker_path = row.locator("td a").first.get_attribute("href")
    act(page, f"main table.list a[href='{worker_path}']")
    assert re.fullmatch(r"/employment/workers/\d+", worker_path) and page.url.endswith(worker_path)
    assert page.inner_text("main h1 .badge") == "未就业"

    # 岗位信息 → the new job → recommend them → 录用上岗.
    act(page, "main a[href='/employment/jobs']")
    act(page, f"main a[href='{job_path}']")
    candidate = page.locator(f"main tr:has(a[href='{worker_path}'])")
    assert candidate.count() == 1 and "同村" in candidate.inner_text()
    act(page, f"main tr:has(a[href='{worker_path}']) button:text-is('推荐')")
    assert "已推荐，结果出来后请在下方登记" in page.inner_text("main")
    # 录用上岗 cannot be undone: it asks first, naming the person, and a 取消 leaves everything as it was.
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.evaluate("window.__swaps = window.__swaps || 0")
    swaps = page.evaluate("window.__swaps")
    page.click(f"main tr:has(a[href='{worker_path}']) button[value=hired]")
    page.wait_for_timeout(300)
    assert asked == [f"确认 {name} 已被信社村食用菌合作社录用上岗？登记后不能撤销，其台账将改为稳定就业。"]
    assert page.evaluate("window.__swaps") == swaps and "（已录用 0 人）" in page.inner_text("main")
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    act(page, f"main tr:has(a[href='{worker_path}']) button[value=hired]")
    assert len(asked) == 2
    assert "已登记录用上岗" in page.inner_text("main") and "（已录用 1 人）" in page.inner_text("main")
    assert "已录用上岗" in page.locator(f"main tr:has(a[href='{worker_path}'])").inner_text()

    # The worker is now 稳定就业 at the workshop, with the placement on record.
    act(page, f"main section:has(h2:has-text('已推荐人员')) a[href='{worker_path}']")
    assert page.url.endswith(worker_path)
    assert page.inner_text("main h1 .badge") == "稳定就业" and name in page.inner_text("main h1")
    facts = page.inner_text("main table.facts")
    assert "县内 · 信社村食用菌合作社" in facts
    assert "经推荐在信社村食用菌合作社上岗（香菇采摘工，120元/天）" in page.inner_text("main")
    shot(page, "employment-worker")

    # The village's figures: one more in work and in stable work, one fewer out of work.
    act(page, "main a[href='/employment/villages']")
    after = _village_row(page)
    for column, change in (("台账人数", 0), ("劳动力", 0), ("已就业", 1), ("稳定就业", 1), ("未就业", -1)):
        assert int(after[column]) == int(before[column]) + change, column
    rate = 100 * int(after["已就业"]) / int(after["劳动力"])
    assert after["就业率"] == f"{rate:.1f}%"
    shot(page, "employment-villages")
    assert errors == []
    context.close()


def test_a_long_note_wraps_beside_labels_that_keep_their_width(demo_server, browser):  # noqa: F811 - fixtures
    """基本情况 with a note of about a hundred characters: every label stays on one line, at its
    width, and the note (an unbroken run of letters too) wraps inside the value column."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    context.add_init_script(COUNT_SWAPS)
    page = context.new_page()
    errors = _watch_errors(page)
    sign_in(page, demo_server, "licheng-hongjing-1", "demo12345")
    page.wait_for_url("**/unit")
    act(page, "header nav a[href='/employment']")
    act(page, "main a[href='/employment/workers']")
    worker_path = page.locator("main table.list tbody tr td a").first.get_attribute("href")
    act(page, f"main table.list a[href='{worker_path}']")
    page.click("main details summary")
    note = "本人希望在县内就近务工，家中有老人需要照顾，" * 4 + "skills:" + "x" * 40
    page.fill("main details textarea[name=note]", note)
    act(page, "main details form button[type=submit]")
    assert "已保存" in page.inner_text("main")
    # Each label: its text, the column's width, and the height of the label's text itself.
    labels = page.eval_on_selector_all("main table.facts th", """els => els.map(e => {
        const r = document.createRange(); r.selectNodeContents(e);
        return [e.innerText, e.getBoundingClientRect().width, r.getBoundingClientRect().height]; })""")
    assert "备注" in [text for text, _w, _h in labels]
    widest = max(width for _text, width, _h in labels)
    for text, width, height in labels:
        assert height < 26 and width >= widest - 1, (text, width, height)  # one line, one column width
    assert widest > 90  # 性别 / 出生年份 whole, not a character a line
    cell = page.locator("main table.facts tr:has(th:text-is('备注')) td")
    assert cell.inner_text() == note
    box = cell.bounding_box()
    assert box is not None and box["height"] > 40  # wrapped onto several lines
    assert page.evaluate("document.querySelector('main .cols').scrollWidth <= "
                         "document.querySelector('main .cols').clientWidth")
    page.screenshot(path=str(SHOTS_TMP / "employment-worker-long-note.png"), full_page=True)
    assert errors == []
    context.close()
