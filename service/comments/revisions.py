"""Reading a comment's revisions: for its author and the moderators (the page shows what an
edit changed)."""

from __future__ import annotations

from typing import Any

from service.comments.resources import isoformat
from service.comments.revision_resources import Revision, Revisions
from service.db.engine import Database
from service.errors import ProblemError
from service.http.auth import Principal
from service.http.bodies import build
from service.store.comments import get_comment_or_none
from service.store.revisions import list_revisions


def read_revisions(db: Database, *, principal: Principal, comment_id: str) -> dict[str, Any]:
    """Every revision, oldest first; 404 alike for missing and not yours, as GET answers. A
    comment never edited has its one revision on the comment row, none in the revisions."""
    with db.session() as session:
        comment = get_comment_or_none(session, comment_id=comment_id)
        if comment is None or not (principal.is_moderator or comment.author_id == principal.sub):
            raise ProblemError(404, "not_found", "No such comment.")
        rows = list_revisions(session, comment_id=comment.id)
        found = [(row.revision, row.text, row.created_at) for row in rows] or [
            (comment.revision, comment.text, comment.created_at)
        ]
    items = [
        build(Revision, revision=revision, text=text, created_at=isoformat(created_at))
        for revision, text, created_at in found
    ]
    return build(Revisions, items=items).model_dump(mode="json")
