"""policy tuning: shadow decisions and the audit sample

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "shadow_decisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("comment_id", sa.String(length=36), nullable=False),
        sa.Column("policy_version", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("reasons", JSON_DOCUMENT, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"], ["comments.id"], name=op.f("fk_shadow_decisions_comment_id_comments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shadow_decisions")),
    )
    with op.batch_alter_table("shadow_decisions", schema=None) as batch_op:
        batch_op.create_index(
            "uq_shadow_decisions_comment_policy", ["comment_id", "policy_version"], unique=True
        )
        batch_op.create_index("ix_shadow_decisions_at", ["at"], unique=False)

    op.create_table(
        "audit_samples",
        sa.Column("comment_id", sa.String(length=36), nullable=False),
        sa.Column("rate", sa.Float(), nullable=False),
        sa.Column("sampled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("label", sa.String(length=16), nullable=True),
        sa.Column("labelled_by", sa.String(length=255), nullable=True),
        sa.Column("labelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["comment_id"], ["comments.id"], name=op.f("fk_audit_samples_comment_id_comments")
        ),
        sa.PrimaryKeyConstraint("comment_id", name=op.f("pk_audit_samples")),
    )
    with op.batch_alter_table("audit_samples", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_samples_label_sampled", ["label", "sampled_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_samples", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_samples_label_sampled")
    op.drop_table("audit_samples")
    with op.batch_alter_table("shadow_decisions", schema=None) as batch_op:
        batch_op.drop_index("ix_shadow_decisions_at")
        batch_op.drop_index("uq_shadow_decisions_comment_policy")
    op.drop_table("shadow_decisions")
