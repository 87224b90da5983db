"""Re-sending tasks for comments still pending after the grace period.

This is what makes "durable before queued" whole: a send lost to a Redis outage, or a task
lost with a killed worker, is sent again; the database's one-decision index makes a
duplicate harmless. Each re-send doubles the wait before the next one, so a long backlog
(a comment merely waiting its turn) is not flooded with copies.
"""

from __future__ import annotations

from datetime import timedelta

import structlog

from service import store
from service.db import Database
from service.models import utcnow
from service.queue import MODERATE_TASK, TaskProducer

log = structlog.get_logger(__name__)


def sweep_pending(
    db: Database, producer: TaskProducer, *, grace_seconds: float, limit: int = 1000
) -> int:
    now = utcnow()
    with db.session() as session:
        candidates = store.list_pending_enqueued_before(
            session, enqueued_before=now - timedelta(seconds=grace_seconds), limit=limit
        )
    stale = [
        comment_id
        for comment_id, enqueued_at, count in candidates
        if enqueued_at < now - timedelta(seconds=grace_seconds * 2 ** min(count - 1, 6))
    ]
    sent = [comment_id for comment_id in stale if producer.send(MODERATE_TASK, comment_id)]
    if sent:
        with db.session() as session:
            store.mark_enqueued(session, comment_ids=sent, now=now)
        log.info("sweeper.resent", count=len(sent))
    return len(sent)
