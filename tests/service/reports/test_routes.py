"""POST /v1/comments/{id}/reports and GET /v1/comments/{id}/reports/{report_id}: every answer
in the contract's order, on both databases."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
import redis

from service.comments.flood import FloodGate
from service.db.tables import Comment
from service.errors import ProblemError
from service.reports.intake import file_report
from service.reports.schemas import NewReport
from service.store.decisions import set_comment_status
from tests.support.api import Api, ApiFactory, problem
from tests.support.databases import BACKENDS
from tests.support.holds import database, hold, make_comment
from tests.support.reports import NOTICE, SPAM, approved, report, reports_of

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)


def ban(api: Api, author: str) -> None:
    response = api.client.post(
        f"/v1/moderation/authors/{author}/ban",
        json={"reason": "Abuse."},
        headers=api.auth("mod-1", moderator=True),
    )
    assert response.status_code == 200, response.text


def version_of(api: Api, comment_id: str) -> int:
    with database(api).session() as session:
        comment = session.get(Comment, comment_id)
        assert comment is not None
        return comment.version


def test_a_report_is_201_with_the_report_and_its_location(api: Api) -> None:
    comment_id = approved(api)
    response = report(api, comment_id, {"reason": "harassment", "detail": "  Targets me.  "})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body == {
        "id": body["id"],
        "comment_id": comment_id,
        "reason": "harassment",
        "detail": "Targets me.",
        "legal_ground": None,
        "explanation": None,
        "good_faith": None,
        "status": "open",
        "created_at": body["created_at"],
        "resolved_at": None,
    }
    assert body["id"].startswith("rep_")
    assert response.headers["location"] == f"/v1/comments/{comment_id}/reports/{body['id']}"
    assert version_of(api, comment_id) == 3
    (stored,) = reports_of(api, comment_id)
    assert (stored.reporter_id, stored.counts_toward_hide) == ("reader-2", False)

    document = api.client.get("/openapi.json").json()
    schema = {"$ref": "#/components/schemas/Report", "components": document["components"]}
    jsonschema.Draft202012Validator(schema).validate(body)


def test_a_notice_of_illegal_content_keeps_its_fields(api: Api) -> None:
    comment_id = approved(api)
    body = report(api, comment_id, NOTICE).json()
    assert body["reason"] == "illegal"
    assert body["legal_ground"] == NOTICE["legal_ground"]
    assert body["explanation"] == NOTICE["explanation"]
    assert body["good_faith"] is True


def test_no_token_is_401_before_anything(api: Api) -> None:
    response = api.client.post("/v1/comments/nope/reports", content=b"{", headers={})
    problem(response, 401, "invalid_token")


@pytest.mark.parametrize("status", ["pending", "held", "rejected", "hidden", None])
def test_someone_elses_unpublished_or_missing_comment_is_404_before_the_body(
    api: Api, status: str | None
) -> None:
    if status is None:
        comment_id = "c0ffee00-0000-4000-8000-000000000000"
    else:
        comment_id = make_comment(api)
        if status != "pending":
            with database(api).session() as session:
                comment = session.get(Comment, comment_id)
                assert comment is not None
                set_comment_status(session, comment=comment, status=status, now=comment.created_at)
    malformed = api.client.post(
        f"/v1/comments/{comment_id}/reports",
        content=b"{not json",
        headers={**api.auth("reader-2"), "Content-Type": "text/plain"},
    )
    problem(malformed, 404, "not_found")
    problem(report(api, comment_id), 404, "not_found")
    assert reports_of(api, comment_id) == []


def test_body_faults_come_after_the_comment_is_found(api: Api) -> None:
    comment_id = approved(api)
    url = f"/v1/comments/{comment_id}/reports"
    reader = api.auth("reader-2")
    too_big = api.client.post(
        url,
        content=b'{"reason": "spam", "detail": "' + b"x" * 70_000 + b'"}',
        headers={**reader, "Content-Type": "application/json"},
    )
    problem(too_big, 413, "body_too_large")
    wrong_type = api.client.post(
        url, content=b"{}", headers={**reader, "Content-Type": "text/plain"}
    )
    problem(wrong_type, 415, "unsupported_media_type")
    malformed = api.client.post(
        url, content=b"{", headers={**reader, "Content-Type": "application/json"}
    )
    problem(malformed, 400, "malformed_json")
    assert reports_of(api, comment_id) == []


FIELD_FAULTS: list[Any] = [
    pytest.param({}, [("reason", "required")], id="no-reason"),
    pytest.param({"reason": "rude"}, [("reason", "invalid_reason")], id="unknown-reason"),
    pytest.param({"reason": 3}, [("reason", "invalid_reason")], id="reason-number"),
    pytest.param({"reason": "spam", "detail": 5}, [("detail", "invalid_type")], id="detail-type"),
    pytest.param(
        {"reason": "spam", "detail": "x" * 501}, [("detail", "detail_too_long")], id="detail-long"
    ),
    pytest.param(
        {"reason": "spam", "detail": "a\u0000b"},
        [("detail", "detail_invalid_characters")],
        id="detail-control",
    ),
    pytest.param(
        {"reason": "spam", "legal_ground": "s. 1", "explanation": "x", "good_faith": True},
        [
            ("explanation", "unknown_field"),
            ("good_faith", "unknown_field"),
            ("legal_ground", "unknown_field"),
        ],
        id="notice-without-illegal",
    ),
    pytest.param(
        {"reason": "other", "good_faith": True}, [("good_faith", "unknown_field")], id="good-faith"
    ),
    pytest.param(
        {"reason": "spam", "colour": "red"}, [("colour", "unknown_field")], id="unknown-field"
    ),
    pytest.param(
        {"reason": "illegal"},
        [("legal_ground", "required"), ("explanation", "required"), ("good_faith", "required")],
        id="illegal-alone",
    ),
    pytest.param(
        {**NOTICE, "legal_ground": "   "}, [("legal_ground", "required")], id="legal-ground-blank"
    ),
    pytest.param(
        {**NOTICE, "legal_ground": "x" * 1001},
        [("legal_ground", "legal_ground_too_long")],
        id="legal-ground-long",
    ),
    pytest.param(
        {**NOTICE, "explanation": "x" * 1001},
        [("explanation", "explanation_too_long")],
        id="explanation-long",
    ),
    pytest.param(
        {**NOTICE, "explanation": "\u0007"},
        [("explanation", "explanation_invalid_characters")],
        id="explanation-control",
    ),
    pytest.param(
        {**NOTICE, "good_faith": False}, [("good_faith", "good_faith_required")], id="bad-faith"
    ),
    pytest.param(
        {**NOTICE, "good_faith": "true"}, [("good_faith", "invalid_type")], id="good-faith-text"
    ),
    pytest.param(["spam"], [("", "invalid_type")], id="not-an-object"),
]


@pytest.mark.parametrize(("body", "faults"), FIELD_FAULTS)
def test_field_faults_are_422(api: Api, body: Any, faults: list[tuple[str, str]]) -> None:
    comment_id = approved(api)
    found = problem(report(api, comment_id, body), 422, faults[0][1])
    assert [(error["field"], error["code"]) for error in found["errors"]] == faults
    assert reports_of(api, comment_id) == []


def test_limits_are_inclusive(api: Api) -> None:
    comment_id = approved(api)
    body = {**NOTICE, "detail": "d" * 500, "legal_ground": "l" * 1000, "explanation": "e" * 1000}
    assert report(api, comment_id, body).status_code == 201


def test_own_comment_is_422_after_the_field_faults(api: Api) -> None:
    mine = hold(api, author="reader-2")  # their own, whatever its status: not a 404
    problem(report(api, mine, {"reason": "nope"}), 422, "invalid_reason")
    problem(report(api, mine), 422, "own_comment")
    published = approved(api, author="reader-2")
    problem(report(api, published), 422, "own_comment")
    assert reports_of(api, mine) == reports_of(api, published) == []


def test_a_repeat_is_200_with_the_first_report_and_counts_nothing(api: Api) -> None:
    comment_id = approved(api)
    first = report(api, comment_id, {"reason": "spam", "detail": "Ads."}).json()
    again = report(api, comment_id, NOTICE)
    assert again.status_code == 200
    assert again.json() == first
    assert again.headers["location"] == f"/v1/comments/{comment_id}/reports/{first['id']}"
    assert len(reports_of(api, comment_id)) == 1
    assert version_of(api, comment_id) == 3


def test_a_banned_reader_is_403_but_their_repeat_is_still_200(api: Api) -> None:
    comment_id = approved(api)
    other = approved(api, text="Another published comment.")
    first = report(api, comment_id).json()
    ban(api, "reader-2")
    problem(report(api, other), 403, "author_banned")
    assert report(api, comment_id).json() == first
    assert reports_of(api, other) == []


def test_a_comment_unpublished_meanwhile_is_409_not_reportable(api: Api) -> None:
    """Between the route's 404 check and the report's transaction a moderator rejected it:
    the transaction re-checks under the row lock."""
    comment_id = approved(api)
    with database(api).session() as session:
        comment = session.get(Comment, comment_id)
        assert comment is not None
        set_comment_status(session, comment=comment, status="rejected", now=comment.created_at)
    with pytest.raises(ProblemError) as refused:
        file_report(
            database(api),
            reporter_id="reader-2",
            comment_id=comment_id,
            new=NewReport.parse(SPAM),
            policy=api.client.app.state.services.policies.current().reports,  # type: ignore[attr-defined]
            events=frozenset(),
            admit=lambda _reader: 0,
        )
    assert (refused.value.status, refused.value.code) == (409, "not_reportable")
    assert reports_of(api, comment_id) == []


def test_flooding_reports_is_429_with_retry_after(reports_api: ApiFactory) -> None:
    api = reports_api("  flood: {window_seconds: 60, limit: 2}\n")
    comments = [approved(api, text=f"Comment {n}.") for n in range(3)]
    assert report(api, comments[0]).status_code == 201
    assert report(api, comments[1]).status_code == 201
    refused = report(api, comments[2])
    body = problem(refused, 429, "rate_limited")
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert body["retry_after"] == int(refused.headers["retry-after"])
    assert report(api, comments[0]).status_code == 200  # a repeat is not refused, nor counted
    assert report(api, comments[2], sub="reader-3").status_code == 201  # per reader
    assert reports_of(api, comments[2])[0].reporter_id == "reader-3"


def test_the_flood_limit_is_skipped_while_redis_is_down(reports_api: ApiFactory) -> None:
    api = reports_api("  flood: {window_seconds: 60, limit: 1}\n")
    services = api.client.app.state.services  # type: ignore[attr-defined]
    services.flood = FloodGate(redis.Redis(port=1, socket_connect_timeout=0.2))
    comments = [approved(api, text=f"Comment {n}.") for n in range(2)]
    assert [report(api, comment_id).status_code for comment_id in comments] == [201, 201]


def test_the_reporter_and_moderators_read_a_report_and_no_one_else(api: Api) -> None:
    comment_id = approved(api, author="reader-1")
    created = report(api, comment_id, sub="reader-2").json()
    url = f"/v1/comments/{comment_id}/reports/{created['id']}"
    assert api.client.get(url, headers=api.auth("reader-2")).json() == created
    moderator = api.client.get(url, headers=api.auth("mod-1", moderator=True))
    assert moderator.json() == created
    problem(api.client.get(url, headers=api.auth("reader-1")), 404, "not_found")  # the author
    problem(api.client.get(url, headers=api.auth("reader-3")), 404, "not_found")
    other = approved(api, text="Another.")
    problem(
        api.client.get(
            f"/v1/comments/{other}/reports/{created['id']}", headers=api.auth("reader-2")
        ),
        404,
        "not_found",
    )
    for missing in ["rep_0000", "x" * 300]:
        problem(
            api.client.get(
                f"/v1/comments/{comment_id}/reports/{missing}",
                headers=api.auth("mod-1", moderator=True),
            ),
            404,
            "not_found",
        )
    problem(api.client.get(url), 401, "invalid_token")
