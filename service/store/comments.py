"""Comment rows: creating, finding and re-sending."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session

from service.db.tables import Comment, CommentRevision, Report, WebhookEvent

COMMENT_ID = re.compile(r"[\x21-\x7e]{1,36}")
# The accept path's statements, built once: SQLAlchemy spends more building and keying a
# statement than the database spends running these.
_COLUMNS = tuple(column.key for column in Comment.__table__.columns)
_INSERT_COMMENT = insert(Comment.__table__)
_BY_AUTHORS_AND_KEYS = select(Comment).where(
    Comment.author_id.in_(bindparam("authors", expanding=True)),
    Comment.idempotency_key.in_(bindparam("keys", expanding=True)),
)
_PARENTS = select(Comment.id, Comment.article_id).where(
    Comment.id.in_(bindparam("ids", expanding=True))
)


def new_comment_id() -> str:
    return str(uuid.uuid4())


def could_be_comment_id(value: str) -> bool:
    """Ids are UUIDs minted here. A string the database can't even take as a parameter (NUL
    for PostgreSQL, a lone surrogate for either driver) names no comment: looking it up would
    be a 500, not a 404."""
    return COMMENT_ID.fullmatch(value) is not None


def build_comment(
    *,
    article_id: str,
    parent_id: str | None,
    author_id: str,
    author_name: str | None,
    text: str,
    idempotency_key: str | None,
    body_hash: str | None,
    now: datetime,
) -> Comment:
    """A new pending row, not yet in any session: `add_comments` stores many in one flush."""
    return Comment(
        id=new_comment_id(),
        article_id=article_id,
        parent_id=parent_id,
        author_id=author_id,
        author_name=author_name,
        text=text,
        status="pending",
        version=1,
        revision=1,
        created_at=now,
        # Optimistic: the task is sent right after commit; if that send fails, the sweeper
        # finds the comment still pending once the grace period has passed.
        enqueued_at=now,
        enqueue_count=1,
        kill_count=0,
        idempotency_key=idempotency_key,
        body_hash=body_hash,
    )


def create_comment(
    session: Session,
    *,
    article_id: str,
    parent_id: str | None,
    author_id: str,
    author_name: str | None,
    text: str,
    idempotency_key: str | None,
    body_hash: str | None,
    now: datetime,
) -> Comment:
    comment = build_comment(
        article_id=article_id,
        parent_id=parent_id,
        author_id=author_id,
        author_name=author_name,
        text=text,
        idempotency_key=idempotency_key,
        body_hash=body_hash,
        now=now,
    )
    session.add(comment)
    session.flush()
    return comment


def add_comments(session: Session, *, comments: Sequence[Comment]) -> None:
    """Insert rows made by `build_comment`, in one statement. They stay out of the session:
    the caller reads them back only as it built them."""
    if comments:
        session.execute(
            _INSERT_COMMENT,
            [{column: getattr(comment, column) for column in _COLUMNS} for comment in comments],
        )


def get_comment_or_none(session: Session, *, comment_id: str) -> Comment | None:
    if not could_be_comment_id(comment_id):
        return None
    return session.get(Comment, comment_id)


def find_comment_by_idempotency_key(
    session: Session, *, author_id: str, key: str
) -> Comment | None:
    return session.scalars(
        select(Comment).where(Comment.author_id == author_id, Comment.idempotency_key == key)
    ).one_or_none()


def forget_idempotency_key(session: Session, *, comment_id: str) -> None:
    session.execute(update(Comment).where(Comment.id == comment_id).values(idempotency_key=None))


def find_comments_by_idempotency_keys(
    session: Session, *, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], Comment]:
    """The comments that (author_id, idempotency_key) pairs name, by pair."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    found = session.scalars(
        _BY_AUTHORS_AND_KEYS,
        {"authors": sorted({a for a, _ in wanted}), "keys": sorted({k for _, k in wanted})},
    )
    # The statement asks every author for every key; only the pairs asked for count.
    pairs = set(wanted)
    return {pair: c for c in found if (pair := (c.author_id, c.idempotency_key or "")) in pairs}


def forget_idempotency_keys(session: Session, *, comment_ids: Sequence[str]) -> None:
    if comment_ids:
        session.execute(
            update(Comment).where(Comment.id.in_(comment_ids)).values(idempotency_key=None)
        )


def list_existing_parents(session: Session, *, parent_ids: Iterable[str]) -> set[tuple[str, str]]:
    """(id, article_id) of the named comments that exist: what `parent_exists` asks, at once."""
    wanted = sorted({p for p in parent_ids if could_be_comment_id(p)})
    if not wanted:
        return set()
    rows = session.execute(_PARENTS, {"ids": wanted})
    return {(comment_id, article_id) for comment_id, article_id in rows}


def parent_exists(session: Session, *, parent_id: str, article_id: str) -> bool:
    if not could_be_comment_id(parent_id):
        return False
    found = session.scalar(
        select(func.count())
        .select_from(Comment)
        .where(Comment.id == parent_id, Comment.article_id == article_id)
    )
    return bool(found)


def mark_enqueued(session: Session, *, comment_ids: Sequence[str], now: datetime) -> None:
    session.execute(
        update(Comment)
        .where(Comment.id.in_(comment_ids))
        .values(enqueued_at=now, enqueue_count=Comment.enqueue_count + 1)
    )


def count_pending_comments(session: Session) -> int:
    return (
        session.scalar(select(func.count()).select_from(Comment).where(Comment.status == "pending"))
        or 0
    )


def count_overdue_comments(session: Session, *, pending_since_before: datetime) -> int:
    """Pending comments whose text waiting for a decision was stored before
    `pending_since_before`: posted then, or, when edited, its current revision written then."""
    revision = CommentRevision
    since = func.coalesce(revision.created_at, Comment.created_at)
    query = (
        select(func.count())
        .select_from(Comment)
        .outerjoin(
            revision,
            and_(
                revision.comment_id == Comment.id,
                revision.revision == Comment.revision,
                Comment.revision > 1,
            ),
        )
        .where(
            Comment.status == "pending",
            # Implied by the next line (no revision predates its comment); here for the index.
            Comment.created_at < pending_since_before,
            since < pending_since_before,
        )
    )
    return session.scalar(query) or 0


def _posted_before(created_at: datetime, comment_id: str) -> ColumnElement[bool]:
    """Comments ahead of (`created_at`, `comment_id`) in posting order; ties go by id.

    A worker that is behind decides a comment after later ones were stored; counting those
    would make an original the repeat of its own later copy.
    """
    return or_(
        Comment.created_at < created_at,
        and_(Comment.created_at == created_at, Comment.id < comment_id),
    )


def count_author_comments_since(
    session: Session, *, author_id: str, since: datetime, up_to: datetime, up_to_id: str
) -> int:
    """The author's comments from `since` up to and including comment `up_to_id` (posted
    at `up_to`)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Comment)
            .where(
                Comment.author_id == author_id,
                Comment.created_at >= since,
                or_(_posted_before(up_to, up_to_id), Comment.id == up_to_id),
            )
        )
        or 0
    )


def list_author_texts_since(
    session: Session,
    *,
    author_id: str,
    since: datetime,
    before: datetime,
    before_id: str,
    limit: int,
) -> list[str]:
    """Texts of the author's comments from `since` that came before comment `before_id`
    (posted at `before`), newest first."""
    return [
        text
        for text in session.scalars(
            select(Comment.text)
            .where(
                Comment.author_id == author_id,
                Comment.created_at >= since,
                _posted_before(before, before_id),
                Comment.text.is_not(None),
            )
            .order_by(Comment.created_at.desc(), Comment.id.desc())
            .limit(limit)
        )
        if text is not None
    ]


def count_author_statuses(session: Session, *, author_id: str) -> dict[str, int]:
    rows = session.execute(
        select(Comment.status, func.count())
        .where(Comment.author_id == author_id)
        .group_by(Comment.status)
    )
    return {status: count for status, count in rows}


PURGEABLE_STATUSES = ("approved", "rejected")


def list_comments_with_text_decided_before(
    session: Session, *, before: datetime, limit: int
) -> list[str]:
    """Decided comments whose text retention erases; one with open reports keeps it until a
    moderator closes them: it is what they have to read."""
    open_reports = select(Report.id).where(Report.comment_id == Comment.id, Report.status == "open")
    return list(
        session.scalars(
            select(Comment.id)
            .where(
                Comment.status.in_(PURGEABLE_STATUSES),
                Comment.decided_at < before,
                Comment.text.is_not(None),
                ~open_reports.exists(),
            )
            .limit(limit)
        )
    )


def erase_comment_text(
    session: Session, *, comment_ids: Sequence[str], pending_events: bool = False
) -> None:
    """Erase the text of the comments and of all their revisions, and scrub it from the
    webhook payloads that copied it. Retention leaves an undelivered payload as it is (the
    site still needs the text of the approval it announces); a deletion, `pending_events`,
    scrubs those too."""
    if not comment_ids:
        return
    session.execute(
        update(Comment)
        .where(Comment.id.in_(comment_ids))
        .values(text=None)
        .execution_options(synchronize_session="fetch")
    )
    session.execute(
        update(CommentRevision)
        .where(CommentRevision.comment_id.in_(comment_ids), CommentRevision.text.is_not(None))
        .values(text=None)
        .execution_options(synchronize_session=False)
    )
    events = select(WebhookEvent).where(WebhookEvent.comment_id.in_(comment_ids))
    if not pending_events:
        events = events.where(WebhookEvent.status != "pending")
    for event in session.scalars(events):
        data = event.payload.get("data")
        if isinstance(data, dict) and data.get("text") is not None:
            event.payload = {**event.payload, "data": {**data, "text": None}}
    session.flush()


def mark_comment_deleted(session: Session, *, comment: Comment, now: datetime) -> None:
    """Deleted by its author: out of every queue (no lease, not reported), its version up.
    The text goes with `erase_comment_text`, in the same transaction."""
    comment.status = "deleted"
    comment.version += 1
    comment.decided_at = now
    comment.claimed_by = None
    comment.claimed_until = None
    comment.reported_at = None
    session.flush()
