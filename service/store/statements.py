"""The rows statements of reasons are made from: restricting decisions in a window, a page at
a time, with what each rests on (the comment's date, the reports open then, the policy's hold).
Never the comment's author or text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from service.db.tables import Comment, Decision, Report


@dataclass(frozen=True)
class RestrictionRow:
    decision_id: int
    comment_id: str
    by: str
    action: str
    reasons: list[dict[str, Any]]
    reason_code: str | None
    explanation: str | None
    legal_ground: str | None
    at: datetime
    content_date: datetime


def list_restrictions(
    session: Session,
    *,
    kinds: Sequence[tuple[str, str]],
    since: datetime,
    until: datetime,
    after: tuple[datetime, int] | None,
    limit: int,
) -> list[RestrictionRow]:
    """Decisions of the (by, action) `kinds` made in [since, until), oldest first, after the
    (at, id) of the last row of the previous page."""
    query = (
        select(
            Decision.id,
            Decision.comment_id,
            Decision.by,
            Decision.action,
            Decision.reasons,
            Decision.reason_code,
            Decision.explanation,
            Decision.legal_ground,
            Decision.at,
            Comment.created_at,
        )
        .join(Comment, Comment.id == Decision.comment_id)
        .where(
            or_(*(and_(Decision.by == by, Decision.action == action) for by, action in kinds)),
            Decision.at >= since,
            Decision.at < until,
        )
    )
    if after is not None:
        at, decision_id = after
        query = query.where(
            or_(Decision.at > at, and_(Decision.at == at, Decision.id > decision_id))
        )
    rows = session.execute(query.order_by(Decision.at, Decision.id).limit(limit))
    return [RestrictionRow(*row) for row in rows]


def list_report_spans(
    session: Session, *, comment_ids: Sequence[str]
) -> dict[str, list[tuple[str, datetime, datetime | None]]]:
    """Each comment's reports as (reason, made at, closed at or None); no reporter."""
    found: dict[str, list[tuple[str, datetime, datetime | None]]] = {}
    if comment_ids:
        rows = session.execute(
            select(Report.comment_id, Report.reason, Report.created_at, Report.resolved_at)
            .where(Report.comment_id.in_(comment_ids))
            .order_by(Report.created_at, Report.id)
        )
        for comment_id, reason, created_at, resolved_at in rows:
            found.setdefault(comment_id, []).append((reason, created_at, resolved_at))
    return found


def list_policy_holds(
    session: Session, *, comment_ids: Sequence[str]
) -> dict[str, list[dict[str, Any]]]:
    """The reasons of each comment's policy hold, for the comments the policy held."""
    if not comment_ids:
        return {}
    rows = session.execute(
        select(Decision.comment_id, Decision.reasons).where(
            Decision.comment_id.in_(comment_ids),
            Decision.by == "policy",
            Decision.action == "hold",
        )
    )
    return {comment_id: list(reasons or ()) for comment_id, reasons in rows}
