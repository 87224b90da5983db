"""suggestscore feedback carries the model's scores of its text, to count as a label; its
text can be erased by retention

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("perspective_feedback", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scores", JSON_DOCUMENT, nullable=True))
        batch_op.alter_column("text", existing_type=sa.Text(), nullable=True)


def downgrade() -> None:
    op.execute("UPDATE perspective_feedback SET text = '' WHERE text IS NULL")
    with op.batch_alter_table("perspective_feedback", schema=None) as batch_op:
        batch_op.alter_column("text", existing_type=sa.Text(), nullable=False)
        batch_op.drop_column("scores")
