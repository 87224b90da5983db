"""What the moderators' routes answer: pydantic models, rendered to JSON and documented from
the same definitions (service/http/bodies.py)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, SerializeAsAny

from service.comments.resources import CommentResource, Reason
from service.http.bodies import DateTime, Extension, Resource
from service.moderation.thread_resources import Parent, RepliesCount
from service.reports.reasons import ReasonCode, ReportReason

REPORT_SAMPLE = 20
"""How many reporters, details and legal notices a reported queue item lists."""


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


class ReportDetail(Resource):
    """What a reader wrote when reporting the comment."""

    reason: ReportReason
    detail: str
    at: DateTime


class LegalNotice(Resource):
    """A report of illegal content: the notice fields of the EU DSA, Art. 16."""

    report_id: str
    legal_ground: str | None
    explanation: str | None
    good_faith: bool | None
    at: DateTime


class Reports(Resource):
    """A reported comment's open reports, for the moderator weighing them. The reported queue
    shows who reported it; the comment's author never sees this."""

    total: int = Field(description="Open reports, one per reader.")
    by_reason: dict[str, int] = Field(description="Open reports by reason.")
    reporters: list[str] = Field(
        description=f"The latest {REPORT_SAMPLE} reporters' ids, newest first."
    )
    details: list[ReportDetail] = Field(
        description=f"The latest {REPORT_SAMPLE} reports that say more than a reason, newest first."
    )
    legal_notices: list[LegalNotice] = Field(
        description=f"The latest {REPORT_SAMPLE} reports of illegal content, newest first."
    )
    hidden: bool = Field(description="Taken down by reports (status hidden) until decided.")


class QueueItem(CommentResource, Extension):
    """A held or reported comment as the queue shows it: the comment, and what a moderator
    weighs."""

    model_config = ConfigDict(title="QueueItem")
    extends = CommentResource

    max_score: float | None = Field(
        description="The highest toxicity label score; what sort=score and min_score use."
    )
    claim: Claim | None
    author_record: AuthorRecord
    parent: Parent
    replies_count: RepliesCount
    reports: Reports = when_set("The reported queue's items only (?queue=reported).")


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
    """One decision: the policy's, a moderator's, or readers' reports taking the comment down
    (by reports, action hide)."""

    by: Literal["policy", "moderator", "reports"]
    action: Literal["approve", "hold", "reject", "hide", "keep"]
    revision: int = Field(description="The revision of the comment's text it was made on.")
    reason: str | None
    reason_code: ReasonCode | None
    explanation: str | None = Field(description="What the author may be told.")
    legal_ground: str | None = Field(description="With reason_code illegal: the law it breaks.")
    moderator_id: str | None
    policy_version: str | None
    at: DateTime
    reasons: list[Reason] = when_set("Policy and reports decisions only.")
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
