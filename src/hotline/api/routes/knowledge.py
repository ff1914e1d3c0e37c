"""The knowledge base (知识库) for other systems: a WeChat bot or the city's app answers common
questions from it directly.

``GET /knowledge`` searches the active articles with the intake page's own search
(``knowledge.search.search``: jieba, BM25, the category's articles first); without ``q`` it lists
a category's articles, and with neither every active article by title. ``GET /knowledge/{id}`` is
one article. An archived (停用) article is out of both: it was withdrawn because its answer no longer
holds, and a bot must not read it out. Admins may ask for archived ones with ``include_archived``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import Field

from hotline.accounts.models import Role
from hotline.api import paging
from hotline.api.edge import Context, unit_of_work
from hotline.api.schemas import Out, Timestamp
from hotline.directory import reference
from hotline.kit.errors import Invalid, NotFound, PermissionDenied
from hotline.knowledge import search, service
from hotline.knowledge.models import KnowledgeArticle
from hotline.tickets.views import iso

router = APIRouter(tags=["knowledge"])

MAX_Q_CHARS = 2000  # what a chat message may be; the search reads its first search.MAX_QUERY_CHARS
EVERY_HIT = 1_000_000  # more than the knowledge base holds: search ranks every match, the window is cut here

ARCHIVED = ("also archived (停用) articles, marked `active: false` (admins only); by default only active "
            "articles are found")


class CategoryRef(Out):
    code: str
    name: str


class KnowledgeHitOut(Out):
    id: int
    title: str
    snippet: str = Field(description="about 60 characters of the answer around the words asked (the whole "
                         "answer when it is short; empty when listing without `q`)")
    body: str = Field(description="the whole answer, as an agent reads it out")
    categories: list[CategoryRef] = Field(description="the categories the article answers")
    keywords: list[str]
    active: bool = Field(description="false: archived (only with `include_archived`)")
    score: float = Field(description="relevance, higher first (0 when listing without `q`)")
    updated_at: Timestamp | None


class KnowledgeArticleOut(Out):
    id: int
    title: str
    body: str = Field(description="the whole answer, as an agent reads it out")
    categories: list[CategoryRef]
    keywords: list[str]
    active: bool = Field(description="false: archived (only with `include_archived`)")
    version: int = Field(description="changes with every edit")
    created_at: Timestamp
    updated_at: Timestamp


def _archived_allowed(ctx: Context, include_archived: bool) -> bool:
    if include_archived and ctx.user.role != Role.admin:
        raise PermissionDenied("只有管理员可以查看已停用的知识", code="knowledge_archived_forbidden")
    return include_archived


def _categories(names: dict[str, str], codes: list[Any] | None) -> list[dict[str, str]]:
    return [{"code": str(c), "name": names.get(str(c), str(c))} for c in (codes or [])]


def _hit(names: dict[str, str], h: search.Hit) -> dict[str, Any]:
    return {"id": h.id, "title": h.title, "snippet": h.snippet, "body": h.body,
            "categories": _categories(names, h.category_codes), "keywords": list(h.keywords), "active": h.active,
            "score": h.score, "updated_at": iso(h.updated_at)}


def _listed(names: dict[str, str], a: KnowledgeArticle) -> dict[str, Any]:
    return {"id": a.id, "title": a.title, "snippet": "", "body": a.body,
            "categories": _categories(names, a.category_codes), "keywords": list(a.keywords or []),
            "active": a.active, "score": 0.0, "updated_at": iso(a.updated_at)}


@router.get("/knowledge", response_model=list[KnowledgeHitOut], responses=paging.TOTAL_DOC,
            summary="Search the knowledge base as the intake page does: best answer first (paged; total in X-Total-Count)")
def list_knowledge(
    request: Request, response: Response,
    window: Annotated[paging.Window, Depends(paging.rows(default=10, most=100))],
    q: str = Query(default="", max_length=MAX_Q_CHARS,
                   description=f"what the caller asked, in their words (社保卡丢了); the first "
                               f"{search.MAX_QUERY_CHARS} characters are searched"),
    category_code: str | None = Query(default=None, max_length=12,
                                      description="事项分类编码: its articles rank first; alone, lists them"),
    include_archived: bool = Query(default=False, description=ARCHIVED),
) -> list[dict[str, Any]]:
    with unit_of_work(request, write=False) as ctx:
        archived = _archived_allowed(ctx, include_archived)
        snap = reference.snapshot(ctx.session)
        if category_code and category_code not in snap.categories:
            raise Invalid(f"未知的事项分类代码：{category_code}", code="unknown_category",
                          details={"field": "category_code"})
        names = {code: c.name for code, c in snap.categories.items()}
        if q.strip() or category_code:
            hits = search.search(ctx.session, q, category_code, limit=EVERY_HIT, include_archived=archived)
            paging.report_total(response, len(hits))
            return [_hit(names, h) for h in hits[window.offset:window.offset + window.limit]]
        articles = [a for a in service.list_articles(ctx.session) if a.active or archived]
        paging.report_total(response, len(articles))
        return [_listed(names, a) for a in articles[window.offset:window.offset + window.limit]]


@router.get("/knowledge/{article_id}", response_model=KnowledgeArticleOut, summary="One knowledge article")
def get_knowledge(article_id: int, request: Request,
                  include_archived: bool = Query(default=False, description=ARCHIVED)) -> dict[str, Any]:
    with unit_of_work(request, write=False) as ctx:
        archived = _archived_allowed(ctx, include_archived)
        article = service.get(ctx.session, article_id)
        if not (article.active or archived):
            raise NotFound(f"知识库文章 {article_id} 不存在或已停用", details={"id": article_id})
        names = {code: c.name for code, c in reference.snapshot(ctx.session).categories.items()}
        return {"id": article.id, "title": article.title, "body": article.body,
                "categories": _categories(names, article.category_codes), "keywords": list(article.keywords or []),
                "active": article.active, "version": article.version, "created_at": iso(article.created_at),
                "updated_at": iso(article.updated_at)}
