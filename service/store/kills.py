"""Counting the kills of a batch's scoring against the comments it named (workers/killed.py)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import update
from sqlalchemy.orm import Session

from service.db.tables import Comment


def add_kills(session: Session, *, named: Iterable[tuple[str, int | None]]) -> dict[str, int]:
    """One more kill for each comment named, (id, revision), that is still pending at that
    revision (a bare id, revision None: at whatever revision is current); each comment once,
    however often it was named. Their kill counts now, by id: a comment decided, edited or
    deleted since is not counted, as its text is no longer what was being scored."""
    counts: dict[str, int] = {}
    for comment_id, revision in dict(named).items():
        statement = (
            update(Comment)
            .where(Comment.id == comment_id, Comment.status == "pending")
            .values(kill_count=Comment.kill_count + 1)
            .returning(Comment.kill_count)
        )
        if revision is not None:
            statement = statement.where(Comment.revision == revision)
        count = session.scalar(statement)
        if count is not None:
            counts[comment_id] = count
    return counts
