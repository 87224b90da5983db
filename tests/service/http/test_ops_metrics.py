"""The API's /metrics for on-call: the held backlog, failed webhook events, beat's last runs,
live workers, the build and each process's memory, and labelled counters from zero."""

from __future__ import annotations

import json
import os
from pathlib import Path

import redis

from service.broker.contract import WORKER_HEARTBEAT_PREFIX
from service.broker.last_runs import record_last_run
from service.db.engine import Database
from service.db.tables import utcnow
from service.http.ops_metrics import OpsCollector
from service.process_metrics import RESIDENT_MEMORY
from service.store.webhooks import add_webhook_events
from service.version import package_version
from tests.support.api import Api
from tests.support.databases import DOWN_DATABASE_URLS
from tests.support.holds import database, hold
from tests.support.metrics import sample

OPS_GAUGES = (
    "moderation_held_comments",
    "moderation_oldest_held_age_seconds",
    "moderation_webhook_events_failed",
    "moderation_workers_alive",
)


def heartbeat(client: redis.Redis, name: str, *, loaded: bool) -> None:
    beat = {"model": "default", "model_loaded": loaded, "pid": 1}
    client.set(f"{WORKER_HEARTBEAT_PREFIX}{name}", json.dumps(beat), ex=30)


def test_the_ops_figures_are_read_when_scraped(api: Api) -> None:
    before = api.client.get("/metrics").text
    assert [sample(before, name) for name in OPS_GAUGES] == [0, 0, 0, 0]
    assert "moderation_beat_last_run_timestamp_seconds{" not in before

    hold(api, minutes_ago=40)
    hold(api, author="reader-2")
    with database(api).session() as session:
        failed, _pending = add_webhook_events(
            session, event_type="comment.held", payloads=[(None, {}), (None, {})], now=utcnow()
        )
        failed.status = "failed"
    client = redis.Redis.from_url(api.settings.redis_url or "")
    heartbeat(client, "host-a:10", loaded=True)
    heartbeat(client, "host-a:11", loaded=False)
    record_last_run(client, "sweep", at=1_700_000_000.5)

    text = api.client.get("/metrics").text
    assert sample(text, "moderation_held_comments") == 2
    assert sample(text, "moderation_oldest_held_age_seconds") >= 40 * 60
    assert sample(text, "moderation_webhook_events_failed") == 1
    assert sample(text, "moderation_workers_alive") == 1
    last_run = "moderation_beat_last_run_timestamp_seconds"
    assert sample(text, last_run, 'task="sweep"') == 1_700_000_000.5
    assert f'{last_run}{{task="relay"}}' not in text


def test_figures_that_cannot_be_read_are_left_out(tmp_path: Path) -> None:
    down_redis = redis.Redis(port=1, socket_connect_timeout=1)
    db = Database(DOWN_DATABASE_URLS["sqlite"].format(tmp_path=tmp_path))
    families = list(OpsCollector(db, down_redis).collect())
    assert {family.name for family in families} == {
        *OPS_GAUGES,
        "moderation_beat_last_run_timestamp_seconds",
    }
    assert all(family.samples == [] for family in families)


def test_the_build_the_memory_and_counters_from_zero(api: Api) -> None:
    text = api.client.get("/metrics").text
    assert sample(text, "moderation_build_info", f'version="{package_version()}"') == 1
    assert sample(text, RESIDENT_MEMORY, f'pid="{os.getpid()}",process="api"') > 2**20
    for result in ("accepted", "replayed", "rate_limited", "unavailable", "internal_error"):
        assert f'moderation_comments_received_total{{result="{result}"}}' in text
    for method in ("analyze", "suggestscore"):
        for result in ("ok", "INVALID_ARGUMENT", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED"):
            series = f'moderation_perspective_requests_total{{method="{method}",result="{result}"}}'
            assert series in text
