"""Sending tasks by name: the API process never imports task code or torch.

The broker configuration lives here because both sides need it: the API sends, the
workers (`workers/celery_app.py`) consume with the same settings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import redis
import structlog
from celery import Celery
from kombu.entity import Exchange, Queue  # kombu's lazy root exports them only at run time
from kombu.exceptions import ChannelError

from service.broker.backlog import (
    ModerateBacklog,
    read_held_items,
    read_queued_comments,
    read_queued_files,
)
from service.broker.connections import redis_client
from service.broker.contract import (
    ANALYZE_FIRST_CYCLE,
    ANALYZE_QUEUE,
    ANALYZE_TASK,
    COMPANION_QUEUES,
    CONSUMED_QUEUES,
    COUNT_KILLS_TASK,
    DELIVER_QUEUE,
    DELIVER_WEBHOOK_TASK,
    FEEDBACK_QUEUE,
    LEGACY_QUEUES,
    MAINTENANCE_QUEUE,
    MODERATE_QUEUE,
    MODERATE_TASK,
    PURGE_TASK,
    QUEUES,
    RELAY_OUTBOX_TASK,
    SCORE_FEEDBACK_TASK,
    SWEEP_TASK,
    short_name,
)
from service.errors import ConfigurationError
from service.settings import Settings

log = structlog.get_logger(__name__)


VISIBILITY_TIMEOUT_SECONDS = 3600
DIRECT = Exchange("", type="direct")


def parse_queues(value: str | None) -> tuple[str, ...]:
    """`moderation worker --queues a,b`: the queues to consume, by their full names. Each may
    be named short (`moderate`) or in full (`moderation.moderate`), and brings its companions
    (`moderate` brings `feedback`) and, for this release, the legacy queue of each (where an
    API or beat of the previous release sends). Every queue when None; ConfigurationError if
    unknown."""
    if value is None:
        return _with_legacy(QUEUES)
    given = tuple(dict.fromkeys(name.strip() for name in value.split(",") if name.strip()))
    known = {name: name for name in QUEUES} | {short_name(name): name for name in QUEUES}
    unknown = [name for name in given if name not in known]
    if unknown or not given:
        problem = f"unknown queue(s) {', '.join(unknown)}" if unknown else "no queue named"
        names = ", ".join(short_name(name) for name in QUEUES)
        raise ConfigurationError(f"--queues: {problem}; known: {names}")
    chosen = (known[name] for name in given)
    with_companions = (
        queue for name in chosen for queue in (name, *COMPANION_QUEUES.get(name, ()))
    )
    return _with_legacy(tuple(dict.fromkeys(with_companions)))


def _with_legacy(queues: tuple[str, ...]) -> tuple[str, ...]:
    return (*queues, *(LEGACY_QUEUES[queue] for queue in queues))


def _route(queue: str) -> dict[str, str]:
    return {"queue": queue, "exchange": "", "routing_key": queue}


def celery_config(settings: Settings) -> dict[str, Any]:
    broker = settings.effective_broker_url
    config: dict[str, Any] = {
        "broker_url": broker,
        "broker_connection_retry_on_startup": True,
        "broker_connection_timeout": 2,
        "task_default_queue": MODERATE_QUEUE,
        "task_default_exchange": "",
        "task_default_routing_key": MODERATE_QUEUE,
        # Published through the anonymous exchange straight to the queue named by the routing
        # key: nothing depends on exchange bindings that a flushed or restarted Redis without
        # persistence would have lost (kombu would then drop messages silently).
        "task_queues": [Queue(name, DIRECT, routing_key=name) for name in CONSUMED_QUEUES],
        "task_routes": {
            MODERATE_TASK: _route(MODERATE_QUEUE),
            # Taken by whoever takes the batches whose kills it counts.
            COUNT_KILLS_TASK: _route(MODERATE_QUEUE),
            DELIVER_WEBHOOK_TASK: _route(DELIVER_QUEUE),
            SWEEP_TASK: _route(MAINTENANCE_QUEUE),
            RELAY_OUTBOX_TASK: _route(MAINTENANCE_QUEUE),
            PURGE_TASK: _route(MAINTENANCE_QUEUE),
            ANALYZE_TASK: _route(ANALYZE_QUEUE),
            # Background work like a comment's scoring, never in front of an analyze call.
            SCORE_FEEDBACK_TASK: _route(FEEDBACK_QUEUE),
        },
        "task_serializer": "json",
        "accept_content": ["json"],
        "task_ignore_result": True,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "worker_hijack_root_logger": False,
        "worker_send_task_events": False,
        "timezone": "UTC",
    }
    if broker.startswith("filesystem://"):
        folder = filesystem_broker_dir(settings)
        config["broker_transport_options"] = {
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "processed_folder": str(folder / "processed"),
            "store_processed": False,
        }
    else:
        config["broker_transport_options"] = {
            "visibility_timeout": VISIBILITY_TIMEOUT_SECONDS,
            "socket_connect_timeout": 2,
            "socket_timeout": 5,
            "retry_on_timeout": False,
            "queue_order_strategy": ANALYZE_FIRST_CYCLE,
        }
    return config


def filesystem_broker_dir(settings: Settings) -> Path:
    folder = (settings.var_dir / "broker").resolve()
    for sub in ("queue", "processed"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return folder


REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


class BacklogUnreadable(RuntimeError):
    """The broker's transport gives no way to read the messages it holds."""


class TaskProducer:
    """Sends tasks by name; a failed send is logged and left to the sweeper."""

    def __init__(self, settings: Settings) -> None:
        self.app = Celery("moderation-producer", set_as_current=False)
        self.app.conf.update(celery_config(settings))
        self._folder: Path | None = None
        self._redis: redis.Redis | None = None
        broker_url = settings.effective_broker_url
        if broker_url.startswith("filesystem://"):
            self._folder = filesystem_broker_dir(settings) / "queue"
        else:
            if broker_url.startswith(REDIS_SCHEMES):
                self._redis = redis_client(broker_url)
            # `retry=False` covers publishing only: connecting to a Redis that is down still
            # retried for broker_connection_timeout, stalling every POST 2 s in an outage.
            # One attempt, then the sweeper's re-send.
            self.app.conf.broker_transport_options = {
                **self.app.conf.broker_transport_options,
                "max_retries": 0,
            }

    def send(self, task: str, *args: Any, countdown: float | None = None) -> bool:
        try:
            self.app.send_task(task, args=list(args), countdown=countdown, retry=False)
        except Exception as exc:
            log.warning("task.send_failed", task=task, error=type(exc).__name__)
            return False
        return True

    def queue_depths(self) -> dict[str, int]:
        """Messages waiting in each of QUEUES, its legacy queue's included (an API or beat of
        the previous release may still have sent there)."""
        with self.app.connection_for_write() as connection:
            channel = connection.default_channel
            return {
                name: _message_count(channel, name) + _message_count(channel, LEGACY_QUEUES[name])
                for name in QUEUES
            }

    def moderate_backlog(self, *, held_since: float) -> ModerateBacklog:
        """The comments the `moderate` queue's messages name, and those of the messages
        consumers took at or after `held_since` (unix time) and still hold. Raises when the
        broker doesn't answer."""
        if self._redis is not None:
            queued = read_queued_comments(self._redis)
            return ModerateBacklog(queued, read_held_items(self._redis, delivered_since=held_since))
        if self._folder is None:
            # kombu's in-memory transport (tests) keeps its queue out of reach: the sweeper
            # then re-sends whatever is overdue.
            raise BacklogUnreadable(self.app.conf.broker_url.split(":", 1)[0])
        # The filesystem transport keeps what consumers hold in their own memory only.
        return ModerateBacklog(read_queued_files(self._folder), frozenset())

    def close(self) -> None:
        if self._redis is not None:
            self._redis.close()
        self.app.close()


def _message_count(channel: Any, queue: str) -> int:
    try:
        return int(channel.queue_declare(queue=queue, passive=True).message_count)
    except ChannelError:
        # Redis deletes a list once its last message is taken: to kombu, an empty queue is
        # one that doesn't exist.
        return 0
