"""The whole pipeline in real processes: a Celery worker (and beat) on real Redis, the
API in-process, the database on SQLite or PostgreSQL, a tiny Detoxify checkpoint loaded
through Detoxify's own code, and a local webhook receiver (tests/support/stack.py)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from service.settings import DEFAULT_POLICY, Settings
from tests.support.api import WEBHOOK_SECRET
from tests.support.checkpoints import CLEAN, TOXIC, build_checkpoint
from tests.support.databases import create_postgres_database, drop_postgres_database
from tests.support.paths import REPO
from tests.support.stack import SECRET, Receiver, Stack, env_for, next_redis_db


@pytest.fixture(scope="session")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("e2e-checkpoints")


@pytest.fixture
def make_stack(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    checkpoints: Path,
    redis_server: str,
) -> Iterator[Callable[..., Stack]]:
    made: list[tuple[Stack, Callable[[], None]]] = []

    def make(backend: str, *, toxic: bool = False, fail_first: int = 0, **overrides: Any) -> Stack:
        checkpoint = build_checkpoint(checkpoints, "original", bias=TOXIC if toxic else CLEAN)
        if backend == "sqlite":
            url, cleanup = f"sqlite:///{tmp_path / 'moderation.db'}", lambda: None
        else:
            admin = request.getfixturevalue("postgres_server")
            name, url = create_postgres_database(admin)
            cleanup = lambda: drop_postgres_database(admin, name)  # noqa: E731
        redis_url = f"{redis_server}/{next_redis_db()}"
        redis.Redis.from_url(redis_url).flushdb()
        receiver = Receiver(fail_first=fail_first)
        policy = tmp_path / "standards-board.yaml"
        policy.write_bytes(DEFAULT_POLICY.read_bytes())
        values: dict[str, Any] = {
            "database_url": url,
            "redis_url": redis_url,
            "jwt_secret": SECRET,
            "var_dir": tmp_path / "var",
            "model": str(checkpoint.checkpoint),
            "model_config_dir": str(checkpoint.config_dir),
            "policy": policy,
            "webhook_url": receiver.url,
            "webhook_secret": WEBHOOK_SECRET,
            "webhook_backoff_seconds": 0.2,
            "sweep_grace_seconds": 1.0,
            "sweep_interval_seconds": 0.5,
            "outbox_interval_seconds": 0.5,
        }
        values.update(overrides)
        settings = Settings(**values)
        stack = Stack(settings, env_for(settings), tmp_path, receiver)
        subprocess.run(
            [sys.executable, "-m", "workers", "migrate"],
            env=stack.env,
            cwd=REPO,
            check=True,
            capture_output=True,
        )
        made.append((stack, cleanup))
        return stack

    yield make
    for stack, cleanup in made:
        stack.stop_all()
        stack.receiver.close()
        cleanup()
