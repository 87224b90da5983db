"""authors: sanctions (warnings, suspensions, bans), notes, erasure; the audit names authors
by a random reference

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07

`author_bans` becomes the `ban` rows of `sanctions`. The audit's `author_id` becomes
`author_ref`, a random key per author kept in `author_refs`: erasing an author then replaces
their id in `author_refs` and never rewrites an audit row (the table stays append-only; this
migration alone lifts its trigger, to rewrite the existing rows once). `webhook_events` take
author events, which name no comment.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

SQLITE_TRIGGERS = {
    "moderation_audit_append_only": """
CREATE TRIGGER moderation_audit_append_only BEFORE UPDATE ON moderation_audit
BEGIN
    SELECT RAISE(ABORT, 'moderation_audit is append-only');
END
""",
    "moderation_audit_no_delete": """
CREATE TRIGGER moderation_audit_no_delete BEFORE DELETE ON moderation_audit
BEGIN
    SELECT RAISE(ABORT, 'moderation_audit is append-only');
END
""",
}


def _postgres() -> bool:
    return op.get_context().dialect.name == "postgresql"


def _lift_audit_triggers() -> None:
    if _postgres():
        op.execute("ALTER TABLE moderation_audit DISABLE TRIGGER moderation_audit_append_only")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")


def _restore_audit_triggers() -> None:
    if _postgres():
        op.execute("ALTER TABLE moderation_audit ENABLE TRIGGER moderation_audit_append_only")
    else:
        for statement in SQLITE_TRIGGERS.values():
            op.execute(statement)


def upgrade() -> None:
    op.create_table(
        "sanctions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("author_id", sa.String(length=255), nullable=False),
        sa.Column("author_hmac", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reason_code", sa.String(length=32), nullable=True),
        sa.Column("explanation", sa.Text(), nullable=True),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reject_held", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lifted_by", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sanctions")),
    )
    op.create_index("ix_sanctions_author_created", "sanctions", ["author_id", "created_at"])
    op.create_index("ix_sanctions_author_hmac", "sanctions", ["author_hmac"])
    op.create_table(
        "author_notes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("author_id", sa.String(length=255), nullable=False),
        sa.Column("moderator_id", sa.String(length=255), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_author_notes")),
    )
    op.create_index("ix_author_notes_author_at", "author_notes", ["author_id", "at"])
    op.create_table(
        "author_refs",
        sa.Column("author_id", sa.String(length=255), nullable=False),
        sa.Column("ref", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("author_id", name=op.f("pk_author_refs")),
    )
    op.create_index("uq_author_refs_ref", "author_refs", ["ref"], unique=True)
    op.create_table(
        "erasures",
        sa.Column("author_hmac", sa.String(length=64), nullable=False),
        sa.Column("pseudonym", sa.String(length=64), nullable=False),
        sa.Column("erased_by", sa.String(length=255), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("author_hmac", name=op.f("pk_erasures")),
    )

    bind = op.get_bind()
    columns = ("id", "author_id", "kind", "explanation", "reject_held", "created_by")
    sanctions = sa.table("sanctions", *(sa.column(name) for name in (*columns, "created_at")))
    bans = bind.execute(
        sa.text("SELECT author_id, reason, banned_by, banned_at FROM author_bans")
    ).all()
    if bans:
        op.bulk_insert(
            sanctions,
            [
                {
                    "id": "snc_" + uuid.uuid4().hex,
                    "author_id": author_id,
                    "kind": "ban",
                    "explanation": reason,
                    "reject_held": False,
                    "created_by": banned_by,
                    "created_at": banned_at,
                }
                for author_id, reason, banned_by, banned_at in bans
            ],
        )
    op.drop_table("author_bans")

    authors = [
        row[0]
        for row in bind.execute(
            sa.text("SELECT DISTINCT author_id FROM moderation_audit WHERE author_id IS NOT NULL")
        )
    ]
    refs = {author_id: uuid.uuid4().hex for author_id in authors}
    if refs:
        now = datetime.now(UTC)
        op.bulk_insert(
            sa.table(
                "author_refs", sa.column("author_id"), sa.column("ref"), sa.column("created_at")
            ),
            [{"author_id": a, "ref": r, "created_at": now} for a, r in refs.items()],
        )
    op.drop_index("ix_moderation_audit_author_id", table_name="moderation_audit")
    _lift_audit_triggers()
    op.execute(
        "UPDATE moderation_audit SET author_id = (SELECT ref FROM author_refs "
        "WHERE author_refs.author_id = moderation_audit.author_id) WHERE author_id IS NOT NULL"
    )
    _restore_audit_triggers()
    with op.batch_alter_table("moderation_audit", schema=None, recreate="never") as batch_op:
        batch_op.alter_column(
            "author_id",
            new_column_name="author_ref",
            existing_type=sa.String(length=255),
            existing_nullable=True,
        )
    op.create_index("ix_moderation_audit_author_ref", "moderation_audit", ["author_ref"])

    # webhook_events is referred to by no other table: a batch copy is safe here.
    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.alter_column("comment_id", existing_type=sa.String(length=36), nullable=True)
        batch_op.add_column(sa.Column("author_id", sa.String(length=255), nullable=True))


def downgrade() -> None:
    op.execute("DELETE FROM webhook_events WHERE comment_id IS NULL")
    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.drop_column("author_id")
        batch_op.alter_column("comment_id", existing_type=sa.String(length=36), nullable=False)

    op.drop_index("ix_moderation_audit_author_ref", table_name="moderation_audit")
    with op.batch_alter_table("moderation_audit", schema=None, recreate="never") as batch_op:
        batch_op.alter_column(
            "author_ref",
            new_column_name="author_id",
            existing_type=sa.String(length=255),
            existing_nullable=True,
        )
    _lift_audit_triggers()
    op.execute(
        "UPDATE moderation_audit SET author_id = (SELECT author_refs.author_id FROM author_refs "
        "WHERE author_refs.ref = moderation_audit.author_id) WHERE author_id IS NOT NULL"
    )
    _restore_audit_triggers()
    op.create_index("ix_moderation_audit_author_id", "moderation_audit", ["author_id"])

    op.create_table(
        "author_bans",
        sa.Column("author_id", sa.String(length=255), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("banned_by", sa.String(length=255), nullable=False),
        sa.Column("banned_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("author_id", name=op.f("pk_author_bans")),
    )
    # Active bans survive the downgrade; warnings, suspensions and lifted bans can't be kept.
    op.execute(
        "INSERT INTO author_bans (author_id, reason, banned_by, banned_at) "
        "SELECT author_id, MIN(COALESCE(explanation, '')), MIN(created_by), MIN(created_at) "
        "FROM sanctions WHERE kind = 'ban' AND lifted_at IS NULL GROUP BY author_id"
    )
    op.drop_table("erasures")
    op.drop_index("uq_author_refs_ref", table_name="author_refs")
    op.drop_table("author_refs")
    op.drop_index("ix_author_notes_author_at", table_name="author_notes")
    op.drop_table("author_notes")
    op.drop_index("ix_sanctions_author_hmac", table_name="sanctions")
    op.drop_index("ix_sanctions_author_created", table_name="sanctions")
    op.drop_table("sanctions")
