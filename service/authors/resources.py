"""The author routes' replies: a moderator's note, and the author record (one view of a
reader, for moderators)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from service.authors.sanction_schemas import SanctionResource
from service.comments.resources import AutomatedDecision, Status, isoformat
from service.db.tables import AuthorNote
from service.http.bodies import DateTime, Resource, build

TrustState = Literal[
    "always_hold", "trusted", "auto_trusted", "new_commenter", "recent_rejections", "standard"
]


class NoteResource(Resource):
    model_config = ConfigDict(title="AuthorNote")
    id: int
    author_id: str
    moderator_id: str
    text: str
    at: DateTime


class NoteList(Resource):
    model_config = ConfigDict(title="AuthorNotes")
    items: list[NoteResource] = Field(description="Newest first.")


class StatusCounts(Resource):
    """How many of the author's comments are in each status now."""

    model_config = ConfigDict(title="AuthorCommentCounts")
    pending: int
    approved: int
    held: int
    rejected: int
    hidden: int
    deleted: int


class Trust(Resource):
    """How the policy in force treats the author's next comment, and why."""

    model_config = ConfigDict(title="AuthorTrust")
    state: TrustState = Field(
        description="always_hold and trusted are set by moderators (the author's settings); "
        "auto_trusted, new_commenter and recent_rejections by the policy's author rules from "
        "the figures; new_commenter and recent_rejections hold the author's comments."
    )
    rule: str | None = Field(description="The policy rule behind the state, if any.")
    message: str
    figures: dict[str, Any] = Field(
        description="What the author rules count: decisions on the author's comments, overall "
        "and over the recent window."
    )


class ReportsMade(Resource):
    """The reports this reader filed about others' comments."""

    model_config = ConfigDict(title="AuthorReports")
    made: int
    open: int
    upheld: int
    dismissed: int
    precision: float | None = Field(
        description="upheld / (upheld + dismissed); null before any was decided."
    )


class RecordComment(Resource):
    model_config = ConfigDict(title="AuthorViewComment")
    id: str
    article_id: str
    parent_id: str | None
    status: Status
    text: str | None = Field(description="null once deleted by its author.")
    revision: int
    created_at: DateTime
    decision: AutomatedDecision | None = Field(
        description="The policy's decision on the current revision, as on the comment "
        "resource; null while it is pending."
    )


class RecordComments(Resource):
    model_config = ConfigDict(title="AuthorViewComments")
    items: list[RecordComment] = Field(description="Every status, newest first.")
    next_cursor: str | None = Field(
        description="Pass as ?cursor= for the next (older) page; null on the last page."
    )


class AuthorView(Resource):
    """One view of a reader. An author who never commented has an empty record (a site may
    sanction an account before its first comment)."""

    model_config = ConfigDict(title="AuthorView")
    author_id: str
    counts: StatusCounts
    first_comment_at: DateTime | None
    last_comment_at: DateTime | None
    trust: Trust
    sanction: SanctionResource | None = Field(
        description="The sanction in force that answers the author's posts (a ban, else the "
        "suspension ending last); null if none."
    )
    sanctions: list[SanctionResource] = Field(
        description="Every sanction, lifted and lapsed ones included, newest first."
    )
    notes: list[NoteResource] = Field(description="Moderators' notes, newest first.")
    reports: ReportsMade
    comments: RecordComments


def note_resource(note: AuthorNote) -> NoteResource:
    return build(
        NoteResource,
        id=note.id,
        author_id=note.author_id,
        moderator_id=note.moderator_id,
        text=note.text,
        at=isoformat(note.at),
    )
