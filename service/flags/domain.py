"""Article flags (pre-moderated, closed) and author flags (always hold, trusted): set by
moderators through the `/settings` routes, read by the API (closed articles) and the worker
(policy context). "Settings" in the code means the process's environment only."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from service.comments.resources import isoformat
from service.comments.schemas import ARTICLE_ID, field_error
from service.db.engine import Database
from service.db.tables import ArticleFlags, AuthorFlags, utcnow
from service.errors import FieldError
from service.http.auth import Principal, require_moderator
from service.moderation.schemas import valid_author_id
from service.store.flags import (
    get_article_flags_or_none,
    get_author_flags_or_none,
    put_article_flags,
    put_author_flags,
)

ARTICLE_FLAGS = ("premoderated", "closed")
AUTHOR_FLAGS = ("always_hold", "trusted")


def parse_flags(body: Any, names: tuple[str, ...]) -> dict[str, bool]:
    if not isinstance(body, dict):
        raise FieldError([field_error("", "invalid_type", "The body must be a JSON object.")])
    errors = [
        field_error(key, "unknown_field", f"Unknown field {key!r}.")
        for key in sorted(set(body) - set(names))
    ]
    for name in names:
        if name not in body:
            errors.append(field_error(name, "required", f"{name} is required."))
        elif not isinstance(body[name], bool):
            errors.append(field_error(name, "invalid_type", f"{name} must be true or false."))
    if errors:
        raise FieldError(errors)
    return {name: body[name] for name in names}


def check_article_id(article_id: str) -> None:
    if not ARTICLE_ID.fullmatch(article_id):
        raise FieldError(
            [
                field_error(
                    "article_id",
                    "invalid_article_id",
                    "article_id must be 1-200 characters of A-Z a-z 0-9 . _ : ~ -",
                )
            ]
        )


def check_author_id(author_id: str) -> None:
    if not valid_author_id(author_id):
        raise FieldError(
            [
                field_error(
                    "author_id",
                    "invalid_author_id",
                    "author_id must be 1-255 printable characters.",
                )
            ]
        )


def article_resource(article_id: str, row: ArticleFlags | None) -> dict[str, Any]:
    return {
        "article_id": article_id,
        "premoderated": bool(row and row.premoderated),
        "closed": bool(row and row.closed),
        "updated_by": row.updated_by if row else None,
        "updated_at": isoformat(row.updated_at) if row else None,
    }


def author_resource(author_id: str, row: AuthorFlags | None) -> dict[str, Any]:
    return {
        "author_id": author_id,
        "always_hold": bool(row and row.always_hold),
        "trusted": bool(row and row.trusted),
        "updated_by": row.updated_by if row else None,
        "updated_at": isoformat(row.updated_at) if row else None,
    }


def read_article(db: Database, *, article_id: str) -> dict[str, Any]:
    check_article_id(article_id)
    with db.session() as session:
        row = get_article_flags_or_none(session, article_id=article_id)
        return article_resource(article_id, row)


def write_article(
    db: Database, *, principal: Principal, article_id: str, flags: dict[str, bool]
) -> dict[str, Any]:
    require_moderator(principal)
    check_article_id(article_id)
    with db.session() as session:
        row = put_article_flags(
            session, article_id=article_id, by=principal.sub, now=utcnow(), **flags
        )
        return article_resource(article_id, row)


def read_author(db: Database, *, principal: Principal, author_id: str) -> dict[str, Any]:
    require_moderator(principal)
    check_author_id(author_id)
    with db.session() as session:
        return author_resource(author_id, get_author_flags_or_none(session, author_id=author_id))


def write_author(
    db: Database, *, principal: Principal, author_id: str, flags: dict[str, bool]
) -> dict[str, Any]:
    require_moderator(principal)
    check_author_id(author_id)
    with db.session() as session:
        row = put_author_flags(
            session, author_id=author_id, by=principal.sub, now=utcnow(), **flags
        )
        return author_resource(author_id, row)


def article_is_closed(session: Session, *, article_id: str) -> bool:
    row = get_article_flags_or_none(session, article_id=article_id)
    return bool(row and row.closed)
