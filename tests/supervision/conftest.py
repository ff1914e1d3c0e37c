from __future__ import annotations

import pytest

from hotline.kit.db import Database
from hotline.notify.templates import load_templates


@pytest.fixture
def tdb(db: Database) -> Database:
    """The database with the shipped message templates loaded (the table is cleaned between tests)."""
    with db.transaction() as session:
        load_templates(session)
    return db
