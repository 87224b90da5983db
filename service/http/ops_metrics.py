"""What on-call watches beyond the comment backlog, read from the database and Redis when
/metrics is scraped (so every API process reports the same figures): the held backlog and its
oldest comment, webhook events given up on, when beat's jobs last completed, and how many
worker processes are alive.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

import redis
import structlog
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from service.broker.heartbeats import loaded_workers
from service.broker.last_runs import read_last_runs
from service.db.engine import Database
from service.db.tables import utcnow
from service.store.moderation import held_summary
from service.store.webhooks import count_failed_webhook_events

log = structlog.get_logger(__name__)


class OpsCollector(Collector):
    """A figure that can't be read is left out of the scrape (and its failure logged), never
    reported as 0: an alert on `absent()` then sees it."""

    def __init__(
        self, db: Database, client: redis.Redis | None, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._db = db
        self._redis = client
        self._clock = clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield from self._database_figures()
        yield from self._redis_figures()

    def _database_figures(self) -> Iterator[GaugeMetricFamily]:
        held = GaugeMetricFamily("moderation_held_comments", "Held comments awaiting a moderator")
        oldest = GaugeMetricFamily(
            "moderation_oldest_held_age_seconds",
            "Seconds since the oldest held comment was posted; 0 when none is held",
        )
        failed = GaugeMetricFamily(
            "moderation_webhook_events_failed",
            "Webhook events given up on after their last attempt and not redelivered",
        )
        try:
            with self._db.session() as session:
                count, oldest_at = held_summary(session)
                failed_count = count_failed_webhook_events(session)
        except Exception as exc:
            log.warning("metrics.ops_database_unavailable", error=type(exc).__name__)
        else:
            held.add_metric([], float(count))
            age = 0.0 if oldest_at is None else (self._clock() - oldest_at).total_seconds()
            oldest.add_metric([], max(0.0, age))
            failed.add_metric([], float(failed_count))
        yield from (held, oldest, failed)

    def _redis_figures(self) -> Iterator[GaugeMetricFamily]:
        last_run = GaugeMetricFamily(
            "moderation_beat_last_run_timestamp_seconds",
            "Unix time a job beat schedules last completed (sweep, relay of the webhook outbox)",
            labels=["task"],
        )
        alive = GaugeMetricFamily(
            "moderation_workers_alive",
            "Worker processes with a loaded model and a fresh heartbeat",
        )
        if self._redis is not None:
            try:
                last_runs = read_last_runs(self._redis)
                workers = loaded_workers(self._redis)
            except redis.RedisError as exc:
                log.warning("metrics.ops_redis_unavailable", error=type(exc).__name__)
            else:
                for job, at in last_runs.items():
                    last_run.add_metric([job], at)
                alive.add_metric([], float(len(workers)))
        yield from (last_run, alive)
