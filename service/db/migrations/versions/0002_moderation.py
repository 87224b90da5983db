"""the moderators' hold queue: scores and reason kinds to filter on, leases, bans, audit

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# The labels that can hold a comment as of this revision (policy/sections.py); copied, not
# imported, so the migration means the same thing whatever the code says later.
TOXICITY_LABELS = (
    "severe_toxicity",
    "threat",
    "identity_attack",
    "sexual_explicit",
    "insult",
    "obscene",
    "toxicity",
)
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

SQLITE_APPEND_ONLY = """
CREATE TRIGGER moderation_audit_append_only BEFORE UPDATE ON moderation_audit
BEGIN
    SELECT RAISE(ABORT, 'moderation_audit is append-only');
END
"""
POSTGRES_APPEND_ONLY = (
    """
CREATE FUNCTION moderation_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'moderation_audit is append-only';
END
$$
""",
    """
CREATE TRIGGER moderation_audit_append_only BEFORE UPDATE ON moderation_audit
FOR EACH ROW EXECUTE FUNCTION moderation_audit_append_only()
""",
)


def upgrade() -> None:
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("max_score", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_comments_status_max_score", ["status", "max_score"], unique=False)

    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.create_index("ix_decisions_by_at", ["by", "at"], unique=False)

    op.create_table(
        "hold_reasons",
        sa.Column("comment_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"], ["comments.id"], name=op.f("fk_hold_reasons_comment_id_comments")
        ),
        sa.PrimaryKeyConstraint("comment_id", "kind", name=op.f("pk_hold_reasons")),
    )
    with op.batch_alter_table("hold_reasons", schema=None) as batch_op:
        batch_op.create_index("ix_hold_reasons_kind", ["kind"], unique=False)

    op.create_table(
        "author_bans",
        sa.Column("author_id", sa.String(length=255), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("banned_by", sa.String(length=255), nullable=False),
        sa.Column("banned_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("author_id", name=op.f("pk_author_bans")),
    )

    op.create_table(
        "moderation_audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("moderator_id", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("comment_id", sa.String(length=36), nullable=True),
        sa.Column("decision_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.String(length=255), nullable=True),
        sa.Column("previous_status", sa.String(length=16), nullable=True),
        sa.Column("new_status", sa.String(length=16), nullable=True),
        sa.Column("override", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["comment_id"], ["comments.id"], name=op.f("fk_moderation_audit_comment_id_comments")
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["decisions.id"],
            name=op.f("fk_moderation_audit_decision_id_decisions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_audit")),
    )
    with op.batch_alter_table("moderation_audit", schema=None) as batch_op:
        batch_op.create_index("ix_moderation_audit_at", ["at"], unique=False)
        batch_op.create_index("ix_moderation_audit_author_id", ["author_id"], unique=False)
        batch_op.create_index("ix_moderation_audit_comment_id", ["comment_id"], unique=False)

    if op.get_context().dialect.name == "postgresql":
        for statement in POSTGRES_APPEND_ONLY:
            op.execute(statement)
    else:
        op.execute(SQLITE_APPEND_ONLY)

    _backfill_held_comments()


def _backfill_held_comments() -> None:
    """Give comments already held when this runs their score and reason kinds."""
    comments = sa.table(
        "comments",
        sa.column("id", sa.String()),
        sa.column("status", sa.String()),
        sa.column("max_score", sa.Float()),
    )
    decisions = sa.table(
        "decisions",
        sa.column("comment_id", sa.String()),
        sa.column("by", sa.String()),
        sa.column("scores", JSON_DOCUMENT),
        sa.column("reasons", JSON_DOCUMENT),
    )
    hold_reasons = sa.table(
        "hold_reasons", sa.column("comment_id", sa.String()), sa.column("kind", sa.String())
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(comments.c.id, decisions.c.scores, decisions.c.reasons)
        .join(decisions, decisions.c.comment_id == comments.c.id)
        .where(comments.c.status == "held", decisions.c.by == "policy")
    ).all()
    for comment_id, scores, reasons in rows:
        connection.execute(
            comments.update()
            .where(comments.c.id == comment_id)
            .values(max_score=_highest(scores or {}))
        )
        kinds = sorted({str(reason["kind"])[:32] for reason in reasons or [] if "kind" in reason})
        if kinds:
            connection.execute(
                hold_reasons.insert(), [{"comment_id": comment_id, "kind": kind} for kind in kinds]
            )


def _highest(scores: dict[str, Any]) -> float | None:
    values = [float(scores[label]) for label in TOXICITY_LABELS if label in scores]
    return max(values, default=None)


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER moderation_audit_append_only ON moderation_audit")
        op.execute("DROP FUNCTION moderation_audit_append_only()")
    else:
        op.execute("DROP TRIGGER moderation_audit_append_only")

    with op.batch_alter_table("moderation_audit", schema=None) as batch_op:
        batch_op.drop_index("ix_moderation_audit_comment_id")
        batch_op.drop_index("ix_moderation_audit_author_id")
        batch_op.drop_index("ix_moderation_audit_at")
    op.drop_table("moderation_audit")
    op.drop_table("author_bans")
    with op.batch_alter_table("hold_reasons", schema=None) as batch_op:
        batch_op.drop_index("ix_hold_reasons_kind")
    op.drop_table("hold_reasons")

    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_index("ix_decisions_by_at")
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35+), not a batch copy: copying `comments` would
    # drop the table that decisions and webhook events refer to.
    with op.batch_alter_table("comments", schema=None, recreate="never") as batch_op:
        batch_op.drop_index("ix_comments_status_max_score")
        batch_op.drop_column("claimed_until")
        batch_op.drop_column("claimed_by")
        batch_op.drop_column("max_score")
