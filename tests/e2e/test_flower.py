"""Flower, as the compose profile runs it, against a real worker: with MODERATION_WORKER_EVENTS
on it shows the worker alive and the comment's task; with the default (off) it shows neither.

Each test has a Redis of its own: Flower and the workers talk over its pub/sub, which a shared
server would mix with other tests' workers.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from service.broker.contract import MODERATE_TASK
from tests.support.harness import PrivateRedis
from tests.support.net import free_port
from tests.support.paths import REPO
from tests.support.stack import Stack, wait_for

FLOWER_START_SECONDS = 60


class Flower:
    """`celery --app workers.celery_app:app flower` (the compose service's command) on
    127.0.0.1, its HTTP API opened without authentication as only a test may."""

    def __init__(self, stack: Stack) -> None:
        self.url = f"http://127.0.0.1:{free_port()}"
        port = self.url.rsplit(":", 1)[1]
        with open(stack.tmp / "flower.log", "ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "--app",
                    "workers.celery_app:app",
                    "flower",
                    f"--port={port}",
                    "--address=127.0.0.1",
                ],
                env={**stack.env, "FLOWER_UNAUTHENTICATED_API": "true"},
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.log = stack.tmp / "flower.log"
        wait_for(self._healthy, timeout=FLOWER_START_SECONDS, what="Flower's /healthcheck")

    def _healthy(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"Flower exited: {self.log.read_text(errors='replace')[-3000:]}")
        try:
            return httpx.get(f"{self.url}/healthcheck", timeout=2).text == "OK"
        except httpx.HTTPError:
            return False

    def get(self, path: str) -> Any:
        response = httpx.get(f"{self.url}{path}", timeout=10)
        response.raise_for_status()
        return response.json()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


@pytest.fixture
def start_flower() -> Iterator[Callable[[Stack], Flower]]:
    started: list[Flower] = []

    def start(stack: Stack) -> Flower:
        flower = Flower(stack)
        started.append(flower)
        return flower

    yield start
    for flower in started:
        flower.stop()


def decide_a_comment(stack: Stack, text: str) -> str:
    with stack.client() as client:
        response = client.post(
            "/v1/comments",
            json={"article_id": "story-1", "text": text},
            headers={**stack.auth(), "Prefer": "wait=20"},
        )
    comment = response.json()
    assert comment["status"] == "approved", comment
    return str(comment["id"])


def moderate_tasks(flower: Flower) -> dict[str, dict[str, Any]]:
    tasks: dict[str, dict[str, Any]] = flower.get("/api/tasks")
    return {uuid: task for uuid, task in tasks.items() if task["name"] == MODERATE_TASK}


def test_flower_sees_the_worker_and_its_tasks_with_worker_events(
    make_stack: Callable[..., Stack],
    private_redis: PrivateRedis,
    start_flower: Callable[[Stack], Flower],
) -> None:
    stack = make_stack("sqlite", redis_url=private_redis.url, worker_events=True)
    flower = start_flower(stack)
    stack.start_worker()
    comment_id = decide_a_comment(stack, "Thanks for the clear reporting.")

    # Alive by Celery's event heartbeats (`status`), not by a remote-control reply.
    alive = wait_for(
        lambda: {name for name, up in flower.get("/api/workers?status=true").items() if up},
        what="a live worker in Flower",
    )
    assert len(alive) == 1
    tasks = wait_for(
        lambda: {
            uuid: task
            for uuid, task in moderate_tasks(flower).items()
            if task["state"] == "SUCCESS"
        },
        what=f"a succeeded {MODERATE_TASK} task in Flower",
    )
    [task] = tasks.values()
    assert task["worker"] in alive
    assert comment_id in task["args"]


def test_flower_sees_no_task_without_worker_events(
    make_stack: Callable[..., Stack],
    private_redis: PrivateRedis,
    start_flower: Callable[[Stack], Flower],
) -> None:
    """The default. Flower subscribes to the event channel before the worker starts (Redis
    shows its subscription), so any event the worker sent would have reached it."""
    stack = make_stack("sqlite", redis_url=private_redis.url)
    assert stack.env["MODERATION_WORKER_EVENTS"] == "False"
    flower = start_flower(stack)
    wait_for(lambda: event_subscribers(private_redis) > 0, what="Flower's event subscription")
    stack.start_worker()
    decide_a_comment(stack, "Thanks for the clear reporting.")

    # Flower still lists the worker: its remote-control replies need no events.
    workers = wait_for(lambda: flower.get("/api/workers?refresh=1"), what="Flower's inspect")
    assert len(workers) == 1
    assert flower.get("/api/workers?status=true") == {}
    assert moderate_tasks(flower) == {}


def event_subscribers(server: PrivateRedis) -> int:
    import redis

    client = redis.Redis.from_url(server.url)
    patterns = int(client.pubsub_numpat())
    channels = [c for c in client.pubsub_channels() if b"celeryev" in c]
    return patterns + len(channels)
