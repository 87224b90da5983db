"""authors' edits: revisions of a comment, decisions per revision

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

POLICY_ONLY = sa.text("by = 'policy'")


def upgrade() -> None:
    op.create_table(
        "comment_revisions",
        sa.Column("comment_id", sa.String(length=36), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("body_hash", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["comment_id"], ["comments.id"], name=op.f("fk_comment_revisions_comment_id_comments")
        ),
        sa.PrimaryKeyConstraint("comment_id", "revision", name=op.f("pk_comment_revisions")),
    )
    with op.batch_alter_table("comment_revisions", schema=None) as batch_op:
        batch_op.create_index(
            "uq_comment_revisions_comment_idempotency",
            ["comment_id", "idempotency_key"],
            unique=True,
        )
    # ALTER TABLE ... ADD COLUMN, not a batch copy: copying `comments` or `decisions` would
    # drop a table that other rows refer to.
    with op.batch_alter_table("comments", schema=None, recreate="never") as batch_op:
        batch_op.add_column(
            sa.Column("revision", sa.Integer(), server_default=sa.text("1"), nullable=False)
        )
    with op.batch_alter_table("decisions", schema=None, recreate="never") as batch_op:
        batch_op.add_column(
            sa.Column("revision", sa.Integer(), server_default=sa.text("1"), nullable=False)
        )
    op.drop_index("uq_decisions_one_policy_decision", table_name="decisions")
    op.create_index(
        "uq_decisions_one_policy_decision",
        "decisions",
        ["comment_id", "revision"],
        unique=True,
        sqlite_where=POLICY_ONLY,
        postgresql_where=POLICY_ONLY,
    )


def downgrade() -> None:
    op.drop_index("uq_decisions_one_policy_decision", table_name="decisions")
    # The old index allows one automated decision per comment: the first revision's stays.
    op.execute("DELETE FROM decisions WHERE by = 'policy' AND revision > 1")
    op.create_index(
        "uq_decisions_one_policy_decision",
        "decisions",
        ["comment_id"],
        unique=True,
        sqlite_where=POLICY_ONLY,
        postgresql_where=POLICY_ONLY,
    )
    with op.batch_alter_table("decisions", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("revision")
    with op.batch_alter_table("comments", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("revision")
    with op.batch_alter_table("comment_revisions", schema=None) as batch_op:
        batch_op.drop_index("uq_comment_revisions_comment_idempotency")
    op.drop_table("comment_revisions")
