"""incidents: proposed, confirmed or dismissed bursts of related tickets

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hotline.kit.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('incidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('proposed', 'confirmed', 'dismissed', name='incidentstate', native_enum=False, length=12), nullable=False),
    sa.Column('category_code', sa.String(length=12), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('area_code', sa.String(length=12), nullable=False),
    sa.Column('region_codes', sa.JSON(), nullable=False),
    sa.Column('population', sa.Integer(), nullable=False),
    sa.Column('keywords', sa.JSON(), nullable=False),
    sa.Column('first_ticket_at', hotline.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_ticket_at', hotline.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ticket_count', sa.Integer(), nullable=False),
    sa.Column('detected_at', hotline.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', hotline.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', hotline.kit.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['area_code'], ['regions.code'], name=op.f('fk_incidents_area_code_regions')),
    sa.ForeignKeyConstraint(['category_code'], ['categories.code'], name=op.f('fk_incidents_category_code_categories')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_incidents_decided_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents'))
    )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index('ix_incidents_state_last', ['state', 'last_ticket_at'], unique=False)

    op.create_table('incident_tickets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('linked', sa.Boolean(), nullable=False),
    sa.Column('added_at', hotline.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['added_by_id'], ['users.id'], name=op.f('fk_incident_tickets_added_by_id_users')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_tickets_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_incident_tickets_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_tickets')),
    sa.UniqueConstraint('incident_id', 'ticket_id', name=op.f('uq_incident_tickets_incident_id'))
    )
    with op.batch_alter_table('incident_tickets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_tickets_ticket_id'), ['ticket_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('incident_tickets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_tickets_ticket_id'))
    op.drop_table('incident_tickets')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index('ix_incidents_state_last')
    op.drop_table('incidents')
