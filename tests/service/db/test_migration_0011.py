"""Revision 0011 (authors) moves the data: `author_bans` rows become `ban` sanctions, and the
audit's author ids become references kept in `author_refs`; and it goes down and up again.

That the migrations and the models agree is tests/service/db/test_migrations.py."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from service.db.engine import Database
from service.db.migrate import upgrade_head
from tests.support.databases import BACKENDS, migrate

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

BANNED_AT = "2026-11-02 10:00:00+00:00"


def test_bans_become_sanctions_and_the_audit_names_authors_by_reference(
    database_url: str,
) -> None:
    database = Database(database_url)
    try:
        migrate(database, "0010", down=True)
        with database.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO author_bans (author_id, reason, banned_by, banned_at) "
                    "VALUES ('troll', 'Spam run.', 'mod-1', :at)"
                ),
                {"at": BANNED_AT},
            )
            connection.execute(
                text(
                    "INSERT INTO moderation_audit (at, moderator_id, action, author_id, override,"
                    " reason) VALUES (CURRENT_TIMESTAMP, 'mod-1', 'ban', 'troll', false,"
                    " 'Spam run.')"
                )
            )
        upgrade_head(database)
        with database.engine.connect() as connection:
            sanctions = connection.execute(
                text(
                    "SELECT id, author_id, kind, explanation, created_by, lifted_at, until "
                    "FROM sanctions"
                )
            ).all()
            audit = connection.execute(
                text(
                    "SELECT moderation_audit.action, moderation_audit.author_ref, "
                    "author_refs.author_id FROM moderation_audit LEFT JOIN author_refs "
                    "ON author_refs.ref = moderation_audit.author_ref"
                )
            ).all()
        ((sanction_id, *ban),) = sanctions
        assert sanction_id.startswith("snc_")
        assert tuple(ban) == ("troll", "ban", "Spam run.", "mod-1", None, None)
        ((action, ref, author),) = audit
        assert (action, author) == ("ban", "troll")
        assert ref != "troll" and len(ref) == 32

        migrate(database, "0010", down=True)
        with database.engine.connect() as connection:
            bans = connection.execute(
                text("SELECT author_id, reason, banned_by FROM author_bans")
            ).all()
            audited = connection.execute(
                text("SELECT action, author_id FROM moderation_audit")
            ).all()
        assert [tuple(row) for row in bans] == [("troll", "Spam run.", "mod-1")]
        assert [tuple(row) for row in audited] == [("ban", "troll")]
        upgrade_head(database)
        with database.engine.connect() as connection:
            kinds = connection.execute(text("SELECT author_id, kind FROM sanctions")).all()
        assert [tuple(row) for row in kinds] == [("troll", "ban")]
    finally:
        database.dispose()
