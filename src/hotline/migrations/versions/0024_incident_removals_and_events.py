"""incidents: tickets taken out are marked (also out of a proposal); incident_events, each step taken

- ``incident_tickets.removed_at`` / ``removed_by_id``: a ticket a supervisor took out of an incident,
  proposed or confirmed. The row is kept so the detection, which skips a ticket the incident already
  has, does not bring it back; confirming a proposal does not link it. Before, only a confirmed
  incident's ticket could be taken out, and it was marked by ``linked`` being false: those rows are
  marked removed here, at the time of the ticket's 已移出突发事件 timeline line (who wrote it) where
  it is found, else at the incident's last change.
- ``incident_events``: who did what to an incident and when (confirmed, dismissed, ended, reopened,
  a ticket added or taken out), so an incident ended, reopened and ended again keeps each step.
  Filled from what the incidents already say: each decision (``decided_at``, ``decided_by_id``), each
  end (``updated_at``, by nobody known), each ticket taken out.

Revision ID: 0024
Revises: 0023
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hotline.kit.db

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

REMOVAL = ("SELECT {col} FROM ticket_events e WHERE e.ticket_id = incident_tickets.ticket_id AND e.action = 'note' "
           "AND e.reason LIKE '已移出突发事件%' ORDER BY e.at DESC, e.id DESC LIMIT 1")


FK = "fk_incident_tickets_removed_by_id_users"


def upgrade() -> None:
    op.add_column('incident_tickets', sa.Column('removed_at', hotline.kit.db.UTCDateTime(timezone=True), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        # As in 0023: SQLite takes a column declared with its reference, so the table is not copied.
        # (A batch copy reflected incident_tickets and, through its foreign keys, users, whose
        # expression index lower(username) SQLAlchemy cannot reflect: a SAWarning on every first start.)
        op.execute(f"ALTER TABLE incident_tickets ADD COLUMN removed_by_id INTEGER CONSTRAINT {FK} REFERENCES users (id)")
    else:
        op.add_column('incident_tickets', sa.Column('removed_by_id', sa.Integer(), nullable=True))
        op.create_foreign_key(FK, 'incident_tickets', 'users', ['removed_by_id'], ['id'])
    op.create_table('incident_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.Enum('confirmed', 'dismissed', 'ended', 'reopened', 'added', 'removed',
                                name='incidentaction', native_enum=False, length=12), nullable=False),
    sa.Column('at', hotline.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_incident_events_actor_id_users')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_events_incident_id_incidents'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_incident_events_ticket_id_tickets'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_events'))
    )
    with op.batch_alter_table('incident_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_events_incident_id'), ['incident_id'], unique=False)
    _fill()


def _fill() -> None:
    """The removals and events the incidents already record (see the module's docstring)."""
    run = op.get_bind().execute
    decided = "incident_id IN (SELECT id FROM incidents WHERE state IN ('confirmed', 'ended'))"
    run(sa.text(f"UPDATE incident_tickets SET removed_at = coalesce(({REMOVAL.format(col='e.at')}), "
                "(SELECT i.updated_at FROM incidents i WHERE i.id = incident_tickets.incident_id)), "
                f"removed_by_id = ({REMOVAL.format(col='e.actor_id')}) WHERE linked = :no AND {decided}"),
        {"no": False})
    run(sa.text("INSERT INTO incident_events (incident_id, action, at, actor_id) "
                "SELECT id, CASE WHEN state = 'dismissed' THEN 'dismissed' ELSE 'confirmed' END, decided_at, "
                "decided_by_id FROM incidents WHERE decided_at IS NOT NULL ORDER BY id"))
    run(sa.text("INSERT INTO incident_events (incident_id, action, at, actor_id, ticket_id) "
                "SELECT incident_id, 'removed', removed_at, removed_by_id, ticket_id FROM incident_tickets "
                "WHERE removed_at IS NOT NULL ORDER BY removed_at, id"))
    run(sa.text("INSERT INTO incident_events (incident_id, action, at) "
                "SELECT id, 'ended', updated_at FROM incidents WHERE state = 'ended' ORDER BY id"))


def downgrade() -> None:
    with op.batch_alter_table('incident_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_events_incident_id'))
    op.drop_table('incident_events')
    # resolve_fks=False: the copy SQLite needs reflects incident_tickets alone, not users (see upgrade).
    with op.batch_alter_table('incident_tickets', schema=None, reflect_kwargs={"resolve_fks": False}) as batch_op:
        if op.get_bind().dialect.name != "sqlite":
            batch_op.drop_constraint(FK, type_='foreignkey')
        batch_op.drop_column('removed_by_id')
        batch_op.drop_column('removed_at')
