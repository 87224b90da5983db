"""The hard flood limit when Redis is down: skipped, never a refusal, and said so."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
import redis
from prometheus_client import REGISTRY
from structlog.testing import capture_logs

from service.comments.flood import FloodGate


@pytest.fixture
def dead_redis() -> Iterator[redis.Redis]:
    """A client for a local port that refuses connections: bound, never listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        yield redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1)


def skipped_total() -> float:
    return REGISTRY.get_sample_value("moderation_rate_limit_skipped_total") or 0.0


def test_a_dead_redis_admits_the_comment_logs_and_counts(dead_redis: redis.Redis) -> None:
    gate = FloodGate(dead_redis)
    before = skipped_total()
    with capture_logs() as logs:
        assert gate.retry_after("reader-1", window_seconds=60, hard_limit=1) == 0
        assert gate.retry_after("reader-1", window_seconds=60, hard_limit=1) == 0
    assert skipped_total() == before + 2
    skipped = [entry for entry in logs if entry["event"] == "flood.limit_skipped"]
    assert len(skipped) == 2
    assert skipped[0]["log_level"] == "warning"
    assert skipped[0]["error"] == "ConnectionError"


def test_a_live_redis_refuses_past_the_limit(redis_server: str) -> None:
    client = redis.Redis.from_url(f"{redis_server}/9")
    author = f"reader-{id(client)}"
    client.delete("moderation:flood:" + author)
    gate = FloodGate(client)
    before = skipped_total()
    assert gate.retry_after(author, window_seconds=60, hard_limit=1) == 0
    assert 1 <= gate.retry_after(author, window_seconds=60, hard_limit=1) <= 60
    assert skipped_total() == before
    client.delete("moderation:flood:" + author)
