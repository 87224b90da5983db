"""Fault tests: the whole pipeline in real processes on 127.0.0.1 (`moderation worker`, `beat`
and `api`, the database, a Redis of the test's own), with one part broken on purpose.

Each test uses a private `redis-server` on a free port, so it can stop Redis without touching
the shared one, and so no two tests share queues.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from service.settings import DEFAULT_POLICY, Settings
from tests.support.api import WEBHOOK_SECRET
from tests.support.checkpoints import CLEAN, build_checkpoint
from tests.support.databases import create_postgres_database, drop_postgres_database
from tests.support.fault_stack import MIGRATE_SECONDS, SLOW_MAX_TOKENS, SLOW_SHAPE, FaultStack
from tests.support.harness import PrivateRedis, TcpProxy, WebhookReceiver
from tests.support.paths import REPO
from tests.support.stack import SECRET, env_for


@pytest.fixture(scope="session")
def fault_checkpoints(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fault-checkpoints")


@pytest.fixture
def make_fault_stack(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    fault_checkpoints: Path,
    private_redis: PrivateRedis,
) -> Iterator[Callable[..., FaultStack]]:
    made: list[tuple[FaultStack, Callable[[], None]]] = []

    def make(
        backend: str = "sqlite",
        *,
        slow_scoring: bool = False,
        proxy: TcpProxy | None = None,
        **overrides: Any,
    ) -> FaultStack:
        """A migrated database, settings and env for real processes; nothing started yet.

        `slow_scoring`: a wider model, fp32 at 512 tokens (about a second per comment).
        `proxy`: the services reach PostgreSQL through it (its upstream is set here).
        """
        if slow_scoring:
            checkpoint = build_checkpoint(
                fault_checkpoints, "unbiased", bias=CLEAN, shape=SLOW_SHAPE
            )
            overrides = {"quantize": "none", "max_tokens": SLOW_MAX_TOKENS, **overrides}
        else:
            checkpoint = build_checkpoint(fault_checkpoints, "original", bias=CLEAN)
        if backend == "sqlite":
            direct, cleanup = f"sqlite:///{tmp_path / 'moderation.db'}", lambda: None
        else:
            admin = request.getfixturevalue("postgres_server")
            name, direct = create_postgres_database(admin)
            cleanup = lambda: drop_postgres_database(admin, name)  # noqa: E731
        url = direct
        if proxy is not None:
            parsed = make_url(direct)
            proxy.upstream = (parsed.host or "127.0.0.1", parsed.port or 5432)
            url = parsed.set(host="127.0.0.1", port=proxy.port).render_as_string(
                hide_password=False
            )
        receiver = WebhookReceiver()
        receiver.start()
        policy = tmp_path / "standards-board.yaml"
        policy.write_bytes(DEFAULT_POLICY.read_bytes())
        values: dict[str, Any] = {
            "database_url": url,
            "redis_url": private_redis.url,
            "jwt_secret": SECRET,
            "var_dir": tmp_path / "var",
            "model": str(checkpoint.checkpoint),
            "model_config_dir": str(checkpoint.config_dir),
            "policy": policy,
            "webhook_url": receiver.url,
            "webhook_secret": WEBHOOK_SECRET,
            "webhook_backoff_seconds": 0.2,
            # Outages here last seconds: no event may run out of attempts meanwhile.
            "webhook_max_attempts": 30,
            "sweep_grace_seconds": 2.0,
            "sweep_interval_seconds": 0.5,
            "outbox_interval_seconds": 0.5,
        }
        values.update(overrides)
        settings = Settings(**values)
        stack = FaultStack(
            settings,
            env_for(settings),
            tmp_path,
            receiver,  # type: ignore[arg-type]
            redis=private_redis,
            direct_database_url=direct,
        )
        subprocess.run(
            [sys.executable, "-m", "workers", "migrate"],
            env={**stack.env, "MODERATION_DATABASE_URL": direct},
            cwd=REPO,
            check=True,
            capture_output=True,
            timeout=MIGRATE_SECONDS,
        )
        made.append((stack, cleanup))
        return stack

    yield make
    for stack, cleanup in made:
        stack.stop_all()
        stack.receiver.stop()  # type: ignore[attr-defined]
        cleanup()
