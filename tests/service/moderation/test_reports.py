"""A comment's decision history and the queue's numbers, on both databases."""

from __future__ import annotations

from datetime import timedelta

import jsonschema
import pytest
from sqlalchemy import update

from service.db.tables import Comment, Decision, utcnow
from tests.support.api import Api, problem
from tests.support.databases import BACKENDS
from tests.support.holds import INSULT, database, hold, make_comment, terms_reason

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)


def test_history_lists_every_decision_oldest_first(api: Api) -> None:
    comment_id = hold(api, reasons=[INSULT, terms_reason(0, 3)])
    moderator = api.auth("mod-1", moderator=True)
    api.client.post(
        f"/v1/moderation/comments/{comment_id}/decision",
        json={"action": "approve", "version": 2, "reason": "Quoting the minister."},
        headers=moderator,
    )
    response = api.client.get(f"/v1/comments/{comment_id}/history", headers=moderator)
    assert response.status_code == 200
    body = response.json()
    policy, human = body["items"]
    assert policy["by"] == "policy" and policy["action"] == "hold" and policy["revision"] == 1
    assert policy["policy_version"] == "sha256:test"
    assert policy["moderator_id"] is None and policy["reason"] is None
    assert [reason["kind"] for reason in policy["reasons"]] == ["toxicity", "terms"]
    assert human == {
        "by": "moderator",
        "action": "approve",
        "revision": 1,
        "reason": "Quoting the minister.",
        "reason_code": None,
        "explanation": None,
        "legal_ground": None,
        "moderator_id": "mod-1",
        "policy_version": None,
        "at": human["at"],
        "override": False,
    }
    assert policy["at"] <= human["at"]

    document = api.client.get("/openapi.json").json()
    schema = {"$ref": "#/components/schemas/History", "components": document["components"]}
    jsonschema.Draft202012Validator(schema).validate(body)


def test_history_of_an_undecided_comment_is_empty(api: Api) -> None:
    comment_id = make_comment(api)
    response = api.client.get(
        f"/v1/comments/{comment_id}/history", headers=api.auth("mod-1", moderator=True)
    )
    assert response.json() == {"items": []}


def test_history_is_for_moderators_only(api: Api) -> None:
    comment_id = hold(api, author="reader-1")
    path = f"/v1/comments/{comment_id}/history"
    problem(api.client.get(path, headers=api.auth("reader-1")), 403, "forbidden")
    problem(api.client.get(path), 401, "invalid_token")
    problem(
        api.client.get("/v1/comments/missing/history", headers=api.auth("mod-1", moderator=True)),
        404,
        "not_found",
    )


def test_stats(api: Api) -> None:
    moderator = api.auth("mod-1", moderator=True)
    empty = api.client.get("/v1/moderation/stats", headers=moderator).json()
    assert empty["held"] == 0
    assert empty["oldest_held_at"] is None and empty["oldest_held_age_seconds"] is None
    assert empty["decisions"]["last_hour"] == {
        "total": 0,
        "by_action": {"approve": 0, "reject": 0, "keep": 0},
        "by_moderator": {},
    }
    assert empty["holds_by_reason"] == {}

    oldest = hold(api, reasons=[INSULT, terms_reason(0, 3)], minutes_ago=90)
    hold(api, reasons=[terms_reason(0, 3)], minutes_ago=30)
    decided = [hold(api, minutes_ago=10 - i) for i in range(4)]
    for comment_id, (sub, action) in zip(
        decided,
        [("mod-1", "approve"), ("mod-1", "reject"), ("mod-2", "reject"), ("mod-2", "reject")],
        strict=True,
    ):
        response = api.client.post(
            f"/v1/moderation/comments/{comment_id}/decision",
            json={"action": action, "version": 2},
            headers=api.auth(sub, moderator=True),
        )
        assert response.status_code == 200
    # one of mod-2's decisions was made yesterday afternoon: in the day, not the hour
    with database(api).session() as session:
        session.execute(
            update(Decision)
            .where(Decision.comment_id == decided[3], Decision.by == "moderator")
            .values(at=utcnow() - timedelta(hours=5))
        )
        created = session.get(Comment, oldest)
        assert created is not None
        oldest_at = created.created_at

    stats = api.client.get("/v1/moderation/stats", headers=moderator).json()
    assert stats["held"] == 2
    assert stats["oldest_held_at"].startswith(oldest_at.strftime("%Y-%m-%dT%H:%M"))
    assert 90 * 60 - 5 <= stats["oldest_held_age_seconds"] <= 90 * 60 + 60
    assert stats["decisions"]["last_hour"] == {
        "total": 3,
        "by_action": {"approve": 1, "reject": 2, "keep": 0},
        "by_moderator": {"mod-1": 2, "mod-2": 1},
    }
    assert stats["decisions"]["last_day"] == {
        "total": 4,
        "by_action": {"approve": 1, "reject": 3, "keep": 0},
        "by_moderator": {"mod-1": 2, "mod-2": 2},
    }
    assert stats["holds_by_reason"] == {"terms": 2, "toxicity": 1}

    document = api.client.get("/openapi.json").json()
    schema = {"$ref": "#/components/schemas/ModerationStats", "components": document["components"]}
    jsonschema.Draft202012Validator(schema).validate(stats)
