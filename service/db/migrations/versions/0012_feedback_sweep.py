"""suggestscore feedback remembers when its scoring task was sent, and how often, so that the
sweeper sends a lost one again

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07

Rows stored before this revision count as sent once, when they were stored: any left unscored
(a send lost to an outage) is due at the first sweep.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

UNSCORED = sa.text("scores IS NULL AND text IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("perspective_feedback", schema=None) as batch_op:
        batch_op.add_column(sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("enqueue_count", sa.Integer(), server_default="0", nullable=False)
        )
    op.execute("UPDATE perspective_feedback SET enqueued_at = created_at, enqueue_count = 1")
    op.create_index(
        "ix_perspective_feedback_unscored",
        "perspective_feedback",
        ["enqueued_at"],
        unique=False,
        sqlite_where=UNSCORED,
        postgresql_where=UNSCORED,
    )


def downgrade() -> None:
    op.drop_index("ix_perspective_feedback_unscored", table_name="perspective_feedback")
    with op.batch_alter_table("perspective_feedback", schema=None) as batch_op:
        batch_op.drop_column("enqueue_count")
        batch_op.drop_column("enqueued_at")
