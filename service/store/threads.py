"""A comment's place in its thread: its parent, its ancestors and its direct replies.

Every function here answers for many comments in one statement, so a page of the queue costs
the same few queries whatever its size; replies are read with the (parent_id, created_at) index.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, and_, func, literal_column, or_, select
from sqlalchemy.orm import Session, aliased

from service.db.tables import Comment


@dataclass(frozen=True)
class Ancestors:
    comments: list[Comment]
    """Root first (the nearest `limit` when the chain is longer), the parent last."""
    truncated: bool
    """Whether older ancestors exist beyond those listed."""


def list_comments_by_id(session: Session, *, comment_ids: Iterable[str]) -> dict[str, Comment]:
    wanted = sorted(set(comment_ids))
    if not wanted:
        return {}
    return {
        comment.id: comment
        for comment in session.scalars(select(Comment).where(Comment.id.in_(wanted)))
    }


def count_replies(session: Session, *, comment_ids: Iterable[str]) -> dict[str, int]:
    """Direct replies of each comment, whatever their status (0 for none)."""
    wanted = sorted(set(comment_ids))
    counts = dict.fromkeys(wanted, 0)
    if wanted:
        rows = session.execute(
            select(Comment.parent_id, func.count())
            .where(Comment.parent_id.in_(wanted))
            .group_by(Comment.parent_id)
        )
        counts.update({parent_id: count for parent_id, count in rows if parent_id is not None})
    return counts


def list_ancestors(session: Session, *, comment: Comment, limit: int) -> Ancestors:
    """The comment's ancestors, nearest `limit` of them, in one recursive query."""
    if comment.parent_id is None:
        return Ancestors([], truncated=False)
    # Inline literals: PostgreSQL types a recursive column by its first term, and a bound
    # parameter there could be typed narrower than the sum in the second.
    one = literal_column("1", Integer)
    chain = (
        select(Comment.id, Comment.parent_id, one.label("depth"))
        .where(Comment.id == comment.parent_id)
        .cte("chain", recursive=True)
    )
    older = aliased(Comment)
    chain = chain.union_all(
        select(older.id, older.parent_id, chain.c.depth + one).where(
            older.id == chain.c.parent_id, chain.c.depth < literal_column(str(int(limit)), Integer)
        )
    )
    rows = session.execute(
        select(Comment, chain.c.depth)
        .join(chain, Comment.id == chain.c.id)
        .order_by(chain.c.depth.desc())
    ).all()
    found = [row[0] for row in rows]
    truncated = len(found) >= limit and found[0].parent_id is not None
    return Ancestors(found, truncated=truncated)


def list_replies(
    session: Session,
    *,
    parent_id: str,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[Comment]:
    """Direct replies oldest first (ties by id), strictly after `after` when given."""
    conditions = [Comment.parent_id == parent_id]
    if after is not None:
        created_at, comment_id = after
        conditions.append(
            or_(
                Comment.created_at > created_at,
                and_(Comment.created_at == created_at, Comment.id > comment_id),
            )
        )
    return list(
        session.scalars(
            select(Comment)
            .where(*conditions)
            .order_by(Comment.created_at.asc(), Comment.id.asc())
            .limit(limit)
        )
    )
