"""A worker runtime in the test process: the real decide path on a tiny checkpoint, with no
broker, Redis or webhook (nothing is sent or published)."""

from __future__ import annotations

from service.db.engine import Database
from service.policies import PolicyHolder
from service.settings import DEFAULT_POLICY, Settings
from workers.runtime import WorkerRuntime
from workers.scoring.scorer import load_scorer


def offline_runtime(settings: Settings, database_url: str) -> WorkerRuntime:
    """Dispose of its `db` when done."""
    return WorkerRuntime(
        settings=settings,
        db=Database(database_url),
        redis=None,
        producer=None,  # type: ignore[arg-type]
        policies=PolicyHolder(DEFAULT_POLICY),
        scorers={"default": load_scorer(settings)},
    )
