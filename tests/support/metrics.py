"""Reading Prometheus' text format."""

from __future__ import annotations

import re

from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families


def sample(text: str, name: str, labels: str = "") -> float:
    pattern = re.escape(name) + (r"\{" + labels + r"\}" if labels else r"(\{[^}]*\})?")
    match = re.search(r"^" + pattern + r" ([0-9.e+-]+)$", text, re.M)
    assert match, f"{name}{{{labels}}} not in metrics"
    return float(match.groups()[-1])


def families(text: str) -> dict[str, Metric]:
    """The metric families of a scrape by name (a counter's without its `_total`)."""
    return {family.name: family for family in text_string_to_metric_families(text)}


def label_sets(text: str, name: str) -> list[dict[str, str]]:
    """The labels of each sample of `name` in a scrape."""
    return [
        sample.labels
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    ]


# Families (a counter's name without `_total`) that one kind of process exports and the other
# never does: each container is scraped on its own, so a series on both would be counted twice.
API_ONLY = frozenset(
    {
        "moderation_comments_received",
        "moderation_http_request_duration_seconds",
        "moderation_rate_limit_skipped",
        "moderation_perspective_requests",
        "moderation_queue_depth",
        "moderation_pending_comments",
        "moderation_queued_comments",
        "moderation_pending_overdue_comments",
        "moderation_held_comments",
        "moderation_oldest_held_age_seconds",
        "moderation_webhook_events_failed",
        "moderation_beat_last_run_timestamp_seconds",
        "moderation_workers_alive",
    }
)
WORKER_ONLY = frozenset(
    {
        "moderation_decisions",
        "moderation_decision_latency_seconds",
        "moderation_scoring_seconds",
        "moderation_scoring_cpu_seconds",
        "moderation_webhook_deliveries",
        "moderation_analyze_seconds",
    }
)
