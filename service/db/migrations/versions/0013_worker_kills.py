"""comments count how often scoring them was killed (a batch's child killed, or out of time),
so that the sweeper re-sends them one per message and holds one killed three times

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-14

Every existing comment starts at 0.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


# ALTER TABLE ... ADD/DROP COLUMN, not a batch copy: copying `comments` would drop a table
# that other rows refer to.
def upgrade() -> None:
    with op.batch_alter_table("comments", schema=None, recreate="never") as batch_op:
        batch_op.add_column(
            sa.Column("kill_count", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("comments", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("kill_count")
