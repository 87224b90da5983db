"""Fault tests: the whole pipeline in real processes on 127.0.0.1 (`moderation worker`, `beat`
and `api`, the database, a Redis of the test's own), with one part broken on purpose.

Each test uses a private `redis-server` on a free port, so it can stop Redis without touching
the shared one, and so no two tests share queues.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
import redis
from sqlalchemy.engine import make_url

from service.broker.contract import WORKER_HEARTBEAT_PREFIX
from service.settings import DEFAULT_POLICY, Settings
from tests.conftest import REPO, create_postgres_database, drop_postgres_database
from tests.e2e.conftest import SECRET, WEBHOOK_SECRET, Stack, _env_for
from tests.faults.harness import PrivateRedis, TcpProxy, WebhookReceiver, free_port
from tests.faults.invariant import Snapshot, assert_nothing_lost
from tests.fixtures.checkpoints import CLEAN, ModelShape, build_checkpoint

WORKER_START_SECONDS = 180
API_START_SECONDS = 60
MIGRATE_SECONDS = 60
# A fault test's `pytest.mark.timeout` is the sum of its own bounded waits and these: the
# stack made and started (each part's wait bounded above), then stopped again at teardown.
STARTUP_SECONDS = MIGRATE_SECONDS + API_START_SECONDS + WORKER_START_SECONDS
TEARDOWN_SECONDS = 60
# Big enough that scoring one comment takes over half a second of CPU at 512 tokens, so a
# kill aimed at "while scoring" lands there; small enough to build and load in seconds.
# BERT-base's 12 layers: with 2, an AVX-512 machine scored one in 0.13 s, too quick to aim at.
SLOW_SHAPE = ModelShape("slow-scoring", hidden=768, layers=12, heads=12, intermediate=3072)
SLOW_MAX_TOKENS = 512
# Byte-level BPE (RoBERTa) spends four tokens on each emoji: 250 of them fill 512 tokens.
SLOW_TEXT = "\N{GRINNING FACE}" * 250


@dataclass
class Processes:
    worker: subprocess.Popen[bytes]
    beat: subprocess.Popen[bytes]
    api: subprocess.Popen[bytes] | None = None
    base_url: str = ""


@dataclass
class FaultStack(Stack):
    redis: PrivateRedis | None = None
    direct_database_url: str = ""

    def start_worker_process(self, concurrency: int = 1) -> subprocess.Popen[bytes]:
        return self.start("worker", "--concurrency", str(concurrency), name="worker")

    def loaded_children(
        self, worker: subprocess.Popen[bytes], count: int = 1, *, deadline: float | None = None
    ) -> list[int]:
        """The pids of `worker`'s pool children, once `count` have loaded their model.

        `deadline` lets workers started side by side share one start-up allowance."""
        client = redis.Redis.from_url(
            self.settings.redis_url or "", socket_connect_timeout=1, socket_timeout=5
        )
        if deadline is None:
            deadline = time.monotonic() + WORKER_START_SECONDS
        while time.monotonic() < deadline:
            if worker.poll() is not None:
                raise AssertionError(f"worker exited: {self.log('worker')[-3000:]}")
            children = {child.pid for child in psutil.Process(worker.pid).children()}
            try:
                keys = list(client.scan_iter(match=WORKER_HEARTBEAT_PREFIX + "*"))
            except redis.RedisError:
                keys = []
            loaded = {int(key.decode().rsplit(":", 1)[1]) for key in keys} & children
            if len(loaded) >= count:
                return sorted(loaded)
            time.sleep(0.2)
        raise AssertionError(f"worker never loaded its model: {self.log('worker')[-3000:]}")

    def wait_for_log(
        self,
        process: subprocess.Popen[bytes],
        name: str,
        text: str,
        *,
        deadline: float | None = None,
    ) -> None:
        """Until `text` shows in the process's log: e.g. past its start-up checks."""
        if deadline is None:
            deadline = time.monotonic() + WORKER_START_SECONDS
        while text not in self.log(name):
            if process.poll() is not None:
                raise AssertionError(f"{name} exited: {self.log(name)[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{name} never logged {text!r}: {self.log(name)[-3000:]}")
            time.sleep(0.1)

    def start_connected(self, *, api: bool = False) -> Processes:
        """Beat, a worker and (with `api`) a real API, started side by side; returns once beat
        and the worker are past their start-up checks and connected to Redis. The worker's
        pool child may still be loading its model."""
        beat = self.start("beat", name="beat")
        worker = self.start_worker_process()
        started = Processes(worker=worker, beat=beat)
        if api:
            started.api, started.base_url = self.start_api()
        # Started together, so one allowance covers both.
        deadline = time.monotonic() + WORKER_START_SECONDS
        self.wait_for_log(beat, "beat", "beat: Starting", deadline=deadline)
        self.wait_for_log(worker, "worker", " ready.", deadline=deadline)
        return started

    def start_api(self, port: int | None = None) -> tuple[subprocess.Popen[bytes], str]:
        """A real `moderation api` process, answering on 127.0.0.1; its base URL."""
        port = port or free_port()
        api = self.start("api", "--host", "127.0.0.1", "--port", str(port), name="api")
        base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + API_START_SECONDS
        while time.monotonic() < deadline:
            if api.poll() is not None:
                raise AssertionError(f"api exited: {self.log('api')[-3000:]}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                    return api, base_url
            time.sleep(0.1)
        raise AssertionError(f"api never answered: {self.log('api')[-3000:]}")

    def logs(self) -> str:
        names = sorted(path.stem for path in self.tmp.glob("*.log"))
        return "\n".join(f"--- {name}\n{self.log(name)[-3000:]}" for name in names)

    def assert_nothing_lost(self, answered: list[str], **kwargs: Any) -> Snapshot:
        webhooks = self.settings.webhook_url is not None
        return assert_nothing_lost(
            self.direct_database_url,
            answered,
            webhooks=webhooks,
            receiver=self.receiver if webhooks else None,  # type: ignore[arg-type]
            webhook_secret=WEBHOOK_SECRET,
            logs=self.logs,
            **kwargs,
        )


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
            _env_for(settings),
            tmp_path,
            receiver,  # type: ignore[arg-type]
            redis=private_redis,
            direct_database_url=direct,
        )
        subprocess.run(
            [sys.executable, "-m", "service", "migrate"],
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
