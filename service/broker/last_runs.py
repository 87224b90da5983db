"""When beat's periodic jobs last completed, kept in Redis: a beat that has stopped leaves its
jobs' times growing old, which an alert can see (`moderation_beat_last_run_timestamp_seconds`).
"""

from __future__ import annotations

from typing import Literal, get_args

import redis
import structlog

from service.broker.contract import LAST_RUN_PREFIX

log = structlog.get_logger(__name__)

Job = Literal["sweep", "relay"]
JOBS: tuple[Job, ...] = get_args(Job)


def record_last_run(client: redis.Redis | None, job: Job, *, at: float) -> None:
    """Never raises: the job has done its work whether or not Redis takes the note."""
    if client is None:
        return
    try:
        client.set(LAST_RUN_PREFIX + job, repr(at))
    except redis.RedisError as exc:
        log.warning("last_run.unrecorded", job=job, error=type(exc).__name__)


def read_last_runs(client: redis.Redis) -> dict[Job, float]:
    """The jobs that have run at least once, with the unix time of their last completion."""
    values = client.mget([LAST_RUN_PREFIX + job for job in JOBS])
    return {job: float(value) for job, value in zip(JOBS, values, strict=True) if value}
