"""Reading worker heartbeats (workers/heartbeat.py writes them): each key expires unless its
worker process renews it, so the keys present are the processes alive."""

from __future__ import annotations

import json
from typing import Any

import redis

from service.broker.contract import WORKER_HEARTBEAT_PREFIX


def loaded_workers(client: redis.Redis) -> list[dict[str, Any]]:
    """The heartbeats of live worker processes with a loaded model; raises redis.RedisError."""
    keys = list(client.scan_iter(match=WORKER_HEARTBEAT_PREFIX + "*", count=100))
    beats = [json.loads(raw) for raw in client.mget(keys) if raw] if keys else []
    return [beat for beat in beats if beat.get("model_loaded")]
