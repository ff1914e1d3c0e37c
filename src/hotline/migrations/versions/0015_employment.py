"""employment: village service stations (就业服务站), labour ledger, assistance, jobs, referrals, six-ones activities

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hotline.kit.db

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('employment_stations',
    sa.Column('village_code', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('opened_on', sa.Date(), nullable=True),
    sa.Column('created_at', hotline.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['village_code'], ['regions.code'], name=op.f('fk_employment_stations_village_code_regions')),
    sa.PrimaryKeyConstraint('village_code', name=op.f('pk_employment_stations'))
    )
    op.create_table('employment_activities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('village_code', sa.String(length=12), nullable=False),
    sa.Column('kind', sa.Enum('troupe', 'ledger', 'venue', 'guidance', 'training', 'job_fair', name='activitykind', native_enum=False, length=12), nullable=False),
    sa.Column('on_day', sa.Date(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('participants', sa.Integer(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', hotline.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_employment_activities_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['village_code'], ['employment_stations.village_code'], name=op.f('fk_employment_activities_village_code_employment_stations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_employment_activities'))
    )
    with op.batch_alter_table('employment_activities', schema=None) as batch_op:
        batch_op.create_index('ix_employment_activities_village_day', ['village_code', 'on_day'], unique=False)

    op.create_table('employment_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('employer', sa.String(length=120), nullable=False),
    sa.Column('workshop', sa.Boolean(), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('title', sa.String(length=80), nullable=False),
    sa.Column('openings', sa.Integer(), nullable=False),
    sa.Column('pay', sa.String(length=60), nullable=False),
    sa.Column('requirements', sa.Text(), nullable=True),
    sa.Column('state', sa.Enum('open', 'closed', name='jobstate', native_enum=False, length=8), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', hotline.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', hotline.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_employment_jobs_created_by_id_users')),
    sa.ForeignKeyConstraint(['region_code'], ['regions.code'], name=op.f('fk_employment_jobs_region_code_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_employment_jobs'))
    )
    with op.batch_alter_table('employment_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_employment_jobs_region_code'), ['region_code'], unique=False)

    op.create_table('employment_workers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('village_code', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('gender', sa.Enum('male', 'female', name='gender', native_enum=False, length=8), nullable=False),
    sa.Column('birth_year', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('id_number', sa.String(length=18), nullable=True),
    sa.Column('education', sa.String(length=20), nullable=True),
    sa.Column('skills', sa.String(length=200), nullable=True),
    sa.Column('employment_status', sa.Enum('stable', 'flexible', 'seasonal', 'unemployed', 'unwilling', 'unable', name='employmentstatus', native_enum=False, length=12), nullable=False),
    sa.Column('work_place', sa.Enum('in_county', 'out_county', 'out_province', name='workplace', native_enum=False), nullable=True),
    sa.Column('employer', sa.String(length=120), nullable=True),
    sa.Column('job_intention', sa.String(length=120), nullable=True),
    sa.Column('needs_help', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', hotline.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', hotline.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_employment_workers_updated_by_id_users')),
    sa.ForeignKeyConstraint(['village_code'], ['employment_stations.village_code'], name=op.f('fk_employment_workers_village_code_employment_stations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_employment_workers')),
    sa.UniqueConstraint('id_number', name=op.f('uq_employment_workers_id_number'))
    )
    with op.batch_alter_table('employment_workers', schema=None) as batch_op:
        batch_op.create_index('ix_employment_workers_village_status', ['village_code', 'employment_status'], unique=False)

    op.create_table('employment_activity_workers',
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['employment_activities.id'], name=op.f('fk_employment_activity_workers_activity_id_employment_activities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['worker_id'], ['employment_workers.id'], name=op.f('fk_employment_activity_workers_worker_id_employment_workers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('activity_id', 'worker_id', name=op.f('pk_employment_activity_workers'))
    )
    with op.batch_alter_table('employment_activity_workers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_employment_activity_workers_worker_id'), ['worker_id'], unique=False)

    op.create_table('employment_assistance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('guidance', 'referral', 'training', 'job_fair', 'policy', 'other', name='assistancekind', native_enum=False, length=12), nullable=False),
    sa.Column('on_day', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', hotline.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['employment_activities.id'], name=op.f('fk_employment_assistance_activity_id_employment_activities'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_employment_assistance_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['worker_id'], ['employment_workers.id'], name=op.f('fk_employment_assistance_worker_id_employment_workers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_employment_assistance'))
    )
    with op.batch_alter_table('employment_assistance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_employment_assistance_worker_id'), ['worker_id'], unique=False)

    op.create_table('employment_referrals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('recommended', 'hired', 'rejected', name='referralstate', native_enum=False, length=12), nullable=False),
    sa.Column('recommended_by_id', sa.Integer(), nullable=True),
    sa.Column('recommended_at', hotline.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', hotline.kit.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_employment_referrals_decided_by_id_users')),
    sa.ForeignKeyConstraint(['job_id'], ['employment_jobs.id'], name=op.f('fk_employment_referrals_job_id_employment_jobs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recommended_by_id'], ['users.id'], name=op.f('fk_employment_referrals_recommended_by_id_users')),
    sa.ForeignKeyConstraint(['worker_id'], ['employment_workers.id'], name=op.f('fk_employment_referrals_worker_id_employment_workers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_employment_referrals')),
    sa.UniqueConstraint('job_id', 'worker_id', name=op.f('uq_employment_referrals_job_id'))
    )
    with op.batch_alter_table('employment_referrals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_employment_referrals_worker_id'), ['worker_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('employment_referrals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_employment_referrals_worker_id'))

    op.drop_table('employment_referrals')
    with op.batch_alter_table('employment_assistance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_employment_assistance_worker_id'))

    op.drop_table('employment_assistance')
    with op.batch_alter_table('employment_activity_workers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_employment_activity_workers_worker_id'))

    op.drop_table('employment_activity_workers')
    with op.batch_alter_table('employment_workers', schema=None) as batch_op:
        batch_op.drop_index('ix_employment_workers_village_status')

    op.drop_table('employment_workers')
    with op.batch_alter_table('employment_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_employment_jobs_region_code'))

    op.drop_table('employment_jobs')
    with op.batch_alter_table('employment_activities', schema=None) as batch_op:
        batch_op.drop_index('ix_employment_activities_village_day')

    op.drop_table('employment_activities')
    op.drop_table('employment_stations')
