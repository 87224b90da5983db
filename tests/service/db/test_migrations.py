"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from service.db.engine import Database
from service.db.tables import Base
from tests.support.databases import BACKENDS, migrate


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_migrations_match_the_models(database_url: str) -> None:
    database = Database(database_url)
    try:
        with database.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        database.dispose()
    assert diff == []


def _audit_triggers(database: Database) -> set[str]:
    if database.engine.dialect.name == "postgresql":
        query = (
            "SELECT tgname FROM pg_trigger"
            " WHERE tgrelid = 'moderation_audit'::regclass AND NOT tgisinternal"
        )
    else:
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    with database.engine.connect() as connection:
        return set(connection.exec_driver_sql(query).scalars())


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_0006_the_audits_delete_guard_goes_down_and_up(database_url: str) -> None:
    database = Database(database_url)
    guards = {
        "postgresql": {"moderation_audit_append_only", "moderation_audit_no_truncate"},
        "sqlite": {"moderation_audit_append_only", "moderation_audit_no_delete"},
    }[database.engine.dialect.name]
    try:
        assert _audit_triggers(database) == guards
        migrate(database, "0005", down=True)
        assert _audit_triggers(database) == {"moderation_audit_append_only"}
        migrate(database, "head")
        assert _audit_triggers(database) == guards
    finally:
        database.dispose()
