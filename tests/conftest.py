"""Shared fixtures: real Redis, real PostgreSQL and SQLite, real worker processes.

A test that needs Redis or PostgreSQL skips when they are missing on a developer's
machine, and fails when CI=true: a green CI run means the whole suite ran.
"""

from __future__ import annotations

import os
import shutil
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis

POSTGRES_ADMIN_URL = os.environ.get(
    "MODERATION_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_TEST_URL = os.environ.get("MODERATION_TEST_REDIS", "redis://127.0.0.1:6379")
IN_CI = os.environ.get("CI", "").lower() == "true"
# The backend of tests that don't name one: `make test` runs them again on PostgreSQL.
DEFAULT_BACKEND = os.environ.get("MODERATION_TEST_DATABASE", "sqlite")
REPO = Path(__file__).resolve().parent.parent


def unavailable(what: str) -> None:
    message = f"{what} is not answering"
    if IN_CI:
        pytest.fail(f"{message}; CI must run the whole suite", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def redis_server() -> str:
    try:
        redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=2).ping()
    except redis.RedisError:
        unavailable(f"Redis at {REDIS_TEST_URL}")
    return REDIS_TEST_URL


@pytest.fixture(scope="session")
def postgres_server() -> str:
    try:
        psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3).close()
    except psycopg.Error:
        unavailable(f"PostgreSQL at {POSTGRES_ADMIN_URL}")
    return POSTGRES_ADMIN_URL


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


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database of the backend the test is parametrized with."""
    backend = getattr(request, "param", DEFAULT_BACKEND)
    from service.db.engine import Database
    from service.db.migrate import upgrade_head

    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'moderation.db'}"
        database = Database(url)
        upgrade_head(database)
        database.dispose()
        yield url
        return
    admin = request.getfixturevalue("postgres_server")
    name, url = create_postgres_database(admin)
    database = Database(url)
    upgrade_head(database)
    database.dispose()
    try:
        yield url
    finally:
        drop_postgres_database(admin, name)


BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture
def db(database_url: str) -> Iterator[Any]:
    """A `service.db.engine.Database` on `database_url`, disposed of afterwards."""
    from service.db.engine import Database

    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[Any]:
    """A redis-server of the test's own on a free port (tests/faults/harness.py)."""
    from tests.faults.harness import PrivateRedis

    binary = shutil.which("redis-server")
    if binary is None:
        unavailable("redis-server (to run a private Redis)")
    assert binary is not None
    folder = tmp_path / "redis"
    folder.mkdir()
    server = PrivateRedis(binary, folder)
    server.start()
    yield server
    server.stop(signal.SIGKILL)


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


# One browser for the whole session, defined once here: Playwright's sync API can't run two
# instances at once, so the browser and security suites must share this fixture.
@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing (install Debian's chromium package)"
        if IN_CI:
            pytest.fail(f"{message}; CI must run the browser tests", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()
