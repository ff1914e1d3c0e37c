"""fieldwork: one open operation of a name per township, one register row per machine (unique indexes)

The service has refused both since 2026-11-29 (a second open 「秋季抢收抢种」 in a township, the
same machine registered twice); the indexes make the database refuse them too, so two submits at
the same instant (two tabs, two processes) cannot both succeed.

- ``uq_fieldwork_operations_open_name``: (township_code, lower(name)) over open operations only;
  closed ones may repeat a name (next year's 秋收).
- ``uq_fieldwork_machines_same``: (township_code, kind, lower(label), lower(owner),
  coalesce(phone, '')): the service's "same machine" (kind, model, owner and phone, letter case
  aside); coalesce so that two machines without a phone clash as the service says they do (NULLs
  never clash in a unique index). The service stores model and owner with their spaces collapsed.

A database that already holds such a pair stops here naming them, to be merged by hand first, and
stays at 0019.

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

OPEN = sa.text("state = 'open'")


def _groups(rows) -> list[tuple[tuple, list[int]]]:
    """Rows (id, shown, *key) grouped by key, the groups of more than one row, in id order."""
    groups: dict[tuple, list] = defaultdict(list)
    for row in rows:
        groups[tuple(row[2:])].append(row)
    return [(same[0][1], [r[0] for r in same]) for same in groups.values() if len(same) > 1]


def _clashes() -> list[str]:
    bind = op.get_bind()
    operations = _groups(bind.execute(sa.text(
        "SELECT o.id, coalesce(r.name, o.township_code) || '「' || o.name || '」', o.township_code, lower(o.name) "
        "FROM fieldwork_operations o LEFT JOIN regions r ON r.code = o.township_code "
        "WHERE o.state = 'open' ORDER BY o.id")).all())
    machines = _groups(bind.execute(sa.text(
        "SELECT m.id, coalesce(r.name, m.township_code) || '「' || m.label || '」' || m.owner, m.township_code, "
        "m.kind, lower(m.label), lower(m.owner), coalesce(m.phone, '') "
        "FROM fieldwork_machines m LEFT JOIN regions r ON r.code = m.township_code ORDER BY m.id")).all())
    problems = []
    if operations:
        problems.append("同一乡镇同名的进行中行动须先结束或改名，再升级数据库：" + "；".join(
            f"{shown}（{'、'.join(f'#{i}' for i in ids)}）" for shown, ids in operations))
    if machines:
        problems.append("同一乡镇重复登记的农机须先合并（删去多余的一条或改正型号、所有者、电话），再升级数据库：" + "；".join(
            f"{shown}（{'、'.join(f'#{i}' for i in ids)}）" for shown, ids in machines))
    return problems


def upgrade() -> None:
    problems = _clashes()
    if problems:
        raise RuntimeError("\n".join(problems))
    op.create_index("uq_fieldwork_operations_open_name", "fieldwork_operations",
                    ["township_code", sa.text("lower(name)")], unique=True,
                    sqlite_where=OPEN, postgresql_where=OPEN)
    op.create_index("uq_fieldwork_machines_same", "fieldwork_machines",
                    ["township_code", "kind", sa.text("lower(label)"), sa.text("lower(owner)"),
                     sa.text("coalesce(phone, '')")], unique=True)


def downgrade() -> None:
    op.drop_index("uq_fieldwork_machines_same", table_name="fieldwork_machines")
    op.drop_index("uq_fieldwork_operations_open_name", table_name="fieldwork_operations")
