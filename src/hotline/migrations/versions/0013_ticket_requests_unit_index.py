"""ticket_requests (unit_id, type, requested_at): a unit's returns of a period

The dispatch queue suggests a unit for every waiting ticket; for a catalogue row it checks whether
the row's unit keeps returning such tickets in the township, which read a year of the township's
resolved tickets each time (the queue at 200,000 tickets: 385 ms p95 on SQLite). Most units return
fewer tickets than the check needs (``assist.units.STALE_MIN_RETURNS``), and this index answers
that from the unit's own returns first.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_ticket_requests_unit_type_requested", "ticket_requests", ["unit_id", "type", "requested_at"])


def downgrade() -> None:
    op.drop_index("ix_ticket_requests_unit_type_requested", table_name="ticket_requests")
