"""tickets: ``ix_tickets_open_reply_due`` covers the statuses whose reply clock runs, no longer 退单待审

The partial index (migration 0010) serves the reply term of 当前超期 (``analytics.dashboard.
overdue_query``: ``reply_due_at < now AND status IN ('dispatched', 'accepted', 'in_progress')``,
the statuses of ``sla.RUNNING['reply']``). It still listed ``return_requested``, which runs no
unit's clock since a return waiting for review stopped counting as overdue: the index held rows
no query wants, and its predicate no longer matched the query's term, which SQLite must find
literally in the query to use a partial index. It is rebuilt with the query's list, in its order.

Revision ID: 0026
Revises: 0025
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

RUNNING_REPLY = ("dispatched", "accepted", "in_progress")
BEFORE = ("dispatched", "accepted", "in_progress", "return_requested")


def _rebuild(statuses: tuple[str, ...]) -> None:
    op.drop_index("ix_tickets_open_reply_due", table_name="tickets")
    where = sa.column("status").in_(statuses)
    op.create_index("ix_tickets_open_reply_due", "tickets", ["reply_due_at"], sqlite_where=where,
                    postgresql_where=where)


def upgrade() -> None:
    _rebuild(RUNNING_REPLY)


def downgrade() -> None:
    _rebuild(BEFORE)
