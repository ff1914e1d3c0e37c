"""tickets.api_token_id: the API token (an Open311 ``api_key``) a ticket was submitted with

Open311 clients see and query only the requests sent with their own key, no longer every request of
the account behind it (two partners given keys of one account saw each other's callers). A ticket
records the key it came with; tickets from before this revision have none (NULL) and stay visible,
as before, to every key of the account that registered them.

Tokens are revoked, never deleted, so the foreign key has no ``ON DELETE``. On SQLite the column is
added with ``ALTER TABLE … ADD COLUMN … REFERENCES`` (no copy of the tickets table).

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

FK = "fk_tickets_api_token_id_api_tokens"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot add a constraint to a table, but it takes a column declared with its reference.
        op.execute(
            f"ALTER TABLE tickets ADD COLUMN api_token_id INTEGER CONSTRAINT {FK} REFERENCES api_tokens (id)"
        )
    else:
        op.add_column("tickets", sa.Column("api_token_id", sa.Integer(), nullable=True))
        op.create_foreign_key(FK, "tickets", "api_tokens", ["api_token_id"], ["id"])
    op.create_index("ix_tickets_api_token_id", "tickets", ["api_token_id"])


def downgrade() -> None:
    op.drop_index("ix_tickets_api_token_id", table_name="tickets")
    with op.batch_alter_table("tickets") as batch:
        if op.get_bind().dialect.name != "sqlite":
            batch.drop_constraint(FK, type_="foreignkey")
        batch.drop_column("api_token_id")
