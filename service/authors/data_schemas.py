"""An author's data: the export document, and the erase request and replies."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from service.http.bodies import DateTime, Resource, Rules, StrictModel

MAX_AUTHOR_ID_CHARS = 255
CONFIRM_RULE = "confirm is required: the author's id, typed again."


class ExportRevision(Resource):
    revision: int
    text: str | None = Field(description="null once erased (deletion or retention).")
    created_at: DateTime


class ExportReason(Resource):
    kind: str
    rule: str | None
    message: str


class ExportDecision(Resource):
    by: str = Field(description="policy, moderator, or reports (taken down by readers' reports).")
    action: str
    at: DateTime
    reasons: list[ExportReason]
    reason_code: str | None
    explanation: str | None = Field(description="What a moderator told the author.")


class ExportComment(Resource):
    id: str
    article_id: str
    parent_id: str | None
    status: str
    created_at: DateTime
    revisions: list[ExportRevision] = Field(description="Every revision's text, oldest first.")
    decisions: list[ExportDecision] = Field(description="Oldest first; no moderator ids.")


class ExportReport(Resource):
    id: str
    comment_id: str
    reason: str
    detail: str | None
    legal_ground: str | None
    explanation: str | None
    good_faith: bool | None
    status: str
    created_at: DateTime
    resolved_at: DateTime | None


class ExportSanction(Resource):
    kind: str
    reason_code: str | None
    explanation: str | None
    until: DateTime | None
    created_at: DateTime
    lifted_at: DateTime | None


class ExportNote(Resource):
    text: str
    at: DateTime


class AuthorExport(Resource):
    """Everything stored about the author, oldest first: what they wrote and what was decided
    about it. No other reader's or moderator's identity."""

    author_id: str
    exported_at: DateTime
    comments: list[ExportComment]
    reports: list[ExportReport] = Field(description="The reports the author made.")
    sanctions: list[ExportSanction]
    notes: list[ExportNote] = Field(description="Moderators' notes about the author, text only.")


class EraseRequest(StrictModel):
    """POST /v1/moderation/authors/{author_id}/erase."""

    confirm: Annotated[
        str,
        Field(min_length=1, max_length=MAX_AUTHOR_ID_CHARS),
        Rules(required=CONFIRM_RULE, invalid_type=CONFIRM_RULE, invalid=CONFIRM_RULE),
    ]


class ErasureCounts(Resource):
    comments: int
    revisions: int
    reports: int = Field(description="Reports the author made.")
    reports_on_comments: int = Field(description="Others' reports of their comments erased.")
    decisions: int = Field(description="Decisions whose context kept their recent texts.")
    notes: int
    settings: int
    sanctions: int
    webhook_events: int = Field(description="Stored webhook payloads scrubbed.")


class ErasureResult(Resource):
    erased: Literal[True]
    already_erased: bool = Field(
        description="true when the id had been erased before and what was stored under it "
        "since (the account came back) was erased now, under a pseudonym of its own."
    )
    pseudonym: str = Field(description="erased:<uuid4>: what replaced the id everywhere.")
    counts: ErasureCounts


class AlreadyErased(Resource):
    already_erased: Literal[True]


def export_reason(reason: Any) -> dict[str, Any]:
    """A stored reason as exported: kind, rule and message (never its evidence)."""
    if not isinstance(reason, dict):
        return {"kind": "unknown", "rule": None, "message": str(reason)}
    return {
        "kind": str(reason.get("kind", "")),
        "rule": reason.get("rule"),
        "message": str(reason.get("message", "")),
    }
