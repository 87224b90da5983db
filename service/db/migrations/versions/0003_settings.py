"""article and author settings

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "article_settings",
        sa.Column("article_id", sa.String(length=200), nullable=False),
        sa.Column("premoderated", sa.Boolean(), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.String(length=255), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_article_settings")),
    )
    op.create_table(
        "author_settings",
        sa.Column("author_id", sa.String(length=255), nullable=False),
        sa.Column("always_hold", sa.Boolean(), nullable=False),
        sa.Column("trusted", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.String(length=255), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("author_id", name=op.f("pk_author_settings")),
    )


def downgrade() -> None:
    op.drop_table("author_settings")
    op.drop_table("article_settings")
