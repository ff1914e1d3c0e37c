"""The knowledge base pages: admins edit it, staff browse it, the intake form suggests answers and
answers a consultation directly in one step."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from hotline.knowledge.models import KnowledgeArticle
from hotline.tickets.models import Ticket
from hotline.tickets.states import Status
from tests.builders import ZHULV
from tests.knowledge.kb import article_id, reset_knowledge

ANSWER = "社保卡丢失后请先拨打12333临时挂失，再携带身份证到社保卡服务网点补卡。"


@pytest.fixture
def kb_site(site):
    reset_knowledge(site.db)
    yield site
    reset_knowledge(site.db, seed=False)


def _article(site, **where) -> KnowledgeArticle | None:
    with site.db.transaction(write=False) as s:
        found = s.scalar(select(KnowledgeArticle).filter_by(**where))
        if found is not None:
            s.expunge(found)
        return found


def test_an_admin_adds_an_article_and_agents_find_it_at_once(kb_site):
    site = kb_site
    admin, csrf = site.signed_in("admin")
    page = admin.get("/admin/knowledge")
    assert page.status_code == 200 and "知识库" in page.text and "添加知识" in page.text
    assert 'href="/admin/knowledge" class="on"' in page.text  # the admin tab bar, this tab chosen
    assert "社保卡丢失怎么挂失和补办" in page.text  # the shipped articles are listed
    r = admin.post("/admin/knowledge", data={
        "csrf": csrf, "title": "电动自行车怎么上牌", "body": "请携带身份证、购车发票和产品合格证到交警部门登记点办理。",
        "category_codes": ["1501", "07"], "keywords": "电动车，上牌、号牌", "active": "1"})
    assert r.status_code == 303
    edit = admin.get(r.headers["location"])
    assert "已添加知识「电动自行车怎么上牌」" in edit.text and "购车发票" in edit.text
    assert '<option value="1501" selected' in edit.text and "电动车、上牌、号牌" in edit.text

    agent, _ = site.signed_in("agent")
    hits = agent.get("/agent/knowledge", params={"content": "我想问一下电动车上牌要带什么"})
    assert hits.status_code == 200 and "电动自行车怎么上牌" in hits.text and "采用此答复" in hits.text
    assert "<html" not in hits.text  # a fragment for the intake form
    browse = agent.get("/knowledge", params={"q": "电动车上牌"})
    assert "电动自行车怎么上牌" in browse.text
    found = admin.get("/admin/knowledge", params={"q": "电动车上牌"})
    assert "「电动车上牌」的检索结果" in found.text and "电动自行车怎么上牌" in found.text


def test_a_refused_article_keeps_everything_typed(kb_site):
    site = kb_site
    admin, csrf = site.signed_in("admin")
    r = admin.post("/admin/knowledge", data={"csrf": csrf, "title": "", "body": "只写了答复内容",
                                             "category_codes": ["1501"], "keywords": "某个说法"})
    assert r.status_code == 422 and "标题不能为空" in r.text
    assert "只写了答复内容" in r.text and "某个说法" in r.text and '<option value="1501" selected' in r.text
    r = admin.post("/admin/knowledge", data={"csrf": csrf, "title": "没有分类", "body": "答复"})
    assert r.status_code == 422 and "关联分类不能为空" in r.text and 'value="没有分类"' in r.text
    assert _article(site, title="没有分类") is None


def test_a_duplicate_title_is_refused_with_a_link_to_the_article_that_has_it(kb_site):
    site = kb_site
    admin, csrf = site.signed_in("admin")
    with site.db.transaction(write=False) as s:
        existing = article_id(s, "sbk-lost")
    r = admin.post("/admin/knowledge", data={"csrf": csrf, "title": " 社保卡丢失怎么挂失和补办 ", "body": ANSWER,
                                             "category_codes": ["0802"], "keywords": "社保卡", "active": "1"})
    assert r.status_code == 422
    assert f"标题与已有知识第 {existing} 条「社保卡丢失怎么挂失和补办」重复" in r.text
    assert f'<a href="/admin/knowledge/{existing}">打开第 {existing} 条</a>' in r.text
    assert ANSWER in r.text  # what was typed stays
    with site.db.transaction(write=False) as s:
        count = s.scalar(select(func.count()).select_from(KnowledgeArticle)
                         .where(KnowledgeArticle.title.like("%社保卡丢失怎么挂失和补办%")))
    assert count == 1


def test_an_admin_edits_and_archives_and_a_stale_edit_is_a_conflict(kb_site):
    site = kb_site
    with site.db.transaction(write=False) as s:
        aid = article_id(s, "sbk-lost")
    admin, csrf = site.signed_in("admin")
    form = admin.get(f"/admin/knowledge/{aid}").text
    assert "编辑「社保卡丢失怎么挂失和补办」" in form and 'name="version" value="1"' in form
    fields = {"csrf": csrf, "version": "1", "title": "社保卡丢失挂失与补卡", "body": ANSWER,
              "category_codes": ["0802"], "keywords": "社保卡、挂失、丢了", "active": "1"}
    r = admin.post(f"/admin/knowledge/{aid}", data=fields)
    assert r.status_code == 303
    assert "已保存知识「社保卡丢失挂失与补卡」" in admin.get(r.headers["location"]).text
    agent, _ = site.signed_in("agent")
    assert "社保卡丢失挂失与补卡" in agent.get("/agent/knowledge", params={"q": "社保卡丢了怎么办"}).text

    # A second admin still on version 1: refused, what they typed kept, the other's text shown.
    r = admin.post(f"/admin/knowledge/{aid}", data=fields | {"title": "我的标题", "body": "我写的答复"})
    assert r.status_code == 409 and "已被他人修改（版本 2，您看到的是 1）" in r.text
    assert 'value="我的标题"' in r.text and "我写的答复" in r.text and "对方保存的内容" in r.text
    assert _article(site, id=aid).title == "社保卡丢失挂失与补卡"

    r = admin.post(f"/admin/knowledge/{aid}/archive", data={"csrf": csrf, "version": "2"})
    assert r.status_code == 303 and "已停用知识" in admin.get(r.headers["location"]).text
    assert "社保卡丢失挂失与补卡" not in agent.get("/agent/knowledge", params={"q": "社保卡丢了怎么办"}).text
    assert agent.get(f"/knowledge/{aid}").status_code == 404
    assert "已停用" in admin.get(f"/knowledge/{aid}").text


def test_only_admins_edit_and_every_post_needs_the_csrf_token(kb_site):
    site = kb_site
    with site.db.transaction(write=False) as s:
        aid = article_id(s, "heating")
    agent, csrf = site.signed_in("agent")
    assert agent.get("/admin/knowledge").status_code == 403
    r = agent.post("/admin/knowledge", data={"csrf": csrf, "title": "x", "body": "y", "category_codes": ["1501"]})
    assert r.status_code == 403 and "只有管理员可以编辑知识库" in r.text
    assert agent.post(f"/admin/knowledge/{aid}/archive", data={"csrf": csrf, "version": "1"}).status_code == 403
    assert _article(site, id=aid).active

    admin, _ = site.signed_in("admin")
    r = admin.post("/admin/knowledge", data={"title": "无令牌", "body": "y", "category_codes": ["1501"]})
    assert r.status_code == 403 and "表单校验失败" in r.text
    assert _article(site, title="无令牌") is None
    assert site.browser().get("/knowledge").status_code == 303  # signed out: to the sign-in page


def test_staff_browse_the_knowledge_base(kb_site):
    site = kb_site
    handler, _ = site.signed_in("handler_a")
    page = handler.get("/knowledge")
    assert page.status_code == 200 and "社保卡丢失怎么挂失和补办" in page.text and 'href="/knowledge"' in page.text
    by_category = handler.get("/knowledge", params={"category_code": "0302"}).text
    assert "供暖时间、收费和室温标准" in by_category and "社保卡丢失" not in by_category
    with site.db.transaction(write=False) as s:
        aid = article_id(s, "power-outage")
    article = handler.get(f"/knowledge/{aid}").text
    assert "95598" in article and "编辑" not in article
    assert handler.get("/knowledge/99999999").status_code == 404


def test_the_intake_form_suggests_answers_from_what_the_agent_types(kb_site):
    agent, _ = kb_site.signed_in("agent")
    form = agent.get("/agent/intake").text
    assert "知识库参考答复" in form and 'hx-get="/agent/knowledge"' in form
    assert 'name="answer"' in form and "直接答复并办结" in form
    hits = agent.get("/agent/knowledge", params={"content": "我家停水了，什么时候来水", "category_code": "停水（0101）"})
    assert hits.text.index("突然停水、供水管道漏水怎么报修") < hits.text.index("</li>")  # the first hit
    empty = agent.get("/agent/knowledge", params={"q": "量子纠缠"}).text
    assert "知识库中没有找到相关答复" in empty


def _intake(csrf: str, **overrides: str) -> dict[str, str]:
    fields = {"csrf": csrf, "caller_phone": "13803590001", "caller_name": "李女士", "kind": "consultation",
              "category_code": "0802", "region": f"夏县裴介镇朱吕村（{ZHULV}）", "address": "",
              "urgency": "normal", "content": "社保卡丢了，问怎么挂失补办。", "direct": "on",
              "answer": ANSWER, "action": "answer"}
    fields.update(overrides)
    return fields


def test_the_agent_answers_a_consultation_directly_and_the_ticket_is_closed(kb_site):
    site = kb_site
    agent, csrf = site.signed_in("agent")
    r = agent.post("/agent/intake", data=_intake(csrf))
    assert r.status_code == 200, r.text
    assert "已直接答复并办结" in r.text
    number = re.search(r'href="/tickets/([0-9-]+)"><b>', r.text).group(1)
    with site.db.transaction(write=False) as s:
        ticket = s.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket.status == Status.closed and ticket.close_reason == "answered_directly"
        assert ticket.direct_answer == ANSWER and ticket.lead_unit_id is None
    assert "12333临时挂失" in agent.get(f"/tickets/{number}").text


def test_a_consultation_answered_directly_needs_only_the_caller_s_county(kb_site):
    """社保卡 lost: no place of its own. The agent asks the caller's county and types 夏县; an empty
    place is refused saying so, everything typed kept. A call to be dispatched still needs the
    township or village."""
    site = kb_site
    agent, csrf = site.signed_in("agent")
    empty = agent.post("/agent/intake", data=_intake(csrf, region=""))
    assert empty.status_code == 422 and "来电人所在县（区）即可" in empty.text and ANSWER in empty.text
    r = agent.post("/agent/intake", data=_intake(csrf, region="夏县"))
    assert r.status_code == 200 and "已直接答复并办结" in r.text, r.text
    number = re.search(r'href="/tickets/([0-9-]+)"><b>', r.text).group(1)
    with site.db.transaction(write=False) as s:
        ticket = s.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket.status == Status.closed and ticket.region_code == "140828"
    dispatched = agent.post("/agent/intake", data=_intake(csrf, region="夏县", action="", answer=""))
    assert dispatched.status_code == 422 and "已直接答复并办结" not in dispatched.text
    refused = agent.post("/agent/intake", data=_intake(csrf, region="夏县", action="refuse", answer="",
                                                       refusal_reason="非本热线受理范围，已告知来电人拨打12333"))
    assert refused.status_code == 200 and "工单已登记" in refused.text, refused.text


def test_answering_directly_without_an_answer_is_refused_and_nothing_typed_is_lost(kb_site):
    site = kb_site
    agent, csrf = site.signed_in("agent")
    with site.db.transaction(write=False) as s:
        before = s.scalar(select(func.count()).select_from(Ticket))
    r = agent.post("/agent/intake", data=_intake(csrf, answer="  "))
    assert r.status_code == 422 and "直接答复内容不能为空" in r.text
    assert "社保卡丢了，问怎么挂失补办。" in r.text and 'value="李女士"' in r.text
    with site.db.transaction(write=False) as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == before
    # The plain 登记 button ignores the answer field and registers for dispatch as before.
    r = agent.post("/agent/intake", data=_intake(csrf, action="", answer=""))
    assert r.status_code == 200 and "工单已登记" in r.text and "已直接答复并办结" not in r.text


def test_choosing_a_top_level_category_lists_the_articles_of_its_sub_categories(kb_site):
    handler, _ = kb_site.signed_in("handler_a")
    page = handler.get("/knowledge", params={"category_code": "03"}).text  # 燃气与供暖
    listed = page.split("检索结果", 1)[1]
    assert "供暖时间、收费和室温标准" in listed and "燃气漏气、停气和燃气费" in listed
    assert "没有找到相关知识" not in listed and "社保卡丢失" not in listed


def test_answers_offered_from_the_caller_s_words_are_only_those_worth_reading(kb_site):
    """As the agent types the call, the panel offers answers unasked: a street light out matches no
    article (not 食品安全 on a stray word), 停水 offers the water article without 物业纠纷 beside it;
    the same words typed in the search box still list every hit."""
    agent, _ = kb_site.signed_in("agent")
    light = agent.get("/agent/knowledge", params={"content": "夏县瑶峰镇城南社区的路灯坏了，晚上出行很不方便"}).text
    assert "知识库中没有找到相关答复" in light and "食品安全" not in light
    water = agent.get("/agent/knowledge", params={"content": "家里停水了，什么时候来水"}).text
    assert "突然停水、供水管道漏水怎么报修" in water and "物业纠纷" not in water
    lost = agent.get("/agent/knowledge", params={"content": "我的社保卡丢了，想问一下怎么补办"}).text
    assert lost.index("社保卡丢失怎么挂失和补办") < lost.index("社保卡（第三代社保卡）")
    searched = agent.get("/agent/knowledge", params={"q": "家里停水了，什么时候来水"}).text
    assert "突然停水、供水管道漏水怎么报修" in searched and "物业纠纷" in searched
