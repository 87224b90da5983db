"""Re-sending tasks for comments still pending, and feedback still unscored, after the grace
period.

This is what makes "durable before queued" whole: a send lost to a Redis outage, or a task
lost with a killed worker, is sent again; the database's one-decision index makes a
duplicate comment task harmless, and a feedback task scores only rows still unscored. A
duplicate is not free, though: during a spike every copy inflates the backlog workers
autoscale on, and costs a scoring. So the sweeper re-sends only what the broker is missing.
A comment is missing when no message in the `moderate` queue names it at its current revision
and no worker took one naming it within the grace period (one message names up to a batch of
comments, so counting messages would not do). Each unscored suggestion (the rows one
`suggestscore` stored, scored by one task) is owed one message in the `feedback` queue, so
there the queue's length is compared with their count. Each re-send also doubles the wait
before the next one.
Feedback whose text retention erased before it was scored is owed nothing and left alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from itertools import islice

import structlog

from service.broker.backlog import ModerateBacklog
from service.broker.contract import (
    FEEDBACK_QUEUE,
    MODERATE_TASK,
    SCORE_FEEDBACK_TASK,
    moderate_item,
)
from service.broker.producer import TaskProducer
from service.db.engine import Database
from service.db.tables import utcnow
from service.store.comments import count_pending_comments, mark_enqueued
from service.store.perspective import count_unscored_suggestions, mark_feedback_enqueued
from service.store.resend import iter_comments_due_for_resend, list_feedback_due_for_resend

log = structlog.get_logger(__name__)


def sweep_pending(
    db: Database, producer: TaskProducer, *, grace_seconds: float, limit: int = 1000
) -> int:
    """Comment tasks re-sent; see sweep_feedback for feedback's."""
    now = utcnow()
    # Counted before the broker is read: a comment decided in between leaves the queue too,
    # so the estimate of what is missing errs towards a re-send, never away from one.
    with db.session() as session:
        pending = count_pending_comments(session)
    if pending == 0:
        return 0
    # A message a worker has held for longer than the grace period went with a killed worker
    # (a batch scores in seconds): kombu would restore it only after its visibility timeout,
    # an hour, so its comments count as missing.
    backlog = _moderate_backlog(producer, held_since=now - timedelta(seconds=grace_seconds))
    budget = _budget(backlog, pending=pending, limit=limit)
    if budget == 0:
        return 0
    with db.session() as session:
        due = iter_comments_due_for_resend(session, now=now, grace_seconds=grace_seconds)
        unnamed = (
            (comment_id, revision)
            for comment_id, revision in due
            if backlog is None or not backlog.names(comment_id, revision)
        )
        missing = list(islice(unnamed, budget))
    sent = [
        comment_id
        for comment_id, revision in missing
        if producer.send(MODERATE_TASK, moderate_item(comment_id, revision))
    ]
    if sent:
        with db.session() as session:
            mark_enqueued(session, comment_ids=sent, now=now)
        log.info("sweeper.resent", count=len(sent), pending=pending)
    return len(sent)


def _moderate_backlog(producer: TaskProducer, *, held_since: datetime) -> ModerateBacklog | None:
    """None when the broker can't say (the sends will then most likely fail too, and be tried
    again at the next sweep)."""
    try:
        return producer.moderate_backlog(held_since=held_since.timestamp())
    except Exception as exc:
        log.warning("sweeper.backlog_unavailable", error=type(exc).__name__)
        return None


def _budget(backlog: ModerateBacklog | None, *, pending: int, limit: int) -> int:
    """How many comments to re-send at most. When the queue was too long to read whole, the
    unread messages may name any pending comment: only as many as the comments they and the
    read ones name fall short of the pending count."""
    if backlog is None or backlog.queued.complete:
        return limit
    accounted = backlog.queued.comments + len(backlog.held)
    log.debug("sweeper.backlog_estimated", pending=pending, queued=backlog.queued.comments)
    return max(0, min(limit, pending - accounted))


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
