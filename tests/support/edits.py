"""Authors' edits for the tests: a PATCH through the API, the revision rows it leaves, and the
comment row as stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from service.db.tables import Comment, CommentRevision, HoldReason
from service.policies import PolicyHolder
from tests.support.api import Api
from tests.support.holds import database


def edit(  # type: ignore[no-untyped-def]
    api: Api, comment_id: str, body: Any, *, sub: str = "reader-1", **headers: str
):
    return api.client.patch(
        f"/v1/comments/{comment_id}", json=body, headers={**api.auth(sub), **headers}
    )


def revisions(api: Api, comment_id: str, *, sub: str = "reader-1", moderator: bool = False):  # type: ignore[no-untyped-def]
    return api.client.get(
        f"/v1/comments/{comment_id}/revisions", headers=api.auth(sub, moderator=moderator)
    )


def revision_rows(api: Api, comment_id: str) -> list[tuple[int, str | None]]:
    with database(api).session() as session:
        rows = session.scalars(
            select(CommentRevision)
            .where(CommentRevision.comment_id == comment_id)
            .order_by(CommentRevision.revision)
        )
        return [(row.revision, row.text) for row in rows]


def stored(api: Api, comment_id: str) -> Comment:
    with database(api).session() as session:
        comment = session.get(Comment, comment_id)
        assert comment is not None
        session.expunge(comment)
        return comment


def set_status(api: Api, comment_id: str, status: str) -> None:
    with database(api).session() as session:
        comment = session.get(Comment, comment_id)
        assert comment is not None
        comment.status = status


def hold_reason_kinds(api: Api, comment_id: str) -> list[str]:
    with database(api).session() as session:
        return list(
            session.scalars(select(HoldReason.kind).where(HoldReason.comment_id == comment_id))
        )


def limit_flood(api: Api, tmp_path: Path, *, hard_limit: int) -> None:
    """The running API's policy, swapped for one whose flood hard limit is `hard_limit` a
    minute."""
    policy = tmp_path / "flood-policy.yaml"
    policy.write_text(
        f"flood:\n  window_seconds: 60\n  hold_after: 1\n  hard_limit: {hard_limit}\n"
    )
    api.client.app.state.services.policies = PolicyHolder(policy)  # type: ignore[attr-defined]
