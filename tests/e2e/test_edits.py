"""An author's edit and deletion, through real processes: the edit is a new revision moderated
again by the worker, and a deletion leaves no text behind, in the database or in what the site
is still to be sent."""

from __future__ import annotations

import json

import pytest

from tests.support.databases import BACKENDS
from tests.support.dumps import dump, spellings
from tests.support.stack import json_body, wait_for

FIRST = "Thanks for the clear reporting on the Zorblax budget."
# A word on the shipped banned list: the policy holds the edit whatever the model says.
EDITED = 'Zorblax "budget" — what a fucking mess, call 010-1234-5678'


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_edit_is_moderated_again_and_a_deletion_leaves_no_text(  # type: ignore[no-untyped-def]
    make_stack, backend: str
) -> None:
    stack = make_stack(backend)
    stack.start_worker()
    author = stack.auth("reader-1")
    with stack.client() as client:
        posted = client.post(
            "/v1/comments",
            json={"article_id": "story-1", "text": FIRST},
            headers={**author, "Prefer": "wait=10"},
        ).json()
        assert (posted["status"], posted["revision"]) == ("approved", 1), posted

        edited = client.patch(
            f"/v1/comments/{posted['id']}",
            json={"text": EDITED, "revision": 1},
            headers={**author, "Prefer": "wait=10"},
        )
        assert edited.status_code == 200, edited.text
        comment = edited.json()
        assert (comment["status"], comment["revision"]) == ("held", 2), comment
        assert comment["decision"]["action"] == "hold"
        assert {reason["kind"] for reason in comment["decision"]["reasons"]} >= {"terms"}
        history = client.get(
            f"/v1/comments/{posted['id']}/history", headers=stack.auth("editor-1", moderator=True)
        ).json()["items"]
        assert [(item["by"], item["revision"], item["action"]) for item in history] == [
            ("policy", 1, "approve"),
            ("policy", 2, "hold"),
        ]
        revisions = client.get(f"/v1/comments/{posted['id']}/revisions", headers=author).json()
        assert [item["text"] for item in revisions["items"]] == [FIRST, EDITED]

        assert client.delete(f"/v1/comments/{posted['id']}", headers=author).status_code == 204
        gone = client.get(f"/v1/comments/{posted['id']}", headers=author).json()
        assert (gone["status"], gone["text"]) == ("deleted", None)

    wait_for(
        lambda: any(
            json_body(body)["type"] == "comment.deleted" for _h, body in stack.receiver.requests
        ),
        what="comment.deleted",
    )
    events = [json_body(body) for _headers, body in stack.receiver.requests]
    assert [event["type"] for event in events if event["type"] != "comment.decided"] == [
        "comment.edited",
        "comment.deleted",
    ]
    # What was delivered before the deletion carried the text; the database keeps none of it.
    left = dump(stack.settings.effective_database_url)
    assert posted["id"] in left
    assert [form for form in spellings(EDITED) | spellings(FIRST) if form in left] == []
    assert "Zorblax" not in left
    deleted = next(event for event in events if event["type"] == "comment.deleted")
    assert "Zorblax" not in json.dumps(deleted)
