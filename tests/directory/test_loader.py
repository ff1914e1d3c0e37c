"""``hotline init`` at an upgrade: it adds the reference rows a newer release ships and keeps
every change admins made to the directory (renamed units, deactivated categories, edited and
deleted dispatch rules and time limits)."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select

from hotline.cli.main import cli
from hotline.directory import admin, loader
from hotline.directory.models import Category, DispatchRule, Region, TimeLimit, Unit, UnitRegion
from hotline.kit.db import Database
from hotline.knowledge import search
from hotline.knowledge.models import KnowledgeArticle
from tests.builders import unit_id
from tests.directory.restore import reference_kept


@pytest.fixture
def kept(db: Database) -> Iterator[Database]:
    """The test database, its directory put back afterwards, and the knowledge articles ``init``
    adds removed again (the session's database starts without them)."""
    with db.transaction(write=False) as s:
        articles = set(s.scalars(select(KnowledgeArticle.id)))
    with reference_kept(db):
        yield db
    with db.transaction() as s:
        s.execute(delete(KnowledgeArticle).where(KnowledgeArticle.id.not_in(articles)))
    search.invalidate()


def init(db: Database, tmp_path: Path) -> str:
    runner = CliRunner(env={"HOTLINE_DATA_DIR": str(tmp_path), "HOTLINE_DATABASE_URL": db.url})
    result = runner.invoke(cli, ["init"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def _rule(s, category: str, region: str) -> DispatchRule | None:
    return s.scalar(select(DispatchRule).where(DispatchRule.category_code == category,
                                               DispatchRule.region_code == region))


def _limit(s, stage: str, category: str | None) -> TimeLimit | None:
    return s.scalar(select(TimeLimit).where(TimeLimit.stage == stage, TimeLimit.category_code.is_(None)
                                            if category is None else TimeLimit.category_code == category,
                                            TimeLimit.urgency.is_(None), TimeLimit.kind.is_(None)))


def test_init_keeps_what_admins_changed_and_deleted_in_the_directory(kept: Database, tmp_path: Path):
    with kept.transaction() as s:
        admin.edit_unit(s, code="xiaxian-water", name="夏县水务局", phone="0359-7777777", parent_code="xiaxian-gov",
                        region_code="140828", active=True, open_tickets=0)
        admin.edit_unit(s, code="yuncheng-gov", name="运城市人民政府", phone=None, parent_code=None,
                        region_code="1408", active=False, open_tickets=0)
        admin.edit_category(s, code="0102", name="水质问题", keywords="浑浊|黄水", active=False)
        lead_changed = _rule(s, "0101", "140828")
        admin.edit_rule(s, rule_id=lead_changed.id, category_code="0101", region_code="140828",
                        lead_unit_code="xiaxian-water", co_unit_codes=[], note="改由水务局牵头")
        admin.delete_rule(s, rule_id=_rule(s, "0103", "140828").id)
        admin.edit_time_limit(s, limit_id=_limit(s, "dispatch", None).id, amount=12, unit="hours")
        admin.delete_time_limit(s, limit_id=_limit(s, "accept", "01").id)
        admin.delete_time_limit(s, limit_id=_limit(s, "contact", None).id)

    out = init(kept, tmp_path)

    with kept.transaction(write=False) as s:
        water = s.scalar(select(Unit).where(Unit.code == "xiaxian-water"))
        assert (water.name, water.phone) == ("夏县水务局", "0359-7777777")
        assert not s.scalar(select(Unit.active).where(Unit.code == "yuncheng-gov"))
        quality = s.get(Category, "0102")
        assert (quality.name, quality.active, quality.keywords) == ("水质问题", False, ["浑浊", "黄水"])
        rule = _rule(s, "0101", "140828")
        assert (rule.lead_unit_id, rule.co_unit_ids, rule.note) == (unit_id(s, "xiaxian-water"), [], "改由水务局牵头")
        assert _rule(s, "0103", "140828") is None  # the deleted rule does not come back
        assert _limit(s, "dispatch", None).amount == 12
        assert _limit(s, "accept", "01") is None and _limit(s, "contact", None) is None
    assert "categories 0，units 0，time_limits 0，dispatch_rules 0" in out  # it says it added nothing


def _append(path: Path, rows: list[list[str]]) -> None:
    with path.open("a", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)


def test_init_adds_the_codes_a_newer_release_ships(kept: Database, tmp_path: Path, monkeypatch):
    """New categories, units and regions come in with their time limits and dispatch rules; a
    new rule for an old category in an old region does not (it may be one an admin deleted)."""
    data = tmp_path / "data"
    shutil.copytree(loader.DATA_DIR, data)
    _append(data / "regions.csv", [["140828102299", "新建村委会", "新建村", "5", "140828102", "800", "1", "新建"]])
    _append(data / "categories.csv", [["0199", "二次供水", "01", "help", "二次供水|水箱"]])
    _append(data / "units.csv", [["xiaxian-water-xinjian", "夏县新建供水站", "company", "xiaxian-water",
                                  "140828102299", "140828102299", "0359-2156958"]])
    _append(data / "time_limits.csv", [["reply", "0199", "", "", "2", "working_days"],
                                       ["accept", "", "", "suggestion", "3", "days"]])
    _append(data / "dispatch_catalogue.csv", [["0199", "140828", "xiaxian-water", "", "二次供水由水利局牵头"],
                                              ["0101", "140828102299", "xiaxian-water-xinjian", "", "新村供水站"],
                                              ["0201", "140828102207", "xiaxian-water-zhulv", "", "旧分类旧地区"]])
    _append(data / "units.csv", [["xiaxian-water-zhulv", "重复行不改名", "company", "", "", "140828102299", ""]])
    real = loader.read_csv
    monkeypatch.setattr(loader, "read_csv", lambda name, directory=data: real(name, directory))

    init(kept, tmp_path)

    with kept.transaction(write=False) as s:
        assert s.get(Category, "0199").name == "二次供水"
        new_unit = s.scalar(select(Unit).where(Unit.code == "xiaxian-water-xinjian"))
        assert new_unit.parent_id == unit_id(s, "xiaxian-water") and new_unit.phone == "0359-2156958"
        assert s.get(Region, "140828102299").short_name == "新建村"
        assert _rule(s, "0199", "140828").lead_unit_id == unit_id(s, "xiaxian-water")
        assert _rule(s, "0101", "140828102299").lead_unit_id == new_unit.id
        assert _rule(s, "0201", "140828102207") is None
        assert _limit(s, "reply", "0199").amount == 2
        assert s.scalar(select(TimeLimit).where(TimeLimit.kind == "suggestion", TimeLimit.stage == "accept")) is None
        zhulv = s.scalar(select(Unit).where(Unit.code == "xiaxian-water-zhulv"))
        assert zhulv.name == "夏县朱吕集中供水站"  # an existing unit is not overwritten ...
        serves = set(s.scalars(select(UnitRegion.region_code).where(UnitRegion.unit_id == zhulv.id)))
        assert "140828102299" in serves  # ... but serves a region new in this release that its row names
    with kept.transaction() as s:  # the added region goes again (reference_kept restores the rest)
        s.execute(UnitRegion.__table__.delete().where(UnitRegion.region_code == "140828102299"))
