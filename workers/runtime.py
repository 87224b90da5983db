"""What a worker child process holds: built once, after fork, by `celery_app`."""

from __future__ import annotations

from dataclasses import dataclass

import redis

from service.broker.producer import TaskProducer
from service.db.engine import Database
from service.policies import PolicyHolder
from service.settings import Settings
from workers.scoring.scorer import Scorer
from workers.shadow import ShadowPolicy


@dataclass
class WorkerRuntime:
    settings: Settings
    db: Database
    redis: redis.Redis | None
    producer: TaskProducer
    policies: PolicyHolder
    scorer: Scorer | None = None
    shadow: ShadowPolicy | None = None


_runtime: WorkerRuntime | None = None


def install(runtime: WorkerRuntime) -> None:
    global _runtime
    _runtime = runtime


def current() -> WorkerRuntime:
    if _runtime is None:
        raise RuntimeError("the worker runtime is not installed in this process")
    return _runtime
