"""The comment resource as clients see it: pydantic models, rendered to JSON and documented
from the same definitions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import ConfigDict, Field

from service.db.tables import Comment, Decision
from service.http.bodies import DateTime, Resource, build
from service.reports.reasons import ReasonCode

Status = Literal["pending", "approved", "held", "rejected", "hidden", "deleted"]
"""`hidden`: taken down by readers' reports, until a moderator keeps or rejects it.
`deleted`: by its author; its text (of every revision) is erased, `text` is null."""


class Reason(Resource):
    """Why the policy held a comment, for a person: the rule's figures ride along."""

    model_config = ConfigDict(extra="allow")
    kind: str
    rule: str
    message: str


class AutomatedDecision(Resource):
    action: Literal["approve", "hold"]
    by: Literal["policy"]
    reasons: list[Reason]
    scores: dict[str, float]
    policy_version: str | None
    model: str | None
    at: DateTime


class Review(Resource):
    """A moderator's latest decision; `keep` publishes a reported comment again."""

    action: Literal["approve", "reject", "keep"]
    moderator_id: str | None
    reason: str | None
    reason_code: ReasonCode | None
    explanation: str | None = Field(description="What the author may be told.")
    legal_ground: str | None = Field(description="With reason_code illegal: the law it breaks.")
    at: DateTime


class CommentResource(Resource):
    model_config = ConfigDict(title="Comment")
    id: str
    article_id: str
    parent_id: str | None
    author_id: str
    text: str | None
    status: Status
    version: int
    revision: int = Field(
        description="The text's revision: 1 as posted, + 1 for each edit by its author."
    )
    created_at: DateTime
    decided_at: DateTime | None
    decision: AutomatedDecision | None = Field(
        description="The policy's decision on the current revision; null while it is pending."
    )
    review: Review | None


def isoformat(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def comment_resource(comment: Comment, decisions: Sequence[Decision]) -> dict[str, Any]:
    return build(CommentResource, **comment_fields(comment, decisions)).model_dump(mode="json")


def comment_fields(comment: Comment, decisions: Sequence[Decision]) -> dict[str, Any]:
    """The values of a CommentResource's fields, for it or a resource that extends it."""
    automated = next(
        (d for d in decisions if d.by == "policy" and d.revision == comment.revision), None
    )
    reviews = [d for d in decisions if d.by == "moderator"]
    return {
        "id": comment.id,
        "article_id": comment.article_id,
        "parent_id": comment.parent_id,
        "author_id": comment.author_id,
        "text": comment.text,
        "status": comment.status,
        "version": comment.version,
        "revision": comment.revision,
        "created_at": isoformat(comment.created_at),
        "decided_at": isoformat(comment.decided_at),
        "decision": automated_resource(automated) if automated else None,
        "review": review_resource(reviews[-1]) if reviews else None,
    }


def automated_resource(decision: Decision) -> AutomatedDecision:
    return build(
        AutomatedDecision,
        action=decision.action,
        by="policy",
        reasons=[build(Reason, **reason) for reason in decision.reasons],
        scores=decision.scores,
        policy_version=decision.policy_version,
        model=decision.model,
        at=isoformat(decision.at),
    )


def review_resource(decision: Decision) -> Review:
    return build(
        Review,
        action=decision.action,
        moderator_id=decision.moderator_id,
        reason=decision.reason,
        reason_code=decision.reason_code,
        explanation=decision.explanation,
        legal_ground=decision.legal_ground,
        at=isoformat(decision.at),
    )
