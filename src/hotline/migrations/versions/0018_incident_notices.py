"""incident_notices: public notices about confirmed incidents, shown on the citizen portal

A supervisor who has confirmed an incident (a water outage in 裴介镇) may publish a notice for
citizens; the portal and the agents' intake show it until it is withdrawn or expires. Each
publication is a row, so what was said in public is kept.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hotline.kit.db

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('incident_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('published_at', hotline.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.Column('withdrawn_at', hotline.kit.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_notices_incident_id_incidents'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['published_by_id'], ['users.id'], name=op.f('fk_incident_notices_published_by_id_users')),
    sa.ForeignKeyConstraint(['withdrawn_by_id'], ['users.id'], name=op.f('fk_incident_notices_withdrawn_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_notices'))
    )
    with op.batch_alter_table('incident_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_notices_incident_id'), ['incident_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('incident_notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_notices_incident_id'))
    op.drop_table('incident_notices')
