"""The thread, for moderators: parent and replies_count on queue items and on a moderator's
GET of a comment (never on a reader's, never in webhooks), and
GET /v1/moderation/comments/{id}/thread, on both databases."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import jsonschema
import pytest
from sqlalchemy import event, select

from service.comments.resources import CommentResource
from service.db.tables import Comment, WebhookEvent, utcnow
from service.moderation.thread import thread_fields
from tests.support.api import Api, problem
from tests.support.databases import BACKENDS
from tests.support.holds import database, decide_automatically, hold
from tests.support.moderation import decide
from tests.support.threads import chain, reply

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

THREAD_KEYS = {"id", "author_id", "text", "status", "version", "created_at", "replies_count"}


def thread_url(comment_id: str, query: str = "") -> str:
    return f"/v1/moderation/comments/{comment_id}/thread{query}"


def get_thread(api: Api, comment_id: str, query: str = "") -> dict[str, Any]:
    response = api.client.get(
        thread_url(comment_id, query), headers=api.auth("mod-1", moderator=True)
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    conforms(api, "Thread", body)
    return body


def conforms(api: Api, component: str, body: Any) -> None:
    document = api.client.get("/openapi.json").json()
    schema = {"$ref": f"#/components/schemas/{component}", "components": document["components"]}
    jsonschema.Draft202012Validator(schema).validate(body)


def ids(entries: list[dict[str, Any]]) -> list[str]:
    return [entry["id"] for entry in entries]


def test_queue_items_carry_the_parent_and_the_replies_count(api: Api) -> None:
    root = reply(api, None, text="The council is wrong.", author="reader-1")
    decide_automatically(api, root, action="approve")
    answer = reply(api, root, text="So are you, idiot.", author="reader-2")
    decide_automatically(api, answer)  # held
    reply(api, answer, author="reader-3")  # pending
    rejected = reply(api, answer, author="reader-4")
    decide_automatically(api, rejected)
    decide(api, rejected, {"action": "reject", "version": 2})
    alone = hold(api, author="reader-5")

    response = api.client.get("/v1/moderation/queue", headers=api.auth("mod-1", moderator=True))
    assert response.status_code == 200, response.text
    items = {item["id"]: item for item in response.json()["items"]}
    assert set(items) == {answer, alone}
    assert items[answer]["parent"] == {
        "id": root,
        "author_id": "reader-1",
        "text": "The council is wrong.",
        "status": "approved",
    }
    assert items[answer]["replies_count"] == 2  # a pending and a rejected reply: any status
    assert items[alone]["parent"] is None
    assert items[alone]["replies_count"] == 0
    conforms(api, "QueuePage", response.json())


def test_a_moderator_reads_a_comment_with_its_thread_and_its_author_without(api: Api) -> None:
    root = reply(api, None, text="First.", author="reader-1")
    decide_automatically(api, root, action="approve")
    answer = reply(api, root, text="Second.", author="reader-2")
    decide_automatically(api, answer)
    reply(api, answer, author="reader-3")

    moderator = api.client.get(f"/v1/comments/{answer}", headers=api.auth("mod-1", moderator=True))
    assert moderator.status_code == 200, moderator.text
    body = moderator.json()
    assert body["parent"] == {
        "id": root,
        "author_id": "reader-1",
        "text": "First.",
        "status": "approved",
    }
    assert body["replies_count"] == 1
    assert body["status"] == "held"
    conforms(api, "CommentWithThread", body)
    top = api.client.get(f"/v1/comments/{root}", headers=api.auth("mod-1", moderator=True)).json()
    assert (top["parent"], top["replies_count"]) == (None, 1)

    for headers in [{}, {"Prefer": "wait=0"}]:
        author = api.client.get(
            f"/v1/comments/{answer}", headers={**api.auth("reader-2"), **headers}
        )
        assert author.status_code == 200, author.text
        assert set(author.json()) == set(CommentResource.model_fields)
        assert {key: body[key] for key in author.json()} == author.json()
    problem(api.client.get(f"/v1/comments/{answer}", headers=api.auth("reader-1")), 404)


def test_webhook_payloads_carry_no_thread(webhook_api: Api) -> None:
    api = webhook_api
    root = reply(api, None, author="reader-1")
    decide_automatically(api, root, action="approve", webhooks=True)
    answer = reply(api, root, author="reader-2")
    decide_automatically(api, answer, webhooks=True)
    reply(api, answer, author="reader-3")
    decided = decide(api, answer, {"action": "approve", "version": 2})
    assert decided.status_code == 200, decided.text
    with database(api).session() as session:
        events = list(
            session.scalars(
                select(WebhookEvent)
                .where(WebhookEvent.type == "comment.decided")
                .order_by(WebhookEvent.created_at)
            )
        )
    assert len(events) == 3
    for outbox in events:
        assert set(outbox.payload["data"]) == set(CommentResource.model_fields)
    assert events[-1].payload["data"] == decided.json()


def test_the_thread_lists_ancestors_root_first_and_the_replies(api: Api) -> None:
    root, middle, comment = chain(api, 3)
    decide_automatically(api, comment)
    first = reply(api, comment, at=utcnow() - timedelta(seconds=30))
    second = reply(api, comment, at=utcnow() - timedelta(seconds=20))
    reply(api, first)

    body = get_thread(api, comment)
    assert body["comment"]["id"] == comment
    assert body["comment"]["version"] == 2
    assert body["comment"]["decision"]["action"] == "hold"
    assert body["comment"]["parent"]["id"] == middle
    assert body["comment"]["replies_count"] == 2
    assert ids(body["ancestors"]) == [root, middle]
    assert body["ancestors_truncated"] is False
    assert ids(body["replies"]) == [first, second]
    assert body["next"] is None
    for entry in body["ancestors"] + body["replies"]:
        assert set(entry) == THREAD_KEYS
    assert [entry["replies_count"] for entry in body["ancestors"]] == [1, 1]
    assert [entry["replies_count"] for entry in body["replies"]] == [1, 0]
    assert body["ancestors"][0] == {
        "id": root,
        "author_id": "reader-0",
        "text": "Comment 0.",
        "status": "pending",
        "version": 1,
        "created_at": body["ancestors"][0]["created_at"],
        "replies_count": 1,
    }

    top = get_thread(api, root)
    assert (top["ancestors"], top["ancestors_truncated"], top["comment"]["parent"]) == (
        [],
        False,
        None,
    )
    assert ids(top["replies"]) == [middle]


@pytest.mark.parametrize(("length", "truncated"), [(51, False), (52, True), (60, True)])
def test_a_deep_thread_lists_the_nearest_50_ancestors(
    api: Api, length: int, truncated: bool
) -> None:
    made = chain(api, length)
    body = get_thread(api, made[-1])
    assert ids(body["ancestors"]) == made[-51:-1]
    assert body["ancestors_truncated"] is truncated
    assert body["comment"]["parent"]["id"] == made[-2]


def test_replies_come_in_pages_oldest_first(api: Api) -> None:
    root = reply(api, None, author="reader-1")
    start = utcnow() - timedelta(hours=1)
    made = [reply(api, root, at=start + timedelta(minutes=i)) for i in range(5)]
    # Two at the same moment: the id breaks the tie, and no page skips or repeats one.
    made += sorted(reply(api, root, at=start + timedelta(minutes=10)) for _ in range(2))
    for index, comment_id in enumerate(made[:3]):
        decide_automatically(api, comment_id, action="approve" if index % 2 else "hold")

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        query = "?limit=3" + (f"&cursor={cursor}" if cursor else "")
        body = get_thread(api, root, query)
        pages += 1
        seen += ids(body["replies"])
        assert body["comment"]["replies_count"] == 7
        cursor = body["next"]
        if cursor is None:
            break
    assert (seen, pages) == (made, 3)
    assert [entry["status"] for entry in get_thread(api, root, "?limit=3")["replies"]] == [
        "held",
        "approved",
        "held",
    ]
    assert ids(get_thread(api, root)["replies"]) == made  # 50 by default
    assert get_thread(api, root, "?limit=7")["next"] is None


def test_a_thread_entry_can_be_decided_with_its_version(api: Api) -> None:
    root = reply(api, None, author="reader-1")
    answer = reply(api, root)
    decide_automatically(api, answer)
    (entry,) = get_thread(api, root)["replies"]
    decided = decide(api, answer, {"action": "reject", "version": entry["version"]})
    assert decided.status_code == 200, decided.text
    assert get_thread(api, root)["replies"][0]["status"] == "rejected"


def test_who_may_read_a_thread(api: Api) -> None:
    comment_id = hold(api, author="reader-1")
    problem(api.client.get(thread_url(comment_id)), 401, "invalid_token")
    problem(api.client.get(thread_url(comment_id), headers=api.auth("reader-1")), 403, "forbidden")
    moderator = api.auth("mod-1", moderator=True)
    for unknown in ["no-such-comment", "x" * 300, "%00", "caf%C3%A9"]:
        problem(api.client.get(thread_url(unknown), headers=moderator), 404, "not_found")


def cursor_of(payload: Any) -> str:
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize("limit", ["0", "101", "abc", "-1", "1.5", "", "1e2", "٣", "9" * 40])
def test_a_bad_limit_is_422(api: Api, limit: str) -> None:
    comment_id = hold(api)
    response = api.client.get(
        thread_url(comment_id, f"?limit={limit}"), headers=api.auth("mod-1", moderator=True)
    )
    body = problem(response, 422, "invalid_limit")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("limit", "invalid_limit")]


def test_a_bad_cursor_is_422(api: Api) -> None:
    root = reply(api, None, author="reader-1")
    for i in range(3):
        reply(api, root, at=utcnow() - timedelta(minutes=10 - i))
    other = reply(api, None, author="reader-1")
    good = get_thread(api, root, "?limit=1")["next"]
    assert good is not None
    (created_at, reply_id) = json.loads(base64.urlsafe_b64decode(good + "=="))["k"]
    moderator = api.auth("mod-1", moderator=True)
    bad = [
        "garbage",
        "x" * 600,
        cursor_of([1, 2]),
        cursor_of({"v": 1, "c": root, "k": [created_at, reply_id], "x": 1}),
        cursor_of({"v": 2, "c": root, "k": [created_at, reply_id]}),
        cursor_of({"v": 1, "c": root, "k": [created_at]}),
        cursor_of({"v": 1, "c": root, "k": ["yesterday", reply_id]}),
        cursor_of({"v": 1, "c": root, "k": ["2026-01-01T00:00:00", reply_id]}),
        cursor_of({"v": 1, "c": root, "k": ["0001-01-01T00:00:00+01:00", reply_id]}),
        cursor_of({"v": 1, "c": root, "k": [created_at, "\u0000"]}),
        cursor_of({"v": 1, "c": root, "k": [created_at, 7]}),
    ]
    for cursor in bad:
        response = api.client.get(thread_url(root, f"?cursor={cursor}"), headers=moderator)
        body = problem(response, 422)
        assert [(e["field"], e["code"]) for e in body["errors"]] == [("cursor", "invalid_cursor")]
    # Made for another comment's replies: not a page of this one.
    response = api.client.get(thread_url(other, f"?cursor={good}"), headers=moderator)
    problem(response, 422)


def test_thread_fields_cost_two_queries_for_any_number_of_comments(api: Api) -> None:
    root = reply(api, None, author="reader-1")
    made = [reply(api, root) for _ in range(10)]
    for comment_id in made[:5]:
        reply(api, comment_id)
    db = database(api)
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    with db.session() as session:
        comments = list(session.scalars(select(Comment).where(Comment.id.in_(made))))
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            fields = thread_fields(session, comments)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 2
    assert {comment_id: f["replies_count"] for comment_id, f in fields.items()} == {
        comment_id: 1 if comment_id in made[:5] else 0 for comment_id in made
    }
    assert {f["parent"].id for f in fields.values()} == {root}
