"""Chinese full-text search over the knowledge base: jieba tokens, BM25 over three weighted fields.

The index lives in memory, one per database, and is rebuilt when the articles change. Whether they
changed is one aggregate query per search (count, max id, sum of versions, max updated_at), so every
web process sees an edit made by any other at its next search; the editing process also drops its
index at once (``invalidate``). A few hundred articles index in tens of milliseconds and a query
costs well under a millisecond once jieba's dictionary is loaded (lazily, at the first search:
importing the web app does not load it).

Ranking: BM25F-style, each query term weighs its idf times a saturated term frequency where a hit
in the title counts 3, in the keywords 2 and in the body 1 (body length-normalised). An article
keyword written out in the query ("丢了", "停水") adds a fixed bonus, so the articles' own keywords
catch phrasings jieba splits differently. An article linked to the caller's category ranks higher,
one linked to its parent (or a sibling) a little higher.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.directory import reference
from hotline.knowledge.models import KnowledgeArticle

TITLE_WEIGHT, KEYWORD_WEIGHT, BODY_WEIGHT = 3.0, 2.0, 1.0
CHAR_WEIGHT = 0.5  # a one-character query word (丢, 领) met inside a title or keyword word (丢失, 领取)
K1, B = 1.2, 0.6
KEYWORD_BONUS = 1.5
CATEGORY_BOOST, PARENT_BOOST = 1.5, 1.2
SNIPPET_CHARS = 60
MAX_QUERY_CHARS = 200

# Words that say nothing about what the caller needs. Single characters other than these stay:
# 丢, 领, 补 carry meaning in Chinese.
_STOP = (
    "的 了 吗 呢 吧 啊 呀 么 是 在 有 和 与 及 或 我 你 他 她 它 我们 你们 他们 这 那 这个 那个 就 都 也 还 又 "
    "被 把 给 让 到 从 向 对 请问 请 问 一下 怎么 怎么办 怎样 如何 什么 哪里 哪儿 哪个 能 能否 可以 可不可以 "
    "需要 要 想 想要 咨询 问问 一个 有没有 没有 不 没 家 里 上 下 现在 今天 已经 为什么 多少 几 谢谢 您好 你好 我家 家里 咋 咋办 办理 怎么样"
)
STOPWORDS = frozenset(_STOP.split())
_PUNCT = re.compile(r"^[\s\W_]+$", re.UNICODE)
_CJK = re.compile(r"[\u4e00-\u9fff]")

_jieba_lock = threading.Lock()
_jieba: Any = None

# Domain words jieba's stock dictionary splits or misses. They are not added to jieba's dictionary:
# it is the process's one default dictionary, which the category model's words are cut with too
# (``classification.text``), so a search would change the model's words in that process from those
# it was trained on. A search token is added for each place they occur instead.
_WORDS = ("社保卡", "医保卡", "医保", "公积金", "居住证", "低保", "不动产", "欠薪", "秸秆", "异地就医", "高龄津贴",
          "两项补贴", "耕地地力", "地力补贴", "新生儿", "落户", "换证", "停水", "停电", "停气", "暖气", "物业费",
          "扰民", "挂失", "补办", "法律援助", "电动车", "违章", "12345", "12315", "12333", "95598")


def _tokenizer() -> Any:
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                logging.getLogger("jieba").setLevel(logging.WARNING)
                jieba.initialize()
                _jieba = jieba
    return _jieba


def warm() -> None:
    """Load jieba's dictionary now (about half a second) instead of at the first search."""
    _tokenizer()


def tokens(text: str) -> list[str]:
    """Search-mode tokens (long words and their parts), lower-cased, without stopwords or punctuation;
    each domain word (``_WORDS``) once for every place it occurs, whether jieba cut it out or not."""
    low = text.lower()
    out = []
    for tok in _tokenizer().cut_for_search(low):
        tok = tok.strip()
        if tok and tok not in STOPWORDS and not _PUNCT.match(tok):
            out.append(tok)
    for word in _WORDS:
        missing = low.count(word) - out.count(word)
        if missing > 0:
            out.extend([word] * missing)
    return out


@dataclass
class _Doc:
    id: int
    title: str
    body: str
    category_codes: list[str]
    keywords: list[str]
    active: bool
    updated_at: datetime | None
    fields: tuple[Counter[str], Counter[str], Counter[str], Counter[str]]  # title, keywords, body, chars
    body_len: int


@dataclass
class _Index:
    signature: tuple[Any, ...]
    docs: list[_Doc]
    postings: dict[str, list[int]] = field(default_factory=dict)  # token -> positions in docs
    avg_body: float = 1.0

    def idf(self, token: str) -> float:
        n, df = len(self.docs), len(self.postings.get(token, ()))
        return math.log(1 + (n - df + 0.5) / (df + 0.5))


@dataclass(frozen=True)
class Hit:
    id: int
    title: str
    snippet: str
    body: str
    category_codes: list[str]
    keywords: list[str]
    active: bool
    score: float
    updated_at: datetime | None = None


_lock = threading.Lock()
_cache: dict[str, _Index] = {}


def _key(session: Session) -> str:
    return str(session.get_bind().url)


def invalidate(session: Session | None = None) -> None:
    """Drop the cached index (of ``session``'s database, or every one)."""
    with _lock:
        if session is None:
            _cache.clear()
        else:
            _cache.pop(_key(session), None)


def _signature(session: Session) -> tuple[Any, ...]:
    row = session.execute(select(func.count(KnowledgeArticle.id), func.max(KnowledgeArticle.id),
                                 func.sum(KnowledgeArticle.version), func.max(KnowledgeArticle.updated_at))).one()
    return tuple(row)


def _build(session: Session, signature: tuple[Any, ...]) -> _Index:
    docs: list[_Doc] = []
    rows = session.execute(select(KnowledgeArticle.id, KnowledgeArticle.title, KnowledgeArticle.body,
                                  KnowledgeArticle.category_codes, KnowledgeArticle.keywords,
                                  KnowledgeArticle.active, KnowledgeArticle.updated_at)
                           .order_by(KnowledgeArticle.id))
    for r in rows:
        keywords = [str(k) for k in (r.keywords or [])]
        kw_tokens = [k.lower() for k in keywords] + tokens(" ".join(keywords))
        body_tokens, title_tokens = tokens(r.body), tokens(r.title)
        chars = Counter(ch for tok in title_tokens + kw_tokens if len(tok) > 1 for ch in tok if _CJK.match(ch))
        docs.append(_Doc(r.id, r.title, r.body, [str(c) for c in (r.category_codes or [])], keywords, r.active,
                         r.updated_at, (Counter(title_tokens), Counter(kw_tokens), Counter(body_tokens), chars),
                         len(body_tokens)))
    index = _Index(signature, docs)
    for pos, doc in enumerate(docs):
        for tok in set().union(*doc.fields):
            index.postings.setdefault(tok, []).append(pos)
    index.avg_body = max(1.0, sum(d.body_len for d in docs) / len(docs)) if docs else 1.0
    return index


def index_for(session: Session) -> _Index:
    key, signature = _key(session), _signature(session)
    index = _cache.get(key)
    if index is None or index.signature != signature:
        index = _build(session, signature)
        with _lock:
            _cache[key] = index
    return index


def _related(session: Session, category_code: str | None) -> tuple[set[str], set[str]]:
    """(the category itself with its sub-categories, its ancestors and siblings) for the boost: an
    article of 供暖 (0302) belongs to 燃气与供暖 (03) when that is what was chosen."""
    if not category_code:
        return set(), set()
    snap = reference.snapshot(session)
    exact = {category_code} | {c.code for c in snap.categories.values() if c.parent_code == category_code}
    exact |= {c.code for c in snap.categories.values() if c.parent_code in exact}
    path = reference.category_path(snap, category_code)
    near = set(path[1:])
    parent = snap.categories[category_code].parent_code if category_code in snap.categories else None
    if parent:
        near |= {c.code for c in snap.categories.values() if c.parent_code == parent}
    near -= exact
    return exact, near


def snippet(body: str, terms: list[str], width: int = SNIPPET_CHARS) -> str:
    """About ``width`` characters of the body around the first place a query term occurs."""
    text = " ".join(body.split())
    at = -1
    for term in sorted(terms, key=len, reverse=True):
        at = text.lower().find(term)
        if at >= 0:
            break
    if at < 0 or len(text) <= width:
        return text if len(text) <= width else text[:width] + "…"
    start = max(0, at - width // 4)
    end = min(len(text), start + width)
    start = max(0, end - width)
    return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")


def search(session: Session, q: str, category_code: str | None = None, limit: int = 5, *,
           include_archived: bool = False) -> list[Hit]:
    """The best ``limit`` articles for what the caller said, best first.

    With an empty ``q`` and a category, the articles linked to that category (then to its parent and
    siblings) are listed by title; with neither, nothing.
    """
    q = (q or "").strip()[:MAX_QUERY_CHARS]
    index = index_for(session)
    exact, near = _related(session, category_code)
    if not q:
        if not exact:
            return []
        listed = [(0 if exact & set(d.category_codes) else 1, d.title, d) for d in index.docs
                  if (d.active or include_archived) and (exact | near) & set(d.category_codes)]
        return [_hit(d, [], 0.0) for _, _, d in sorted(listed, key=lambda t: (t[0], t[1]))[:limit]]
    terms = list(dict.fromkeys(tokens(q)))
    lowered = q.lower()
    scores: dict[int, float] = {}
    for term in terms:
        idf = index.idf(term)
        for pos in index.postings.get(term, ()):
            doc = index.docs[pos]
            title, kws, body, chars = doc.fields
            norm = 1 - B + B * doc.body_len / index.avg_body
            tf = TITLE_WEIGHT * title[term] + KEYWORD_WEIGHT * kws[term] + BODY_WEIGHT * body[term] / norm
            if len(term) == 1:
                tf += CHAR_WEIGHT * chars[term]
            scores[pos] = scores.get(pos, 0.0) + idf * tf * (K1 + 1) / (tf + K1)
    for pos, doc in enumerate(index.docs):
        bonus = sum(KEYWORD_BONUS for k in doc.keywords if len(k) >= 2 and k.lower() in lowered)
        if bonus:
            scores[pos] = scores.get(pos, 0.0) + bonus
    ranked: list[tuple[float, int]] = []
    for pos, score in scores.items():
        doc = index.docs[pos]
        if not (doc.active or include_archived) or score <= 0:
            continue
        codes = set(doc.category_codes)
        if codes & exact:
            score *= CATEGORY_BOOST
        elif codes & near:
            score *= PARENT_BOOST
        ranked.append((score, pos))
    ranked.sort(key=lambda t: (-t[0], index.docs[t[1]].id))
    return [_hit(index.docs[pos], terms, score) for score, pos in ranked[:limit]]


# Answers offered unasked (from what the caller said as the agent types it, not a search typed in
# the box) must be worth reading: a hit scoring under OFFER_FLOOR, or under OFFER_SHARE of the best,
# matched on a stray character or a common word (路灯坏了 → 食品安全, 高龄津贴), and is left out.
OFFER_FLOOR = 4.0
OFFER_SHARE = 0.4


def worth_offering(hits: list[Hit]) -> list[Hit]:
    """The hits of a search by the caller's words worth offering unasked (``OFFER_FLOOR``,
    ``OFFER_SHARE``); a category's list without words (score 0) is kept whole."""
    if not hits or hits[0].score == 0:
        return hits
    bar = max(OFFER_FLOOR, OFFER_SHARE * hits[0].score)
    return [h for h in hits if h.score >= bar]


def _hit(doc: _Doc, terms: list[str], score: float) -> Hit:
    return Hit(doc.id, doc.title, snippet(doc.body, terms), doc.body, doc.category_codes, doc.keywords, doc.active,
               round(score, 3), doc.updated_at)
