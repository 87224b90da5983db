"""What the moderators' routes answer: pydantic models, rendered to JSON and documented from
the same definitions (service/http/bodies.py)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, SerializeAsAny

from service.comments.resources import CommentResource, Reason
from service.http.bodies import DateTime, Extension, Resource


def _unstated_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def when_set(description: str | None = None) -> Any:
    """A field only some replies carry: not required, and left out of the JSON when not set
    (these resources are rendered with `exclude_unset`). Its placeholder default is no part
    of the contract."""
    return Field(default=None, description=description, json_schema_extra=_unstated_default)


class Claim(Resource):
    """A moderator's lease on a held comment: no other moderator can decide it until then."""

    moderator_id: str
    until: DateTime


class AuthorRecord(Resource):
    """How the author's other comments went, to weigh this one."""

    approved: int
    rejected: int
    held: int
    banned: bool


class QueueItem(CommentResource, Extension):
    """A held comment as the queue shows it: the comment, and what a moderator weighs."""

    model_config = ConfigDict(title="QueueItem")
    extends = CommentResource

    max_score: float | None = Field(
        description="The highest toxicity label score; what sort=score and min_score use."
    )
    claim: Claim | None
    author_record: AuthorRecord


class QueuePage(Resource):
    # SerializeAsAny: read_queue hands out its items already rendered (JSON objects, as
    # each QueueItem renders), and the page renders them as they are.
    items: list[SerializeAsAny[QueueItem]]
    next: str | None = Field(
        description="Pass as ?cursor= (with the same sort and filters) for the next page; "
        "null on the last page and for claims."
    )


class BulkResult(Resource):
    """One item's answer: applied (comment_status, version) or refused (code, detail)."""

    id: str | None
    status: int = Field(
        description="What this item alone would have answered: 200 applied, else 404, 409 or "
        "422 with `code`."
    )
    code: str = when_set()
    detail: str = when_set()
    comment_status: Literal["approved", "rejected"] = when_set()
    version: int = when_set()


class BulkResults(Resource):
    results: list[BulkResult]


class BanResult(Resource):
    author_id: str
    banned: Literal[True]
    reason: str
    banned_by: str
    banned_at: DateTime
    rejected: list[str] = Field(description="Ids of the held comments rejected with the ban.")


class HistoryEntry(Resource):
    by: Literal["policy", "moderator"]
    action: Literal["approve", "hold", "reject"]
    reason: str | None
    moderator_id: str | None
    policy_version: str | None
    at: DateTime
    reasons: list[Reason] = when_set("Policy decisions only.")
    override: bool = when_set("Moderator decisions only: a deliberate reversal.")


class History(Resource):
    items: list[HistoryEntry]


class ReviewCounts(Resource):
    total: int
    by_action: dict[str, int]
    by_moderator: dict[str, int]


class DecisionWindows(Resource):
    last_hour: ReviewCounts
    last_day: ReviewCounts


class ModerationStats(Resource):
    as_of: DateTime
    held: int
    oldest_held_at: DateTime | None
    oldest_held_age_seconds: int | None
    decisions: DecisionWindows = Field(description="Moderator decisions in each window.")
    holds_by_reason: dict[str, int] = Field(
        description="Held comments by the kind of rule that held them; a comment held for two "
        "kinds counts under each."
    )
