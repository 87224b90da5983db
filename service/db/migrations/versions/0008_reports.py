"""readers' reports, the reported queue, coded reasons on decisions, replies by parent

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reports",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("comment_id", sa.String(length=36), nullable=False),
        sa.Column("reporter_id", sa.String(length=255), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("legal_ground", sa.Text(), nullable=True),
        sa.Column("explanation", sa.Text(), nullable=True),
        sa.Column("good_faith", sa.Boolean(), nullable=True),
        sa.Column("counts_toward_hide", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["comment_id"], ["comments.id"], name=op.f("fk_reports_comment_id_comments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
    )
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.create_index(
            "uq_reports_comment_reporter", ["comment_id", "reporter_id"], unique=True
        )
        batch_op.create_index("ix_reports_comment_status", ["comment_id", "status"], unique=False)
        batch_op.create_index(
            "ix_reports_reporter_created", ["reporter_id", "created_at"], unique=False
        )
        batch_op.create_index("ix_reports_resolved_at", ["resolved_at"], unique=False)

    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_comments_reported_at", ["reported_at"], unique=False)
        batch_op.create_index(
            "ix_comments_parent_created", ["parent_id", "created_at"], unique=False
        )

    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason_code", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("explanation", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("legal_ground", sa.Text(), nullable=True))


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35+), not a batch copy: copying `comments` or
    # `decisions` would drop a table that other rows refer to.
    with op.batch_alter_table("decisions", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("legal_ground")
        batch_op.drop_column("explanation")
        batch_op.drop_column("reason_code")
    with op.batch_alter_table("comments", schema=None, recreate="never") as batch_op:
        batch_op.drop_index("ix_comments_parent_created")
        batch_op.drop_index("ix_comments_reported_at")
        batch_op.drop_column("reported_at")
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_index("ix_reports_resolved_at")
        batch_op.drop_index("ix_reports_reporter_created")
        batch_op.drop_index("ix_reports_comment_status")
        batch_op.drop_index("uq_reports_comment_reporter")
    op.drop_table("reports")
