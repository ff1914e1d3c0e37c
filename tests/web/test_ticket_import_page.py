"""导入工单 as the person importing sees it: what the page says about repeats and deadlines, and
a stopped category named as stopped, by its name as by its code."""

from __future__ import annotations

from hotline.directory import admin, reference


def test_the_page_says_rows_without_a_received_time_are_recognised_as_repeats(site):
    agent, _ = site.signed_in("agent")
    page = agent.get("/tickets/import").text
    assert "无法识别重复" not in page
    assert "视为已导入过，不会重复登记（未填受理时间的行同样能识别）" in page
    assert "派单等办理时限从导入时起算，较早收到的来信不会一导入就超期" in page


def test_a_stopped_category_is_named_stopped_by_its_name_as_by_its_code(site, session):
    admin.add_category(session, parent_code="01", code="0105", name="二次供水")
    admin.edit_category(session, code="0105", name="二次供水", keywords="二次供水", active=False)
    admin.add_category(session, parent_code="02", code="0209", name="停水")  # a name also used in 供水 (0101)
    admin.edit_category(session, code="0209", name="停水", keywords="停水", active=False)
    session.commit()
    reference.invalidate()
    agent, csrf = site.signed_in("agent")
    body = ("诉求内容,发生地,事项分类\n"
            "来信反映楼顶水箱脏,裴介镇 朱吕村,二次供水\n"
            "来信反映楼顶水箱脏了,裴介镇 朱吕村,0105\n"
            "来信反映村里停水,裴介镇 朱吕村,停水\n")  # the active 停水 (0101): not refused
    r = agent.post("/tickets/import", data={"csrf": csrf, "check": "1"},
                   files={"file": ("letters.csv", body.encode(), "text/csv")})
    assert r.status_code == 422
    assert r.text.count("事项分类 0105「二次供水」已停用") == 2 and "没有事项分类" not in r.text
    assert "2 行有问题" in r.text and "第 4 行" not in r.text
