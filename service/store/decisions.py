"""Decision rows (append-only) and the status change they cause."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Update, bindparam, case, delete, insert, select, update
from sqlalchemy.orm import Session

from service.db.tables import Comment, Decision, HoldReason

# Core inserts, built once: the ORM's bulk path costs more than the rows.
_INSERT_DECISION = insert(Decision.__table__)
_INSERT_HOLD_REASON = insert(HoldReason.__table__)


def list_decisions(session: Session, *, comment_id: str) -> list[Decision]:
    return list(
        session.scalars(
            select(Decision).where(Decision.comment_id == comment_id).order_by(Decision.id)
        )
    )


def add_decision(session: Session, *, comment_id: str, now: datetime, **fields: Any) -> Decision:
    """A decision row; unless `revision` is given, on the revision the comment is at as the row
    is written (a moderator decides what the comment says now)."""
    fields.setdefault(
        "revision", select(Comment.revision).where(Comment.id == comment_id).scalar_subquery()
    )
    decision = Decision(comment_id=comment_id, at=now, **fields)
    session.add(decision)
    session.flush()
    return decision


def add_decisions(
    session: Session, *, now: datetime, decisions: Sequence[Mapping[str, Any]]
) -> None:
    """Rows in the order given, in one statement. Unlike `add_decision` it hands back no
    rows: fetching their new ids would cost a statement per row on SQLite."""
    if decisions:
        session.execute(_INSERT_DECISION, [{"at": now, **fields} for fields in decisions])


def set_comment_status(session: Session, *, comment: Comment, status: str, now: datetime) -> None:
    comment.status = status
    comment.version += 1
    comment.decided_at = now
    session.flush()


def decide_pending_comments(
    session: Session,
    *,
    outcomes: Sequence[tuple[str, int, str, float | None]],
    now: datetime,
) -> set[str]:
    """Give each (comment id, revision, status, max score) that is still pending at that
    revision its status and score, in one statement; the ids it changed. A comment that is
    gone, that a moderator or another run decided first, or that its author has edited since
    (a newer revision, or deleted it) is left as it is: the row lock makes the check and the
    change one step, so of two runs at once only one changes a comment."""
    if not outcomes:
        return set()
    # Named apart from the names SQLAlchemy gives literals (`status_1`).
    params: dict[str, Any] = {"d_now": now}
    for index, (comment_id, revision, status, score) in enumerate(outcomes):
        params[f"d_id_{index}"], params[f"d_revision_{index}"] = comment_id, revision
        params[f"d_status_{index}"], params[f"d_score_{index}"] = status, score
    return set(session.execute(_decide_pending_statement(len(outcomes)), params).scalars())


@functools.lru_cache(maxsize=64)
def _decide_pending_statement(size: int) -> Update:
    """The UPDATE for `size` comments, built once per size (a worker's batches are of a few
    sizes): building and keying it costs SQLAlchemy several times what running it does."""
    comments = Comment.__table__
    ids = [bindparam(f"d_id_{index}", type_=comments.c.id.type) for index in range(size)]

    def each(name: str, column: Any, *, otherwise: Any) -> Any:
        whens = [
            (comments.c.id == ids[index], bindparam(f"d_{name}_{index}", type_=column.type))
            for index in range(size)
        ]
        return case(*whens, else_=otherwise)

    return (
        update(comments)
        .where(comments.c.id.in_(ids))
        .where(comments.c.status == "pending")
        # No ELSE: a comment not named has no revision to match.
        .where(comments.c.revision == each("revision", comments.c.revision, otherwise=None))
        .values(
            # The ELSE gives the CASE the column's type where every value is NULL.
            status=each("status", comments.c.status, otherwise=comments.c.status),
            max_score=each("score", comments.c.max_score, otherwise=comments.c.max_score),
            version=comments.c.version + 1,
            decided_at=bindparam("d_now", type_=comments.c.decided_at.type),
        )
        .returning(comments.c.id)
    )


def replace_hold_reasons(
    session: Session, *, comment_ids: Sequence[str], reasons: Sequence[tuple[str, str]]
) -> None:
    """The comments' hold reasons become the (comment id, rule kind) rows given: they are
    those of a comment's latest automated decision, and an edited comment's new revision
    replaces what held the old one."""
    if comment_ids:
        session.execute(
            delete(HoldReason).where(HoldReason.comment_id.in_(sorted(set(comment_ids))))
        )
    if reasons:
        session.execute(
            _INSERT_HOLD_REASON, [{"comment_id": cid, "kind": kind} for cid, kind in reasons]
        )
