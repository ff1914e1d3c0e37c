"""classification feedback: the suggestions agents saw and the label they chose

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hotline.kit.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "classification_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("model_name", sa.String(length=40), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=True),
        sa.Column("suggested_label", sa.String(length=40), nullable=True),
        sa.Column("suggested_top", sa.JSON(), nullable=False),
        sa.Column("chosen_label", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", hotline.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_classification_feedback_ticket_id_tickets"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_classification_feedback_user_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_classification_feedback")),
    )
    op.create_index(op.f("ix_classification_feedback_ticket_id"), "classification_feedback", ["ticket_id"])
    op.create_index(op.f("ix_classification_feedback_created_at"), "classification_feedback", ["created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_classification_feedback_created_at"), table_name="classification_feedback")
    op.drop_index(op.f("ix_classification_feedback_ticket_id"), table_name="classification_feedback")
    op.drop_table("classification_feedback")
