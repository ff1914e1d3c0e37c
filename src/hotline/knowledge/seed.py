"""The shipped articles (``data/articles.json``): common consultations of a county 12345 hotline.

Idempotent: ``hotline init`` adds the shipped articles that are missing (by ``seed_key``) and leaves
the others alone, so an admin's edit or archive survives every upgrade.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.knowledge import service
from hotline.knowledge.models import KnowledgeArticle

DATA = Path(__file__).parent / "data" / "articles.json"


def shipped() -> list[dict[str, Any]]:
    with open(DATA, encoding="utf-8") as fh:
        return json.load(fh)


def load_articles(session: Session) -> int:
    """Insert the shipped articles not yet in the database; the number inserted."""
    present = set(session.scalars(select(KnowledgeArticle.seed_key).where(KnowledgeArticle.seed_key.is_not(None))))
    added = 0
    for item in shipped():
        if item["key"] in present:
            continue
        values = service.check_values(session, item["title"], item["body"], item["categories"], item.get("keywords"))
        service.insert_checked(session, None, values, True, item["key"])
        added += 1
    return added
