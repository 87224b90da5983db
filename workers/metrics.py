"""Worker metrics, correct across prefork children (prometheus_client multiprocess mode).

The parent serves `/metrics` on `--metrics-port`, summing what every child wrote to a
private directory; each container is scraped on its own, so nothing is shared on disk.
"""

from __future__ import annotations

import os
from typing import get_args

from prometheus_client import Counter, Histogram, multiprocess, start_http_server

from policy.decision import Action
from service.process_metrics import scrape_registry, start_at_zero

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600)
SCORING_BUCKETS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5)

DECISIONS = Counter(
    "moderation_decisions_total", "Decisions recorded, by action and by whom", ["action", "by"]
)
DECISION_LATENCY = Histogram(
    "moderation_decision_latency_seconds",
    "From the comment's acceptance (or its edit's) to its automated decision",
    buckets=LATENCY_BUCKETS,
)
SCORING_SECONDS = Histogram(
    "moderation_scoring_seconds",
    "Model time per comment (a batch's time shared among its comments)",
    buckets=SCORING_BUCKETS,
)
SCORING_CPU_SECONDS = Counter(
    "moderation_scoring_cpu_seconds_total",
    "CPU time spent in the model (one torch thread per process, so the scoring thread's time)",
)
WEBHOOK_DELIVERIES = Counter(
    "moderation_webhook_deliveries_total", "Webhook delivery attempts by outcome", ["outcome"]
)
start_at_zero(DECISIONS, action=get_args(Action), by=("policy",))
start_at_zero(WEBHOOK_DELIVERIES, outcome=("delivered", "retry", "failed"))


def serve_metrics(port: int) -> None:
    """In the parent, which writes its own RSS as it answers; each child samples its own from
    its start (celery_app)."""
    registry = scrape_registry("worker")
    start_http_server(port, addr="0.0.0.0", registry=registry)  # noqa: S104 - scraped per container


def mark_child_dead(pid: int) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(pid)
