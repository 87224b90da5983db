"""perspective-compatible API: keys and feedback

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "perspective_keys",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("qps", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_perspective_keys")),
    )
    with op.batch_alter_table("perspective_keys", schema=None) as batch_op:
        batch_op.create_index("uq_perspective_keys_key_hash", ["key_hash"], unique=True)

    op.create_table(
        "perspective_feedback",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key_name", sa.String(length=100), nullable=False),
        sa.Column("attribute", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("community_id", sa.Text(), nullable=True),
        sa.Column("client_token", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["key_name"],
            ["perspective_keys.name"],
            name=op.f("fk_perspective_feedback_key_name_perspective_keys"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_perspective_feedback")),
    )
    with op.batch_alter_table("perspective_feedback", schema=None) as batch_op:
        batch_op.create_index("ix_perspective_feedback_created_at", ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("perspective_feedback", schema=None) as batch_op:
        batch_op.drop_index("ix_perspective_feedback_created_at")

    op.drop_table("perspective_feedback")
    with op.batch_alter_table("perspective_keys", schema=None) as batch_op:
        batch_op.drop_index("uq_perspective_keys_key_hash")

    op.drop_table("perspective_keys")
