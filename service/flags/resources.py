"""An article's and an author's flags as clients see them. The contract names them
ArticleSettings and AuthorSettings (in the code, "settings" is the process's environment)."""

from __future__ import annotations

from pydantic import ConfigDict

from service.comments.resources import isoformat
from service.db.tables import ArticleFlags, AuthorFlags
from service.http.bodies import DateTime, Resource, build


class ArticleFlagsResource(Resource):
    model_config = ConfigDict(title="ArticleSettings")
    article_id: str
    premoderated: bool
    closed: bool
    updated_by: str | None
    updated_at: DateTime | None


class AuthorFlagsResource(Resource):
    model_config = ConfigDict(title="AuthorSettings")
    author_id: str
    always_hold: bool
    trusted: bool
    updated_by: str | None
    updated_at: DateTime | None


def article_resource(article_id: str, row: ArticleFlags | None) -> ArticleFlagsResource:
    return build(
        ArticleFlagsResource,
        article_id=article_id,
        premoderated=bool(row and row.premoderated),
        closed=bool(row and row.closed),
        updated_by=row.updated_by if row else None,
        updated_at=isoformat(row.updated_at) if row else None,
    )


def author_resource(author_id: str, row: AuthorFlags | None) -> AuthorFlagsResource:
    return build(
        AuthorFlagsResource,
        author_id=author_id,
        always_hold=bool(row and row.always_hold),
        trusted=bool(row and row.trusted),
        updated_by=row.updated_by if row else None,
        updated_at=isoformat(row.updated_at) if row else None,
    )
