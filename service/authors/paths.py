"""The author id in an author route's path."""

from __future__ import annotations

from starlette.requests import Request

from service.flags.domain import check_author_id


def path_author_id(request: Request) -> str:
    """The path's author id; one no author can have (not 1-255 printable characters) is 422
    `invalid_author_id`. Author routes never answer 404 for an author: a site may note or
    sanction an account before its first comment."""
    author_id: str = request.path_params["author_id"]
    check_author_id(author_id)
    return author_id
