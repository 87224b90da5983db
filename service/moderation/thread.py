"""The thread, for moderators: a reply is judged by what it answers, so a moderator's view of a
comment carries its parent and how many replies it has, and the thread route lists its
ancestors and its replies, each with the version a decision on it needs.

Readers and webhooks never get any of this: their comment resource stays as it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from service.comments.resources import comment_fields, isoformat
from service.db.engine import Database
from service.db.tables import Comment, Decision
from service.errors import ProblemError
from service.http.bodies import build
from service.moderation.thread_resources import (
    MAX_ANCESTORS,
    CommentWithThread,
    Thread,
    ThreadEntry,
    ThreadParent,
)
from service.moderation.thread_schemas import ThreadQuery, encode_replies_cursor
from service.store.comments import get_comment_or_none
from service.store.decisions import list_decisions
from service.store.threads import count_replies, list_ancestors, list_comments_by_id, list_replies


def thread_fields(session: Session, comments: Sequence[Comment]) -> dict[str, dict[str, Any]]:
    """Each comment's `parent` and `replies_count`, by comment id: two queries for any number
    of comments."""
    parents = list_comments_by_id(
        session, comment_ids={c.parent_id for c in comments if c.parent_id is not None}
    )
    replies = count_replies(session, comment_ids=[comment.id for comment in comments])
    return {
        comment.id: {
            "parent": _parent(parents.get(comment.parent_id) if comment.parent_id else None),
            "replies_count": replies[comment.id],
        }
        for comment in comments
    }


def comment_with_thread(
    session: Session, comment: Comment, decisions: Sequence[Decision]
) -> dict[str, Any]:
    """The comment resource as a moderator reads it (GET /v1/comments/{id})."""
    return build(
        CommentWithThread,
        **comment_fields(comment, decisions),
        **thread_fields(session, [comment])[comment.id],
    ).model_dump(mode="json")


def read_thread(db: Database, *, query: ThreadQuery) -> Thread:
    with db.session() as session:
        comment = get_comment_or_none(session, comment_id=query.comment_id)
        if comment is None:
            raise ProblemError(404, "not_found", "No such comment.")
        ancestors = list_ancestors(session, comment=comment, limit=MAX_ANCESTORS)
        found = list_replies(
            session, parent_id=comment.id, after=query.after, limit=query.limit + 1
        )
        replies = found[: query.limit]
        counts = count_replies(
            session, comment_ids=[c.id for c in (comment, *ancestors.comments, *replies)]
        )
        parent = ancestors.comments[-1] if ancestors.comments else None
        resource = build(
            CommentWithThread,
            **comment_fields(comment, list_decisions(session, comment_id=comment.id)),
            parent=_parent(parent),
            replies_count=counts[comment.id],
        )
        cursor = None
        if len(found) > query.limit:
            last = replies[-1]
            cursor = encode_replies_cursor(comment.id, (last.created_at, last.id))
        return build(
            Thread,
            comment=resource,
            ancestors=[_entry(ancestor, counts) for ancestor in ancestors.comments],
            ancestors_truncated=ancestors.truncated,
            replies=[_entry(reply, counts) for reply in replies],
            next=cursor,
        )


def _parent(comment: Comment | None) -> ThreadParent | None:
    if comment is None:
        return None
    return build(
        ThreadParent,
        id=comment.id,
        author_id=comment.author_id,
        text=comment.text,
        status=comment.status,
    )


def _entry(comment: Comment, counts: Mapping[str, int]) -> ThreadEntry:
    return build(
        ThreadEntry,
        id=comment.id,
        author_id=comment.author_id,
        text=comment.text,
        status=comment.status,
        version=comment.version,
        created_at=isoformat(comment.created_at),
        replies_count=counts[comment.id],
    )
