"""fieldwork: emergency harvest (抢收抢种) operations, field tasks, machines, volunteers, buyers

Revision ID: 0016
Revises: 0015
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hotline.kit.db

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('fieldwork_buyers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('township_code', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('contact', sa.String(length=60), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('crops', sa.String(length=100), nullable=False),
    sa.Column('price', sa.String(length=60), nullable=True),
    sa.Column('daily_tons', sa.Float(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', hotline.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['township_code'], ['regions.code'], name=op.f('fk_fieldwork_buyers_township_code_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fieldwork_buyers'))
    )
    with op.batch_alter_table('fieldwork_buyers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fieldwork_buyers_township_code'), ['township_code'], unique=False)

    op.create_table('fieldwork_operations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('township_code', sa.String(length=12), nullable=False),
    sa.Column('crops', sa.String(length=100), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('target_date', sa.Date(), nullable=False),
    sa.Column('state', sa.Enum('open', 'closed', name='operationstate', native_enum=False, length=12), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', hotline.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', hotline.kit.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_fieldwork_operations_created_by_id_users')),
    sa.ForeignKeyConstraint(['township_code'], ['regions.code'], name=op.f('fk_fieldwork_operations_township_code_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fieldwork_operations'))
    )
    with op.batch_alter_table('fieldwork_operations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fieldwork_operations_township_code'), ['township_code'], unique=False)

    op.create_table('fieldwork_tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('village_code', sa.String(length=12), nullable=False),
    sa.Column('plot', sa.String(length=200), nullable=False),
    sa.Column('farmer_name', sa.String(length=60), nullable=True),
    sa.Column('farmer_phone', sa.String(length=20), nullable=True),
    sa.Column('crop', sa.String(length=40), nullable=True),
    sa.Column('work_kind', sa.Enum('harvest', 'drainage', 'sowing', 'road', 'power', name='workkind', native_enum=False, length=12), nullable=False),
    sa.Column('area', sa.Float(), nullable=True),
    sa.Column('area_done', sa.Float(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('state', sa.Enum('pending', 'scheduled', 'working', 'done', 'cancelled', name='taskstate', native_enum=False, length=12), nullable=False),
    sa.Column('cancel_reason', sa.String(length=500), nullable=True),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', hotline.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', hotline.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', hotline.kit.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', hotline.kit.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('area_done >= 0', name=op.f('ck_fieldwork_tasks_area_done_not_negative')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_fieldwork_tasks_created_by_id_users')),
    sa.ForeignKeyConstraint(['operation_id'], ['fieldwork_operations.id'], name=op.f('fk_fieldwork_tasks_operation_id_fieldwork_operations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_fieldwork_tasks_ticket_id_tickets'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['village_code'], ['regions.code'], name=op.f('fk_fieldwork_tasks_village_code_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fieldwork_tasks'))
    )
    with op.batch_alter_table('fieldwork_tasks', schema=None) as batch_op:
        batch_op.create_index('ix_fieldwork_tasks_operation_state', ['operation_id', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_fieldwork_tasks_ticket_id'), ['ticket_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fieldwork_tasks_village_code'), ['village_code'], unique=False)

    op.create_table('fieldwork_machines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('township_code', sa.String(length=12), nullable=False),
    sa.Column('village_code', sa.String(length=12), nullable=True),
    sa.Column('kind', sa.Enum('harvester', 'tractor', 'pump', 'seeder', 'dryer', 'truck', 'generator', 'other', name='machinekind', native_enum=False, length=12), nullable=False),
    sa.Column('label', sa.String(length=80), nullable=False),
    sa.Column('owner', sa.String(length=100), nullable=False),
    sa.Column('owner_kind', sa.Enum('enterprise', 'cooperative', 'person', name='ownerkind', native_enum=False, length=12), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('state', sa.Enum('available', 'working', 'repair', name='machinestate', native_enum=False, length=12), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('created_at', hotline.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['fieldwork_tasks.id'], name=op.f('fk_fieldwork_machines_task_id_fieldwork_tasks'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['township_code'], ['regions.code'], name=op.f('fk_fieldwork_machines_township_code_regions')),
    sa.ForeignKeyConstraint(['village_code'], ['regions.code'], name=op.f('fk_fieldwork_machines_village_code_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fieldwork_machines'))
    )
    with op.batch_alter_table('fieldwork_machines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fieldwork_machines_task_id'), ['task_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fieldwork_machines_township_code'), ['township_code'], unique=False)

    op.create_table('fieldwork_progress',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('area', sa.Float(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('reporter_id', sa.Integer(), nullable=True),
    sa.Column('at', hotline.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['reporter_id'], ['users.id'], name=op.f('fk_fieldwork_progress_reporter_id_users')),
    sa.ForeignKeyConstraint(['task_id'], ['fieldwork_tasks.id'], name=op.f('fk_fieldwork_progress_task_id_fieldwork_tasks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fieldwork_progress'))
    )
    with op.batch_alter_table('fieldwork_progress', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fieldwork_progress_task_id'), ['task_id'], unique=False)

    op.create_table('fieldwork_task_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('from_state', sa.String(length=12), nullable=True),
    sa.Column('to_state', sa.String(length=12), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('at', hotline.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_fieldwork_task_events_actor_id_users')),
    sa.ForeignKeyConstraint(['task_id'], ['fieldwork_tasks.id'], name=op.f('fk_fieldwork_task_events_task_id_fieldwork_tasks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fieldwork_task_events'))
    )
    with op.batch_alter_table('fieldwork_task_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fieldwork_task_events_task_id'), ['task_id'], unique=False)

    op.create_table('fieldwork_volunteers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('township_code', sa.String(length=12), nullable=False),
    sa.Column('village_code', sa.String(length=12), nullable=True),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('skills', sa.String(length=200), nullable=True),
    sa.Column('available', sa.Boolean(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('created_at', hotline.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['fieldwork_tasks.id'], name=op.f('fk_fieldwork_volunteers_task_id_fieldwork_tasks'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['township_code'], ['regions.code'], name=op.f('fk_fieldwork_volunteers_township_code_regions')),
    sa.ForeignKeyConstraint(['village_code'], ['regions.code'], name=op.f('fk_fieldwork_volunteers_village_code_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fieldwork_volunteers'))
    )
    with op.batch_alter_table('fieldwork_volunteers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fieldwork_volunteers_task_id'), ['task_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fieldwork_volunteers_township_code'), ['township_code'], unique=False)

    op.create_table('fieldwork_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('machine_id', sa.Integer(), nullable=True),
    sa.Column('volunteer_id', sa.Integer(), nullable=True),
    sa.Column('assigned_by_id', sa.Integer(), nullable=True),
    sa.Column('assigned_at', hotline.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('released_at', hotline.kit.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('(machine_id IS NULL) <> (volunteer_id IS NULL)', name=op.f('ck_fieldwork_assignments_one_resource')),
    sa.ForeignKeyConstraint(['assigned_by_id'], ['users.id'], name=op.f('fk_fieldwork_assignments_assigned_by_id_users')),
    sa.ForeignKeyConstraint(['machine_id'], ['fieldwork_machines.id'], name=op.f('fk_fieldwork_assignments_machine_id_fieldwork_machines'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_id'], ['fieldwork_tasks.id'], name=op.f('fk_fieldwork_assignments_task_id_fieldwork_tasks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['volunteer_id'], ['fieldwork_volunteers.id'], name=op.f('fk_fieldwork_assignments_volunteer_id_fieldwork_volunteers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fieldwork_assignments'))
    )
    with op.batch_alter_table('fieldwork_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fieldwork_assignments_task_id'), ['task_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('fieldwork_assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fieldwork_assignments_task_id'))

    op.drop_table('fieldwork_assignments')
    with op.batch_alter_table('fieldwork_volunteers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fieldwork_volunteers_township_code'))
        batch_op.drop_index(batch_op.f('ix_fieldwork_volunteers_task_id'))

    op.drop_table('fieldwork_volunteers')
    with op.batch_alter_table('fieldwork_task_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fieldwork_task_events_task_id'))

    op.drop_table('fieldwork_task_events')
    with op.batch_alter_table('fieldwork_progress', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fieldwork_progress_task_id'))

    op.drop_table('fieldwork_progress')
    with op.batch_alter_table('fieldwork_machines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fieldwork_machines_township_code'))
        batch_op.drop_index(batch_op.f('ix_fieldwork_machines_task_id'))

    op.drop_table('fieldwork_machines')
    with op.batch_alter_table('fieldwork_tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fieldwork_tasks_village_code'))
        batch_op.drop_index(batch_op.f('ix_fieldwork_tasks_ticket_id'))
        batch_op.drop_index('ix_fieldwork_tasks_operation_state')

    op.drop_table('fieldwork_tasks')
    with op.batch_alter_table('fieldwork_operations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fieldwork_operations_township_code'))

    op.drop_table('fieldwork_operations')
    with op.batch_alter_table('fieldwork_buyers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fieldwork_buyers_township_code'))

    op.drop_table('fieldwork_buyers')
