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
from celery.exceptions import TimeLimitExceeded, WorkerLostError
from celery.signals import (
    setup_logging,
    task_failure,
    task_postrun,
    task_prerun,
    worker_process_init,
    worker_process_shutdown,
)

from policy import RegisteredModel, preload_language_detector
from service.broker.connections import redis_client
from service.broker.contract import (
    COUNT_KILLS_TASK,
    MODERATE_TASKS,
    PURGE_TASK,
    RELAY_OUTBOX_TASK,
    SWEEP_TASK,
)
from service.broker.producer import TaskProducer, celery_config
from service.db.engine import Database
from service.logging import configure_logging
from service.models.registry import model_registry, registered_models
from service.policies import policy_holder
from service.process_metrics import sample_resident_memory
from service.settings import Settings
from workers import child_failure, runtime
from workers.cli.common import settings_or_exit
from workers.heartbeat import start_heartbeat
from workers.killed import ParentKillCounter
from workers.memory import return_freed_memory
from workers.models import DEFAULT_MODEL_ID, ChildModels
from workers.scoring.scorer import Scorer
from workers.shadow import ShadowPolicy
from workers.time_limits import DEFAULT_TIME_LIMIT

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
        # Each of ours has its own (workers/tasks.py); these cover the rest.
        task_soft_time_limit=DEFAULT_TIME_LIMIT.soft,
        task_time_limit=DEFAULT_TIME_LIMIT.hard,
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
    """With `load_model` (a worker child): `default`, then every model the policy in force
    routes to (workers/models.py), each logged with its memory; the holder then loads what a
    reloaded policy routes to before putting it in force, one child of the host at a time."""
    registry = registered_models(settings)
    scorers: dict[str, Scorer] = {}
    models: ChildModels | None = None
    if load_model:
        models = ChildModels(settings, model_registry(settings), scorers)
        default = models.load(DEFAULT_MODEL_ID)
        # A checkpoint that is no published variant says which labels it has only once loaded.
        registry[DEFAULT_MODEL_ID] = RegisteredModel(
            outputs=default.labels, variant=registry[DEFAULT_MODEL_ID].variant
        )
    policies = policy_holder(
        settings, registry=registry, before_swap=None if models is None else models.load_for
    )
    if models is not None:
        policies.before_swap = models.load_for_reload
    rt = runtime.WorkerRuntime(
        settings=settings,
        db=Database(settings.effective_database_url),
        redis=redis_client(settings.redis_url),
        producer=TaskProducer(settings),
        policies=policies,
        shadow=(
            None
            if settings.shadow_policy is None
            else ShadowPolicy(settings.shadow_policy, registry=registry)
        ),
        scorers=scorers,
    )
    if rt.scorer is not None:
        preload_language_detector()
        return_freed_memory()
        start_heartbeat(rt.redis, model=rt.scorer.model_id)
    return rt


_Receiver = TypeVar("_Receiver", bound=Callable[..., None])


def _on(signal: Any) -> Callable[[_Receiver], _Receiver]:
    """`@signal.connect`, typed (Celery ships none): it registers the receiver and returns it."""
    connect: Callable[[_Receiver], _Receiver] = signal.connect
    return connect


settings = settings_or_exit()
app = create_celery_app(settings)


@_on(setup_logging)
def _json_logs(**_: Any) -> None:
    """Connected, this replaces Celery's plain-text logging in the worker, its children and
    beat: their lines, Celery's own included, are JSON like the API's."""
    configure_logging(settings.log_level, json=settings.log_json)


@_on(worker_process_init)
def _load_in_child(**_: Any) -> None:
    # From before the model loads, so the climb while it loads shows.
    sample_resident_memory("worker")
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


_kills = ParentKillCounter(
    lambda items, cause: app.send_task(COUNT_KILLS_TASK, args=[items, cause], retry=False)
)


@_on(task_failure)
def _count_killed_batch(
    sender: Any = None,
    task_id: str | None = None,
    exception: BaseException | None = None,
    args: Any = None,
    **_: Any,
) -> None:
    """In the parent: a `moderate` batch whose child died or ran out of time counts a kill
    for each comment it named (workers/killed.py). A cold shutdown's kills are no comment's
    fault."""
    from celery.worker import state

    if (
        getattr(sender, "name", None) not in MODERATE_TASKS
        or not isinstance(exception, WorkerLostError | TimeLimitExceeded)
        or state.should_terminate
    ):
        return
    _kills.killed(task_id or "", [str(item) for item in args or ()], cause=type(exception).__name__)


@_on(worker_process_shutdown)
def _forget_child_metrics(pid: int | None = None, **_: Any) -> None:
    from workers.metrics import mark_child_dead

    mark_child_dead(pid or os.getpid())
