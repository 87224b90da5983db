"""Re-sending tasks for comments still pending after the grace period.

This is what makes "durable before queued" whole: a send lost to a Redis outage, or a task
lost with a killed worker, is sent again; the database's one-decision index makes a
duplicate harmless. A duplicate is not free, though: during a spike every copy inflates
`moderation_queue_depth`, the figure workers autoscale on, and costs a scoring. So the
sweeper re-sends only as many comments as the broker can be missing: every pending comment
has a message in the `moderate` queue or in a worker's hands, unless it was lost, and lost
messages show as more pending comments than queued ones. Each re-send also doubles the wait
before the next one.
"""

from __future__ import annotations

import structlog

from service.broker.contract import MODERATE_QUEUE, MODERATE_TASK, moderate_item
from service.broker.producer import TaskProducer
from service.db.engine import Database
from service.db.tables import utcnow
from service.store.comments import count_pending_comments, mark_enqueued
from service.store.resend import list_comments_due_for_resend

log = structlog.get_logger(__name__)


def sweep_pending(
    db: Database, producer: TaskProducer, *, grace_seconds: float, limit: int = 1000
) -> int:
    now = utcnow()
    # Counted before the queue is read: a comment decided in between leaves the queue too,
    # so the estimate of what is missing errs towards a re-send, never away from one.
    with db.session() as session:
        pending = count_pending_comments(session)
    if pending == 0:
        return 0
    queued = _queued_moderations(producer)
    if queued is not None:
        # Other tasks routed to this queue (score_feedback) can hide a loss only until they
        # drain: the re-send comes at a later sweep.
        if queued >= pending:
            log.debug("sweeper.backlog_queued", pending=pending, queued=queued)
            return 0
        # The few tasks workers hold unacknowledged count as missing here: a handful of
        # duplicates at most, where counting them as safe would strand the task of a worker
        # killed mid-task until its visibility timeout (an hour).
        limit = min(limit, pending - queued)
    with db.session() as session:
        due = list_comments_due_for_resend(
            session, now=now, grace_seconds=grace_seconds, limit=limit
        )
    sent = [
        comment_id
        for comment_id, revision in due
        if producer.send(MODERATE_TASK, moderate_item(comment_id, revision))
    ]
    if sent:
        with db.session() as session:
            mark_enqueued(session, comment_ids=sent, now=now)
        log.info("sweeper.resent", count=len(sent), pending=pending, queued=queued)
    return len(sent)


def _queued_moderations(producer: TaskProducer) -> int | None:
    """The `moderate` queue's length, or None when the broker can't say (the sends will then
    most likely fail too, and be tried again at the next sweep)."""
    try:
        return producer.queue_depths()[MODERATE_QUEUE]
    except Exception as exc:
        log.warning("sweeper.queue_depth_unavailable", error=type(exc).__name__)
        return None
