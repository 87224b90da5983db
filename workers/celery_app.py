"""The Celery application, and what each worker child process loads after fork.

`app` is built at import from the environment because this module is the process's entry
point (`celery --app workers.celery_app:app` works too, for Flower).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

import structlog
from celery import Celery
from celery.signals import (
    setup_logging,
    task_postrun,
    task_prerun,
    worker_process_init,
    worker_process_shutdown,
)

from policy import preload_language_detector
from service.broker.connections import redis_client
from service.broker.contract import PURGE_TASK, RELAY_OUTBOX_TASK, SWEEP_TASK
from service.broker.producer import TaskProducer, celery_config
from service.db.engine import Database
from service.logging import configure_logging
from service.policies import configured_model_labels, policy_holder
from service.settings import Settings
from workers import child_failure, runtime
from workers.heartbeat import start_heartbeat
from workers.memory import return_freed_memory
from workers.shadow import ShadowPolicy

log = structlog.get_logger(__name__)

# A child loads the model before it reports itself alive; a large checkpoint on a slow
# disk takes far longer than Celery's 4-second default.
PROCESS_ALIVE_TIMEOUT_SECONDS = 600


def create_celery_app(settings: Settings) -> Celery:
    app = Celery("moderation", set_as_current=True)
    app.conf.update(celery_config(settings))
    app.conf.update(
        include=["workers.tasks"],
        worker_proc_alive_timeout=PROCESS_ALIVE_TIMEOUT_SECONDS,
        beat_schedule_filename=str((settings.var_dir / "celerybeat-schedule").resolve()),
        beat_schedule={
            "sweep-pending": {
                "task": SWEEP_TASK,
                "schedule": timedelta(seconds=settings.sweep_interval_seconds),
            },
            "purge-expired-text": {
                "task": PURGE_TASK,
                "schedule": timedelta(seconds=settings.retention_interval_seconds),
            },
            "relay-outbox": {
                "task": RELAY_OUTBOX_TASK,
                "schedule": timedelta(seconds=settings.outbox_interval_seconds),
            },
        },
    )
    app.moderation_settings = settings
    return app


def build_runtime(settings: Settings, *, load_model: bool) -> runtime.WorkerRuntime:
    scorer = None
    if load_model:
        from workers.scoring.scorer import load_scorer

        scorer = load_scorer(settings)
    # A checkpoint that is no published variant says which labels it has only once loaded.
    labels = scorer.labels if scorer is not None else configured_model_labels(settings)
    rt = runtime.WorkerRuntime(
        settings=settings,
        db=Database(settings.effective_database_url),
        redis=redis_client(settings.redis_url),
        producer=TaskProducer(settings),
        policies=policy_holder(settings, model_labels=labels),
        shadow=(
            None
            if settings.shadow_policy is None
            else ShadowPolicy(settings.shadow_policy, model_labels=labels)
        ),
        scorer=scorer,
    )
    if rt.scorer is not None:
        preload_language_detector()
        return_freed_memory()
        log.info("worker.model_loaded", model=rt.scorer.model_id, pid=os.getpid())
        start_heartbeat(rt.redis, model=rt.scorer.model_id)
    return rt


_Receiver = TypeVar("_Receiver", bound=Callable[..., None])


def _on(signal: Any) -> Callable[[_Receiver], _Receiver]:
    """`@signal.connect`, typed (Celery ships none): it registers the receiver and returns it."""
    connect: Callable[[_Receiver], _Receiver] = signal.connect
    return connect


settings = Settings()
app = create_celery_app(settings)


@_on(setup_logging)
def _json_logs(**_: Any) -> None:
    """Connected, this replaces Celery's plain-text logging in the worker, its children and
    beat: their lines, Celery's own included, are JSON like the API's."""
    configure_logging(settings.log_level, json=settings.log_json)


@_on(worker_process_init)
def _load_in_child(**_: Any) -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # Scoring is throughput work; the API's accept path is what readers wait on.
    os.nice(settings.worker_niceness)
    configure_logging(settings.log_level, json=settings.log_json)
    try:
        built = build_runtime(settings, load_model=True)
    except Exception as exc:
        # Raised, it would be logged and swallowed by Celery, leaving a child that fails
        # every task; `child_failure` stops the whole worker instead.
        child_failure.report_and_exit(child_failure.describe(exc))
    runtime.install(built)


@_on(task_prerun)
def _bind_task_ids(task_id: str | None = None, args: Any = None, **_: Any) -> None:
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(task_id=task_id)


@_on(task_postrun)
def _unbind_task_ids(**_: Any) -> None:
    structlog.contextvars.clear_contextvars()


@_on(worker_process_shutdown)
def _forget_child_metrics(pid: int | None = None, **_: Any) -> None:
    from workers.metrics import mark_child_dead

    mark_child_dead(pid or os.getpid())
