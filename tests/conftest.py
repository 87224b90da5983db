"""Shared fixtures: real Redis, real PostgreSQL and SQLite, real worker processes.

A test that needs Redis or PostgreSQL skips when they are missing on a developer's
machine, and fails when CI=true: a green CI run means the whole suite ran.

Tests that use the database without naming a backend are marked `default_backend`: they run
on SQLite, and `make test` runs them again on PostgreSQL (MODERATION_TEST_DATABASE).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis

from tests.support.ci import IN_CI, unavailable
from tests.support.databases import (
    DEFAULT_BACKEND,
    POSTGRES_ADMIN_URL,
    REDIS_TEST_URL,
    create_postgres_database,
    drop_postgres_database,
)


def pytest_configure(config: pytest.Config) -> None:
    """No developer's `.env` reaches a test: every Settings() reads MODERATION_ENV_FILE first,
    and the processes tests start inherit it (tests/support/processes.py `without_settings`)."""
    os.environ["MODERATION_ENV_FILE"] = ""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `default_backend` the tests that use `database_url` without parametrizing it."""
    for item in items:
        uses_database = "database_url" in getattr(item, "fixturenames", ())
        callspec = getattr(item, "callspec", None)
        names_backend = callspec is not None and "database_url" in callspec.params
        if uses_database and not names_backend:
            item.add_marker(pytest.mark.default_backend)


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


@pytest.fixture
def db(database_url: str) -> Iterator[Any]:
    """A `service.db.engine.Database` on `database_url`, disposed of afterwards."""
    from service.db.engine import Database

    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[Any]:
    """A redis-server of the test's own on a free port (tests/support/harness.py)."""
    from tests.support.harness import PrivateRedis

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


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A local port that refuses connections: bound, never listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


# One browser for the whole session, defined once here: Playwright's sync API can't run two
# instances at once, so the browser and security suites must share this fixture.
@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    from tests.support.browser import CHROMIUM, CHROMIUM_ARGS

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


# The API and page for a browser, shared by the browser and security suites as `chromium` is.
@pytest.fixture
def site(tmp_path: Path) -> Iterator[Any]:
    """The API and page on a free port, in a thread: no Redis (a filesystem broker), SQLite."""
    from tests.support.browser import serve_site

    with serve_site(tmp_path) as served:
        yield served
