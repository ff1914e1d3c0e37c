"""assessment facts on each order, exclusions, rollup tables for the dashboards

``ticket_units`` learns what 三率 count for each order as it happens (on-time flags, the callback
verdict of its round, why it was withdrawn); ``tickets.assessment_exclusion`` marks invalid or
malicious requests. The rollup tables hold per-day sums the dashboards read.

Orders that exist already get their flags from the ticket's current round where that is still
knowable (active orders); withdrawn orders of earlier rounds stay unflagged, i.e. not responded.
Run ``hotline analytics rebuild`` (or let the worker's first refresh do it) after upgrading.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

OVERDUE_WATCH = ("dispatched", "accepted", "in_progress", "return_requested")


def _tz() -> sa.types.TypeEngine:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("ticket_units") as b:
        b.add_column(sa.Column("response_due_at", _tz(), nullable=True))
        b.add_column(sa.Column("accepted_on_time", sa.Boolean(), nullable=True))
        b.add_column(sa.Column("contacted_on_time", sa.Boolean(), nullable=True))
        b.add_column(sa.Column("replied_on_time", sa.Boolean(), nullable=True))
        b.add_column(sa.Column("callback_at", _tz(), nullable=True))
        b.add_column(sa.Column("resolved", sa.Boolean(), nullable=True))
        b.add_column(sa.Column("satisfaction", sa.Enum("satisfied", "basically_satisfied", "dissatisfied",
                                                       "not_reached", name="satisfaction", native_enum=False,
                                                       length=24), nullable=True))
        b.add_column(sa.Column("ended", sa.String(12), nullable=True))
    with op.batch_alter_table("tickets") as b:
        b.add_column(sa.Column("assessment_exclusion", sa.String(12), nullable=True))
    op.create_index("ix_ticket_units_dispatched", "ticket_units", ["dispatched_at"])
    op.create_index("ix_ticket_units_callback", "ticket_units", ["callback_at"])
    op.create_index("ix_ticket_units_unit_dispatched", "ticket_units", ["unit_id", "dispatched_at"])
    op.create_index("ix_ticket_units_unit_callback", "ticket_units", ["unit_id", "callback_at"])
    op.create_index("ix_tickets_updated", "tickets", ["updated_at"])
    where = sa.column("status").in_(OVERDUE_WATCH)
    op.create_index("ix_tickets_open_reply_due", "tickets", ["reply_due_at"], sqlite_where=where,
                    postgresql_where=where)
    op.create_table(
        "rollup_intake_channel",
        sa.Column("grain", sa.String(1), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("channel", sa.String(12), primary_key=True),
        sa.Column("kind", sa.String(20), primary_key=True),
        sa.Column("urgency", sa.String(12), primary_key=True),
        sa.Column("tickets", sa.Integer(), nullable=False),
    )
    op.create_table(
        "rollup_intake_area",
        sa.Column("grain", sa.String(1), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("township_code", sa.String(12), primary_key=True),
        sa.Column("category_top", sa.String(12), primary_key=True),
        sa.Column("tickets", sa.Integer(), nullable=False),
    )
    measures = ("orders", "responded", "pending", "returned", "returned_responded", "replied", "replied_on_time",
                "evaluated", "resolved", "satisfied", "basically_satisfied")
    op.create_table(
        "rollup_assessment",
        sa.Column("dimension", sa.String(10), primary_key=True),
        sa.Column("grain", sa.String(1), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("key", sa.String(20), primary_key=True),
        *[sa.Column(m, sa.Integer(), nullable=False) for m in measures],
    )
    op.create_table(
        "rollup_state",
        sa.Column("name", sa.String(30), primary_key=True),
        sa.Column("watermark", _tz(), nullable=True),
        sa.Column("rebuilt_at", _tz(), nullable=True),
        sa.Column("refreshed_at", _tz(), nullable=True),
    )
    _backfill()


def _backfill() -> None:
    """Flags of the active orders from their ticket's current round."""
    t = "(SELECT {} FROM tickets WHERE tickets.id = ticket_units.ticket_id)"
    active = "status <> 'withdrawn'"
    op.execute(f"UPDATE ticket_units SET response_due_at = CASE WHEN role = 'lead' THEN {t.format('contact_due_at')} "
               f"ELSE {t.format('accept_due_at')} END WHERE {active}")
    op.execute(f"UPDATE ticket_units SET accepted_on_time = (accepted_at <= COALESCE({t.format('accept_due_at')}, "
               f"accepted_at)) WHERE {active} AND accepted_at IS NOT NULL")
    op.execute(f"UPDATE ticket_units SET contacted_on_time = ({t.format('contacted_at')} <= "
               f"COALESCE({t.format('contact_due_at')}, {t.format('contacted_at')})) "
               f"WHERE {active} AND role = 'lead' AND {t.format('contacted_at')} IS NOT NULL")
    op.execute(f"UPDATE ticket_units SET replied_on_time = (replied_at <= COALESCE({t.format('reply_due_at')}, "
               f"replied_at)) WHERE {active} AND replied_at IS NOT NULL")
    op.execute(f"UPDATE ticket_units SET callback_at = {t.format('callback_at')}, "
               f"resolved = {t.format('resolved')}, satisfaction = {t.format('satisfaction')} "
               f"WHERE {active} AND {t.format('callback_at')} IS NOT NULL")


def downgrade() -> None:
    for table in ("rollup_state", "rollup_assessment", "rollup_intake_area", "rollup_intake_channel"):
        op.drop_table(table)
    op.drop_index("ix_tickets_open_reply_due", table_name="tickets")
    op.drop_index("ix_tickets_updated", table_name="tickets")
    op.drop_index("ix_ticket_units_unit_callback", table_name="ticket_units")
    op.drop_index("ix_ticket_units_unit_dispatched", table_name="ticket_units")
    op.drop_index("ix_ticket_units_callback", table_name="ticket_units")
    op.drop_index("ix_ticket_units_dispatched", table_name="ticket_units")
    with op.batch_alter_table("tickets") as b:
        b.drop_column("assessment_exclusion")
    with op.batch_alter_table("ticket_units") as b:
        for col in ("ended", "satisfaction", "resolved", "callback_at", "replied_on_time", "contacted_on_time",
                    "accepted_on_time", "response_due_at"):
            b.drop_column(col)
