"""Readers' reports for the tests: published comments made without a worker (the row by the
store, the approval by `record_automated_decisions`, as the worker does), and a report sent
through the API."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from service.db.tables import Decision, Report, WebhookEvent
from tests.support.api import Api
from tests.support.holds import database, decide_automatically, make_comment

SPAM = {"reason": "spam"}
NOTICE = {
    "reason": "illegal",
    "legal_ground": "Criminal Code s. 319: public incitement of hatred.",
    "explanation": "It calls for violence against a named group.",
    "good_faith": True,
}


def approved(api: Api, *, author: str = "reader-1", text: str = "A fine point, well made.") -> str:
    """A published comment: version 2, status approved."""
    comment_id = make_comment(api, author=author, text=text)
    decide_automatically(api, comment_id, action="approve")
    return comment_id


def reporter(api: Api, sub: str, *, approved_comments: int = 1) -> str:
    """A reader with this many published comments of their own (to count toward hide_after)."""
    for n in range(approved_comments):
        approved(api, author=sub, text=f"{sub}'s comment number {n}.")
    return sub


def report(  # type: ignore[no-untyped-def]
    api: Api, comment_id: str, body: Any = SPAM, *, sub: str = "reader-2", **headers: str
):
    return api.client.post(
        f"/v1/comments/{comment_id}/reports", json=body, headers={**api.auth(sub), **headers}
    )


def reports_of(api: Api, comment_id: str) -> list[Report]:
    with database(api).session() as session:
        return list(
            session.scalars(
                select(Report).where(Report.comment_id == comment_id).order_by(Report.created_at)
            )
        )


def hide_decisions(api: Api, comment_id: str) -> list[Decision]:
    with database(api).session() as session:
        return list(
            session.scalars(
                select(Decision).where(Decision.comment_id == comment_id, Decision.by == "reports")
            )
        )


def events_of(api: Api, comment_id: str) -> list[WebhookEvent]:
    with database(api).session() as session:
        return list(
            session.scalars(
                select(WebhookEvent)
                .where(WebhookEvent.comment_id == comment_id)
                .order_by(WebhookEvent.created_at, WebhookEvent.id)
            )
        )
