"""reports: the stored briefings (日报/周报/月报), their printable HTML and Excel workbook

Written by ``reports.store`` (the worker's due reports, the /reports page and ``hotline analytics
report``), one row per (kind, label); until now they were files under ``<data_dir>/reports``,
which other machines could not see. Reports stored as files before are not imported: the worker
makes the due ones again, and older ones can be made on demand.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hotline.kit.db import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("label", sa.String(length=12), nullable=False),
        sa.Column("period_first", sa.Date(), nullable=False),
        sa.Column("period_last", sa.Date(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("xlsx", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
        sa.UniqueConstraint("kind", "label", name=op.f("uq_reports_kind")),
    )


def downgrade() -> None:
    op.drop_table("reports")
