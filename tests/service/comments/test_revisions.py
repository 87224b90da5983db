"""GET /v1/comments/{id}/revisions: every text a comment had, oldest first, for its author and
the moderators, on both databases."""

from __future__ import annotations

import pytest

from tests.support.api import Api, problem
from tests.support.databases import BACKENDS
from tests.support.edits import edit, revisions
from tests.support.holds import make_comment

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)


def test_a_comment_never_edited_has_its_one_revision(api: Api) -> None:
    comment_id = make_comment(api, text="As posted.")
    created_at = api.client.get(f"/v1/comments/{comment_id}", headers=api.auth()).json()[
        "created_at"
    ]
    response = revisions(api, comment_id)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "items": [{"revision": 1, "text": "As posted.", "created_at": created_at}]
    }


def test_every_revision_oldest_first(api: Api) -> None:
    comment_id = make_comment(api, text="First.")
    posted = revisions(api, comment_id).json()["items"][0]["created_at"]
    for revision, text in enumerate(["Second.", "Third."], start=1):
        assert edit(api, comment_id, {"text": text, "revision": revision}).status_code == 202
    items = revisions(api, comment_id).json()["items"]
    assert [(item["revision"], item["text"]) for item in items] == [
        (1, "First."),
        (2, "Second."),
        (3, "Third."),
    ]
    assert items[0]["created_at"] == posted
    assert posted <= items[1]["created_at"] <= items[2]["created_at"]
    current = api.client.get(f"/v1/comments/{comment_id}", headers=api.auth()).json()
    assert current["text"] == items[-1]["text"]


def test_the_author_and_moderators_only(api: Api) -> None:
    comment_id = make_comment(api, text="Mine.")
    assert edit(api, comment_id, {"text": "Mine, edited.", "revision": 1}).status_code == 202
    as_moderator = revisions(api, comment_id, sub="mod-1", moderator=True)
    assert as_moderator.status_code == 200
    assert [item["text"] for item in as_moderator.json()["items"]] == ["Mine.", "Mine, edited."]
    problem(revisions(api, comment_id, sub="reader-2"), 404, "not_found")
    missing = "00000000-0000-4000-8000-000000000000"
    for comment in (missing, "does-not-exist"):
        problem(revisions(api, comment), 404, "not_found")
    problem(api.client.get(f"/v1/comments/{comment_id}/revisions"), 401, "invalid_token")
