"""Coded reasons on moderators' decisions, single and bulk: reason_code, the explanation for the
author, the legal ground with `illegal`, and MODERATION_REQUIRE_REASON_CODE; on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from starlette.testclient import TestClient

from service.app import create_app
from service.reports.reasons import MAX_NOTICE_CHARS, REASON_CODES
from tests.support.api import API_REDIS_DB, Api, api_settings, problem
from tests.support.databases import BACKENDS
from tests.support.holds import hold
from tests.support.moderation import audit_rows, decide

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

DECISIONS = "/v1/moderation/decisions"


def bulk(api: Api, items: list[dict[str, object]]) -> list[dict[str, object]]:
    response = api.client.post(
        DECISIONS, json={"items": items}, headers=api.auth("mod-1", moderator=True)
    )
    assert response.status_code == 200, response.text
    results: list[dict[str, object]] = response.json()["results"]
    return results


def test_a_coded_reject_carries_its_code_explanation_and_legal_ground(api: Api) -> None:
    comment_id = hold(api)
    body = {
        "action": "reject",
        "version": 2,
        "reason": "Names a private person.",
        "reason_code": "illegal",
        "explanation": "  Your comment accused a named person of a crime.  ",
        "legal_ground": "Defamation Act 2013, s. 1",
    }
    response = decide(api, comment_id, body)
    assert response.status_code == 200, response.text
    review = response.json()["review"]
    assert review["reason_code"] == "illegal"
    assert review["explanation"] == "Your comment accused a named person of a crime."
    assert review["legal_ground"] == "Defamation Act 2013, s. 1"
    assert review["reason"] == "Names a private person."

    history = api.client.get(
        f"/v1/comments/{comment_id}/history", headers=api.auth("mod-1", moderator=True)
    ).json()["items"]
    assert history[-1]["reason_code"] == "illegal"
    assert history[-1]["legal_ground"] == "Defamation Act 2013, s. 1"
    assert history[0]["reason_code"] is None  # the policy's
    # The author reads why.
    mine = api.client.get(f"/v1/comments/{comment_id}", headers=api.auth("reader-1")).json()
    assert mine["review"]["explanation"] == "Your comment accused a named person of a crime."


@pytest.mark.parametrize("code", REASON_CODES)
def test_every_code_is_accepted(api: Api, code: str) -> None:
    comment_id = hold(api)
    body: dict[str, object] = {"action": "reject", "version": 2, "reason_code": code}
    if code == "illegal":
        body["legal_ground"] = "A law."
    response = decide(api, comment_id, body)
    assert response.status_code == 200, response.text
    assert response.json()["review"]["reason_code"] == code


@pytest.mark.parametrize(
    ("extra", "field", "code"),
    [
        ({"reason_code": "rude"}, "reason_code", "invalid_reason_code"),
        ({"reason_code": 3}, "reason_code", "invalid_reason_code"),
        ({"reason_code": "illegal"}, "legal_ground", "legal_ground_required"),
        ({"reason_code": "illegal", "legal_ground": "  "}, "legal_ground", "legal_ground_required"),
        ({"legal_ground": "A law."}, "legal_ground", "unknown_field"),
        ({"reason_code": "spam", "legal_ground": "A law."}, "legal_ground", "unknown_field"),
        ({"explanation": "x" * (MAX_NOTICE_CHARS + 1)}, "explanation", "explanation_too_long"),
        ({"explanation": "bad\u0000"}, "explanation", "explanation_invalid_characters"),
        ({"explanation": 5}, "explanation", "invalid_type"),
        (
            {"reason_code": "illegal", "legal_ground": "x" * (MAX_NOTICE_CHARS + 1)},
            "legal_ground",
            "legal_ground_too_long",
        ),
    ],
)
def test_a_wrong_code_or_notice_is_422(
    api: Api, extra: dict[str, object], field: str, code: str
) -> None:
    comment_id = hold(api)
    body = problem(decide(api, comment_id, {"action": "reject", "version": 2, **extra}), 422)
    assert (body["errors"][0]["field"], body["errors"][0]["code"]) == (field, code)
    assert audit_rows(api, comment_id) == []
    [result] = bulk(api, [{"id": comment_id, "action": "reject", "version": 2, **extra}])
    assert (result["status"], result["code"]) == (422, code)


def test_an_explanation_of_exactly_the_limit_is_kept(api: Api) -> None:
    comment_id = hold(api)
    text = "x" * MAX_NOTICE_CHARS
    response = decide(api, comment_id, {"action": "approve", "version": 2, "explanation": text})
    assert response.status_code == 200, response.text
    assert response.json()["review"]["explanation"] == text


def test_codes_are_optional_by_default(api: Api) -> None:
    comment_id = hold(api)
    review = decide(api, comment_id, {"action": "reject", "version": 2}).json()["review"]
    assert (review["reason_code"], review["explanation"], review["legal_ground"]) == (
        None,
        None,
        None,
    )


@pytest.fixture
def strict_api(database_url: str, redis_server: str, tmp_path: Path) -> Iterator[Api]:
    redis.Redis.from_url(f"{redis_server}/{API_REDIS_DB}").flushdb()
    settings = api_settings(database_url, redis_server, tmp_path, require_reason_code=True)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield Api(client, settings)


def test_a_deployment_can_require_a_code_on_reject(strict_api: Api) -> None:
    api = strict_api
    comment_id = hold(api)
    body = problem(decide(api, comment_id, {"action": "reject", "version": 2}), 422)
    assert body["code"] == "reason_code_required"
    assert body["errors"][0]["field"] == "reason_code"
    # Approve needs none; bulk answers per item.
    approved = hold(api)
    rejected = hold(api)
    results = bulk(
        api,
        [
            {"id": comment_id, "action": "reject", "version": 2},
            {"id": approved, "action": "approve", "version": 2},
            {"id": rejected, "action": "reject", "version": 2, "reason_code": "spam"},
        ],
    )
    assert [(r["status"], r.get("code"), r.get("comment_status")) for r in results] == [
        (422, "reason_code_required", None),
        (200, None, "approved"),
        (200, None, "rejected"),
    ]
    assert audit_rows(api, comment_id) == []
