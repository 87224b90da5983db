"""The whole contract between the API and the workers: task and queue names, Redis keys and
channels. A name changes here and nowhere else; both sides import it from here.
"""

from __future__ import annotations

import base64
import json
from typing import Any

# Everything this service names on the broker starts with this, so that it shares a Redis
# with other Celery apps without taking their messages or they ours.
NAMESPACE = "moderation."

# Tasks, sent by name: the API process never imports task code.
MODERATE_TASK = "moderation.moderate"
DELIVER_WEBHOOK_TASK = "moderation.deliver_webhook"
SWEEP_TASK = "moderation.sweep"
RELAY_OUTBOX_TASK = "moderation.relay_outbox"
PURGE_TASK = "moderation.purge_expired_text"
ANALYZE_TASK = "moderation.analyze"
SCORE_FEEDBACK_TASK = "moderation.score_feedback"
# Sent by a worker's parent process when a `moderate` batch's child was killed: a child counts
# the kills against the batch's comments (workers/killed.py). New in this release: no legacy name.
COUNT_KILLS_TASK = "moderation.count_kills"
TASKS = (
    MODERATE_TASK,
    DELIVER_WEBHOOK_TASK,
    SWEEP_TASK,
    RELAY_OUTBOX_TASK,
    PURGE_TASK,
    ANALYZE_TASK,
    SCORE_FEEDBACK_TASK,
    COUNT_KILLS_TASK,
)

# The names before the namespace. An API or beat of the previous release sends these; workers
# of this release register each as an alias of the same function (and consume the legacy
# queues below), so that what was queued before an upgrade is still done. Removed in the next
# release.
LEGACY_MODERATE_TASK = "moderate"
LEGACY_DELIVER_WEBHOOK_TASK = "deliver_webhook"
LEGACY_SWEEP_TASK = "sweep"
LEGACY_RELAY_OUTBOX_TASK = "relay_outbox"
LEGACY_PURGE_TASK = "purge_expired_text"
LEGACY_ANALYZE_TASK = "analyze"
LEGACY_SCORE_FEEDBACK_TASK = "score_feedback"
LEGACY_TASKS = {
    MODERATE_TASK: LEGACY_MODERATE_TASK,
    DELIVER_WEBHOOK_TASK: LEGACY_DELIVER_WEBHOOK_TASK,
    SWEEP_TASK: LEGACY_SWEEP_TASK,
    RELAY_OUTBOX_TASK: LEGACY_RELAY_OUTBOX_TASK,
    PURGE_TASK: LEGACY_PURGE_TASK,
    ANALYZE_TASK: LEGACY_ANALYZE_TASK,
    SCORE_FEEDBACK_TASK: LEGACY_SCORE_FEEDBACK_TASK,
}
"""Each task's name before the namespace (COUNT_KILLS_TASK never had one)."""
MODERATE_TASKS = (MODERATE_TASK, LEGACY_MODERATE_TASK)
"""The names a queued `moderate` message may carry."""


def moderate_item(comment_id: str, revision: int) -> str:
    """What a `moderate` task names for one comment: the comment at one revision of its text
    (`<id>@<revision>`). A worker decides it only if the comment is still pending at that
    revision: a result for text the author has since edited is dropped, never stored."""
    return f"{comment_id}@{revision}"


def parse_moderate_item(item: str) -> tuple[str, int | None]:
    """(comment id, revision) of a `moderate` task's item; a bare id (a task sent before
    revisions existed) names whatever revision is current."""
    comment_id, at, revision = item.rpartition("@")
    if not at or not revision.isdigit():
        return item, None
    return comment_id, int(revision)


def moderate_items_in(raw: bytes | str) -> list[str]:
    """The items a queued `moderate` message names, read from kombu's envelope as its Redis
    and filesystem transports store it: a JSON message whose body is Celery's [args, kwargs,
    embed], base64-encoded or not. [] for another task's message or one that can't be read,
    which the sweeper then treats as missing: a re-send is harmless, a comment never sent
    again is not."""
    try:
        return _moderate_items(json.loads(raw))
    except ValueError:
        return []


def held_moderate_items_in(raw: bytes | str) -> list[str]:
    """The same for a message a consumer holds unacknowledged: kombu's Redis transport keeps it
    as [message, exchange, routing key] (`UNACKED_KEY`)."""
    try:
        held = json.loads(raw)
    except ValueError:
        return []
    return _moderate_items(held[0]) if isinstance(held, list) and held else []


def _moderate_items(message: Any) -> list[str]:
    try:
        if message["headers"].get("task") not in MODERATE_TASKS:
            return []
        body = message["body"]
        if message["properties"].get("body_encoding") == "base64":
            body = base64.b64decode(body)
        args = json.loads(body)[0]
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        return []
    if not isinstance(args, list):
        return []
    return [item for item in args if isinstance(item, str)]


# Queues.
MODERATE_QUEUE = "moderation.moderate"
# Scoring `suggestscore` feedback: a queue of its own, so that a burst of feedback takes turns
# with comments rather than standing in front of them (a comment's re-send included), and so
# that the sweeper can tell lost comment tasks from queued ones by this queue's length alone.
FEEDBACK_QUEUE = "moderation.feedback"
DELIVER_QUEUE = "moderation.deliver"
MAINTENANCE_QUEUE = "moderation.maintenance"
# Synchronous Perspective-style calls: workers always ask this queue first (broker/cycle.py).
ANALYZE_QUEUE = "moderation.analyze"
QUEUES = (ANALYZE_QUEUE, MODERATE_QUEUE, FEEDBACK_QUEUE, DELIVER_QUEUE, MAINTENANCE_QUEUE)
# A worker that consumes a queue on the left consumes those on the right too: feedback is
# scored by the processes that score comments, whatever `--queues` names.
COMPANION_QUEUES = {MODERATE_QUEUE: (FEEDBACK_QUEUE,)}
# The queues before the namespace, where an API or beat of the previous release sends (see
# LEGACY_TASKS). A worker consumes each one's legacy queue too; removed in the next release.
LEGACY_ANALYZE_QUEUE = "analyze"
LEGACY_MODERATE_QUEUE = "moderate"
LEGACY_FEEDBACK_QUEUE = "feedback"
LEGACY_DELIVER_QUEUE = "deliver"
LEGACY_MAINTENANCE_QUEUE = "maintenance"
LEGACY_QUEUES = {
    ANALYZE_QUEUE: LEGACY_ANALYZE_QUEUE,
    MODERATE_QUEUE: LEGACY_MODERATE_QUEUE,
    FEEDBACK_QUEUE: LEGACY_FEEDBACK_QUEUE,
    DELIVER_QUEUE: LEGACY_DELIVER_QUEUE,
    MAINTENANCE_QUEUE: LEGACY_MAINTENANCE_QUEUE,
}
"""Each queue's name before the namespace."""
CONSUMED_QUEUES = (*QUEUES, *LEGACY_QUEUES.values())
"""Every queue a worker of this release may consume."""
ANALYZE_QUEUES = (ANALYZE_QUEUE, LEGACY_ANALYZE_QUEUE)
MODERATE_QUEUES = (MODERATE_QUEUE, LEGACY_MODERATE_QUEUE)


def short_name(queue: str) -> str:
    """`moderation.moderate` → `moderate`: what `--queues`, logs and metric labels say."""
    return queue.removeprefix(NAMESPACE)


# By dotted name: kombu imports it in each process that consumes.
ANALYZE_FIRST_CYCLE = "service.broker.cycle:AnalyzeFirstCycle"

# Redis channels and keys.
DECIDED_CHANNEL = "moderation:decided"
"""Pub/sub: the ids of a batch of comments just decided, separated by spaces."""
ANALYZE_RESULT_PREFIX = "moderation:analyze:"
"""+ request id: a list the worker pushes one `comments:analyze` result onto."""
WORKER_HEARTBEAT_PREFIX = "moderation:worker:"
"""+ host:pid: a live worker's heartbeat, with the model it loaded."""
LAST_RUN_PREFIX = "moderation:last-run:"
"""+ job (`sweep`, `relay`): the unix time a beat-scheduled job last completed (no expiry)."""
FLOOD_PREFIX = "moderation:flood:"
"""+ author id: the author's recent comments, for the hard flood limit (API only)."""
REPORT_FLOOD_PREFIX = "moderation:flood:reports:"
"""+ reader id: the reader's recent reports, for the policy's `reports.flood` (API only)."""
PERSPECTIVE_QUOTA_PREFIX = "moderation:perspective:quota:"
"""+ key name: a Perspective API key's queries this second (API only)."""
UNACKED_KEY = "unacked"
"""kombu's Redis transport (its default name): a hash of the messages consumers hold, each as
[message, exchange, routing key], until acknowledged (`task_acks_late`: once the task is done)."""
UNACKED_INDEX_KEY = "unacked_index"
"""kombu's: a sorted set of the same delivery tags, scored by the unix time of delivery."""
