"""rollups: ``rollup_intake_county`` (tickets per day by county, channel, kind, urgency) and the
``unit_area`` rows of ``rollup_assessment`` (counts per county and unit)

A county picked on the dashboard counted its volume by channel and kind and its deadlines per unit
in the raw tables (no rollup held the place with the channel or the unit): over a year, seconds at
the benchmark's sizes. The new table, keyed county first, and the assessment rows keyed
"county:unit" (found by ``ix_rollup_assessment_key``, county first) serve them as the city's
figures are served.

Both are filled by a rebuild: the upgrade clears the rollups' watermark, so the worker's next refresh
rebuilds every rollup (or run ``hotline analytics rebuild``); until then a county's volume reads empty.

Revision ID: 0027
Revises: 0026
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rollup_intake_county",
        sa.Column("grain", sa.String(1), primary_key=True),
        sa.Column("county_code", sa.String(12), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("channel", sa.String(12), primary_key=True),
        sa.Column("kind", sa.String(20), primary_key=True),
        sa.Column("urgency", sa.String(12), primary_key=True),
        sa.Column("tickets", sa.Integer(), nullable=False),
    )
    op.create_index("ix_rollup_assessment_key", "rollup_assessment", ["dimension", "key", "grain", "day"])
    op.execute("UPDATE rollup_state SET watermark = NULL")  # the next refresh rebuilds


def downgrade() -> None:
    op.drop_index("ix_rollup_assessment_key", table_name="rollup_assessment")
    op.drop_table("rollup_intake_county")
    op.execute("DELETE FROM rollup_assessment WHERE dimension = 'unit_area'")
