"""An author deletes their comment: the text of every revision is erased at once, with every
copy the service made of it, in one transaction with the status change and its events.

What stays: the row (status `deleted`, so replies keep their parent and a late worker finds
nothing to decide), the decisions, their reasons (offsets, never the text), scores, labels
and the audit. The comment's open reports close as `withdrawn` (no moderator decided them): no
moderator needs to read them any more, there is no comment left to uphold, and a reporter's
precision counts only reports a moderator decided. What readers
wrote in its reports goes too: it often quotes the text.
"""

from __future__ import annotations

from datetime import datetime

import structlog

from service.comments.resources import isoformat
from service.db.engine import Database
from service.db.tables import utcnow
from service.errors import ProblemError
from service.events import COMMENT_DELETED, write_events
from service.http.auth import Principal
from service.moderation.announce import announce_resolved
from service.store.comments import erase_comment_text, mark_comment_deleted
from service.store.moderation import lock_comment_or_none
from service.store.reports import WITHDRAWN, close_open_reports, erase_report_text

log = structlog.get_logger(__name__)


def delete_comment(
    db: Database,
    *,
    principal: Principal,
    comment_id: str,
    events: frozenset[str],
    now: datetime | None = None,
) -> list[str]:
    """Delete the caller's comment; the outbox events written (none if it was already
    deleted). 404 alike for missing and not the caller's, as GET answers: a moderator
    deletes nothing here (they reject). A banned author may still delete."""
    now = now or utcnow()
    with db.session() as session:
        comment = lock_comment_or_none(session, comment_id=comment_id)
        if comment is None or comment.author_id != principal.sub:
            raise ProblemError(404, "not_found", "No such comment.")
        if comment.status == "deleted":
            return []
        previous = comment.status
        erase_comment_text(session, comment_ids=[comment.id], pending_events=True)
        erase_report_text(session, comment_ids=[comment.id])
        mark_comment_deleted(session, comment=comment, now=now)
        closed = close_open_reports(
            session, comment_id=comment.id, outcome=WITHDRAWN, moderator_id=None, now=now
        )
        deleted = {"comment_id": comment.id, "version": comment.version, "at": isoformat(now)}
        written = list(
            write_events(
                session, events, COMMENT_DELETED, [(comment.id, deleted)], now=now
            ).values()
        )
        written += announce_resolved(session, events, comment=comment, closed=closed, now=now)
    log.info(
        "comment.deleted",
        comment_id=comment_id,
        previous_status=previous,
        reports_closed=len(closed),
    )
    return written
