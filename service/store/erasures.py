"""The SQL of an author's erasure (service/authors/erase.py says what goes where, and why).

Every function runs in the caller's transaction; `old` is the author's id, `new` their
pseudonym. The comments are found by `old` before `rename_comments` and by `new` after it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Update, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from service.db.tables import (
    AuthorFlags,
    AuthorNote,
    AuthorRef,
    Comment,
    CommentRevision,
    Decision,
    Erasure,
    Report,
    Sanction,
    WebhookEvent,
)
from service.store.reports import OPEN

UNDECIDED = ("pending", "held")


def _count(session: Session, statement: Update) -> int:
    # An UPDATE's result is a CursorResult; Session.execute is typed to return any Result.
    result = cast(
        "CursorResult[Any]",
        session.execute(statement.execution_options(synchronize_session=False)),
    )
    return int(result.rowcount or 0)


def claim_erasure(
    session: Session, *, author_hmac: str, pseudonym: str, erased_by: str, now: datetime
) -> bool:
    """Record the erasure; False if the id was erased already (by a concurrent erase too:
    the second insert waits for the first transaction, then finds its row)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(
        insert(Erasure)
        .values(author_hmac=author_hmac, pseudonym=pseudonym, erased_by=erased_by, erased_at=now)
        .on_conflict_do_nothing()
    )
    return session.scalar(select(Erasure.pseudonym).where(Erasure.author_hmac == author_hmac)) == (
        pseudonym
    )


def holds_author(session: Session, *, author_id: str) -> bool:
    """Whether any row is stored under the id (after an erasure: the account came back)."""
    holders = (
        select(Comment.id).where(Comment.author_id == author_id),
        select(Report.id).where(Report.reporter_id == author_id),
        select(AuthorNote.id).where(AuthorNote.author_id == author_id),
        select(AuthorFlags.author_id).where(AuthorFlags.author_id == author_id),
        select(Sanction.id).where(Sanction.author_id == author_id),
        select(AuthorRef.ref).where(AuthorRef.author_id == author_id),
        select(WebhookEvent.id).where(WebhookEvent.author_id == author_id),
    )
    return any(session.scalar(query.limit(1)) is not None for query in holders)


def _comments_of(author_id: str) -> Any:
    return select(Comment.id).where(Comment.author_id == author_id)


def list_author_names(session: Session, *, author_id: str) -> set[str]:
    """The display names the author's comments were posted under."""
    return set(
        session.scalars(
            select(Comment.author_name)
            .where(Comment.author_id == author_id, Comment.author_name.is_not(None))
            .distinct()
        )
    )


def close_reports_on_comments(
    session: Session, *, author_id: str, outcome: str, now: datetime
) -> dict[str, list[Report]]:
    """Close the open reports on the author's comments (no moderator decided them); the
    reports closed, by comment."""
    ids = list(
        session.scalars(
            select(Report.id).where(
                Report.comment_id.in_(_comments_of(author_id)), Report.status == OPEN
            )
        )
    )
    if not ids:
        return {}
    session.execute(
        update(Report)
        .where(Report.id.in_(ids))
        .values(status=outcome, resolved_at=now, resolved_by=None)
        .execution_options(synchronize_session=False)
    )
    closed: dict[str, list[Report]] = {}
    rows = session.scalars(
        select(Report)
        .where(Report.id.in_(ids))
        .order_by(Report.created_at, Report.id)
        .execution_options(populate_existing=True)
    )
    for report in rows:
        closed.setdefault(report.comment_id, []).append(report)
    return closed


def erase_revisions(session: Session, *, author_id: str) -> int:
    """Every revision's text, and the edits' idempotency keys and body hashes."""
    return _count(
        session,
        update(CommentRevision)
        .where(CommentRevision.comment_id.in_(_comments_of(author_id)))
        .values(text=None, idempotency_key=None, body_hash=None),
    )


def erase_reports_on_comments(session: Session, *, author_id: str) -> int:
    """What other readers wrote in their reports of the author's comments: it often quotes
    them (as an author's deletion does)."""
    return _count(
        session,
        update(Report)
        .where(
            Report.comment_id.in_(_comments_of(author_id)),
            (Report.detail.is_not(None) | Report.explanation.is_not(None)),
        )
        .values(detail=None, explanation=None),
    )


def rename_comments(session: Session, *, old: str, new: str, now: datetime) -> int:
    """The author's comments: pseudonym, no name, text, idempotency key or body hash, out of
    every queue, version + 1; the undecided ones (pending, held) deleted."""
    renamed = _count(
        session,
        update(Comment)
        .where(Comment.author_id == old)
        .values(
            author_id=new,
            author_name=None,
            text=None,
            idempotency_key=None,
            body_hash=None,
            version=Comment.version + 1,
            claimed_by=None,
            claimed_until=None,
            reported_at=None,
        ),
    )
    _count(
        session,
        update(Comment)
        .where(Comment.author_id == new, Comment.status.in_(UNDECIDED))
        .values(status="deleted", decided_at=now),
    )
    return renamed


def load_comments(session: Session, *, comment_ids: list[str]) -> list[Comment]:
    return list(
        session.scalars(
            select(Comment)
            .where(Comment.id.in_(comment_ids))
            .execution_options(populate_existing=True)
        )
    )


def replace_recent_texts(session: Session, *, author_id: str, digest: Callable[[str], str]) -> int:
    """Decisions recorded before contexts kept digests carry the author's recent texts
    (`context.recent_texts`): replaced by their digests, as `policy.Context` reads them."""
    changed = 0
    rows = session.execute(
        select(Decision.id, Decision.context).where(
            Decision.comment_id.in_(_comments_of(author_id))
        )
    ).all()
    for decision_id, context in rows:
        if not isinstance(context, dict) or not context.get("recent_texts"):
            continue
        digests = list(context.get("recent_digests") or ())
        digests += [digest(str(text)) for text in context["recent_texts"]]
        kept = {key: value for key, value in context.items() if key != "recent_texts"}
        session.execute(
            update(Decision)
            .where(Decision.id == decision_id)
            .values(context={**kept, "recent_digests": digests})
            .execution_options(synchronize_session=False)
        )
        changed += 1
    return changed


def rename_reporter(session: Session, *, old: str, new: str) -> int:
    """The reports the author made: pseudonym, and what they wrote in them erased; reason,
    status and times stay (report precision). Reports an author closed by deleting their
    comment before reports were `withdrawn` name them as `resolved_by`."""
    made = _count(
        session,
        update(Report)
        .where(Report.reporter_id == old)
        .values(reporter_id=new, detail=None, legal_ground=None, explanation=None),
    )
    _count(session, update(Report).where(Report.resolved_by == old).values(resolved_by=new))
    return made


def list_notes(session: Session, *, author_id: str) -> list[AuthorNote]:
    return list(session.scalars(select(AuthorNote).where(AuthorNote.author_id == author_id)))


def rename_notes(session: Session, *, old: str, new: str) -> int:
    return _count(
        session, update(AuthorNote).where(AuthorNote.author_id == old).values(author_id=new)
    )


def rename_settings(session: Session, *, old: str, new: str) -> int:
    return _count(
        session, update(AuthorFlags).where(AuthorFlags.author_id == old).values(author_id=new)
    )


def rename_sanctions(session: Session, *, old: str, new: str, author_hmac: str) -> int:
    return _count(
        session,
        update(Sanction)
        .where(Sanction.author_id == old)
        .values(author_id=new, author_hmac=author_hmac),
    )


def rename_ref(session: Session, *, old: str, new: str) -> int:
    return _count(
        session, update(AuthorRef).where(AuthorRef.author_id == old).values(author_id=new)
    )


def events_about_comments(session: Session, *, author_id: str) -> Iterator[WebhookEvent]:
    """Outbox events about the author's comments."""
    return iter(
        session.scalars(
            select(WebhookEvent).where(WebhookEvent.comment_id.in_(_comments_of(author_id)))
        )
    )


def events_naming(session: Session, *, author_id: str, reporter_id: str) -> Iterator[WebhookEvent]:
    """Author events about `author_id`, and events about comments `reporter_id` reported
    (a `report.resolved` names the reporter)."""
    reported = select(Report.comment_id).where(Report.reporter_id == reporter_id)
    return iter(
        session.scalars(
            select(WebhookEvent).where(
                (WebhookEvent.author_id == author_id) | WebhookEvent.comment_id.in_(reported)
            )
        )
    )
