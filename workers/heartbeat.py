"""Worker heartbeats in Redis, so `/readyz` can say whether any worker with a model lives."""

from __future__ import annotations

import json
import os
import socket
import threading
import time

import redis
import structlog

from service.broker.contract import WORKER_HEARTBEAT_PREFIX

log = structlog.get_logger(__name__)

INTERVAL_SECONDS = 10
TTL_SECONDS = 30


def start_heartbeat(client: redis.Redis | None, *, model: str) -> None:
    if client is None:
        return
    key = f"{WORKER_HEARTBEAT_PREFIX}{socket.gethostname()}:{os.getpid()}"
    beat = json.dumps({"model": model, "model_loaded": True, "pid": os.getpid()})

    def run() -> None:
        while True:
            try:
                client.set(key, beat, ex=TTL_SECONDS)
            except redis.RedisError as exc:
                log.warning("heartbeat.failed", error=type(exc).__name__)
            time.sleep(INTERVAL_SECONDS)

    threading.Thread(target=run, name="heartbeat", daemon=True).start()
