"""API metrics in Prometheus text format, correct across uvicorn worker processes.

`moderation api` points PROMETHEUS_MULTIPROC_DIR at a fresh directory before uvicorn starts
its workers; each writes its own files and `/metrics` sums them. Queue depth and pending
count are read at scrape time, from Redis and the database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import redis
import structlog
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from service.broker.contract import MODERATE_QUEUE
from service.db.engine import Database
from service.store.comments import count_pending_comments

log = structlog.get_logger(__name__)

COMMENTS_RECEIVED = Counter(
    "moderation_comments_received_total",
    "POST /v1/comments answers: accepted, replayed, or the problem code (unavailable and "
    "internal_error included)",
    ["result"],
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
    """Queue depth (Redis) and comments still pending (database), read when scraped."""

    def __init__(self, db: Database, client: redis.Redis | None) -> None:
        self._db = db
        self._redis = client

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily(
            "moderation_queue_depth", "Comments waiting in the broker's moderate queue"
        )
        if self._redis is not None:
            try:
                depth.add_metric([], float(self._redis.llen(MODERATE_QUEUE)))
            except redis.RedisError as exc:
                log.warning("metrics.queue_depth_unavailable", error=type(exc).__name__)
        yield depth
        pending = GaugeMetricFamily(
            "moderation_pending_comments", "Comments stored but not yet decided"
        )
        try:
            with self._db.session() as session:
                pending.add_metric([], float(count_pending_comments(session)))
        except Exception as exc:
            log.warning("metrics.pending_unavailable", error=type(exc).__name__)
        yield pending


def render_metrics(backlog: Collector) -> tuple[bytes, str]:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    output = generate_latest(registry) + generate_latest(_single(backlog))
    return output, CONTENT_TYPE_LATEST


def _single(collector: Collector) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return registry
