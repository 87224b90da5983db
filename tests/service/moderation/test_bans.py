"""Banning and unbanning authors, and what a ban does to POST /v1/comments, on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from service.db.tables import AuthorRef, ModerationAudit, Sanction, WebhookEvent
from tests.support.api import Api, problem
from tests.support.databases import BACKENDS
from tests.support.holds import database, hold

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

BAN = "/v1/moderation/authors/{}/ban"


def ban(api: Api, author: str, body: object, *, sub: str = "mod-1"):  # type: ignore[no-untyped-def]
    return api.client.post(BAN.format(author), json=body, headers=api.auth(sub, moderator=True))


def unban(api: Api, author: str):  # type: ignore[no-untyped-def]
    return api.client.delete(BAN.format(author), headers=api.auth("mod-1", moderator=True))


def audit(api: Api) -> list[tuple[str, str | None, str | None]]:
    """(action, the author's id through their audit reference, comment id), oldest first."""
    with database(api).session() as session:
        rows = session.execute(
            select(ModerationAudit.action, AuthorRef.author_id, ModerationAudit.comment_id)
            .outerjoin(AuthorRef, AuthorRef.ref == ModerationAudit.author_ref)
            .order_by(ModerationAudit.id)
        )
        return [(action, author, comment) for action, author, comment in rows]


def bans(api: Api, author: str) -> list[tuple[str | None, bool]]:
    """The author's ban sanctions, oldest first: (explanation, in force)."""
    with database(api).session() as session:
        rows = session.scalars(
            select(Sanction)
            .where(Sanction.author_id == author, Sanction.kind == "ban")
            .order_by(Sanction.created_at, Sanction.id)
        )
        return [(row.explanation, row.lifted_at is None) for row in rows]


def author_events(api: Api) -> list[tuple[str, str | None, dict]]:  # type: ignore[type-arg]
    with database(api).session() as session:
        rows = session.scalars(
            select(WebhookEvent)
            .where(WebhookEvent.comment_id.is_(None))
            .order_by(WebhookEvent.created_at, WebhookEvent.id)
        )
        return [(row.type, row.author_id, row.payload["data"]) for row in rows]


def test_a_banned_author_gets_403_author_banned_until_unbanned(api: Api) -> None:
    assert api.post_comment({"article_id": "a", "text": "Before."}).status_code == 202
    response = ban(api, "reader-1", {"reason": "Repeated abuse."})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["author_id"] == "reader-1" and body["banned"] is True
    assert body["reason"] == "Repeated abuse." and body["banned_by"] == "mod-1"
    assert body["rejected"] == []

    refused = problem(api.post_comment({"article_id": "a", "text": "After."}), 403, "author_banned")
    assert refused["status"] == 403
    assert api.post_comment({"article_id": "a", "text": "Me?"}, sub="reader-2").status_code == 202

    assert unban(api, "reader-1").status_code == 204
    assert api.post_comment({"article_id": "a", "text": "Back."}).status_code == 202
    assert unban(api, "reader-1").status_code == 204  # nothing to lift: still fine
    assert audit(api) == [("ban", "reader-1", None), ("unban", "reader-1", None)]


def test_the_ban_comes_after_validation_and_the_idempotent_replay(api: Api) -> None:
    first = api.post_comment({"article_id": "a", "text": "Once."}, **{"Idempotency-Key": "k-1"})
    ban(api, "reader-1", {"reason": "Spam."})
    problem(api.post_comment({"article_id": "a", "text": ""}), 422, "text_empty")
    problem(
        api.client.post("/v1/comments", json={"article_id": "a", "text": "x"}), 401, "invalid_token"
    )
    replay = api.post_comment({"article_id": "a", "text": "Once."}, **{"Idempotency-Key": "k-1"})
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json()["id"] == first.json()["id"]
    problem(
        api.post_comment({"article_id": "a", "text": "New."}, **{"Idempotency-Key": "k-2"}),
        403,
        "author_banned",
    )


def test_reject_held_rejects_the_authors_held_comments_in_the_same_transaction(api: Api) -> None:
    mine = [hold(api, author="troll", minutes_ago=5 - i) for i in range(3)]
    theirs = hold(api, author="reader-2")
    api.client.get("/v1/moderation/queue?claim=1", headers=api.auth("mod-2", moderator=True))

    body = ban(api, "troll", {"reason": "Spam run.", "reject_held": True}).json()
    assert body["rejected"] == mine  # the lease mod-2 held on the first does not stop a ban

    moderator = api.auth("mod-3", moderator=True)
    for comment_id in mine:
        resource = api.client.get(f"/v1/comments/{comment_id}", headers=moderator).json()
        assert resource["status"] == "rejected"
        assert resource["review"]["reason"] == "Author banned: Spam run."
    other = api.client.get(f"/v1/comments/{theirs}", headers=moderator).json()
    assert other["status"] == "held"
    assert audit(api) == [("ban", "troll", None)] + [("reject", "troll", c) for c in mine]

    queue = api.client.get("/v1/moderation/queue", headers=moderator).json()["items"]
    assert [item["id"] for item in queue] == [theirs]


def test_banning_twice_updates_the_reason(api: Api) -> None:
    ban(api, "reader-1", {"reason": "First."})
    body = ban(api, "reader-1", {"reason": "Second."}, sub="mod-2").json()
    assert (body["reason"], body["banned_by"]) == ("Second.", "mod-2")
    # The second replaces the first: one ban in force, the first lifted in the history.
    assert bans(api, "reader-1") == [("First.", False), ("Second.", True)]
    assert unban(api, "reader-1").status_code == 204
    assert bans(api, "reader-1") == [("First.", False), ("Second.", False)]
    assert api.post_comment({"article_id": "a", "text": "Back."}).status_code == 202


def test_ban_and_unban_are_announced_as_author_events(webhook_api: Api) -> None:
    api = webhook_api
    ban(api, "reader-1", {"reason": "Spam."})
    assert unban(api, "reader-1").status_code == 204
    assert unban(api, "reader-1").status_code == 204  # nothing lifted: nothing sent
    (banned, banned_by, banned_data), (lifted, lifted_by, lifted_data) = author_events(api)
    assert (banned, banned_by, lifted, lifted_by) == (
        "author.banned",
        "reader-1",
        "author.sanction_lifted",
        "reader-1",
    )
    assert banned_data["sanction_id"] == lifted_data["sanction_id"]
    assert {**banned_data, "at": None} == {
        "author_id": "reader-1",
        "sanction_id": banned_data["sanction_id"],
        "kind": "ban",
        "reason_code": None,
        "explanation": "Spam.",
        "until": None,
        "at": None,
    }
    assert "mod-1" not in str(author_events(api))
    assert audit(api) == [("ban", "reader-1", None), ("unban", "reader-1", None)]


def test_the_queue_shows_a_banned_author(api: Api) -> None:
    hold(api, author="troll")
    ban(api, "troll", {"reason": "Spam."})
    queue = api.client.get("/v1/moderation/queue", headers=api.auth("mod-1", moderator=True))
    assert queue.json()["items"][0]["author_record"]["banned"] is True


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({}, "required", "reason"),
        ({"reason": "   "}, "required", "reason"),
        ({"reason": 3}, "invalid_type", "reason"),
        ({"reason": "x" * 501}, "reason_too_long", "reason"),
        ({"reason": "ok", "reject_held": "yes"}, "invalid_type", "reject_held"),
        ({"reason": "ok", "forever": True}, "unknown_field", "forever"),
        ("spam", "invalid_type", ""),
    ],
)
def test_invalid_ban_bodies_are_422(api: Api, body: object, code: str, field: str) -> None:
    found = problem(ban(api, "reader-1", body), 422, code)
    assert found["errors"][0]["field"] == field
    assert api.post_comment({"article_id": "a", "text": "Not banned."}).status_code == 202


def test_an_author_id_too_long_is_404(api: Api) -> None:
    problem(ban(api, "x" * 256, {"reason": "?"}), 404, "not_found")
