"""What moderators read of a comment's past and of the desk's work: history and stats."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from service.comments.resources import Reason, isoformat
from service.db.engine import Database
from service.db.tables import Decision, utcnow
from service.errors import ProblemError
from service.http.bodies import build
from service.moderation.resources import (
    DecisionWindows,
    History,
    HistoryEntry,
    ModerationStats,
    ReviewCounts,
)
from service.moderation.review import REVIEW_STATUS
from service.store.comments import get_comment_or_none
from service.store.decisions import list_decisions
from service.store.moderation import (
    count_holds_by_reason,
    count_reviews_since,
    held_summary,
    list_audit_entries,
)

STATS_WINDOWS = {"last_hour": timedelta(hours=1), "last_day": timedelta(days=1)}
"""The windows of DecisionWindows, by field name."""


def comment_history(db: Database, *, comment_id: str) -> History:
    with db.session() as session:
        if get_comment_or_none(session, comment_id=comment_id) is None:
            raise ProblemError(404, "not_found", "No such comment.")
        overrides = {
            entry.decision_id: entry.override
            for entry in list_audit_entries(session, comment_id=comment_id)
        }
        return build(
            History,
            items=[
                _history_entry(decision, override=overrides.get(decision.id, False))
                for decision in list_decisions(session, comment_id=comment_id)
            ],
        )


def moderation_stats(db: Database, *, now: datetime | None = None) -> ModerationStats:
    now = now or utcnow()
    with db.session() as session:
        held, oldest = held_summary(session)
        windows = {
            name: _review_counts(count_reviews_since(session, since=now - span))
            for name, span in STATS_WINDOWS.items()
        }
        holds_by_reason = count_holds_by_reason(session)
    return build(
        ModerationStats,
        as_of=isoformat(now),
        held=held,
        oldest_held_at=isoformat(oldest),
        oldest_held_age_seconds=None
        if oldest is None
        else max(0, int((now - oldest).total_seconds())),
        decisions=build(DecisionWindows, **windows),
        holds_by_reason=holds_by_reason,
    )


def _history_entry(decision: Decision, *, override: bool) -> HistoryEntry:
    """Rendered with `exclude_unset`: an automated decision's reasons (the policy's, or the
    reports' count), or a moderator's override."""
    only: dict[str, object] = (
        {"override": override}
        if decision.by == "moderator"
        else {"reasons": [build(Reason, **reason) for reason in decision.reasons]}
    )
    return build(
        HistoryEntry,
        by=decision.by,
        action=decision.action,
        revision=decision.revision,
        reason=decision.reason,
        reason_code=decision.reason_code,
        explanation=decision.explanation,
        legal_ground=decision.legal_ground,
        moderator_id=decision.moderator_id,
        policy_version=decision.policy_version,
        at=isoformat(decision.at),
        **only,
    )


def _review_counts(rows: list[tuple[str, str | None, int]]) -> ReviewCounts:
    by_action: dict[str, int] = {action: 0 for action in REVIEW_STATUS}
    by_moderator: dict[str, int] = defaultdict(int)
    for action, moderator_id, count in rows:
        by_action[action] = by_action.get(action, 0) + count
        by_moderator[moderator_id or "unknown"] += count
    return build(
        ReviewCounts,
        total=sum(by_action.values()),
        by_action=by_action,
        by_moderator=dict(sorted(by_moderator.items())),
    )
