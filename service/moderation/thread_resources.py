"""What moderators read of a comment's thread: its parent and replies beside it, and the
thread itself. Readers never get these: a reader reads only their own comment as it is."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field

from service.comments.resources import CommentResource, Status
from service.http.bodies import DateTime, Extension, Resource

MAX_ANCESTORS = 50
"""The most ancestors a thread lists: the nearest ones."""


class ThreadParent(Resource):
    """The comment a reply answers: "so are you" is judged by what it answers."""

    model_config = ConfigDict(title="ThreadParent")

    id: str
    author_id: str
    text: str | None
    status: Status


Parent = Annotated[
    ThreadParent | None,
    Field(description="The comment this one replies to; null for a top-level comment."),
]
RepliesCount = Annotated[int, Field(description="Direct replies, whatever their status.")]


class CommentWithThread(CommentResource, Extension):
    """A comment as a moderator reads it: the comment, and where it sits in its thread."""

    model_config = ConfigDict(title="CommentWithThread")
    extends = CommentResource

    parent: Parent
    replies_count: RepliesCount


class ThreadEntry(Resource):
    """A comment of the thread, with what a decision on it needs (its version)."""

    id: str
    author_id: str
    text: str | None
    status: Status
    version: int
    created_at: DateTime
    replies_count: RepliesCount


class Thread(Resource):
    comment: CommentWithThread
    ancestors: list[ThreadEntry] = Field(
        description=f"Root first, the parent last: the nearest {MAX_ANCESTORS} when there are more."
    )
    ancestors_truncated: bool = Field(description="Older ancestors exist beyond those listed.")
    replies: list[ThreadEntry] = Field(description="Direct replies, oldest first.")
    next: str | None = Field(
        description="Pass as ?cursor= for the next page of replies; null on the last page."
    )
