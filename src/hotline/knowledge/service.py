"""Writing the knowledge base: create, edit, archive. Admins only; services flush, the edge commits.

Every edit names the version the editor saw: an article changed meanwhile by someone else is a
``Conflict``, not a silent overwrite. A successful change drops this process's search index; the
other processes notice at their next search (``search.index_for`` compares a signature).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.accounts.models import Role, User
from hotline.directory import reference
from hotline.kit import clock
from hotline.kit.errors import Conflict, Invalid, NotFound, PermissionDenied
from hotline.knowledge import search
from hotline.knowledge.models import KnowledgeArticle

MAX_TITLE_CHARS = 100
MAX_BODY_CHARS = 5000
MAX_KEYWORDS = 20
MAX_KEYWORD_CHARS = 20
MAX_CATEGORIES = 10

_SEPARATORS = re.compile(r"[\s,，、;；|]+")


def split_list(text: str | Iterable[str] | None) -> list[str]:
    """'社保卡, 挂失、补卡' (or a list) → ['社保卡', '挂失', '补卡'], blanks and repeats dropped."""
    if text is None:
        return []
    parts = _SEPARATORS.split(text) if isinstance(text, str) else [str(p).strip() for p in text]
    return list(dict.fromkeys(p for p in parts if p))


def _editor(actor: User | None) -> None:
    if actor is None or actor.role != Role.admin:
        raise PermissionDenied("只有管理员可以编辑知识库")


def _text(value: str | None, field: str, label: str, max_chars: int) -> str:
    text = (value or "").strip()
    if "\x00" in text:
        raise Invalid(f"{label}含有空字符", code="nul_character", details={"field": field})
    if not text:
        raise Invalid(f"{label}不能为空", code="empty", details={"field": field})
    if len(text) > max_chars:
        raise Invalid(f"{label}过长：{len(text)} 字，最多 {max_chars} 字", code="too_long",
                      details={"field": field, "max": max_chars})
    return text


def _categories(session: Session, codes: str | Iterable[str] | None) -> list[str]:
    chosen = split_list(codes)
    if not chosen:
        raise Invalid("关联分类不能为空：请至少选择一个事项分类", code="empty", details={"field": "category_codes"})
    if len(chosen) > MAX_CATEGORIES:
        raise Invalid(f"关联分类过多：最多 {MAX_CATEGORIES} 个", code="too_many", details={"field": "category_codes"})
    known = reference.snapshot(session).categories
    unknown = [c for c in chosen if c not in known]
    if unknown:
        raise Invalid(f"关联分类中有未知的分类代码：{'、'.join(unknown)}", code="unknown_category",
                      details={"field": "category_codes"})
    return chosen


def _keywords(words: str | Iterable[str] | None) -> list[str]:
    chosen = split_list(words)
    if len(chosen) > MAX_KEYWORDS:
        raise Invalid(f"关键词过多：最多 {MAX_KEYWORDS} 个", code="too_many", details={"field": "keywords"})
    long = [w for w in chosen if len(w) > MAX_KEYWORD_CHARS]
    if long:
        raise Invalid(f"关键词「{long[0]}」过长：每个最多 {MAX_KEYWORD_CHARS} 字", code="too_long",
                      details={"field": "keywords"})
    if any("\x00" in w for w in chosen):
        raise Invalid("关键词含有空字符", code="nul_character", details={"field": "keywords"})
    return chosen


def check_values(session: Session, title: str | None, body: str | None, category_codes: Any, keywords: Any) -> dict[str, Any]:
    return {"title": _text(title, "title", "标题", MAX_TITLE_CHARS),
            "body": _text(body, "body", "答复内容", MAX_BODY_CHARS),
            "category_codes": _categories(session, category_codes),
            "keywords": _keywords(keywords)}


def title_key(title: str) -> str:
    """What makes two titles the same: full-width forms, case and whitespace aside."""
    return "".join(unicodedata.normalize("NFKC", title).split()).casefold()


def _no_namesake(session: Session, title: str, other_than: int | None) -> None:
    """An active article's title is its own: agents searching would get both, and not know which
    answer to read out. An archived article may share it (it is out of search)."""
    key = title_key(title)
    query = select(KnowledgeArticle.id, KnowledgeArticle.title).where(KnowledgeArticle.active.is_(True))
    if other_than is not None:
        query = query.where(KnowledgeArticle.id != other_than)
    for found_id, found_title in session.execute(query):
        if title_key(found_title) == key:
            raise Invalid(f"标题与已有知识第 {found_id} 条「{found_title}」重复：请修改那一条，或换一个标题",
                          code="duplicate", details={"field": "title", "id": found_id})


def get(session: Session, article_id: int) -> KnowledgeArticle:
    article = session.get(KnowledgeArticle, article_id) if 0 < article_id < 2**31 else None
    if article is None:
        raise NotFound(f"知识库文章 {article_id} 不存在", details={"id": article_id})
    return article


def create(session: Session, *, actor: User | None, title: str | None, body: str | None,
           category_codes: str | Iterable[str] | None, keywords: str | Iterable[str] | None = None,
           active: bool = True, seed_key: str | None = None) -> KnowledgeArticle:
    _editor(actor)
    values = check_values(session, title, body, category_codes, keywords)
    if active:
        _no_namesake(session, values["title"], None)
    return insert_checked(session, actor, values, active, seed_key)


def insert_checked(session: Session, actor: User | None, values: dict[str, Any], active: bool,
            seed_key: str | None) -> KnowledgeArticle:
    now = clock.now()
    article = KnowledgeArticle(**values, active=active, seed_key=seed_key, created_at=now, updated_at=now,
                               updated_by_id=actor.id if actor is not None else None)
    session.add(article)
    session.flush()
    search.invalidate(session)
    return article


def _check_version(article: KnowledgeArticle, expected_version: int | None) -> None:
    if expected_version is not None and article.version != expected_version:
        raise Conflict(
            f"知识「{article.title}」已被他人修改（版本 {article.version}，您看到的是 {expected_version}），"
            "请刷新后重试",
            details={"current_version": article.version})


def update(session: Session, article_id: int, *, actor: User | None, expected_version: int | None,
           title: str | None, body: str | None, category_codes: str | Iterable[str] | None,
           keywords: str | Iterable[str] | None = None, active: bool = True) -> KnowledgeArticle:
    _editor(actor)
    article = get(session, article_id)
    _check_version(article, expected_version)
    values = check_values(session, title, body, category_codes, keywords)
    if active:
        _no_namesake(session, values["title"], article.id)
    for key, value in values.items():
        setattr(article, key, value)
    article.active = bool(active)
    _touch(session, article, actor)
    return article


def archive(session: Session, article_id: int, *, actor: User | None,
            expected_version: int | None) -> KnowledgeArticle:
    """停用: the article leaves search; it stays in the list for admins and can be re-enabled."""
    _editor(actor)
    article = get(session, article_id)
    _check_version(article, expected_version)
    if not article.active:
        raise Conflict(f"知识「{article.title}」已停用", code="already_archived")
    article.active = False
    _touch(session, article, actor)
    return article


def _touch(session: Session, article: KnowledgeArticle, actor: User | None) -> None:
    article.updated_at = clock.now()
    article.updated_by_id = actor.id if actor is not None else None
    session.flush()
    search.invalidate(session)


def list_articles(session: Session) -> list[KnowledgeArticle]:
    return list(session.scalars(select(KnowledgeArticle).order_by(KnowledgeArticle.active.desc(),
                                                                   KnowledgeArticle.title, KnowledgeArticle.id)))
