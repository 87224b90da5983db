"""The webhook events of a moderator's decision, written to the outbox in its transaction:
`comment.decided` (the comment changed), `comment.reviewed` (who decided what, with the code
and the explanation for the author) and one `report.resolved` per report it closed."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from service.comments.resources import comment_resource, isoformat
from service.db.tables import Comment, Decision, Report
from service.events import COMMENT_DECIDED, COMMENT_REVIEWED, REPORT_RESOLVED, write_events
from service.store.decisions import list_decisions


def announce_review(
    session: Session,
    events: Collection[str],
    *,
    comment: Comment,
    decision: Decision,
    closed: Sequence[Report],
    now: datetime,
) -> list[str]:
    """The outbox rows of one decision (those the deployment announces); their ids."""
    written: list[str] = []
    if COMMENT_DECIDED in events:
        resource = comment_resource(comment, list_decisions(session, comment_id=comment.id))
        written += write_events(
            session, events, COMMENT_DECIDED, [(comment.id, resource)], now=now
        ).values()
    reviewed = {
        "comment_id": comment.id,
        "version": comment.version,
        "action": decision.action,
        "status": comment.status,
        "reason_code": decision.reason_code,
        "explanation": decision.explanation,
        "legal_ground": decision.legal_ground,
        "at": isoformat(decision.at),
    }
    written += write_events(
        session, events, COMMENT_REVIEWED, [(comment.id, reviewed)], now=now
    ).values()
    return written + announce_resolved(session, events, comment=comment, closed=closed, now=now)


def announce_resolved(
    session: Session,
    events: Collection[str],
    *,
    comment: Comment,
    closed: Sequence[Report],
    now: datetime,
) -> list[str]:
    """One `report.resolved` per report closed (if the deployment announces it); their ids."""
    written: list[str] = []
    # One call per report: the ids come back keyed by comment, and these share one.
    for report in closed:
        resolved = {
            "report_id": report.id,
            "comment_id": comment.id,
            "version": comment.version,
            "reporter_id": report.reporter_id,
            "reason": report.reason,
            "outcome": report.status,
            "resolved_at": isoformat(report.resolved_at),
        }
        written += write_events(
            session, events, REPORT_RESOLVED, [(comment.id, resolved)], now=now
        ).values()
    return written
