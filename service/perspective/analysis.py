"""A synchronous analysis through the workers: send `analyze`, wait for the scores in Redis.

The API never loads the model. It sends the `analyze` task (own queue, asked first by every
worker, so a comment backlog never stands in front of it) with a fresh request id and waits
on BLPOP for the worker to RPUSH the scores to `moderation:analyze:{request_id}`. The list
outlives a slow API by `RESULT_TTL_SECONDS` at most. The task carries its deadline: a worker
that takes it up too late (the caller is gone) drops it unscored.

Each wait holds its own short-lived Redis connection: BLPOP blocks the connection it runs
on, and a request may run on any event loop (tests run one per request).

The task names the model to score with when the request's languages chose it
(service/perspective/routing.py); otherwise the worker detects the language and routes it.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import redis
import redis.asyncio as aioredis
import structlog
from starlette.concurrency import run_in_threadpool

from service.broker.contract import ANALYZE_RESULT_PREFIX, ANALYZE_TASK
from service.broker.producer import TaskProducer
from service.perspective.errors import unavailable
from service.perspective.routing import Route
from service.perspective.schemas import AnalyzeCommentRequest
from service.settings import Settings

log = structlog.get_logger(__name__)

RESULT_TTL_SECONDS = 30


async def request_scores(
    settings: Settings,
    producer: TaskProducer,
    request: AnalyzeCommentRequest,
    route: Route | None = None,
) -> dict[str, Any]:
    """The worker's raw result (workers/analyze.py), or Google's 503 if none comes in time.
    `route` (service/perspective/routing.py): the model to score with, if the request's
    languages chose one; by default the worker detects the language and routes."""
    route = route or Route(None)
    if not settings.redis_url:
        raise unavailable("Analysis needs Redis, which is not configured.")
    timeout = settings.analyze_timeout_seconds
    request_id = uuid.uuid4().hex
    payload = {
        "request_id": request_id,
        "text": request.text,
        "spans": request.span_annotations,
        "deadline": time.time() + timeout,
        # The model id; None: the worker routes the language it detects (or, when
        # `score` is false, scores nothing and only detects it).
        "model": route.model,
        "score": route.readable,
    }
    client = aioredis.Redis.from_url(
        settings.redis_url, socket_connect_timeout=1, socket_timeout=timeout + 2
    )
    started = time.perf_counter()
    try:
        async with client:
            # Connect before sending, so a Redis outage never leaves a task nobody awaits.
            await client.ping()
            if not await run_in_threadpool(producer.send, ANALYZE_TASK, payload):
                raise unavailable("The analysis queue is not answering; retry shortly.")
            reply = await client.blpop([ANALYZE_RESULT_PREFIX + request_id], timeout=timeout)
    except (redis.RedisError, OSError) as exc:
        log.warning("perspective.redis_unavailable", error=type(exc).__name__)
        raise unavailable("The analysis service is not answering; retry shortly.") from exc
    if reply is None:
        log.warning("perspective.analyze_timeout", request_id=request_id, timeout_s=timeout)
        raise unavailable(f"No worker answered within {timeout:g} seconds; retry shortly.")
    log.debug(
        "perspective.analyzed",
        request_id=request_id,
        wait_ms=round((time.perf_counter() - started) * 1000, 1),
    )
    result: dict[str, Any] = json.loads(reply[1])
    if "error" in result:
        raise unavailable("The worker could not score this comment; retry shortly.")
    return result
