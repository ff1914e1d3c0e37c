"""rate_limit_hits: the portal's per-client limits counted in the database

The citizen portal's limits per client address (5 submissions and 5 找回查询码 requests an hour, 10
wrong track attempts in 15 minutes) were counted in each web process on its own: three processes
allowed three times as much, and a restart forgot them. Each counted event is now a row
(:mod:`hotline.kit.ratelimit`), which every process reads; the worker removes rows older than a day.

Revision ID: 0025
Revises: 0024
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hotline.kit.db

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_hits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("at", hotline.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_limit_hits")),
    )
    op.create_index("ix_rate_limit_hits_bucket_key_at", "rate_limit_hits", ["bucket", "key", "at"], unique=False)
    op.create_index(op.f("ix_rate_limit_hits_at"), "rate_limit_hits", ["at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_rate_limit_hits_at"), table_name="rate_limit_hits")
    op.drop_index("ix_rate_limit_hits_bucket_key_at", table_name="rate_limit_hits")
    op.drop_table("rate_limit_hits")
