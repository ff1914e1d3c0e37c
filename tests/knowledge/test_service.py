"""Editing the knowledge base: validation names the field, versions catch concurrent edits."""

from __future__ import annotations

import pytest

from hotline.kit.errors import Conflict, Invalid, NotFound, PermissionDenied
from hotline.knowledge import service
from hotline.knowledge.models import KnowledgeArticle
from hotline.knowledge.seed import load_articles, shipped
from tests.knowledge.kb import article_id

GOOD = {"title": "电动自行车上牌", "body": "请携带身份证、购车发票和合格证到交警部门指定的登记点办理。",
        "category_codes": "1501, 07", "keywords": "电动车，上牌、 号牌"}


def _create(session, actor, **overrides):
    return service.create(session, actor=actor, **(GOOD | overrides))


def test_an_admin_adds_an_article_and_lists_are_cleaned(kb, people):
    with kb.transaction() as s:
        a = _create(s, people.admin)
        assert (a.category_codes, a.keywords) == (["1501", "07"], ["电动车", "上牌", "号牌"])
        assert a.version == 1 and a.active and a.updated_by_id == people.admin.id and a.seed_key is None


@pytest.mark.parametrize(("overrides", "message"), [
    ({"title": "  "}, "标题不能为空"),
    ({"title": "长" * 101}, "标题过长"),
    ({"body": ""}, "答复内容不能为空"),
    ({"body": "a\x00b"}, "答复内容含有空字符"),
    ({"category_codes": ""}, "关联分类不能为空"),
    ({"category_codes": "0802, 7777"}, "未知的分类代码：7777"),
    ({"keywords": "这是一个非常非常非常非常非常长的关键词啊啊"}, "关键词「这是一个非常非常非常非常非常长的关键词啊啊」过长"),
    ({"keywords": " ".join(str(i) for i in range(21))}, "关键词过多"),
])
def test_invalid_input_is_refused_naming_the_field(kb, people, overrides, message):
    with kb.transaction() as s, pytest.raises(Invalid) as err:
        _create(s, people.admin, **overrides)
    assert message in err.value.message


def test_a_title_an_active_article_already_has_is_refused_naming_that_article(kb, people):
    with kb.transaction() as s:
        first = _create(s, people.admin).id
    for typed in ("电动自行车上牌", " 电动 自行车上牌 ", "电动自行车上牌\t"):
        with kb.transaction() as s, pytest.raises(Invalid) as err:
            _create(s, people.admin, title=typed)
        assert err.value.message == f"标题与已有知识第 {first} 条「电动自行车上牌」重复：请修改那一条，或换一个标题"
        assert err.value.details == {"field": "title", "id": first}
    with kb.transaction() as s:
        other = _create(s, people.admin, title="Ebike 上牌").id
    with kb.transaction() as s, pytest.raises(Invalid, match=f"已有知识第 {other} 条「Ebike 上牌」重复"):
        _create(s, people.admin, title="ＥＢＩＫＥ上牌")  # full-width and capitals are the same title
    with kb.transaction() as s, pytest.raises(Invalid, match=f"已有知识第 {first} 条"):  # renamed onto it
        service.update(s, other, actor=people.admin, expected_version=1, title="电动自行车 上牌",
                       body=GOOD["body"], category_codes=["1501"])
    with kb.transaction() as s:  # saving an article under its own title is no duplicate
        service.update(s, first, actor=people.admin, expected_version=1, title="电动自行车上牌",
                       body="新的答复", category_codes=["1501"])
        service.archive(s, first, actor=people.admin, expected_version=2)
    with kb.transaction() as s:  # once archived (out of search), a new article may take the title
        third = _create(s, people.admin).id
    with kb.transaction() as s, pytest.raises(Invalid, match=f"已有知识第 {third} 条"):  # re-enabling clashes
        service.update(s, first, actor=people.admin, expected_version=3, title="电动自行车上牌",
                       body="新的答复", category_codes=["1501"], active=True)


def test_only_admins_edit(kb, people):
    with kb.transaction() as s, pytest.raises(PermissionDenied) as err:
        _create(s, people.agent)
    assert err.value.message == "只有管理员可以编辑知识库"


def test_an_edit_from_a_stale_version_is_a_conflict(kb, people):
    with kb.transaction() as s:
        aid = _create(s, people.admin).id
    with kb.transaction() as s:  # the first editor saves
        a = service.update(s, aid, actor=people.admin, expected_version=1, title="电动自行车登记上牌",
                           body=GOOD["body"], category_codes=["1501"], keywords="电动车")
        assert a.version == 2
    with kb.transaction() as s, pytest.raises(Conflict) as err:  # the second still saw version 1
        service.update(s, aid, actor=people.admin, expected_version=1, title="别的标题", body="别的答复",
                       category_codes=["1501"])
    assert "已被他人修改（版本 2，您看到的是 1）" in err.value.message
    with kb.transaction(write=False) as s:
        assert s.get(KnowledgeArticle, aid).title == "电动自行车登记上牌"
    with kb.transaction() as s:
        service.archive(s, aid, actor=people.admin, expected_version=2)
    with kb.transaction() as s, pytest.raises(Conflict):
        service.archive(s, aid, actor=people.admin, expected_version=3)  # already archived
    with kb.transaction() as s, pytest.raises(NotFound):
        service.update(s, 999999, actor=people.admin, expected_version=1, title="x", body="y",
                       category_codes=["1501"])


def test_the_shipped_articles_load_once_and_an_admins_edit_survives_init(kb, people):
    with kb.transaction() as s:
        assert load_articles(s) == 0  # the fixture loaded them already
        aid = article_id(s, "heating")
        service.update(s, aid, actor=people.admin, expected_version=1, title="供暖（本县）",
                       body="本县供暖期以县政府公告为准。", category_codes=["0302"])
    with kb.transaction() as s:
        assert load_articles(s) == 0
        assert s.get(KnowledgeArticle, aid).title == "供暖（本县）"


def test_every_shipped_article_is_valid_and_linked_to_known_categories(kb):
    items = shipped()
    assert len(items) >= 30
    with kb.transaction(write=False) as s:
        for item in items:
            service.check_values(s, item["title"], item["body"], item["categories"], item["keywords"])
