"""shadow decisions per revision of a comment

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ALTER TABLE ... ADD COLUMN: every shadow decision made before edits existed was on the
    # text as posted, revision 1.
    with op.batch_alter_table("shadow_decisions", schema=None, recreate="never") as batch_op:
        batch_op.add_column(
            sa.Column("revision", sa.Integer(), server_default=sa.text("1"), nullable=False)
        )
    op.drop_index("uq_shadow_decisions_comment_policy", table_name="shadow_decisions")
    op.create_index(
        "uq_shadow_decisions_comment_policy_revision",
        "shadow_decisions",
        ["comment_id", "policy_version", "revision"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("uq_shadow_decisions_comment_policy_revision", table_name="shadow_decisions")
    # The old index allows one shadow decision per comment and policy: the first revision's stays.
    op.execute("DELETE FROM shadow_decisions WHERE revision > 1")
    op.create_index(
        "uq_shadow_decisions_comment_policy",
        "shadow_decisions",
        ["comment_id", "policy_version"],
        unique=True,
    )
    with op.batch_alter_table("shadow_decisions", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("revision")
