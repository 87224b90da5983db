"""The comment resource as clients see it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from service.db.tables import Comment, Decision


def isoformat(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def comment_resource(comment: Comment, decisions: Sequence[Decision]) -> dict[str, Any]:
    automated = next((d for d in decisions if d.by == "policy"), None)
    reviews = [d for d in decisions if d.by == "moderator"]
    return {
        "id": comment.id,
        "article_id": comment.article_id,
        "parent_id": comment.parent_id,
        "author_id": comment.author_id,
        "text": comment.text,
        "status": comment.status,
        "version": comment.version,
        "created_at": isoformat(comment.created_at),
        "decided_at": isoformat(comment.decided_at),
        "decision": automated_resource(automated) if automated else None,
        "review": review_resource(reviews[-1]) if reviews else None,
    }


def automated_resource(decision: Decision) -> dict[str, Any]:
    return {
        "action": decision.action,
        "by": "policy",
        "reasons": decision.reasons,
        "scores": decision.scores,
        "policy_version": decision.policy_version,
        "model": decision.model,
        "at": isoformat(decision.at),
    }


def review_resource(decision: Decision) -> dict[str, Any]:
    return {
        "action": decision.action,
        "moderator_id": decision.moderator_id,
        "reason": decision.reason,
        "at": isoformat(decision.at),
    }
