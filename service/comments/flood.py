"""The hard flood limit: past it the API answers 429 before storing anything.

A sliding window per author in Redis, checked and recorded atomically by one script. If
Redis is down the limit is skipped (comments are never refused for our outage), logged,
and counted; the worker's `flood` rule still holds what got through. Readers' reports are
limited the same way, under their own key prefix (`REPORT_FLOOD_PREFIX`).
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Sequence

import redis
import structlog

from service.broker.contract import FLOOD_PREFIX
from service.http.metrics import RATE_LIMIT_SKIPPED

log = structlog.get_logger(__name__)


# KEYS: each comment's author window, in arrival order (an author twice is counted twice);
# ARGV: now, window seconds, hard limit, then one unique member per key. Returns the seconds
# each must wait (0: admitted, and recorded). One call for a whole batch: one round trip.
_ADMIT = """
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local waits = {}
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= limit then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    waits[i] = math.max(1, math.ceil(tonumber(oldest[2]) + window - now))
  else
    redis.call('ZADD', key, now, ARGV[3 + i])
    redis.call('EXPIRE', key, math.ceil(window))
    waits[i] = 0
  end
end
return waits
"""


class FloodGate:
    def __init__(self, client: redis.Redis | None) -> None:
        self._client = client
        self._admit = client.register_script(_ADMIT) if client is not None else None

    def retry_after(
        self,
        author_id: str,
        *,
        window_seconds: int,
        hard_limit: int | None,
        prefix: str = FLOOD_PREFIX,
    ) -> int:
        """0 if this comment may be stored (and it is counted), else seconds to wait.
        `prefix` names what is counted: comments (the default) or `REPORT_FLOOD_PREFIX`."""
        return self.retry_after_many(
            [author_id], window_seconds=window_seconds, hard_limit=hard_limit, prefix=prefix
        )[0]

    def retry_after_many(
        self,
        author_ids: Sequence[str],
        *,
        window_seconds: int,
        hard_limit: int | None,
        prefix: str = FLOOD_PREFIX,
    ) -> list[int]:
        """`retry_after` for comments that arrived together, in their order: each admitted one
        counts against those after it, as if they had been asked one by one."""
        if hard_limit is None or self._admit is None or not author_ids:
            return [0] * len(author_ids)
        try:
            waits = self._admit(
                keys=[prefix + author_id for author_id in author_ids],
                args=[
                    time.time(),
                    window_seconds,
                    hard_limit,
                    *(uuid.uuid4().hex for _ in author_ids),
                ],
            )
        except redis.RedisError as exc:
            RATE_LIMIT_SKIPPED.inc(len(author_ids))
            log.warning(
                "flood.limit_skipped",
                reason="redis unavailable",
                prefix=prefix,
                error=type(exc).__name__,
                comments=len(author_ids),
            )
            return [0] * len(author_ids)
        return [math.ceil(int(wait)) for wait in waits]
