"""tickets (region_code, received_at), and the same of the open tickets only: the duplicate lookup

A township's tickets of a year are thousands; the lookup wants its open ones of the last 30 days.
``ix_tickets_region_received`` replaces ``ix_tickets_region_code`` (SQLite chose the one-column index
when both existed; the new one serves its prefix). ``ix_tickets_open_region_received`` is partial:
only the tickets a new request may be merged into (the statuses of
``tickets.models.MERGEABLE_STATUSES``), so the lookup's range never meets a closed ticket.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

MERGEABLE = ("registered", "dispatched", "accepted", "in_progress", "suspended", "return_requested", "replied")


def upgrade() -> None:
    op.create_index("ix_tickets_region_received", "tickets", ["region_code", "received_at"])
    op.drop_index("ix_tickets_region_code", table_name="tickets")
    where = sa.column("status").in_(MERGEABLE)
    op.create_index("ix_tickets_open_region_received", "tickets", ["region_code", "received_at"],
                    sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    op.drop_index("ix_tickets_open_region_received", table_name="tickets")
    op.create_index("ix_tickets_region_code", "tickets", ["region_code"])
    op.drop_index("ix_tickets_region_received", table_name="tickets")
