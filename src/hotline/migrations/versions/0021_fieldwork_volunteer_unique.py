"""fieldwork: one register row per volunteer (name and phone) per township (a unique index)

The service refuses a second registration of the same person since 2026-11-29 (the same name and
phone in one township: two rows of one person could be sent to two tasks at once and were counted
twice on the dashboard); the index makes the database refuse it too, so two submits at the same
instant cannot both succeed, as 0020 does for machines.

- ``uq_fieldwork_volunteers_same``: (township_code, lower(name), coalesce(phone, '')): the
  service's "same volunteer" (name and phone, letter case aside); coalesce so that two rows of one
  name without a phone clash as the service says they do (NULLs never clash in a unique index). The
  service stores the name with its spaces collapsed.

A database that already holds such a pair stops here naming them, to be merged by hand first, and
stays at 0020.

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def _clashes() -> list[str]:
    rows = op.get_bind().execute(sa.text(
        "SELECT v.id, coalesce(r.name, v.township_code) || '「' || v.name || '」' || coalesce(replace(v.phone, '+86', ''), ''), "
        "v.township_code, lower(v.name), coalesce(v.phone, '') "
        "FROM fieldwork_volunteers v LEFT JOIN regions r ON r.code = v.township_code ORDER BY v.id")).all()
    groups: dict[tuple, list] = defaultdict(list)
    for row in rows:
        groups[tuple(row[2:])].append(row)
    twins = [(same[0][1], [r[0] for r in same]) for same in groups.values() if len(same) > 1]
    if not twins:
        return []
    return ["同一乡镇重复登记的志愿者须先合并（删去多余的一条，或改正姓名、电话），再升级数据库：" + "；".join(
        f"{shown}（{'、'.join(f'#{i}' for i in ids)}）" for shown, ids in twins)]


def upgrade() -> None:
    problems = _clashes()
    if problems:
        raise RuntimeError("\n".join(problems))
    op.create_index("uq_fieldwork_volunteers_same", "fieldwork_volunteers",
                    ["township_code", sa.text("lower(name)"), sa.text("coalesce(phone, '')")], unique=True)


def downgrade() -> None:
    op.drop_index("uq_fieldwork_volunteers_same", table_name="fieldwork_volunteers")
