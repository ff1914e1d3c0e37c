from __future__ import annotations

import pytest

from hotline.kit.db import Database
from tests.knowledge.kb import reset_knowledge


@pytest.fixture
def kb(db: Database) -> Database:
    """The database with the shipped articles and nothing else in the knowledge base."""
    reset_knowledge(db)
    yield db
    reset_knowledge(db, seed=False)
