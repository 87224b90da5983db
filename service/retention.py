"""Retention: the text of decided comments older than MODERATION_RETENTION_DAYS is erased.

Decisions, reasons (which carry offsets, never quoted text), scores and the audit stay, so
the history of who decided what remains; the words a reader wrote, and any personal
information a moderator saw in them, do not stay forever. Held comments keep their text
until a moderator decides them: it is what the moderator has to read. The text of
Perspective-style `suggestscore` feedback goes after the same period; its label and scores
stay, so it still counts in the tuning evidence.
"""

from __future__ import annotations

from datetime import timedelta

import structlog

from service.db.engine import Database
from service.db.tables import utcnow
from service.store.comments import erase_comment_text, list_comments_with_text_decided_before
from service.store.perspective import erase_feedback_text_before

log = structlog.get_logger(__name__)

BATCH = 500


def purge_expired_text(db: Database, *, retention_days: int) -> int:
    """Erase in batches, each its own short transaction; returns how many were erased."""
    cutoff = utcnow() - timedelta(days=retention_days)
    erased = 0
    while True:
        with db.session() as session:
            ids = list_comments_with_text_decided_before(session, before=cutoff, limit=BATCH)
            if not ids:
                break
            erase_comment_text(session, comment_ids=ids)
        erased += len(ids)
    feedback = 0
    while True:
        with db.session() as session:
            count = erase_feedback_text_before(session, before=cutoff, limit=BATCH)
        feedback += count
        if count < BATCH:
            break
    if erased or feedback:
        log.info(
            "retention.purged", comments=erased, feedback=feedback, retention_days=retention_days
        )
    return erased
