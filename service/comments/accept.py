"""Accepting and reading comments: the domain behind the comment routes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.authors.sanctions import check_author
from service.comments.resources import comment_resource
from service.comments.schemas import NewComment, field_error
from service.db.engine import Database
from service.db.tables import Comment, utcnow
from service.errors import FieldError, ProblemError
from service.flags.domain import article_is_closed
from service.http.auth import Principal
from service.moderation.thread import comment_with_thread
from service.store.comments import (
    create_comment,
    find_comment_by_idempotency_key,
    forget_idempotency_key,
    get_comment_or_none,
    parent_exists,
)
from service.store.decisions import list_decisions


@dataclass(frozen=True)
class Accepted:
    resource: dict[str, Any]
    created: bool


def accept_comment(
    db: Database,
    *,
    principal: Principal,
    new: NewComment,
    idempotency_key: str | None,
    window: timedelta,
    admit: Callable[[str], int] = lambda _author: 0,
    now: datetime | None = None,
    erase_key: bytes | None = None,
) -> Accepted:
    """Store the comment as `pending`, or return the one this idempotency key made.

    Faults answer in the contract's order: field errors, then the idempotent replay, then
    the author's ban or suspension (checked in the transaction that stores the comment),
    the article being closed, and last the flood limit (`admit` returns the seconds to wait,
    0 to go ahead). `erase_key`: MODERATION_ERASE_KEY, to find an erased author's sanctions.
    """
    now = now or utcnow()
    body_hash = new.body_hash()
    # Asked once: a retried attempt is the same comment, not a second one in the flood window.
    retry_after: int | None = None
    for _attempt in range(2):
        try:
            with db.session() as session:
                if new.parent_id is not None and not parent_exists(
                    session, parent_id=new.parent_id, article_id=new.article_id
                ):
                    raise parent_not_found()
                if idempotency_key is not None:
                    existing = find_comment_by_idempotency_key(
                        session, author_id=principal.sub, key=idempotency_key
                    )
                    if existing is not None and within_window(existing, now=now, window=window):
                        return replay(session, existing, body_hash=body_hash)
                    if existing is not None:
                        forget_idempotency_key(session, comment_id=existing.id)
                check_author(session, author_id=principal.sub, now=now, key=erase_key, may_not=POST)
                if article_is_closed(session, article_id=new.article_id):
                    raise article_closed()
                if retry_after is None:
                    retry_after = admit(principal.sub)
                if retry_after:
                    raise rate_limited(retry_after)
                comment = create_comment(
                    session,
                    article_id=new.article_id,
                    parent_id=new.parent_id,
                    author_id=principal.sub,
                    author_name=principal.name,
                    text=new.text,
                    idempotency_key=idempotency_key,
                    body_hash=body_hash,
                    now=now,
                )
                return Accepted(comment_resource(comment, []), created=True)
        except IntegrityError:
            # Another request with the same Idempotency-Key won the race: replay it.
            if idempotency_key is None:
                raise
    raise ProblemError(409, "idempotency_conflict", "This Idempotency-Key is in use; retry.")


def within_window(existing: Comment, *, now: datetime, window: timedelta) -> bool:
    return existing.created_at > now - window


def replay(session: Session, existing: Comment, *, body_hash: str) -> Accepted:
    """What a repeated Idempotency-Key answers: the comment it made, or 409 for another body."""
    if existing.body_hash != body_hash:
        raise ProblemError(
            409, "idempotency_conflict", "This Idempotency-Key was used with a different body."
        )
    decisions = list_decisions(session, comment_id=existing.id)
    return Accepted(comment_resource(existing, decisions), created=False)


# The refusals, made in one place: the batched path (`service.comments.batch`) must answer
# exactly as this one does.
def parent_not_found() -> FieldError:
    return FieldError(
        [
            field_error(
                "parent_id", "parent_not_found", "parent_id names no comment on this article."
            )
        ]
    )


POST = "post comments"
"""What a sanctioned author may not do here (the 403's detail)."""


def article_closed() -> ProblemError:
    return ProblemError(409, "article_closed", "This article is closed to new comments.")


def rate_limited(retry_after: int) -> ProblemError:
    return ProblemError(
        429,
        "rate_limited",
        "Too many comments in a short time; wait before posting again.",
        headers={"Retry-After": str(retry_after)},
        retry_after=retry_after,
    )


def read_comment(db: Database, *, principal: Principal, comment_id: str) -> dict[str, Any]:
    """The resource if the caller may see it; 404 alike for missing and not yours. A moderator
    reads it with its place in the thread, a reader (its author) as it is."""
    with db.session() as session:
        comment = get_comment_or_none(session, comment_id=comment_id)
        if comment is None or not (principal.is_moderator or comment.author_id == principal.sub):
            raise ProblemError(404, "not_found", "No such comment.")
        decisions = list_decisions(session, comment_id=comment.id)
        if principal.is_moderator:
            return comment_with_thread(session, comment, decisions)
        return comment_resource(comment, decisions)


def comment_status(db: Database, *, comment_id: str) -> str | None:
    with db.session() as session:
        comment = get_comment_or_none(session, comment_id=comment_id)
        return None if comment is None else comment.status
