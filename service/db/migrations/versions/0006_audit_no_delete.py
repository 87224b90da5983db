"""the moderation audit refuses DELETE (and TRUNCATE), not only UPDATE

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

0002 made `moderation_audit` append-only against UPDATE alone: a DELETE, or on PostgreSQL a
TRUNCATE (which fires no row trigger), still erased who decided what. Nothing in the
service deletes audit rows (retention erases comment text, never the audit), so refusing
both costs no feature. Dropping the table (a downgrade) is still possible.
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SQLITE_NO_DELETE = """
CREATE TRIGGER moderation_audit_no_delete BEFORE DELETE ON moderation_audit
BEGIN
    SELECT RAISE(ABORT, 'moderation_audit is append-only');
END
"""
# The function 0002 created raises for any trigger that calls it, row or statement level.
POSTGRES_ROW_TRIGGER = """
CREATE TRIGGER moderation_audit_append_only BEFORE {events} ON moderation_audit
FOR EACH ROW EXECUTE FUNCTION moderation_audit_append_only()
"""
POSTGRES_NO_TRUNCATE = """
CREATE TRIGGER moderation_audit_no_truncate BEFORE TRUNCATE ON moderation_audit
FOR EACH STATEMENT EXECUTE FUNCTION moderation_audit_append_only()
"""


def upgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER moderation_audit_append_only ON moderation_audit")
        op.execute(POSTGRES_ROW_TRIGGER.format(events="UPDATE OR DELETE"))
        op.execute(POSTGRES_NO_TRUNCATE)
    else:
        op.execute(SQLITE_NO_DELETE)


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER moderation_audit_no_truncate ON moderation_audit")
        op.execute("DROP TRIGGER moderation_audit_append_only ON moderation_audit")
        op.execute(POSTGRES_ROW_TRIGGER.format(events="UPDATE"))
    else:
        op.execute("DROP TRIGGER moderation_audit_no_delete")
