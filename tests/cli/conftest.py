"""The ``hotline`` command run in-process against the test's database (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from hotline.cli.main import cli
from hotline.kit.db import Database


@pytest.fixture
def hotline(db: Database, tmp_path: Path):
    """``hotline ARGS`` against the test's database."""

    def run(*args: str) -> Result:
        runner = CliRunner(env={"HOTLINE_DATA_DIR": str(tmp_path), "HOTLINE_DATABASE_URL": db.url})
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return run


def ok(result: Result) -> str:
    """The output of a command that must succeed."""
    assert result.exit_code == 0, result.output
    return result.stdout
