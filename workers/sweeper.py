"""Re-sending tasks for comments still pending, and feedback still unscored, after the grace
period.

This is what makes "durable before queued" whole: a send lost to a Redis outage, or a task
lost with a killed worker, is sent again; the database's one-decision index makes a
duplicate comment task harmless, and a feedback task scores only rows still unscored. A
duplicate is not free, though: during a spike every copy inflates `moderation_queue_depth`,
the figure workers autoscale on, and costs a scoring. So the sweeper re-sends only as many
tasks as the broker can be missing: every pending comment has a message in the `moderate`
queue or in a worker's hands, unless it was lost, and lost messages show as more pending
comments than queued ones; likewise each unscored suggestion (the rows one `suggestscore`
stored, scored by one task) in the `feedback` queue. Each re-send also doubles the wait
before the next one. Feedback whose text retention erased before it was scored is owed
nothing and left alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import structlog

from service.broker.contract import (
    FEEDBACK_QUEUE,
    MODERATE_QUEUE,
    MODERATE_TASK,
    SCORE_FEEDBACK_TASK,
    moderate_item,
)
from service.broker.producer import TaskProducer
from service.db.engine import Database
from service.db.tables import utcnow
from service.store.comments import count_pending_comments, mark_enqueued
from service.store.perspective import count_unscored_suggestions, mark_feedback_enqueued
from service.store.resend import list_comments_due_for_resend, list_feedback_due_for_resend

log = structlog.get_logger(__name__)


def sweep_pending(
    db: Database, producer: TaskProducer, *, grace_seconds: float, limit: int = 1000
) -> int:
    """Comment tasks re-sent; see sweep_feedback for feedback's."""
    now = utcnow()
    # Counted before the queue is read: a comment decided in between leaves the queue too,
    # so the estimate of what is missing errs towards a re-send, never away from one.
    with db.session() as session:
        pending = count_pending_comments(session)
    missing = _missing(producer, MODERATE_QUEUE, owed=pending, limit=limit)
    if missing == 0:
        return 0
    with db.session() as session:
        due = list_comments_due_for_resend(
            session, now=now, grace_seconds=grace_seconds, limit=missing
        )
    sent = [
        comment_id
        for comment_id, revision in due
        if producer.send(MODERATE_TASK, moderate_item(comment_id, revision))
    ]
    if sent:
        with db.session() as session:
            mark_enqueued(session, comment_ids=sent, now=now)
        log.info("sweeper.resent", count=len(sent), pending=pending)
    return len(sent)


def sweep_feedback(
    db: Database, producer: TaskProducer, *, grace_seconds: float, limit: int = 1000
) -> int:
    """`score_feedback` tasks re-sent, one per suggestion, as `suggestscore` sent them."""
    now = utcnow()
    with db.session() as session:
        unscored = count_unscored_suggestions(session)
    missing = _missing(producer, FEEDBACK_QUEUE, owed=unscored, limit=limit)
    if missing == 0:
        return 0
    with db.session() as session:
        due = list_feedback_due_for_resend(
            session, now=now, grace_seconds=grace_seconds, limit=missing
        )
    sent = [ids for ids in due if producer.send(SCORE_FEEDBACK_TASK, ids)]
    if sent:
        with db.session() as session:
            mark_feedback_enqueued(session, feedback_ids=_flatten(sent), now=now)
        log.info("sweeper.feedback_resent", tasks=len(sent), unscored=unscored)
    return len(sent)


def _missing(producer: TaskProducer, queue: str, *, owed: int, limit: int) -> int:
    """How many of `owed` tasks the broker can be missing from `queue`, at most `limit`."""
    if owed == 0:
        return 0
    queued = _queue_length(producer, queue)
    if queued is None:
        return limit
    if queued >= owed:
        log.debug("sweeper.backlog_queued", queue=queue, owed=owed, queued=queued)
        return 0
    # The few tasks workers hold unacknowledged count as missing here: a handful of
    # duplicates at most, where counting them as safe would strand the task of a worker
    # killed mid-task until its visibility timeout (an hour).
    return min(limit, owed - queued)


def _queue_length(producer: TaskProducer, queue: str) -> int | None:
    """The queue's length, or None when the broker can't say (the sends will then most likely
    fail too, and be tried again at the next sweep)."""
    try:
        return producer.queue_depths()[queue]
    except Exception as exc:
        log.warning("sweeper.queue_depth_unavailable", queue=queue, error=type(exc).__name__)
        return None


def _flatten(groups: Sequence[Sequence[int]]) -> list[int]:
    return [item for group in groups for item in group]


def sweep_all(db: Database, producer: TaskProducer, *, grace_seconds: float) -> int:
    """The `sweep` task: comments first, which readers wait on, then feedback."""
    return sweep_pending(db, producer, grace_seconds=grace_seconds) + sweep_feedback(
        db, producer, grace_seconds=grace_seconds
    )
