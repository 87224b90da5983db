"""The fault tests' stack: the whole pipeline in real processes on 127.0.0.1 (`moderation
worker`, `beat` and `api`, the database, a Redis of the test's own), and the waits that tell
when each part is up; the parts broken on purpose are tests/support/harness.py's.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from dataclasses import dataclass
from typing import Any

import httpx
import psutil
import redis

from service.broker.contract import WORKER_HEARTBEAT_PREFIX
from tests.support.api import WEBHOOK_SECRET
from tests.support.checkpoints import ModelShape
from tests.support.harness import PrivateRedis
from tests.support.invariant import Snapshot, assert_nothing_lost
from tests.support.net import free_port
from tests.support.stack import Stack

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
