"""hotspot_snapshots: the top hot spots of each standard period and area, for dashboards

Written by ``analytics.hotspots.refresh_snapshots`` (a worker job), one row per (period, area, rank).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hotline.kit.db import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hotspot_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=12), nullable=False),
        sa.Column("area_code", sa.String(length=12), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("period_start", UTCDateTime(timezone=True), nullable=False),
        sa.Column("period_end", UTCDateTime(timezone=True), nullable=False),
        sa.Column("computed_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("heat", sa.Float(), nullable=False),
        sa.Column("category_code", sa.String(length=8), nullable=False),
        sa.Column("place", sa.String(length=60), nullable=False),
        sa.Column("ticket_count", sa.Integer(), nullable=False),
        sa.Column("ticket_ids", sa.JSON(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hotspot_snapshots")),
    )
    op.create_index("ix_hotspot_snapshots_period_area_rank", "hotspot_snapshots", ["period", "area_code", "rank"])


def downgrade() -> None:
    op.drop_index("ix_hotspot_snapshots_period_area_rank", table_name="hotspot_snapshots")
    op.drop_table("hotspot_snapshots")
