"""ticket_imports: the fingerprint of each spreadsheet row registered as a ticket

The ticket import recognised a row imported before only by its 受理时间 (with place, content and
channel); rows without one took the time of the import, so the same file imported twice registered
them twice. Each imported ticket now keeps its row's fingerprint, unique, so a repeat is refused,
also when two imports of one file run at once. Tickets imported before this revision have none.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hotline.kit.db

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ticket_imports',
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('row', sa.Integer(), nullable=False),
    sa.Column('imported_at', hotline.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('imported_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['imported_by_id'], ['users.id'], name=op.f('fk_ticket_imports_imported_by_id_users')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_imports_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ticket_id', name=op.f('pk_ticket_imports')),
    sa.UniqueConstraint('fingerprint', name=op.f('uq_ticket_imports_fingerprint'))
    )


def downgrade() -> None:
    op.drop_table('ticket_imports')
