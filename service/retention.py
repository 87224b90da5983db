"""Retention: the text of decided comments older than MODERATION_RETENTION_DAYS is erased.

Decisions, reasons (offsets, and the domains a link reason names; never the text), scores
and the audit stay, so the history of who decided what remains; the words a reader wrote,
and any personal information a moderator saw in them, do not stay forever. Held comments
keep their text until a moderator decides them, and so do comments with open reports (hidden
or not): it is what the moderator has to read.

What follows a comment's text goes with it, in the same transaction: the text of its every
revision, its copies in delivered webhook payloads, and the words of its readers' reports
(`detail`, a legal notice's `explanation`, all closed by then), since they often quote it.
The words of any report closed that long ago go too, whatever became of its comment; the
reason and outcome stay, for report precision. The text of Perspective-style `suggestscore`
feedback goes after the same period; its label and scores stay, so it still counts in the
tuning evidence. An author's deletion (`service.comments.delete`) erases a comment's text
and what follows it at once, undelivered payloads included.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import structlog

from service.db.engine import Database
from service.db.tables import utcnow
from service.store.comments import erase_comment_text, list_comments_with_text_decided_before
from service.store.perspective import erase_feedback_text_before
from service.store.reports import erase_report_text, erase_report_text_before

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
            erase_report_text(session, comment_ids=ids)
        erased += len(ids)
    feedback = _erase_in_batches(db, erase_feedback_text_before, before=cutoff)
    reports = _erase_in_batches(db, erase_report_text_before, before=cutoff)
    if erased or feedback or reports:
        log.info(
            "retention.purged",
            comments=erased,
            feedback=feedback,
            reports=reports,
            retention_days=retention_days,
        )
    return erased


def _erase_in_batches(db: Database, erase: Callable[..., int], *, before: datetime) -> int:
    """Run `erase` (a store function erasing up to `limit` rows) until a batch comes up short."""
    total = 0
    while True:
        with db.session() as session:
            count = erase(session, before=before, limit=BATCH)
        total += count
        if count < BATCH:
            return total
