"""A stack for the end-to-end tests: real `moderation` processes (a Celery worker, beat) on
real Redis, the API in-process, the database on SQLite or PostgreSQL, and a local webhook
receiver; and the waits and reads the tests make of it."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import redis
from starlette.testclient import TestClient

from service.app import create_app
from service.broker.contract import WORKER_HEARTBEAT_PREFIX
from service.http.tokens import issue_token
from service.settings import Settings
from tests.support.paths import REPO
from tests.support.processes import without_settings

SECRET = "e2e-secret-that-is-long-enough-for-hs256"
WORKER_START_SECONDS = 120
# Redis databases for stacks, reused in turn (each is flushed when a stack takes it): 7, 8
# and 9 belong to the in-process API tests and 15 to the benchmarks.
_REDIS_DBS = itertools.cycle((1, 2, 3, 4, 5, 6, 10, 11, 12, 13, 14))


def next_redis_db() -> int:
    """The Redis database number for the next stack."""
    return next(_REDIS_DBS)


class Receiver:
    """A webhook endpoint that fails its first `fail_first` requests, then records."""

    def __init__(self, fail_first: int = 0) -> None:
        self.fail_first = fail_first
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.failures = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                if receiver.failures < receiver.fail_first:
                    receiver.failures += 1
                    self.send_response(503)
                    self.end_headers()
                    return
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Stack:
    settings: Settings
    env: dict[str, str]
    tmp: Path
    receiver: Receiver
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, *args: str, name: str) -> subprocess.Popen[bytes]:
        with open(self.tmp / f"{name}.log", "ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "workers", *args],
                env=self.env,
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes.append(process)
        return process

    def start_worker(self) -> subprocess.Popen[bytes]:
        process = self.start("worker", "--concurrency", "1", name="worker")
        self.wait_for_worker(process)
        return process

    def wait_for_worker(self, process: subprocess.Popen[bytes]) -> None:
        client = redis.Redis.from_url(self.settings.redis_url or "")
        deadline = time.monotonic() + WORKER_START_SECONDS
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"worker exited: {self.log('worker')[-3000:]}")
            if any(client.scan_iter(match=WORKER_HEARTBEAT_PREFIX + "*")):
                return
            time.sleep(0.2)
        raise AssertionError(f"worker never loaded its model: {self.log('worker')[-3000:]}")

    def log(self, name: str) -> str:
        path = self.tmp / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self, process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
        if process.poll() is None:
            os.killpg(process.pid, sig)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.processes:
            self.stop(process)

    def client(self, **overrides: Any) -> TestClient:
        settings = self.settings.model_copy(update=overrides)
        return TestClient(create_app(settings), raise_server_exceptions=False)

    def auth(self, sub: str = "reader-1", *, moderator: bool = False) -> dict[str, str]:
        token = issue_token(self.settings, sub, moderator=moderator, ttl=600)
        return {"Authorization": f"Bearer {token}"}


def env_for(settings: Settings) -> dict[str, str]:
    """The environment of a `moderation` process run with `settings`, offline."""
    env = without_settings()
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        env_name = (
            "MODERATION_MODEL_CONFIG"
            if name == "model_config_dir"
            else (f"MODERATION_{name.upper()}")
        )
        env[env_name] = str(value)
    env["HF_HUB_OFFLINE"] = "1"
    env["TRANSFORMERS_OFFLINE"] = "1"
    return env


def wait_for(predicate: Callable[[], Any], *, timeout: float = 30, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what or predicate}")


def decisions_of(settings: Settings, comment_id: str) -> list[dict[str, Any]]:
    from service.db.engine import Database
    from service.store.decisions import list_decisions

    database = Database(settings.effective_database_url)
    try:
        with database.session() as session:
            return [
                {
                    "by": d.by,
                    "action": d.action,
                    "policy_version": d.policy_version,
                    "context": d.context,
                }
                for d in list_decisions(session, comment_id=comment_id)
            ]
    finally:
        database.dispose()


def json_body(raw: bytes) -> Any:
    return json.loads(raw)


def perspective_settings(
    tmp: Path, redis_server: str, checkpoint: Any, policy: Path, **extra: Any
) -> Settings:
    """Settings for a Perspective stack in `tmp`: SQLite, a fresh Redis database on
    `redis_server`, the built Detoxify `checkpoint` (`build_checkpoint`'s answer), `policy`,
    and a 10 s analyze timeout, plus `extra`."""
    redis_url = f"{redis_server}/{next_redis_db()}"
    redis.Redis.from_url(redis_url).flushdb()
    return Settings(
        database_url=f"sqlite:///{tmp / 'moderation.db'}",
        redis_url=redis_url,
        jwt_secret=SECRET,
        var_dir=tmp / "var",
        model=str(checkpoint.checkpoint),
        model_config_dir=str(checkpoint.config_dir),
        policy=policy,
        analyze_timeout_seconds=10,
        **extra,
    )


def perspective_stack(settings: Settings, tmp: Path) -> tuple[Stack, str]:
    """A stack for Perspective-style calls: its database migrated (in a process of its own, as
    ops would) and a Perspective key named "coral" made; the stack and the key."""
    from service.db.engine import Database
    from service.db.tables import utcnow
    from service.perspective.keys import create_key

    stack = Stack(settings, env_for(settings), tmp, Receiver())
    subprocess.run(
        [sys.executable, "-m", "workers", "migrate"],
        env=stack.env,
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    database = Database(settings.effective_database_url)
    key = create_key(database, name="coral", qps=1000, now=utcnow())
    database.dispose()
    return stack, key
