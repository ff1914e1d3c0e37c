"""The knowledge base (知识库) pages.

- Admins edit it under 系统管理: ``/admin/knowledge`` (list, search, add) and ``/admin/knowledge/{id}``
  (edit, archive). POST + CSRF; a refusal renders the form again with the message and everything
  typed, a success redirects with a notice; an edit names the version it started from, so two admins
  editing the same article do not overwrite each other silently.
- Any signed-in staff member browses and searches it read-only: ``/knowledge``, ``/knowledge/{id}``.
- The intake form asks ``/agent/knowledge`` for suggestions as the agent types (an htmx fragment);
  "采用此答复" copies an answer into the form's direct-answer field.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from hotline.accounts.models import Role
from hotline.directory import reference
from hotline.kit.errors import Conflict, DomainError, NotFound
from hotline.knowledge import search, service
from hotline.knowledge.models import KnowledgeArticle
from hotline.web.render import page
from hotline.web.routes.admin import MENU
from hotline.web.routes.unit import refused
from hotline.web.session import PageContext, page_work

router = APIRouter(include_in_schema=False)

ADMIN_LIST_LIMIT = 200
SUGGESTIONS = 5
MAX_QUERY_CHARS = 200


# ---------------------------------------------------------------- helpers


def _category_code(snap: reference.Snapshot, text: str) -> str | None:
    """A category code from what a form sends: the code itself or 'name（code）'."""
    text = (text or "").strip()
    if text.endswith("）") and "（" in text:
        text = text.rsplit("（", 1)[1][:-1]
    return text if text in snap.categories else None


def _category_names(snap: reference.Snapshot) -> dict[str, str]:
    return {code: c.name for code, c in snap.categories.items()}


def _category_options(snap: reference.Snapshot) -> list[tuple[str, str, int]]:
    """(code, name, level) of active categories in code order, for the multi-select."""
    return [(code, c.name, c.level) for code, c in sorted(snap.categories.items()) if c.active]


def _row(a: KnowledgeArticle | search.Hit, names: dict[str, str]) -> dict[str, Any]:
    return {"id": a.id, "title": a.title, "body": a.body, "active": a.active, "updated_at": a.updated_at,
            "keywords": list(a.keywords or []),
            "categories": [(c, names.get(c, c)) for c in (a.category_codes or [])],
            "snippet": a.snippet if isinstance(a, search.Hit) else ""}


def _admin_page(request: Request, template: str, title: str, status_code: int = 200, **context: Any) -> Response:
    context.setdefault("typed", {})
    context.setdefault("error", None)
    context.setdefault("notice", None)
    return page(request, template, status_code=status_code, title=title, menu=MENU, **context)


def _link(err: DomainError) -> dict[str, str] | None:
    """For a refused duplicate title: a link to the article that has it."""
    found = err.details.get("id") if err.code == "duplicate" else None
    return {"href": f"/admin/knowledge/{found}", "text": f"打开第 {found} 条"} if found else None


def _not_admin(ctx: PageContext) -> bool:
    return ctx.user.role != Role.admin


def _refused(request: Request) -> Response:
    return refused(request, "只有管理员可以编辑知识库")


def _back(path: str, notice: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?notice={quote(notice)}", status_code=303)


def _typed(title: str, body: str, category_codes: list[str], keywords: str, active: str) -> dict[str, Any]:
    return {"title": title, "body": body, "category_codes": [c for v in category_codes for c in service.split_list(v)],
            "keywords": keywords, "active": bool(active)}


def _article_id(raw: int) -> int:
    if not 0 < raw < 2**31:
        raise NotFound(f"知识库文章 {raw} 不存在")
    return raw


# ---------------------------------------------------------------- admin: list and add


def _list_page(request: Request, ctx: PageContext, *, q: str = "", status_code: int = 200,
               error: str | None = None, typed: dict[str, Any] | None = None,
               notice: str | None = None, error_link: dict[str, str] | None = None) -> Response:
    snap = reference.snapshot(ctx.session)
    names = _category_names(snap)
    q = q.strip()[:MAX_QUERY_CHARS]
    found: list[Any] = (search.search(ctx.session, q, limit=ADMIN_LIST_LIMIT, include_archived=True) if q
                        else service.list_articles(ctx.session))
    return _admin_page(request, "knowledge/admin_list.html", "知识库", status_code=status_code,
                       rows=[_row(a, names) for a in found], q=q, options=_category_options(snap),
                       error=error, notice=notice, error_link=error_link,
                       typed=typed or {"active": True, "category_codes": []})


@router.get("/admin/knowledge")
def admin_list(request: Request, q: str = "", notice: str = "") -> Response:
    with page_work(request, write=False) as ctx:
        if _not_admin(ctx):
            return _refused(request)
        return _list_page(request, ctx, q=q, notice=notice or None)


@router.post("/admin/knowledge")
def admin_create(request: Request, csrf: str = Form(""), title: str = Form(""), body: str = Form(""),
                 category_codes: list[str] = Form([]), keywords: str = Form(""),
                 active: str = Form("")) -> Response:
    typed = _typed(title, body, category_codes, keywords, active)
    with page_work(request, write=True, posted_csrf=csrf) as ctx:
        if _not_admin(ctx):
            return _refused(request)
        try:
            article = service.create(ctx.session, actor=ctx.user, title=title, body=body,
                                     category_codes=typed["category_codes"], keywords=keywords,
                                     active=typed["active"])
        except DomainError as err:
            ctx.session.rollback()
            return _list_page(request, ctx, status_code=err.http_status, error=err.message, typed=typed,
                              error_link=_link(err))
        return _back(f"/admin/knowledge/{article.id}", f"已添加知识「{article.title}」")


# ---------------------------------------------------------------- admin: edit and archive


def _edit_page(request: Request, ctx: PageContext, article: KnowledgeArticle, *, status_code: int = 200,
               error: str | None = None, typed: dict[str, Any] | None = None,
               notice: str | None = None, error_link: dict[str, str] | None = None) -> Response:
    snap = reference.snapshot(ctx.session)
    saved = {"title": article.title, "body": article.body, "category_codes": list(article.category_codes or []),
             "keywords": "、".join(article.keywords or []), "active": article.active}
    return _admin_page(request, "knowledge/admin_edit.html", "编辑知识", status_code=status_code,
                       article=_row(article, _category_names(snap)), version=article.version,
                       options=_category_options(snap), typed=typed or saved,
                       # After a conflict: what the other editor saved, beside what this one typed.
                       theirs=saved if typed is not None and status_code == 409 else None,
                       error=error, notice=notice, error_link=error_link)


def _find(session: Session, article_id: int) -> KnowledgeArticle | None:
    return session.get(KnowledgeArticle, article_id) if 0 < article_id < 2**31 else None


@router.get("/admin/knowledge/{article_id}")
def admin_edit(request: Request, article_id: int, notice: str = "") -> Response:
    with page_work(request, write=False) as ctx:
        if _not_admin(ctx):
            return _refused(request)
        article = _find(ctx.session, article_id)
        if article is None:
            return _list_page(request, ctx, status_code=404, error=f"知识库文章 {article_id} 不存在")
        return _edit_page(request, ctx, article, notice=notice or None)


@router.post("/admin/knowledge/{article_id}")
def admin_update(request: Request, article_id: int, csrf: str = Form(""), version: str = Form(""),
                 title: str = Form(""), body: str = Form(""), category_codes: list[str] = Form([]),
                 keywords: str = Form(""), active: str = Form("")) -> Response:
    typed = _typed(title, body, category_codes, keywords, active)
    with page_work(request, write=True, posted_csrf=csrf) as ctx:
        if _not_admin(ctx):
            return _refused(request)
        try:
            article = service.update(ctx.session, _article_id(article_id), actor=ctx.user,
                                     expected_version=int(version) if version.isdigit() else None,
                                     title=title, body=body, category_codes=typed["category_codes"],
                                     keywords=keywords, active=typed["active"])
        except NotFound as err:
            ctx.session.rollback()
            return _list_page(request, ctx, status_code=404, error=err.message)
        except DomainError as err:
            ctx.session.rollback()
            article = _find(ctx.session, article_id)
            assert article is not None
            message = err.message
            if isinstance(err, Conflict):
                message += "。您填写的内容仍在下方，核对对方的修改后再次保存将以您的内容为准"
            return _edit_page(request, ctx, article, status_code=err.http_status, error=message, typed=typed,
                              error_link=_link(err))
        return _back(f"/admin/knowledge/{article.id}", f"已保存知识「{article.title}」")


@router.post("/admin/knowledge/{article_id}/archive")
def admin_archive(request: Request, article_id: int, csrf: str = Form(""), version: str = Form("")) -> Response:
    with page_work(request, write=True, posted_csrf=csrf) as ctx:
        if _not_admin(ctx):
            return _refused(request)
        try:
            article = service.archive(ctx.session, _article_id(article_id), actor=ctx.user,
                                      expected_version=int(version) if version.isdigit() else None)
        except NotFound as err:
            ctx.session.rollback()
            return _list_page(request, ctx, status_code=404, error=err.message)
        except DomainError as err:
            ctx.session.rollback()
            article = _find(ctx.session, article_id)
            assert article is not None
            return _edit_page(request, ctx, article, status_code=err.http_status, error=err.message)
        return _back("/admin/knowledge", f"已停用知识「{article.title}」，坐席将不再检索到它")


# ---------------------------------------------------------------- staff: browse and suggestions


@router.get("/knowledge")
def browse(request: Request, q: str = "", category_code: str = "") -> Response:
    with page_work(request, write=False) as ctx:
        snap = reference.snapshot(ctx.session)
        names = _category_names(snap)
        q = q.strip()[:MAX_QUERY_CHARS]
        code = _category_code(snap, category_code)
        if q or code:
            rows = [_row(h, names) for h in search.search(ctx.session, q, code, limit=50)]
        else:
            rows = [_row(a, names) for a in service.list_articles(ctx.session) if a.active]
        return page(request, "knowledge/browse.html", title="知识库", rows=rows, q=q, category_code=code or "",
                    options=_category_options(snap), searched=bool(q or code))


@router.get("/knowledge/{article_id}")
def article_page(request: Request, article_id: int) -> Response:
    with page_work(request, write=False) as ctx:
        article = _find(ctx.session, article_id)
        if article is None or (not article.active and ctx.user.role != Role.admin):
            return page(request, "error.html", status_code=404, title="未找到",
                        message=f"知识库文章 {article_id} 不存在或已停用")
        return page(request, "knowledge/article.html", title=article.title,
                    article=_row(article, _category_names(reference.snapshot(ctx.session))),
                    editable=ctx.user.role == Role.admin)


@router.get("/agent/knowledge")
def suggestions(request: Request, q: str = "", category_code: str = "", content: str = "") -> Response:
    """The intake form's knowledge panel: the best answers for the search box, else for what the
    agent has typed as the caller's request, boosted by the category chosen."""
    with page_work(request, write=False) as ctx:
        return page(request, "knowledge/hits.html",
                    **suggested(ctx.session, reference.snapshot(ctx.session), q=q, category_code=category_code,
                                content=content))


def suggested(session: Session, snap: reference.Snapshot, *, q: str = "", category_code: str = "",
              content: str = "") -> dict[str, Any]:
    """What the knowledge panel shows (``knowledge/hits.html``): also drawn with the intake form
    when it comes back refused, so the answers the agent was reading stay in place."""
    text = (q.strip() or content.strip())[:MAX_QUERY_CHARS]
    code = _category_code(snap, category_code)
    hits = search.search(session, text, code, limit=SUGGESTIONS) if (text or code) else []
    if not q.strip():  # offered from the caller's words, unasked: only answers worth reading
        hits = search.worth_offering(hits)
    names = _category_names(snap)
    return {"hits": [_row(h, names) for h in hits], "q": text, "asked": bool(text or code)}
