"""What a worker child process holds: built once, after fork, by `celery_app`."""

from __future__ import annotations

from dataclasses import dataclass, field

import redis

from service.broker.producer import TaskProducer
from service.db.engine import Database
from service.policies import PolicyHolder
from service.settings import Settings
from workers.models import DEFAULT_MODEL_ID
from workers.scoring.scorer import Scorer
from workers.shadow import ShadowPolicy

__all__ = ["DEFAULT_MODEL_ID", "WorkerRuntime", "current", "install"]


@dataclass
class WorkerRuntime:
    settings: Settings
    db: Database
    redis: redis.Redis | None
    producer: TaskProducer
    policies: PolicyHolder
    shadow: ShadowPolicy | None = None
    scorers: dict[str, Scorer] = field(default_factory=dict)
    """Every model this child has loaded, by registry id (workers/models.py loads them)."""

    @property
    def scorer(self) -> Scorer | None:
        """The `default` model, None where no model is loaded (the parent, beat)."""
        return self.scorers.get(DEFAULT_MODEL_ID)

    @scorer.setter
    def scorer(self, scorer: Scorer) -> None:
        self.scorers[DEFAULT_MODEL_ID] = scorer


_runtime: WorkerRuntime | None = None


def install(runtime: WorkerRuntime) -> None:
    global _runtime
    _runtime = runtime


def current() -> WorkerRuntime:
    if _runtime is None:
        raise RuntimeError("the worker runtime is not installed in this process")
    return _runtime
