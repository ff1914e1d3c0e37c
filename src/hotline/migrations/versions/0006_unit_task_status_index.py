"""an index on ticket_units (unit_id, status, ticket_id): a unit's open tasks without its history

A large unit holds thousands of finished tasks and a few hundred open ones; the inbox reads only
the open ones, so the index leads with the unit and its task status.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_ticket_units_unit_status", "ticket_units", ["unit_id", "status", "ticket_id"])


def downgrade() -> None:
    op.drop_index("ix_ticket_units_unit_status", table_name="ticket_units")
