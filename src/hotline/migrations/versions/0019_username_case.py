"""users: a username is unique whatever its case (a unique index on lower(username))

The service has refused Agent1 beside agent1 since 2026-11-29; the index makes the database refuse
it too, so two processes creating the same person at once cannot both succeed. A database that
already holds two such usernames stops here with their names, to be renamed by hand first.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    clashes = op.get_bind().execute(sa.text(
        "SELECT lower(username), count(*) FROM users GROUP BY lower(username) HAVING count(*) > 1"
    )).all()
    if clashes:
        names = "、".join(name for name, _ in clashes)
        raise RuntimeError(f"用户名只差大小写的账号须先改名，再升级数据库：{names}")
    op.create_index("uq_users_username_lower", "users", [sa.text("lower(username)")], unique=True)


def downgrade() -> None:
    op.drop_index("uq_users_username_lower", table_name="users")
