"""Thin tasks: they take ids, call the domain, and return.

Each is registered under its name (`moderation.*`) and, for this release, under its legacy
name too (contract.LEGACY_TASKS), so that what an API or beat of the previous release queued
is still done; each has a soft and a hard time limit (workers/time_limits.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import httpx
import structlog

from service.broker.contract import (
    ANALYZE_TASK,
    COUNT_KILLS_TASK,
    DELIVER_WEBHOOK_TASK,
    LEGACY_TASKS,
    MODERATE_TASK,
    PURGE_TASK,
    RELAY_OUTBOX_TASK,
    SCORE_FEEDBACK_TASK,
    SWEEP_TASK,
    parse_moderate_item,
)
from service.broker.last_runs import Job, record_last_run
from service.retention import purge_expired_text
from service.webhooks import deliver_event, relay_due_events
from workers import killed, runtime
from workers.analyze import analyze_request
from workers.celery_app import app
from workers.decide import decide_comments
from workers.feedback import score_feedback
from workers.metrics import WEBHOOK_DELIVERIES
from workers.sweeper import sweep_all
from workers.time_limits import TIME_LIMITS

_http = httpx.Client()

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _task(name: str, **options: Any) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """`@app.task(name=...)`, typed (Celery ships none), with the task's time limits, and
    registered under its legacy name too. The task it makes is called with the function's own
    arguments, or sent by name (service/broker/producer.py)."""
    limit = TIME_LIMITS[name]
    options = {"soft_time_limit": limit.soft, "time_limit": limit.hard, **options}

    def register(run: Callable[_P, _R]) -> Callable[_P, _R]:
        if name in LEGACY_TASKS:
            app.task(name=LEGACY_TASKS[name], **options)(run)
        task: Callable[_P, _R] = app.task(name=name, **options)(run)
        return task

    return register


def _noting_last_run(job: Job) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """A beat job notes when it last completed (service/broker/last_runs.py)."""

    def decorate(run: Callable[_P, _R]) -> Callable[_P, _R]:
        @wraps(run)
        def noted(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            result = run(*args, **kwargs)
            record_last_run(runtime.current().redis, job, at=time.time())
            return result

        return noted

    return decorate


@_task(ANALYZE_TASK)
def analyze(payload: dict[str, Any]) -> str:
    # The one task that carries text rather than an id: stateless by design (doNotStore), it
    # has no row to load; the text lives only in the broker message.
    return analyze_request(runtime.current(), payload)


@_task(SCORE_FEEDBACK_TASK)
def score_feedback_rows(feedback_ids: list[int]) -> int:
    rt = runtime.current()
    assert rt.scorer is not None, "every worker child loads the model"
    return score_feedback(rt.db, rt.scorer, feedback_ids)


# A killed batch's message is acknowledged, not put back for another child to die on: its
# comments count a kill each and the sweeper re-sends them one by one (workers/killed.py).
@_task(MODERATE_TASK, reject_on_worker_lost=False)
def moderate(*items: str) -> list[str | None]:
    # Each item a comment at a revision (`moderate_item`), or a bare id. One comment names
    # every line of the task, Celery's own included; a batch's lines name the batch, and those
    # about one comment name it too (workers/decide.py).
    comment_ids = [parse_moderate_item(item)[0] for item in items]
    if len(comment_ids) == 1:
        structlog.contextvars.bind_contextvars(comment_id=comment_ids[0])
    else:
        structlog.contextvars.bind_contextvars(comment_ids=comment_ids)
    rt = runtime.current()
    try:
        return decide_comments(rt, items)
    except Exception as exc:
        if not killed.out_of_time(exc):
            raise
        # Given up like a killed batch, before the hard limit kills the child (and the model
        # it holds) for the same.
        killed.count_kills(rt.db, items, cause="soft_time_limit")
        return [None] * len(items)


@_task(COUNT_KILLS_TASK)
def count_kills(items: list[str], cause: str) -> int:
    return len(killed.count_kills(runtime.current().db, items, cause=cause))


@_task(DELIVER_WEBHOOK_TASK)
def deliver_webhook(event_id: str) -> str:
    rt = runtime.current()
    outcome = deliver_event(rt.settings, rt.db, rt.producer, _http, event_id).outcome
    if outcome != "skipped":
        WEBHOOK_DELIVERIES.labels(outcome=outcome).inc()
    return outcome


@_task(SWEEP_TASK)
@_noting_last_run("sweep")
def sweep() -> int:
    rt = runtime.current()
    return sweep_all(rt.db, rt.producer, grace_seconds=rt.settings.sweep_grace_seconds)


@_task(RELAY_OUTBOX_TASK)
@_noting_last_run("relay")
def relay_outbox() -> int:
    rt = runtime.current()
    return relay_due_events(rt.db, rt.producer)


@_task(PURGE_TASK)
def purge() -> int:
    rt = runtime.current()
    return purge_expired_text(rt.db, retention_days=rt.settings.retention_days)
