"""Article flags (pre-moderated, closed) and author flags (always hold, trusted): set by
moderators through the `/settings` routes, read by the API (closed articles) and the worker
(policy context). "Settings" in the code means the process's environment only."""

from __future__ import annotations

from sqlalchemy.orm import Session

from service.comments.schemas import ARTICLE_ID, ARTICLE_ID_RULE, field_error
from service.db.engine import Database
from service.db.tables import utcnow
from service.errors import FieldError
from service.flags.resources import (
    ArticleFlagsResource,
    AuthorFlagsResource,
    article_resource,
    author_resource,
)
from service.flags.schemas import NewArticleFlags, NewAuthorFlags
from service.http.auth import Principal, require_moderator
from service.moderation.schemas import MAX_AUTHOR_ID_CHARS, valid_author_id
from service.store.flags import (
    get_article_flags_or_none,
    get_author_flags_or_none,
    put_article_flags,
    put_author_flags,
)


def check_article_id(article_id: str) -> None:
    if not ARTICLE_ID.fullmatch(article_id):
        raise FieldError([field_error("article_id", "invalid_article_id", ARTICLE_ID_RULE)])


def check_author_id(author_id: str) -> None:
    if not valid_author_id(author_id):
        raise FieldError(
            [
                field_error(
                    "author_id",
                    "invalid_author_id",
                    f"author_id must be 1-{MAX_AUTHOR_ID_CHARS} printable characters.",
                )
            ]
        )


def read_article(db: Database, *, article_id: str) -> ArticleFlagsResource:
    check_article_id(article_id)
    with db.session() as session:
        row = get_article_flags_or_none(session, article_id=article_id)
        return article_resource(article_id, row)


def write_article(
    db: Database, *, principal: Principal, article_id: str, flags: NewArticleFlags
) -> ArticleFlagsResource:
    require_moderator(principal)
    check_article_id(article_id)
    with db.session() as session:
        row = put_article_flags(
            session,
            article_id=article_id,
            by=principal.sub,
            now=utcnow(),
            premoderated=flags.premoderated,
            closed=flags.closed,
        )
        return article_resource(article_id, row)


def read_author(db: Database, *, principal: Principal, author_id: str) -> AuthorFlagsResource:
    require_moderator(principal)
    check_author_id(author_id)
    with db.session() as session:
        return author_resource(author_id, get_author_flags_or_none(session, author_id=author_id))


def write_author(
    db: Database, *, principal: Principal, author_id: str, flags: NewAuthorFlags
) -> AuthorFlagsResource:
    require_moderator(principal)
    check_author_id(author_id)
    with db.session() as session:
        row = put_author_flags(
            session,
            author_id=author_id,
            by=principal.sub,
            now=utcnow(),
            always_hold=flags.always_hold,
            trusted=flags.trusted,
        )
        return author_resource(author_id, row)


def article_is_closed(session: Session, *, article_id: str) -> bool:
    row = get_article_flags_or_none(session, article_id=article_id)
    return bool(row and row.closed)
