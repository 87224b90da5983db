"""Article and author settings, and the 409 article_closed they cause."""

from __future__ import annotations

import pytest

from tests.support.api import Api, problem
from tests.support.databases import BACKENDS

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)


def test_article_settings_default_then_set_by_a_moderator(api: Api) -> None:
    path = "/v1/articles/story-1/settings"
    assert api.client.get(path, headers=api.auth()).json() == {
        "article_id": "story-1",
        "premoderated": False,
        "closed": False,
        "updated_by": None,
        "updated_at": None,
    }
    put = api.client.put(
        path,
        json={"premoderated": True, "closed": False},
        headers=api.auth("mod-1", moderator=True),
    )
    assert put.status_code == 200
    assert put.json()["premoderated"] is True and put.json()["updated_by"] == "mod-1"
    assert api.client.get(path, headers=api.auth()).json()["premoderated"] is True


def test_only_moderators_change_settings(api: Api) -> None:
    problem(
        api.client.put(
            "/v1/articles/a/settings",
            json={"premoderated": True, "closed": True},
            headers=api.auth(),
        ),
        403,
        "forbidden",
    )
    problem(
        api.client.put(
            "/v1/authors/x/settings",
            json={"always_hold": True, "trusted": False},
            headers=api.auth(),
        ),
        403,
        "forbidden",
    )
    problem(api.client.get("/v1/authors/x/settings", headers=api.auth()), 403, "forbidden")
    problem(api.client.get("/v1/articles/a/settings"), 401, "invalid_token")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"premoderated": True}, "required"),
        ({"premoderated": "yes", "closed": False}, "invalid_type"),
        ({"premoderated": True, "closed": False, "other": 1}, "unknown_field"),
        ([], "invalid_type"),
    ],
)
def test_settings_bodies_are_validated(api: Api, body: object, code: str) -> None:
    response = api.client.put(
        "/v1/articles/a/settings", json=body, headers=api.auth("m", moderator=True)
    )
    problem(response, 422, code)


def test_bad_article_id_in_the_path_is_422(api: Api) -> None:
    problem(
        api.client.get("/v1/articles/" + "x" * 201 + "/settings", headers=api.auth()),
        422,
        "invalid_article_id",
    )


def test_author_settings_round_trip(api: Api) -> None:
    moderator = api.auth("mod-1", moderator=True)
    put = api.client.put(
        "/v1/authors/troll-1/settings",
        json={"always_hold": True, "trusted": False},
        headers=moderator,
    )
    assert put.json()["always_hold"] is True
    assert (
        api.client.get("/v1/authors/troll-1/settings", headers=moderator).json()["trusted"] is False
    )


def test_closed_article_refuses_comments_after_validation(api: Api) -> None:
    api.client.put(
        "/v1/articles/closed-1/settings",
        json={"premoderated": False, "closed": True},
        headers=api.auth("m", moderator=True),
    )
    body = problem(
        api.post_comment({"article_id": "closed-1", "text": "Too late?"}), 409, "article_closed"
    )
    assert "closed" in body["detail"]
    problem(api.post_comment({"article_id": "closed-1", "text": ""}), 422, "text_empty")
    assert api.post_comment({"article_id": "open-1", "text": "Fine."}).status_code == 202
