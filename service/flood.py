"""The hard flood limit: past it the API answers 429 before storing anything.

A sliding window per author in Redis, checked and recorded atomically by one script. If
Redis is down the limit is skipped (comments are never refused for our outage), logged,
and counted; the worker's `flood` rule still holds what got through.
"""

from __future__ import annotations

import math
import time
import uuid

import redis
import structlog

from service.metrics import RATE_LIMIT_SKIPPED

log = structlog.get_logger(__name__)

KEY_PREFIX = "moderation:flood:"

# KEYS[1] the author's window; ARGV: now, window seconds, hard limit, a unique member.
# Returns the seconds to wait (0: admitted, and recorded).
_ADMIT = """
local key, now, window, limit = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZCARD', key) >= limit then
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return math.max(1, math.ceil(tonumber(oldest[2]) + window - now))
end
redis.call('ZADD', key, now, ARGV[4])
redis.call('EXPIRE', key, math.ceil(window))
return 0
"""


class FloodGate:
    def __init__(self, client: redis.Redis | None) -> None:
        self._client = client
        self._admit = client.register_script(_ADMIT) if client is not None else None

    def retry_after(self, author_id: str, *, window_seconds: int, hard_limit: int | None) -> int:
        """0 if this comment may be stored (and it is counted), else seconds to wait."""
        if hard_limit is None or self._admit is None:
            return 0
        try:
            wait = self._admit(
                keys=[KEY_PREFIX + author_id],
                args=[time.time(), window_seconds, hard_limit, uuid.uuid4().hex],
            )
        except redis.RedisError as exc:
            RATE_LIMIT_SKIPPED.inc()
            log.warning("flood.limit_skipped", reason="redis unavailable", error=type(exc).__name__)
            return 0
        return math.ceil(int(wait))
