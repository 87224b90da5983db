"""What moderators read of a comment's past and of the desk's work: history and stats."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from service.comments.resources import isoformat
from service.db.engine import Database
from service.db.tables import Decision, utcnow
from service.errors import ProblemError
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


def comment_history(db: Database, *, comment_id: str) -> list[dict[str, Any]]:
    with db.session() as session:
        if get_comment_or_none(session, comment_id=comment_id) is None:
            raise ProblemError(404, "not_found", "No such comment.")
        overrides = {
            entry.decision_id: entry.override
            for entry in list_audit_entries(session, comment_id=comment_id)
        }
        return [
            _history_entry(decision, override=overrides.get(decision.id, False))
            for decision in list_decisions(session, comment_id=comment_id)
        ]


def moderation_stats(db: Database, *, now: datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    with db.session() as session:
        held, oldest = held_summary(session)
        windows = {
            name: _review_counts(count_reviews_since(session, since=now - span))
            for name, span in STATS_WINDOWS.items()
        }
        holds_by_reason = count_holds_by_reason(session)
    return {
        "as_of": isoformat(now),
        "held": held,
        "oldest_held_at": isoformat(oldest),
        "oldest_held_age_seconds": None
        if oldest is None
        else max(0, int((now - oldest).total_seconds())),
        "decisions": windows,
        "holds_by_reason": holds_by_reason,
    }


def _history_entry(decision: Decision, *, override: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "by": decision.by,
        "action": decision.action,
        "reason": decision.reason,
        "moderator_id": decision.moderator_id,
        "policy_version": decision.policy_version,
        "at": isoformat(decision.at),
    }
    if decision.by == "policy":
        entry["reasons"] = decision.reasons
    else:
        entry["override"] = override
    return entry


def _review_counts(rows: list[tuple[str, str | None, int]]) -> dict[str, Any]:
    by_action: dict[str, int] = {action: 0 for action in REVIEW_STATUS}
    by_moderator: dict[str, int] = defaultdict(int)
    for action, moderator_id, count in rows:
        by_action[action] = by_action.get(action, 0) + count
        by_moderator[moderator_id or "unknown"] += count
    return {
        "total": sum(by_action.values()),
        "by_action": by_action,
        "by_moderator": dict(sorted(by_moderator.items())),
    }
