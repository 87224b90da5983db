"""Deleting comments in the tests: the DELETE call, an edited comment, and one given every
copy of its text the service makes before its author
deletes it."""

from __future__ import annotations

from sqlalchemy import select, update

from service.comments.decisions import AutomatedDecision, Recorded, record_automated_decisions
from service.db.tables import WebhookEvent, utcnow
from tests.support.api import Api
from tests.support.edits import edit
from tests.support.holds import INSULT, database, decide_automatically, make_comment
from tests.support.moderation import decide
from tests.support.reported import report


def delete(api: Api, comment_id: str, *, sub: str = "reader-1", moderator: bool = False):  # type: ignore[no-untyped-def]
    return api.client.delete(
        f"/v1/comments/{comment_id}", headers=api.auth(sub, moderator=moderator)
    )


def edited(api: Api, *, earlier: str, text: str) -> str:
    """A comment of reader-1 posted as `earlier`, approved (its `comment.decided` delivered),
    then edited to `text` through the API: pending at revision 2."""
    comment_id = make_comment(api, text=earlier)
    decide_automatically(api, comment_id, action="approve", webhooks=True)
    with database(api).session() as session:
        session.execute(
            update(WebhookEvent)
            .where(WebhookEvent.comment_id == comment_id)
            .values(status="delivered", delivered_at=utcnow())
        )
    response = edit(api, comment_id, {"text": text, "revision": 1})
    assert response.status_code in (200, 202), response.text
    assert response.json()["status"] == "pending"
    return comment_id


def decide_revision(api: Api, comment_id: str, *, revision: int, action: str) -> Recorded | None:
    """The worker's record step for one revision of the comment (`webhooks` on)."""
    (recorded,) = record_automated_decisions(
        database(api),
        decisions=[
            AutomatedDecision(
                comment_id,
                action,
                [INSULT] if action == "hold" else [],
                {"insult": 0.93 if action == "hold" else 0.01},
                context={},
                revision=revision,
            )
        ],
        policy_version="sha256:test",
        model="unbiased-test",
        webhooks=True,
        now=utcnow(),
    )
    return recorded


def fully_copied(api: Api, *, text: str, earlier: str) -> str:
    """A comment of reader-1 whose text the service copied everywhere it does: posted as
    `earlier` and approved (webhook delivered), edited to `text`, held by the policy and
    approved by a moderator (webhooks pending), then reported by a reader who quotes it."""
    comment_id = edited(api, earlier=earlier, text=text)
    assert decide_revision(api, comment_id, revision=2, action="hold") is not None
    version = api.client.get(f"/v1/comments/{comment_id}", headers=api.auth()).json()["version"]
    response = decide(api, comment_id, {"action": "approve", "version": version, "reason": "Fine."})
    assert response.status_code == 200, response.text
    report(api, comment_id, reporter="reader-2", detail=f"They wrote: {text}")
    with database(api).session() as session:
        statuses = session.scalars(
            select(WebhookEvent.status).where(WebhookEvent.comment_id == comment_id)
        )
        assert {"pending", "delivered"} <= set(statuses)
    return comment_id
