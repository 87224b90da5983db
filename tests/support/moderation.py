"""A moderator's decision through the API, and the audit rows it leaves."""

from __future__ import annotations

from sqlalchemy import select

from service.db.tables import ModerationAudit
from tests.support.api import Api
from tests.support.holds import database


def decide(api: Api, comment_id: str, body: dict, *, sub: str = "mod-1"):  # type: ignore[no-untyped-def]
    return api.client.post(
        f"/v1/moderation/comments/{comment_id}/decision",
        json=body,
        headers=api.auth(sub, moderator=True),
    )


def audit_rows(api: Api, comment_id: str) -> list[ModerationAudit]:
    with database(api).session() as session:
        return list(
            session.scalars(
                select(ModerationAudit)
                .where(ModerationAudit.comment_id == comment_id)
                .order_by(ModerationAudit.id)
            )
        )
