"""API metrics in Prometheus text format, correct across uvicorn worker processes.

`moderation api` points PROMETHEUS_MULTIPROC_DIR at a fresh directory before uvicorn starts
its workers; each writes its own files and `/metrics` sums them. Queue depth and pending
count are read at scrape time, from Redis and the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import redis
import structlog
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from service.broker.backlog import MAX_MESSAGES, moderate_queue_length, read_queued_comments
from service.db.engine import Database
from service.db.tables import utcnow
from service.process_metrics import scrape_registry, start_at_zero
from service.store.comments import count_overdue_comments, count_pending_comments

log = structlog.get_logger(__name__)

COMMENTS_RECEIVED = Counter(
    "moderation_comments_received_total",
    "POST /v1/comments answers: accepted, replayed, or the problem code (unavailable and "
    "internal_error included)",
    ["result"],
)
# The answers dashboards rate; any other problem code appears with its first answer.
start_at_zero(
    COMMENTS_RECEIVED,
    result=("accepted", "replayed", "rate_limited", "unavailable", "internal_error"),
)
REQUEST_SECONDS = Histogram(
    "moderation_http_request_duration_seconds",
    "HTTP request duration by route template",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
RATE_LIMIT_SKIPPED = Counter(
    "moderation_rate_limit_skipped_total",
    "Comments admitted without the hard flood limit because Redis was not answering",
)


class BacklogCollector(Collector):
    """Queue depth and the comments its messages name (Redis), and comments still pending,
    overdue among them (database), read when scraped."""

    def __init__(self, db: Database, client: redis.Redis | None, *, grace_seconds: float) -> None:
        self._db = db
        self._redis = client
        self._grace = timedelta(seconds=grace_seconds)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily(
            "moderation_queue_depth",
            "Messages in the broker's moderate queue, each naming a comment or a batch's",
        )
        if self._redis is not None:
            try:
                depth.add_metric([], float(moderate_queue_length(self._redis)))
            except redis.RedisError as exc:
                log.warning("metrics.queue_depth_unavailable", error=type(exc).__name__)
        yield depth
        yield self._queued_comments()
        pending = GaugeMetricFamily(
            "moderation_pending_comments", "Comments stored but not yet decided"
        )
        overdue = GaugeMetricFamily(
            "moderation_pending_overdue_comments",
            "Comments pending longer than MODERATION_SWEEP_GRACE_SECONDS (since posted or edited)",
        )
        try:
            with self._db.session() as session:
                pending.add_metric([], float(count_pending_comments(session)))
                cutoff = utcnow() - self._grace
                overdue_count = count_overdue_comments(session, pending_since_before=cutoff)
                overdue.add_metric([], float(overdue_count))
        except Exception as exc:
            log.warning("metrics.pending_unavailable", error=type(exc).__name__)
        yield pending
        yield overdue

    def _queued_comments(self) -> GaugeMetricFamily:
        """What autoscaling reads: a message names up to a batch's worth of comments."""
        queued = GaugeMetricFamily(
            "moderation_queued_comments",
            "Comments the messages in the broker's moderate queue name (estimated past "
            f"{MAX_MESSAGES} messages)",
        )
        if self._redis is not None:
            try:
                queued.add_metric([], float(read_queued_comments(self._redis).comments))
            except redis.RedisError as exc:
                log.warning("metrics.queued_comments_unavailable", error=type(exc).__name__)
        return queued


def render_metrics(*read_when_scraped: Collector) -> tuple[bytes, str]:
    registry = scrape_registry("api")
    for collector in read_when_scraped:
        registry.register(collector)
    return generate_latest(registry), CONTENT_TYPE_LATEST
