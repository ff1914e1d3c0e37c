"""The migrations build exactly the schema the models describe, on SQLite and on PostgreSQL.

A model change without a migration (or a hand-edited migration that drifts) shows up here as a
non-empty autogenerate diff.
"""

from __future__ import annotations

from pprint import pformat

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from hotline.migrations import current_head, upgrade
from hotline.migrations.models import metadata
from tests.conftest import REQUIRE_PG, _drop_pg_database, _fresh_pg_database, _pg_available

# Autogenerate cannot compare expression indexes (lower(username), migration 0019; the field work
# indexes of 0020) and says so; test_the_models_declare_the_expression_indexes_the_migrations_make
# compares them in the database's own words instead.
pytestmark = [
    pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index"),
    pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index"),
]


def _diff(url: str) -> list:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
            assert context.get_current_revision() == current_head()
            return compare_metadata(context, metadata)
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_sqlite_migrated_from_empty_matches_the_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    upgrade(url)
    assert set(metadata.tables) <= _tables(url)
    diff = _diff(url)
    assert diff == [], pformat(diff)


def _postgres_or_skip() -> None:
    """Skip when PostgreSQL cannot be reached (fail instead when HOTLINE_REQUIRE_POSTGRES=1, as in CI)."""
    reason = _pg_available()
    if reason:
        if REQUIRE_PG:
            pytest.fail(f"HOTLINE_REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)


@pytest.mark.postgres
def test_postgres_migrated_from_empty_matches_the_models(worker_id):
    _postgres_or_skip()
    url = _fresh_pg_database(f"mig_{worker_id}")
    try:
        upgrade(url)
        assert set(metadata.tables) <= _tables(url)
        diff = _diff(url)
        assert diff == [], pformat(diff)
    finally:
        _drop_pg_database(url)


def test_upgrading_twice_changes_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'twice.db'}"
    upgrade(url)
    upgrade(url)
    assert _diff(url) == []


def test_open_tickets_from_before_the_sweep_are_swept_after_the_upgrade(tmp_path):
    """Migration 0003 adds ``watch_at``: tickets already open get it, so their clocks are watched."""
    from datetime import UTC, datetime

    from sqlalchemy import MetaData, Table, select

    from hotline.directory.loader import load_reference_data
    from hotline.kit.db import Database

    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0002")
    db = Database(url)
    with db.transaction() as s:
        load_reference_data(s)
    engine = create_engine(url)
    tickets = Table("tickets", MetaData(), autoload_with=engine)
    now = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
    row = {"query_code": "123456", "version": 1, "channel": "phone", "kind": "help", "category_code": "0103",
           "urgency": "normal", "caller_anonymous": True, "caller_confidential": False, "region_code": "140828102207",
           "title": "停水", "content": "朱吕村停水", "received_at": now, "dispatch_due_at": now,
           "due_basis": {}, "suspended_seconds": 0, "extension_count": 0, "dispatch_count": 0, "reopen_count": 0,
           "callback_attempts": 0, "updated_at": now}
    with engine.begin() as conn:
        conn.execute(tickets.insert(), [{**row, "number": "20261102-000001", "status": "registered"},
                                        {**row, "number": "20261102-000002", "status": "closed"}])
    engine.dispose()
    upgrade(url)
    with db.session() as s:
        from hotline.tickets.models import Ticket

        marks = dict(s.execute(select(Ticket.number, Ticket.watch_at)).all())
    assert marks["20261102-000001"] is not None and marks["20261102-000002"] is None
    db.dispose()


def test_usernames_differing_only_in_case_stop_the_upgrade_with_their_names(tmp_path):
    """Migration 0019 adds a unique index on lower(username); a database already holding
    Agent1 and agent1 is told which names to rename, and is left as it was."""
    from datetime import UTC, datetime

    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import MetaData, Table

    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0018")
    engine = create_engine(url)
    users = Table("users", MetaData(), autoload_with=engine)
    now = datetime(2026, 11, 2, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(users.insert(), [{"username": name, "display_name": name, "role": "agent", "active": True,
                                       "created_at": now, "failed_logins": 0} for name in ("agent1", "Agent1", "wang")])
    with pytest.raises(RuntimeError, match="用户名只差大小写的账号须先改名，再升级数据库：agent1"):
        upgrade(url)
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == "0018"
    with engine.begin() as conn:
        conn.execute(users.update().where(users.c.username == "Agent1").values(username="agent1-b"))
    engine.dispose()
    upgrade(url)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def blank_url(request, tmp_path, worker_id):
    """An empty database of each kind, to be built by the test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'blank.db'}"
        return
    _postgres_or_skip()
    url = _fresh_pg_database(f"blank_{worker_id}")
    try:
        yield url
    finally:
        _drop_pg_database(url)


def _index_sql(url: str, names: list[str]) -> dict[str, str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                rows = conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'index'").all()
            else:
                rows = conn.exec_driver_sql("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'").all()
        return {name: sql for name, sql in rows if name in names}
    finally:
        engine.dispose()


def test_the_models_declare_the_expression_indexes_the_migrations_make(blank_url, tmp_path, worker_id):
    """Autogenerate skips expression indexes (lower(username), lower(label), …), so the comparison
    above cannot see a model that indexes a constant (``func.lower("name")``) instead of its column:
    the index the models would create must read, in the database's own words, as the migration's."""
    from sqlalchemy import Column

    expressive = sorted(ix.name for table in metadata.tables.values() for ix in table.indexes
                        if any(not isinstance(e, Column) for e in ix.expressions))
    assert {"uq_users_username_lower", "uq_fieldwork_operations_open_name", "uq_fieldwork_machines_same",
            "uq_fieldwork_volunteers_same"} <= set(expressive)
    upgrade(blank_url)
    migrated = _index_sql(blank_url, expressive)
    if blank_url.startswith("sqlite"):
        modelled_url = f"sqlite:///{tmp_path / 'models.db'}"
    else:
        modelled_url = _fresh_pg_database(f"models_{worker_id}")
    try:
        engine = create_engine(modelled_url)
        metadata.create_all(engine)
        engine.dispose()
        modelled = _index_sql(modelled_url, expressive)
    finally:
        if not blank_url.startswith("sqlite"):
            _drop_pg_database(modelled_url)
    assert sorted(migrated) == expressive
    assert modelled == migrated
    assert "lower(name)" in migrated["uq_fieldwork_operations_open_name"].replace("(name)::text", "name")


def test_a_twin_field_operation_or_machine_stops_the_upgrade_with_their_numbers(blank_url):
    """Migration 0020 adds unique indexes on open operations' names and on the machine register;
    a database already holding such a pair is told which rows to merge, and is left at 0019."""
    from datetime import UTC, date, datetime

    from sqlalchemy import MetaData, Table
    from sqlalchemy.exc import IntegrityError

    upgrade(blank_url, "0019")
    engine = create_engine(blank_url)
    tables = MetaData()
    regions, operations, machines = (Table(name, tables, autoload_with=engine)
                                     for name in ("regions", "fieldwork_operations", "fieldwork_machines"))
    now = datetime(2026, 11, 2, tzinfo=UTC)
    operation = {"township_code": "140828102", "crops": "谷子", "start_date": date(2026, 10, 1),
                 "target_date": date(2026, 10, 20), "state": "open", "created_at": now}
    machine = {"township_code": "140828102", "kind": "harvester", "label": "测试收割机 X1", "owner": "张三",
               "owner_kind": "person", "phone": None, "state": "available", "created_at": now}
    with engine.begin() as conn:
        conn.execute(regions.insert(), [
            {"code": code, "name": name, "short_name": name, "level": 4, "population_estimated": False, "aliases": []}
            for code, name in (("140828102", "裴介镇"), ("141002103", "县底镇"))])
        conn.execute(operations.insert(), [
            {**operation, "id": 1, "name": "秋季抢收 A"}, {**operation, "id": 2, "name": "秋季抢收 a"},
            {**operation, "id": 3, "name": "秋季抢收 A", "state": "closed"},  # closed: may repeat the name
            {**operation, "id": 4, "name": "秋季抢收 A", "township_code": "141002103"},  # another town
            {**operation, "id": 5, "name": "小麦抢种"}])
        conn.execute(machines.insert(), [
            {**machine, "id": 1}, {**machine, "id": 2, "label": "测试收割机 x1"},  # no phone either: the same machine
            {**machine, "id": 3, "phone": "13912345678"}, {**machine, "id": 4, "kind": "tractor"},
            {**machine, "id": 5, "township_code": "141002103"}])
    with pytest.raises(RuntimeError) as refused:
        upgrade(blank_url)
    assert str(refused.value) == (
        "同一乡镇同名的进行中行动须先结束或改名，再升级数据库：裴介镇「秋季抢收 A」（#1、#2）\n"
        "同一乡镇重复登记的农机须先合并（删去多余的一条或改正型号、所有者、电话），再升级数据库：裴介镇「测试收割机 X1」张三（#1、#2）")
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == "0019"
    with engine.begin() as conn:
        conn.execute(operations.update().where(operations.c.id == 2).values(state="closed"))
        conn.execute(machines.delete().where(machines.c.id == 2))
    upgrade(blank_url)
    # From now on the database refuses the pair whatever writes it.
    for table, row, index in ((operations, {**operation, "id": 6, "name": "秋季抢收 a"}, "uq_fieldwork_operations_open_name"),
                              (machines, {**machine, "id": 6, "label": "测试收割机 x1"}, "uq_fieldwork_machines_same")):
        with pytest.raises(IntegrityError, match=index), engine.begin() as conn:
            conn.execute(table.insert(), [row])
    with engine.begin() as conn:  # a closed operation of the name, and another machine, are not refused
        conn.execute(operations.insert(), [{**operation, "id": 6, "name": "秋季抢收 a", "state": "closed"}])
        conn.execute(machines.insert(), [{**machine, "id": 6, "label": "测试收割机 X2"}])
    engine.dispose()


def test_a_volunteer_registered_twice_stops_the_upgrade_with_their_numbers(blank_url):
    """Migration 0021 adds a unique index on the volunteer register (township, name, phone); a
    database already holding one person twice is told which rows to merge, and is left at 0020."""
    from datetime import UTC, datetime

    from sqlalchemy import MetaData, Table
    from sqlalchemy.exc import IntegrityError

    upgrade(blank_url, "0020")
    engine = create_engine(blank_url)
    tables = MetaData()
    regions, volunteers = (Table(name, tables, autoload_with=engine) for name in ("regions", "fieldwork_volunteers"))
    person = {"township_code": "140828102", "name": "李强", "phone": "+8613703590002", "available": True,
              "created_at": datetime(2026, 11, 2, tzinfo=UTC)}
    with engine.begin() as conn:
        conn.execute(regions.insert(), [
            {"code": code, "name": name, "short_name": name, "level": 4, "population_estimated": False, "aliases": []}
            for code, name in (("140828102", "裴介镇"), ("141002103", "县底镇"))])
        conn.execute(volunteers.insert(), [
            {**person, "id": 1}, {**person, "id": 2}, {**person, "id": 3, "phone": "+8613703590003"},
            {**person, "id": 4, "township_code": "141002103"},  # another town
            {**person, "id": 5, "name": "Wang Fang", "phone": None}, {**person, "id": 6, "name": "wang fang", "phone": None}])
    with pytest.raises(RuntimeError) as refused:
        upgrade(blank_url)
    assert str(refused.value) == (
        "同一乡镇重复登记的志愿者须先合并（删去多余的一条，或改正姓名、电话），再升级数据库："
        "裴介镇「李强」13703590002（#1、#2）；裴介镇「Wang Fang」（#5、#6）")
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == "0020"
    with engine.begin() as conn:
        conn.execute(volunteers.delete().where(volunteers.c.id.in_([2, 6])))
    upgrade(blank_url)
    with pytest.raises(IntegrityError, match="uq_fieldwork_volunteers_same"), engine.begin() as conn:
        conn.execute(volunteers.insert(), [{**person, "id": 7, "name": "李强"}])
    with engine.begin() as conn:  # another phone is another person
        conn.execute(volunteers.insert(), [{**person, "id": 7, "phone": "+8613703590004"}])
    engine.dispose()


def test_tickets_taken_out_before_0024_stay_out_and_the_decisions_become_history(blank_url):
    """Migration 0024 marks taken-out tickets (``removed_at``) instead of reading an unlinked row of a
    confirmed or ended incident as one; the rows taken out before it are marked, at the time and by
    the person of the ticket's 已移出突发事件 line, and each incident's decision and end become its
    first ``incident_events``. A proposal's or a dismissed incident's unlinked rows are candidates,
    not taken out."""
    from datetime import UTC, datetime

    from sqlalchemy import MetaData, Table

    from hotline.directory.loader import load_reference_data
    from hotline.incidents import service
    from hotline.incidents.models import Incident, IncidentAction
    from hotline.kit.db import Database
    from hotline.notify.templates import load_templates
    from tests.builders import make_personas, make_ticket

    upgrade(blank_url, "0023")
    db = Database(blank_url)
    with db.transaction() as s:
        load_reference_data(s)
        load_templates(s)
        people = make_personas(s)
        kept, out = (make_ticket(s, people, category_code="0101", region_code=code, content="停水了")
                     for code in ("140828102207", "140828102203"))
        ids = {"kept": kept.id, "out": out.id, "sup": people.supervisor.id}
    engine = create_engine(blank_url)
    tables = MetaData()
    incidents, links, events = (Table(name, tables, autoload_with=engine)
                                for name in ("incidents", "incident_tickets", "ticket_events"))
    decided, removed, ended = (datetime(2026, 11, 2, h, tzinfo=UTC) for h in (1, 2, 3))
    incident = {"category_code": "0101", "title": "停水", "area_code": "140828102", "region_codes": [],
                "population": 0, "keywords": [], "first_ticket_at": decided, "last_ticket_at": decided,
                "ticket_count": 1, "detected_at": decided, "updated_at": ended, "decided_at": None,
                "decided_by_id": None}
    with engine.begin() as conn:
        conn.execute(incidents.insert(), [
            {**incident, "id": 1, "state": "ended", "decided_at": decided, "decided_by_id": ids["sup"]},
            {**incident, "id": 2, "state": "proposed"},
            {**incident, "id": 3, "state": "dismissed", "decided_at": decided, "decided_by_id": ids["sup"]}])
        conn.execute(links.insert(), [
            {"incident_id": 1, "ticket_id": ids["kept"], "linked": True, "added_at": decided},
            {"incident_id": 1, "ticket_id": ids["out"], "linked": False, "added_at": decided},
            {"incident_id": 2, "ticket_id": ids["out"], "linked": False, "added_at": decided},
            {"incident_id": 3, "ticket_id": ids["kept"], "linked": False, "added_at": decided}])
        conn.execute(events.insert(), [{"ticket_id": ids["out"], "at": removed, "actor_id": ids["sup"],
                                        "actor_name": "t-supervisor", "action": "note",
                                        "reason": "已移出突发事件「停水」", "details": {}}])
    engine.dispose()
    upgrade(blank_url)
    with db.session() as s:
        first, proposal, dismissed = (s.get(Incident, i) for i in (1, 2, 3))
        [(ticket, link, by)] = service.removed_from(s, first)
        assert (ticket.id, link.removed_at, by) == (ids["out"], removed, "t-supervisor")
        assert {t.id for t in service.tickets_of(s, first)} == {ids["kept"]}
        assert [t.id for t in service.tickets_of(s, proposal)] == [ids["out"]] and service.removed_from(s, proposal) == []
        assert service.removed_from(s, dismissed) == []
        assert [(e.action, e.at, by) for e, by, _ in service.history(s, first)] == [
            (IncidentAction.confirmed, decided, "t-supervisor"), (IncidentAction.removed, removed, "t-supervisor"),
            (IncidentAction.ended, ended, None)]
        assert [e.action for e, _, _ in service.history(s, dismissed)] == [IncidentAction.dismissed]
        assert service.history(s, proposal) == []
    db.dispose()


def test_a_fresh_upgrade_warns_of_nothing_and_keeps_the_expression_indexes(blank_url):
    """A first start (``hotline serve``, ``hotline demo``) printed SQLAlchemy's 「Skipped unsupported
    reflection of expression-based index uq_users_username_lower」: migration 0024 copied a table on
    SQLite and so reflected users. Every revision, applied to an empty database, warns of nothing (the
    module's filters are set aside here), and the expression indexes are there afterwards; so is a
    way back down past 0024 and up again."""
    import warnings

    from alembic import command

    from hotline.migrations import alembic_config

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        upgrade(blank_url)
        command.downgrade(alembic_config(blank_url), "0023")
        upgrade(blank_url)
    names = ["uq_users_username_lower", "uq_fieldwork_operations_open_name"]
    assert sorted(_index_sql(blank_url, names)) == sorted(names)
    assert "lower(username)" in _index_sql(blank_url, names)["uq_users_username_lower"].replace("(username)::text", "username")


def test_0026_rebuilds_the_open_reply_index_without_returns_under_review_and_back(blank_url):
    """Migration 0026 rebuilds ``ix_tickets_open_reply_due`` over the statuses whose reply clock runs
    (``sla.RUNNING['reply']``, in the query's order), without 退单待审; its downgrade puts
    ``return_requested`` back, and upgrading again leaves the new predicate."""
    from alembic import command

    from hotline.migrations import alembic_config
    from hotline.tickets.models import OVERDUE_WATCH_STATUSES
    from hotline.tickets.sla import RUNNING

    assert RUNNING["reply"] == OVERDUE_WATCH_STATUSES

    def predicate() -> str:
        [sql] = _index_sql(blank_url, ["ix_tickets_open_reply_due"]).values()
        return sql.split("WHERE", 1)[1].replace("::character varying", "").replace("::text", "")

    upgrade(blank_url, "0025")
    assert "return_requested" in predicate()
    upgrade(blank_url)
    new = predicate()
    assert "return_requested" not in new
    assert [s for s in ("dispatched", "accepted", "in_progress") if f"'{s}'" in new] == ["dispatched", "accepted",
                                                                                      "in_progress"]
    assert new.index("'dispatched'") < new.index("'accepted'") < new.index("'in_progress'")
    command.downgrade(alembic_config(blank_url), "0025")
    assert "return_requested" in predicate()
    upgrade(blank_url)
    assert predicate() == new


def test_0027_adds_the_county_volume_rollup_and_has_the_next_refresh_rebuild(blank_url):
    """Migration 0027 creates ``rollup_intake_county`` and ``ix_rollup_assessment_key`` and clears the
    rollups' watermark, so the
    worker's next refresh rebuilds every rollup (the new table and the county × unit rows) rather
    than leaving a county's volume empty; its downgrade drops the table and the county × unit rows."""
    from alembic import command
    from sqlalchemy import text

    from hotline.migrations import alembic_config

    upgrade(blank_url, "0026")
    engine = create_engine(blank_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO rollup_state (name, watermark) VALUES ('rollups', :w)"),
                         {"w": "2026-01-20 02:00:00+00:00"})
        assert "rollup_intake_county" not in _tables(blank_url)
        upgrade(blank_url)
        assert "rollup_intake_county" in _tables(blank_url)
        # a county's county × unit rows found as one range of keys
        assert list(_index_sql(blank_url, ["ix_rollup_assessment_key"])) == ["ix_rollup_assessment_key"]
        with engine.begin() as conn:
            assert conn.execute(text("SELECT watermark FROM rollup_state")).scalar_one() is None
            conn.execute(text("INSERT INTO rollup_assessment (dimension, grain, day, key, orders, responded, pending, "
                              "returned, returned_responded, replied, replied_on_time, evaluated, resolved, satisfied, "
                              "basically_satisfied) VALUES ('unit_area', 'd', '2026-01-20', '140828:1', "
                              "1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0)"))
        command.downgrade(alembic_config(blank_url), "0026")
        assert "rollup_intake_county" not in _tables(blank_url)
        assert _index_sql(blank_url, ["ix_rollup_assessment_key"]) == {}
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM rollup_assessment")).scalar_one() == 0
    finally:
        engine.dispose()
