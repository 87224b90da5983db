"""The databases the suite runs on: real PostgreSQL and SQLite, and the Redis beside them.

Tests that don't name a backend run on `DEFAULT_BACKEND` (SQLite unless
MODERATION_TEST_DATABASE says otherwise); `make test` re-runs them on PostgreSQL.
"""

from __future__ import annotations

import os
import uuid
from typing import TYPE_CHECKING

import psycopg

if TYPE_CHECKING:
    from service.db.engine import Database

POSTGRES_ADMIN_URL = os.environ.get(
    "MODERATION_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_TEST_URL = os.environ.get("MODERATION_TEST_REDIS", "redis://127.0.0.1:6379")
# The backend of tests that don't name one: `make test` runs them again on PostgreSQL.
DEFAULT_BACKEND = os.environ.get("MODERATION_TEST_DATABASE", "sqlite")
# Parametrize `database_url` (indirectly) with these to run a test on both backends.
BACKENDS = ["sqlite", "postgresql"]
# A database that doesn't answer, per backend: nothing listens on port 1, and SQLite can't
# open a directory as its file.
DOWN_DATABASE_URLS = {
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:1/nothing",
    "sqlite": "sqlite:///{tmp_path}",
}


def create_postgres_database(admin_url: str) -> tuple[str, str]:
    """A fresh database; returns (name, SQLAlchemy URL)."""
    name = f"cm_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    return name, f"{base}/{name}"


def drop_postgres_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrate(database: Database, revision: str, *, down: bool = False) -> None:
    """Upgrade (or with `down`, downgrade) `database` to the Alembic `revision`."""
    from alembic import command

    from service.db.migrate import alembic_config

    config = alembic_config(database.url)
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)
