"""A knowledge base in a known state: the shipped articles only (tests leave theirs behind)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from hotline.kit.db import Database
from hotline.knowledge import search
from hotline.knowledge.models import KnowledgeArticle
from hotline.knowledge.seed import load_articles


def reset_knowledge(db: Database, *, seed: bool = True) -> None:
    with db.transaction() as s:
        s.execute(delete(KnowledgeArticle))
        if seed:
            load_articles(s)
    search.invalidate()


def article_id(session: Session, seed_key: str) -> int:
    found = session.scalar(select(KnowledgeArticle.id).where(KnowledgeArticle.seed_key == seed_key))
    assert found is not None, seed_key
    return found
