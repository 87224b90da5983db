"""Moderators' notes on authors: POST and GET /v1/moderation/authors/{author_id}/notes."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from tests.support.api import Api, problem

NOTE_KEYS = {"id", "author_id", "moderator_id", "text", "at"}


def notes_url(author_id: str = "reader-1") -> str:
    return f"/v1/moderation/authors/{author_id}/notes"


def add_note(api: Api, body: Any, *, author_id: str = "reader-1", sub: str = "mod-1") -> Any:
    return api.client.post(notes_url(author_id), json=body, headers=api.auth(sub, moderator=True))


def read_notes(api: Api, author_id: str = "reader-1") -> dict[str, Any]:
    response = api.client.get(notes_url(author_id), headers=api.auth("mod-2", moderator=True))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    matches_the_document(api, "AuthorNotes", body)
    return body


def matches_the_document(api: Api, component: str, body: Any) -> None:
    document = api.client.get("/openapi.json").json()
    schema = {"$ref": f"#/components/schemas/{component}", "components": document["components"]}
    jsonschema.Draft202012Validator(schema).validate(body)


def test_a_note_is_stored_with_its_moderator_and_time_and_listed_newest_first(api: Api) -> None:
    first = add_note(api, {"text": "  Warned by email about insults.\n"})
    assert first.status_code == 201, first.text
    note = first.json()
    assert set(note) == NOTE_KEYS
    assert note["author_id"] == "reader-1" and note["moderator_id"] == "mod-1"
    assert note["text"] == "Warned by email about insults."  # trimmed, as a comment's text
    assert note["at"].endswith("Z")
    matches_the_document(api, "AuthorNote", note)
    second = add_note(api, {"text": "Apologised; watch for a week."}, sub="mod-2").json()

    listed = read_notes(api)["items"]
    assert [item["id"] for item in listed] == [second["id"], note["id"]]
    assert listed[1] == note
    assert read_notes(api, "reader-2") == {"items": []}  # an author never noted


def test_notes_of_an_author_who_never_commented_are_kept(api: Api) -> None:
    created = add_note(api, {"text": "Same person as reader-7."}, author_id="new.account@site")
    assert created.status_code == 201, created.text
    assert [n["text"] for n in read_notes(api, "new.account@site")["items"]] == [
        "Same person as reader-7."
    ]


def test_a_note_of_2000_characters_is_taken_and_one_more_refused(api: Api) -> None:
    assert add_note(api, {"text": "é" * 2000}).status_code == 201
    body = problem(add_note(api, {"text": "x" * 2001}), 422, "text_too_long")
    assert body["limit"] == 2000 and body["length"] == 2001
    assert [error["code"] for error in body["errors"]] == ["text_too_long"]
    assert len(read_notes(api)["items"]) == 1


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"text": ""}, "text_empty"),
        ({"text": " \n\t "}, "text_empty"),
        ({}, "required"),
        ({"text": None}, "required"),
        ({"text": 12}, "invalid_type"),
        ({"text": ["a"]}, "invalid_type"),
        ({"text": "a\x00b"}, "text_invalid_characters"),
        ({"text": "fine", "pinned": True}, "unknown_field"),
        ({"text": "fine", "moderator_id": "mod-9"}, "unknown_field"),
        (["text"], "invalid_type"),
        ("a note", "invalid_type"),
    ],
)
def test_a_bad_note_is_refused_and_nothing_is_stored(api: Api, body: Any, code: str) -> None:
    response = add_note(api, body)
    answer = problem(response, 422)
    assert answer["errors"][0]["code"] == code, answer
    assert read_notes(api) == {"items": []}


def test_malformed_json_is_a_400(api: Api) -> None:
    response = api.client.post(
        notes_url(),
        content=b'{"text": ',
        headers={**api.auth("mod-1", moderator=True), "Content-Type": "application/json"},
    )
    problem(response, 400, "malformed_json")


@pytest.mark.parametrize("author_id", ["a" * 256, "a%01b", "tab%09in"])
def test_an_invalid_author_id_is_a_422(api: Api, author_id: str) -> None:
    problem(add_note(api, {"text": "x"}, author_id=author_id), 422, "invalid_author_id")
    response = api.client.get(notes_url(author_id), headers=api.auth("mod-1", moderator=True))
    problem(response, 422, "invalid_author_id")


def test_only_moderators_write_or_read_notes(api: Api) -> None:
    reader = api.auth("reader-1")
    problem(
        api.client.post(notes_url(), json={"text": "I'm nice."}, headers=reader), 403, "forbidden"
    )
    problem(api.client.get(notes_url(), headers=reader), 403, "forbidden")
    problem(api.client.post(notes_url(), json={"text": "x"}), 401, "invalid_token")
    problem(api.client.get(notes_url()), 401, "invalid_token")
    assert read_notes(api) == {"items": []}


def test_notes_are_append_only(api: Api) -> None:
    note = add_note(api, {"text": "First impression."}).json()
    moderator = api.auth("mod-1", moderator=True)
    for method in ("PUT", "PATCH", "DELETE"):
        response = api.client.request(method, notes_url(), json={"text": "x"}, headers=moderator)
        problem(response, 405, "method_not_allowed")
        response = api.client.request(
            method, f"{notes_url()}/{note['id']}", json={"text": "x"}, headers=moderator
        )
        assert response.status_code in {404, 405}
    assert read_notes(api)["items"] == [note]
