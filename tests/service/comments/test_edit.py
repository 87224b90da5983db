"""PATCH /v1/comments/{id}: an author's edit, moderated again as a new comment is, on both
databases; every answer of the contract's order, the window, the edit limit, idempotency,
the flood limit and a held comment's lease."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from starlette.testclient import TestClient
from structlog.testing import capture_logs

from service.app import create_app
from service.broker.contract import MODERATE_QUEUE, moderate_item
from service.db.tables import utcnow
from service.events import COMMENT_EDITED
from tests.support.api import API_REDIS_DB, WEBHOOK_SECRET, Api, ApiFactory, api_settings, problem
from tests.support.databases import BACKENDS
from tests.support.edits import (
    edit,
    hold_reason_kinds,
    limit_flood,
    revision_rows,
    set_status,
    stored,
)
from tests.support.harness import PrivateRedis
from tests.support.holds import hold, make_comment
from tests.support.moderation import decide
from tests.support.queues import moderation_items
from tests.support.reports import approved, events_of, report, reporter

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

NEW_TEXT = "A fairer point, on reflection."
FIX = {"text": NEW_TEXT, "revision": 1}


@pytest.fixture
def make_api(database_url: str, redis_server: str, tmp_path: Path) -> Iterator[ApiFactory]:
    """The API with these settings (an edit window, webhooks) on the test's database, and
    on the Redis at `redis_base` (its db API_REDIS_DB)."""
    redis.Redis.from_url(f"{redis_server}/{API_REDIS_DB}").flushdb()
    clients: list[TestClient] = []

    def build(redis_base: str = redis_server, **overrides: object) -> Api:
        settings = api_settings(database_url, redis_base, tmp_path, **overrides)
        client = TestClient(create_app(settings), raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return Api(client, settings)

    yield build
    for client in clients:
        client.__exit__(None, None, None)


def sent(api: Api) -> list[str]:
    """The items of the moderate tasks waiting in the API's broker."""
    broker = redis.Redis.from_url(api.settings.redis_url or "")
    return moderation_items(json.loads(raw) for raw in broker.lrange(MODERATE_QUEUE, 0, -1))


def test_an_edit_makes_the_comment_pending_on_its_new_revision_and_sends_it(api: Api) -> None:
    comment_id = approved(api, text="A fine point, wel made.")
    before = stored(api, comment_id)
    assert (before.status, before.version, before.revision) == ("approved", 2, 1)

    response = edit(api, comment_id, {"text": f"  {NEW_TEXT}\r\n", "revision": 1})

    assert response.status_code == 202, response.text
    assert response.headers["location"] == f"/v1/comments/{comment_id}"
    body = response.json()
    assert (body["id"], body["status"], body["text"], body["version"]) == (
        comment_id,
        "pending",
        NEW_TEXT,
        3,
    )
    assert body["decided_at"] is None
    after = stored(api, comment_id)
    assert (after.status, after.version, after.revision, after.text) == (
        "pending",
        3,
        2,
        NEW_TEXT,
    )
    assert after.decided_at is None and after.max_score is None
    assert after.created_at == before.created_at
    assert revision_rows(api, comment_id) == [(1, "A fine point, wel made."), (2, NEW_TEXT)]
    assert moderate_item(comment_id, 2) in sent(api)


def test_each_edit_adds_one_revision(api: Api) -> None:
    comment_id = make_comment(api, text="One.")
    for revision, text in enumerate(["Two.", "Three."], start=1):
        assert edit(api, comment_id, {"text": text, "revision": revision}).status_code == 202
    assert revision_rows(api, comment_id) == [(1, "One."), (2, "Two."), (3, "Three.")]
    row = stored(api, comment_id)
    assert (row.revision, row.version, row.text) == (3, 3, "Three.")
    assert {moderate_item(comment_id, 2), moderate_item(comment_id, 3)} <= set(sent(api))


def test_a_held_comment_may_be_edited_its_lease_and_reasons_go(api: Api) -> None:
    comment_id = hold(api)
    moderator = api.auth("mod-1", moderator=True)
    claimed = api.client.get("/v1/moderation/queue?claim=1", headers=moderator)
    assert [item["id"] for item in claimed.json()["items"]] == [comment_id]
    assert stored(api, comment_id).claimed_by == "mod-1"
    assert hold_reason_kinds(api, comment_id) == ["toxicity"]

    assert edit(api, comment_id, FIX).status_code == 202

    row = stored(api, comment_id)
    assert (row.status, row.version, row.claimed_by, row.claimed_until) == (
        "pending",
        3,
        None,
        None,
    )
    assert hold_reason_kinds(api, comment_id) == []
    queue = api.client.get("/v1/moderation/queue", headers=moderator)
    assert queue.json()["items"] == []
    # The moderator's decision on what they read (version 2) is refused, and so is one at
    # the new version: the new text is the policy's to decide first.
    for version in (2, 3):
        problem(decide(api, comment_id, {"action": "reject", "version": version}), 409, "not_held")
    row = stored(api, comment_id)
    assert (row.status, row.version, row.text) == ("pending", 3, NEW_TEXT)


def test_the_text_rules_of_post_apply(api: Api) -> None:
    comment_id = make_comment(api, text="Original.")
    cases = [
        ("   \n\t ", "text_empty"),
        ("bell\x07", "text_invalid_characters"),
        ("carriage\rreturn", "text_invalid_characters"),
        ("x" * 251, "text_too_long"),
    ]
    for text, code in cases:
        body = problem(edit(api, comment_id, {"text": text, "revision": 1}), 422, code)
        assert body["errors"][0]["field"] == "text"
    too_long = problem(edit(api, comment_id, {"text": "x" * 251, "revision": 1}), 422)
    assert (too_long["limit"], too_long["length"]) == (250, 251)
    raw = b'{"text": "lone \\ud800 here", "revision": 1}'
    response = api.client.patch(
        f"/v1/comments/{comment_id}",
        content=raw,
        headers={**api.auth(), "Content-Type": "application/json"},
    )
    problem(response, 422, "text_invalid_characters")
    stretched = edit(api, comment_id, {"text": "\u00a0spaced\r\nout\u3000", "revision": 1})
    assert stretched.status_code == 202, stretched.text
    assert stretched.json()["text"] == "spaced\nout"


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"revision": 1}, "required", "text"),
        ({"text": "Hi."}, "required", "revision"),
        ({"text": 5, "revision": 1}, "invalid_type", "text"),
        ({"text": "Hi.", "revision": "1"}, "invalid_type", "revision"),
        ({"text": "Hi.", "revision": True}, "invalid_type", "revision"),
        ({"text": "Hi.", "revision": 1.5}, "invalid_type", "revision"),
        ({"text": "Hi.", "revision": 0}, "invalid_revision", "revision"),
        ({"text": "Hi.", "revision": 1, "article_id": "a"}, "unknown_field", "article_id"),
        ([], "invalid_type", ""),
    ],
)
def test_field_errors(api: Api, body: object, code: str, field: str) -> None:
    comment_id = make_comment(api, text="Original.")
    found = problem(edit(api, comment_id, body), 422, code)
    assert found["errors"][0]["field"] == field
    assert stored(api, comment_id).revision == 1


def test_401_before_404(api: Api) -> None:
    response = api.client.patch("/v1/comments/does-not-exist", content=b"x")
    problem(response, 401, "invalid_token")
    theirs = make_comment(api, author="reader-2")
    problem(api.client.patch(f"/v1/comments/{theirs}", json=FIX), 401, "invalid_token")


def test_404_for_anyone_but_the_author_before_the_body_is_read(api: Api) -> None:
    theirs = make_comment(api, author="reader-2", text="Theirs.")
    missing = "00000000-0000-4000-8000-000000000000"
    for comment_id in (theirs, missing, "does-not-exist"):
        for headers in (api.auth("reader-1"), api.auth("mod-1", moderator=True)):
            problem(
                api.client.patch(f"/v1/comments/{comment_id}", json=FIX, headers=headers),
                404,
                "not_found",
            )
            not_json = api.client.patch(
                f"/v1/comments/{comment_id}",
                content=b"{not json",
                headers={**headers, "Content-Type": "text/plain"},
            )
            problem(not_json, 404, "not_found")
            too_big = api.client.patch(
                f"/v1/comments/{comment_id}",
                content=b"x" * 70_000,
                headers={**headers, "Content-Type": "application/json"},
            )
            problem(too_big, 404, "not_found")
    row = stored(api, theirs)
    assert (row.text, row.revision) == ("Theirs.", 1)


def test_413_415_and_400_before_422(api: Api) -> None:
    comment_id = make_comment(api)
    url = f"/v1/comments/{comment_id}"
    headers = {**api.auth(), "Content-Type": "application/json"}
    big = json.dumps({"text": "x" * 70_000, "revision": 1}).encode()
    problem(api.client.patch(url, content=big, headers=headers), 413, "body_too_large")
    response = api.client.patch(
        url, content=b'{"text": ""}', headers={**api.auth(), "Content-Type": "text/plain"}
    )
    problem(response, 415, "unsupported_media_type")
    problem(api.client.patch(url, content=b"{not json", headers=headers), 400, "malformed_json")
    problem(
        edit(api, comment_id, {"text": ""}, **{"Idempotency-Key": "x" * 256}),
        400,
        "invalid_idempotency_key",
    )
    assert stored(api, comment_id).revision == 1


def test_idempotent_replay_and_conflict(api: Api) -> None:
    comment_id = make_comment(api, text="Original.")
    key = {"Idempotency-Key": "edit-1"}
    first = edit(api, comment_id, FIX, **key)
    assert first.status_code == 202, first.text
    assert "idempotent-replayed" not in first.headers

    again = edit(api, comment_id, {"text": f" {NEW_TEXT} ", "revision": 1}, **key)
    assert again.status_code == 200, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert (again.json()["id"], again.json()["text"], again.json()["version"]) == (
        comment_id,
        NEW_TEXT,
        2,
    )
    assert revision_rows(api, comment_id) == [(1, "Original."), (2, NEW_TEXT)]
    assert sent(api).count(moderate_item(comment_id, 2)) == 1

    problem(
        edit(api, comment_id, {"text": "Something else.", "revision": 1}, **key),
        409,
        "idempotency_conflict",
    )
    # Validation comes first, and the replay before the revision check: a later edit made
    # the body's revision stale, and the retry still answers what its edit did.
    problem(edit(api, comment_id, {"text": "", "revision": 1}, **key), 422, "text_empty")
    assert edit(api, comment_id, {"text": "Third.", "revision": 2}).status_code == 202
    late = edit(api, comment_id, FIX, **key)
    assert late.status_code == 200
    assert late.json()["text"] == "Third."
    # The key is the comment's: the author's other comment takes it afresh.
    other = make_comment(api, text="Another.")
    assert edit(api, other, FIX, **key).status_code == 202
    assert revision_rows(api, other) == [(1, "Another."), (2, NEW_TEXT)]


def test_the_replay_comes_before_the_ban_and_the_ban_before_the_409s(api: Api) -> None:
    comment_id = make_comment(api, text="Original.")
    key = {"Idempotency-Key": "edit-1"}
    assert edit(api, comment_id, FIX, **key).status_code == 202
    banned = api.client.post(
        "/v1/moderation/authors/reader-1/ban",
        json={"reason": "Spam."},
        headers=api.auth("mod-1", moderator=True),
    )
    assert banned.status_code == 200, banned.text
    assert edit(api, comment_id, FIX, **key).status_code == 200
    problem(edit(api, comment_id, {"text": "Banned.", "revision": 1}), 403, "author_banned")
    problem(edit(api, comment_id, {"text": "Banned.", "revision": 2}), 403, "author_banned")
    assert stored(api, comment_id).revision == 2


def test_a_stale_revision_is_a_version_conflict(api: Api) -> None:
    comment_id = make_comment(api, text="Original.")
    assert edit(api, comment_id, FIX).status_code == 202
    body = problem(edit(api, comment_id, {"text": "Stale.", "revision": 1}), 409)
    assert (body["code"], body["revision"]) == ("version_conflict", 2)
    problem(edit(api, comment_id, {"text": "Ahead.", "revision": 3}), 409, "version_conflict")
    assert revision_rows(api, comment_id) == [(1, "Original."), (2, NEW_TEXT)]


def test_the_edit_window(make_api: ApiFactory) -> None:
    api = make_api(edit_window_seconds=60)
    recent = make_comment(api, at=utcnow() - timedelta(seconds=50))
    assert edit(api, recent, FIX).status_code == 202
    old = make_comment(api, at=utcnow() - timedelta(seconds=61))
    body = problem(edit(api, old, FIX), 409, "edit_window_closed")
    assert body["edit_window_seconds"] == 60
    # The version conflict is told first: the author's copy is out of date anyway.
    problem(edit(api, old, {"text": "Stale.", "revision": 2}), 409, "version_conflict")
    assert stored(api, old).revision == 1


def test_the_default_window_is_fifteen_minutes(api: Api) -> None:
    assert api.settings.edit_window_seconds == 900
    inside = make_comment(api, at=utcnow() - timedelta(minutes=14))
    outside = make_comment(api, at=utcnow() - timedelta(minutes=16))
    assert edit(api, inside, FIX).status_code == 202
    problem(edit(api, outside, FIX), 409, "edit_window_closed")


def test_the_409s_in_their_order(make_api: ApiFactory) -> None:
    """version_conflict (tested with the window), then edit_window_closed, not_editable and
    edit_limit_reached."""
    api = make_api(edit_window_seconds=60)
    old = make_comment(api, at=utcnow() - timedelta(seconds=61))
    set_status(api, old, "rejected")
    problem(edit(api, old, FIX), 409, "edit_window_closed")
    worn = make_comment(api, text="Edit 0.")
    for revision in range(1, 11):
        response = edit(api, worn, {"text": f"Edit {revision}.", "revision": revision})
        assert response.status_code == 202, response.text
    set_status(api, worn, "hidden")
    problem(edit(api, worn, {"text": "Edit 11.", "revision": 11}), 409, "not_editable")


def test_a_window_of_zero_turns_edits_off(make_api: ApiFactory) -> None:
    api = make_api(edit_window_seconds=0)
    comment_id = make_comment(api)
    body = problem(edit(api, comment_id, FIX), 409, "edit_window_closed")
    assert body["edit_window_seconds"] == 0
    assert stored(api, comment_id).revision == 1


@pytest.mark.parametrize("status", ["rejected", "hidden", "deleted"])
def test_rejected_hidden_and_deleted_comments_are_not_editable(api: Api, status: str) -> None:
    comment_id = hold(api)
    set_status(api, comment_id, status)
    body = problem(edit(api, comment_id, FIX), 409, "not_editable")
    assert body["comment_status"] == status
    assert (stored(api, comment_id).revision, revision_rows(api, comment_id)) == (1, [])


def test_a_comment_a_moderator_rejected_is_not_editable(api: Api) -> None:
    comment_id = hold(api)
    assert decide(api, comment_id, {"action": "reject", "version": 2}).status_code == 200
    problem(edit(api, comment_id, FIX), 409, "not_editable")


def test_a_comment_with_open_reports_is_not_editable(api: Api) -> None:
    comment_id = approved(api)
    assert report(api, comment_id, sub=reporter(api, "reader-2")).status_code == 201
    body = problem(edit(api, comment_id, FIX), 409, "not_editable")
    assert body["comment_status"] == "approved"


def test_ten_edits_at_most(api: Api) -> None:
    comment_id = make_comment(api, text="Edit 0.")
    for revision in range(1, 11):
        response = edit(api, comment_id, {"text": f"Edit {revision}.", "revision": revision})
        assert response.status_code == 202, response.text
    body = problem(edit(api, comment_id, {"text": "Edit 11.", "revision": 11}), 409)
    assert (body["code"], body["limit"]) == ("edit_limit_reached", 10)
    assert revision_rows(api, comment_id) == [(n, f"Edit {n - 1}.") for n in range(1, 12)]
    row = stored(api, comment_id)
    assert (row.revision, row.version, row.text) == (11, 11, "Edit 10.")


def test_edits_count_toward_the_flood_limit(
    make_api: ApiFactory, private_redis: PrivateRedis, tmp_path: Path
) -> None:
    # The flood windows on a Redis of the test's own: counts nothing else can add to or flush.
    api = make_api(redis_base=private_redis.url.rsplit("/", 1)[0])
    limit_flood(api, tmp_path, hard_limit=2)
    author = "flood-author"
    comment_id = make_comment(api, author=author, text="Original.")
    for revision in (1, 2):
        response = edit(
            api, comment_id, {"text": f"Edit {revision}.", "revision": revision}, sub=author
        )
        assert response.status_code == 202, response.text
    limited = edit(api, comment_id, {"text": "Edit 3.", "revision": 3}, sub=author)
    body = problem(limited, 429, "rate_limited")
    assert 1 <= body["retry_after"] <= 60
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    # The 409s come first (an edit refused for them isn't counted), and a new comment
    # shares the author's limit.
    stale = edit(api, comment_id, {"text": "Stale.", "revision": 1}, sub=author)
    problem(stale, 409, "version_conflict")
    problem(api.post_comment({"article_id": "a", "text": "New."}, sub=author), 429, "rate_limited")
    assert stored(api, comment_id).revision == 3


def test_prefer_wait_answers_as_post_does(api: Api) -> None:
    comment_id = make_comment(api)
    response = edit(api, comment_id, FIX, Prefer="wait=1")
    assert response.status_code == 202
    assert response.headers["preference-applied"] == "wait=1"
    assert response.json()["status"] == "pending"


def test_comment_edited_is_written_to_the_outbox_without_the_text(make_api: ApiFactory) -> None:
    api = make_api(webhook_url="http://127.0.0.1:9/hooks", webhook_secret=WEBHOOK_SECRET)
    comment_id = make_comment(api, text="Original.")
    assert edit(api, comment_id, FIX).status_code == 202
    (event,) = [e for e in events_of(api, comment_id) if e.type == COMMENT_EDITED]
    payload = event.payload
    assert payload["type"] == "comment.edited"
    assert set(payload["data"]) == {"comment_id", "version", "revision", "at"}
    assert (payload["data"]["comment_id"], payload["data"]["version"]) == (comment_id, 2)
    assert payload["data"]["revision"] == 2
    assert NEW_TEXT not in json.dumps(payload) and "Original." not in json.dumps(payload)


def test_the_logs_carry_no_text(api: Api) -> None:
    comment_id = make_comment(api, text="Original words.")
    with capture_logs() as logs:
        assert edit(api, comment_id, FIX).status_code == 202
    edited = [entry for entry in logs if entry["event"] == "comment.edited"]
    assert [(e["revision"], e["version"]) for e in edited] == [(2, 2)]
    assert NEW_TEXT not in repr(logs) and "Original words." not in repr(logs)
