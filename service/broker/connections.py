"""Redis clients with short timeouts: a Redis outage must never stall a request."""

from __future__ import annotations

import redis


def redis_client(url: str | None) -> redis.Redis | None:
    if not url:
        return None
    return redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
