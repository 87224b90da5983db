"""The HTTP contract of POST /v1/comments and GET /v1/comments/{id}, on both databases."""

from __future__ import annotations

import json
import time

import jwt
import pytest

from tests.support.api import SECRET, Api, problem
from tests.support.databases import BACKENDS

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # one grapheme
FLAG = "\U0001f1f0\U0001f1f7"
HANGUL_NFD = "\u1112\u1161\u11ab"  # 한 as decomposed jamo


def test_accepts_a_comment_as_pending_with_location(api: Api) -> None:
    response = api.post_comment({"article_id": "news-1", "text": "  Thoughtful piece.\r\n  "})
    assert response.status_code == 202
    body = response.json()
    assert response.headers["location"] == f"/v1/comments/{body['id']}"
    assert body["status"] == "pending"
    assert body["text"] == "Thoughtful piece."
    assert body["author_id"] == "reader-1"
    assert body["version"] == 1 and body["revision"] == 1
    assert body["decision"] is None and body["review"] is None
    assert body["parent_id"] is None and body["decided_at"] is None


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer not-a-jwt"},
        {"Authorization": "Bearer " + jwt.encode({"sub": "a"}, SECRET, algorithm="HS256")},
        {
            "Authorization": "Bearer "
            + jwt.encode({"sub": "a", "exp": int(time.time()) - 60}, SECRET, algorithm="HS256")
        },
        {
            "Authorization": "Bearer "
            + jwt.encode({"exp": int(time.time()) + 60}, SECRET, algorithm="HS256")
        },
        {
            "Authorization": "Bearer "
            + jwt.encode({"sub": "a", "exp": int(time.time()) + 60}, "w" * 40, algorithm="HS256")
        },
    ],
    ids=["missing", "not-bearer", "garbage", "no-exp", "expired", "no-sub", "bad-signature"],
)
def test_bad_tokens_are_401_with_www_authenticate(api: Api, headers: dict[str, str]) -> None:
    response = api.client.post(
        "/v1/comments", json={"article_id": "a", "text": "x"}, headers=headers
    )
    problem(response, 401, "invalid_token")
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


def test_alg_none_is_refused(api: Api) -> None:
    token = jwt.encode({"sub": "a", "exp": int(time.time()) + 60}, None, algorithm="none")
    response = api.client.get("/v1/comments/x", headers={"Authorization": f"Bearer {token}"})
    problem(response, 401, "invalid_token")


def test_leeway_of_thirty_seconds(api: Api) -> None:
    recent = jwt.encode({"sub": "a", "exp": int(time.time()) - 10}, SECRET, algorithm="HS256")
    response = api.client.post(
        "/v1/comments",
        json={"article_id": "a", "text": "ok"},
        headers={"Authorization": f"Bearer {recent}"},
    )
    assert response.status_code == 202


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (FAMILY * 250, 250),
        (FLAG * 250, 250),
        ("e\u0301" * 250, 250),
        (HANGUL_NFD * 250, 250),
        ("a" * 250, 250),
    ],
    ids=["emoji-family", "flags", "combining-accent", "nfd-hangul", "ascii"],
)
def test_250_user_perceived_characters_are_accepted(api: Api, text: str, expected: int) -> None:
    response = api.post_comment({"article_id": "a", "text": text})
    assert response.status_code == 202, response.text
    assert response.json()["text"] == __import__("unicodedata").normalize("NFC", text)


@pytest.mark.parametrize(
    "text",
    [FAMILY * 251, FLAG * 251, "e\u0301" * 251, HANGUL_NFD * 251, "a" * 251],
    ids=["emoji-family", "flags", "combining-accent", "nfd-hangul", "ascii"],
)
def test_251_characters_are_too_long(api: Api, text: str) -> None:
    body = problem(api.post_comment({"article_id": "a", "text": text}), 422, "text_too_long")
    assert body["limit"] == 250
    assert body["length"] == 251
    assert body["errors"][0]["field"] == "text"


def test_stacked_combining_marks_over_2000_code_points(api: Api) -> None:
    body = problem(
        api.post_comment({"article_id": "a", "text": "a" + "\u0301" * 2100}), 422, "text_too_long"
    )
    assert body["code_points"] == 2100  # NFC folds the first accent into "á"


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"article_id": "a", "text": "   \n\t "}, "text_empty", "text"),
        ({"article_id": "a", "text": "bad\x00nul"}, "text_invalid_characters", "text"),
        ({"article_id": "a", "text": "bell\x07"}, "text_invalid_characters", "text"),
        ({"article_id": "a"}, "required", "text"),
        ({"text": "hi"}, "required", "article_id"),
        ({"article_id": 5, "text": "hi"}, "invalid_type", "article_id"),
        ({"article_id": "a", "text": ["hi"]}, "invalid_type", "text"),
        ({"article_id": "a b", "text": "hi"}, "invalid_article_id", "article_id"),
        ({"article_id": "x" * 201, "text": "hi"}, "invalid_article_id", "article_id"),
        ({"article_id": "a", "text": "hi", "extra": 1}, "unknown_field", "extra"),
        ({"article_id": "a", "text": "hi", "parent_id": 7}, "invalid_type", "parent_id"),
        ({"article_id": "a", "text": "hi", "parent_id": "nope"}, "parent_not_found", "parent_id"),
    ],
)
def test_field_errors(api: Api, body: dict, code: str, field: str) -> None:
    found = problem(api.post_comment(body), 422, code)
    assert found["errors"][0]["field"] == field
    assert found["errors"][0]["code"] == code


def test_lone_surrogate_escape_is_invalid_characters(api: Api) -> None:
    raw = b'{"article_id": "a", "text": "lone \\ud800 here"}'
    response = api.client.post(
        "/v1/comments", content=raw, headers={**api.auth(), "Content-Type": "application/json"}
    )
    problem(response, 422, "text_invalid_characters")


def test_newlines_and_tabs_and_zero_width_joiner_are_allowed(api: Api) -> None:
    response = api.post_comment({"article_id": "a", "text": "line one\n\tline two " + FAMILY})
    assert response.status_code == 202


@pytest.mark.parametrize(
    "text",
    [
        "carriage\rreturn",
        "trailing carriage return\r",
        "\rleading carriage return",
        "ends with\r\r\n",
        *(f"{control}edge" for control in "\x0b\x0c\x1c\x1d\x1e\x1f\x85"),
        *(f"edge{control}" for control in "\x0b\x0c\x1c\x1d\x1e\x1f\x85"),
        "inside\x85the text",
    ],
)
def test_lone_carriage_returns_and_space_like_controls_are_invalid(api: Api, text: str) -> None:
    """Only CRLF becomes a newline, and trimming removes whitespace, not the control
    characters str.isspace() also counts (vertical tab, form feed, separators, NEL)."""
    problem(api.post_comment({"article_id": "a", "text": text}), 422, "text_invalid_characters")


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("one\r\ntwo\r\n", "one\ntwo"),
        ("\t\n spaced \n\t", "spaced"),
        ("\u00a0\u3000\u2003wide spaces\u2028\u205f", "wide spaces"),
        ("inner\u00a0space kept", "inner\u00a0space kept"),
    ],
)
def test_crlf_becomes_newline_and_whitespace_is_trimmed(api: Api, text: str, stored: str) -> None:
    response = api.post_comment({"article_id": "a", "text": text})
    assert response.status_code == 202, response.text
    assert response.json()["text"] == stored


def test_reply_to_an_existing_comment(api: Api) -> None:
    parent = api.post_comment({"article_id": "a", "text": "first"}).json()
    reply = api.post_comment({"article_id": "a", "text": "reply", "parent_id": parent["id"]})
    assert reply.status_code == 202
    assert reply.json()["parent_id"] == parent["id"]
    other_article = api.post_comment({"article_id": "b", "text": "x", "parent_id": parent["id"]})
    problem(other_article, 422, "parent_not_found")


def test_malformed_bodies_are_400(api: Api) -> None:
    headers = {**api.auth(), "Content-Type": "application/json"}
    for raw in [b"{not json", b"\xff\xfe{}", b'{"text": "a", "text": "b"}', b"[" * 20_000]:
        problem(
            api.client.post("/v1/comments", content=raw, headers=headers), 400, "malformed_json"
        )


def test_media_type_must_be_json(api: Api) -> None:
    response = api.client.post(
        "/v1/comments", content=b"text=hi", headers={**api.auth(), "Content-Type": "text/plain"}
    )
    problem(response, 415, "unsupported_media_type")


def test_body_over_64_kib_is_413_with_or_without_a_length(api: Api) -> None:
    big = json.dumps({"article_id": "a", "text": "x" * 70_000}).encode()
    headers = {**api.auth(), "Content-Type": "application/json"}
    problem(api.client.post("/v1/comments", content=big, headers=headers), 413, "body_too_large")

    def chunks():  # type: ignore[no-untyped-def]
        for start in range(0, len(big), 8192):
            yield big[start : start + 8192]

    response = api.client.post("/v1/comments", content=chunks(), headers=headers)
    problem(response, 413, "body_too_large")


def test_250_emoji_families_json_escaped_fit_in_the_body_limit(api: Api) -> None:
    raw = json.dumps({"article_id": "a", "text": FAMILY * 250}, ensure_ascii=True).encode()
    assert len(raw) > 16_000
    response = api.client.post(
        "/v1/comments", content=raw, headers={**api.auth(), "Content-Type": "application/json"}
    )
    assert response.status_code == 202


def test_error_order_401_before_415_before_422(api: Api) -> None:
    response = api.client.post("/v1/comments", content=b"x", headers={"Content-Type": "text/plain"})
    problem(response, 401, "invalid_token")
    response = api.client.post(
        "/v1/comments",
        content=b'{"text": ""}',
        headers={**api.auth(), "Content-Type": "text/plain"},
    )
    problem(response, 415, "unsupported_media_type")
    problem(api.post_comment({"article_id": "a", "text": ""}), 422, "text_empty")


def close_article(api: Api, article_id: str) -> None:
    response = api.client.put(
        f"/v1/articles/{article_id}/settings",
        json={"premoderated": False, "closed": True},
        headers=api.auth("mod-1", moderator=True),
    )
    assert response.status_code == 200, response.text


def flood_limit(api: Api, tmp_path, *, hard_limit: int) -> None:  # type: ignore[no-untyped-def]
    policy = tmp_path / "flood-policy.yaml"
    policy.write_text(
        f"flood:\n  window_seconds: 60\n  hold_after: 1\n  hard_limit: {hard_limit}\n"
    )
    from service.policies import PolicyHolder

    api.client.app.state.services.policies = PolicyHolder(policy)  # type: ignore[attr-defined]


def test_error_order_author_banned_before_article_closed(api: Api) -> None:
    close_article(api, "closed-1")
    banned = api.client.post(
        "/v1/moderation/authors/reader-1/ban",
        json={"reason": "Spam."},
        headers=api.auth("mod-1", moderator=True),
    )
    assert banned.status_code == 200, banned.text
    problem(api.post_comment({"article_id": "closed-1", "text": "Both?"}), 403, "author_banned")
    problem(
        api.post_comment({"article_id": "closed-1", "text": "Me?"}, sub="reader-2"),
        409,
        "article_closed",
    )


def test_error_order_article_closed_before_rate_limited(api: Api, tmp_path) -> None:  # type: ignore[no-untyped-def]
    flood_limit(api, tmp_path, hard_limit=2)
    close_article(api, "closed-1")
    for n in range(2):
        assert api.post_comment({"article_id": "open-1", "text": f"quick {n}"}).status_code == 202
    problem(api.post_comment({"article_id": "open-1", "text": "limited"}), 429, "rate_limited")
    problem(api.post_comment({"article_id": "closed-1", "text": "Both?"}), 409, "article_closed")


def test_idempotency_key_replays_the_same_comment(api: Api) -> None:
    body = {"article_id": "a", "text": "Once only."}
    first = api.post_comment(body, **{"Idempotency-Key": "k-1"})
    again = api.post_comment(
        {"article_id": "a", "text": " Once only. "}, **{"Idempotency-Key": "k-1"}
    )
    assert first.status_code == 202
    assert again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    other_author = api.post_comment(body, sub="reader-2", **{"Idempotency-Key": "k-1"})
    assert other_author.json()["id"] != first.json()["id"]


def test_idempotency_key_with_another_body_conflicts(api: Api) -> None:
    api.post_comment({"article_id": "a", "text": "one"}, **{"Idempotency-Key": "k-2"})
    conflict = api.post_comment({"article_id": "a", "text": "two"}, **{"Idempotency-Key": "k-2"})
    problem(conflict, 409, "idempotency_conflict")


def test_idempotency_key_must_be_printable_ascii(api: Api) -> None:
    response = api.post_comment({"article_id": "a", "text": "x"}, **{"Idempotency-Key": "x" * 256})
    problem(response, 400, "invalid_idempotency_key")


def test_validation_comes_before_idempotent_replay(api: Api) -> None:
    api.post_comment({"article_id": "a", "text": "fine"}, **{"Idempotency-Key": "k-3"})
    problem(
        api.post_comment({"article_id": "a", "text": ""}, **{"Idempotency-Key": "k-3"}),
        422,
        "text_empty",
    )


def test_comment_is_readable_by_author_and_moderator_only(api: Api) -> None:
    created = api.post_comment({"article_id": "a", "text": "mine"}).json()
    path = f"/v1/comments/{created['id']}"
    assert api.client.get(path, headers=api.auth("reader-1")).json()["id"] == created["id"]
    assert api.client.get(path, headers=api.auth("mod", moderator=True)).status_code == 200
    problem(api.client.get(path, headers=api.auth("reader-2")), 404, "not_found")
    problem(api.client.get("/v1/comments/does-not-exist", headers=api.auth()), 404, "not_found")
    problem(api.client.get(path), 401, "invalid_token")


def test_prefer_wait_on_a_pending_comment_answers_after_the_wait(api: Api) -> None:
    created = api.post_comment({"article_id": "a", "text": "nobody scores me"}).json()
    started = time.monotonic()
    response = api.client.get(
        f"/v1/comments/{created['id']}", headers={**api.auth(), "Prefer": "wait=1"}
    )
    assert time.monotonic() - started >= 0.9
    assert response.status_code == 200
    assert response.json()["status"] == "pending"
    assert response.headers["preference-applied"] == "wait=1"


def test_unknown_route_and_method_are_problems(api: Api) -> None:
    problem(api.client.get("/v1/nope", headers=api.auth()), 404, "not_found")
    problem(api.client.delete("/v1/comments", headers=api.auth()), 405, "method_not_allowed")


def test_flood_hard_limit_is_429_with_retry_after(api: Api, tmp_path) -> None:  # type: ignore[no-untyped-def]
    policy = tmp_path / "policy.yaml"
    policy.write_text("flood:\n  window_seconds: 60\n  hold_after: 1\n  hard_limit: 3\n")
    services = api.client.app.state.services  # type: ignore[attr-defined]
    from service.policies import PolicyHolder

    services.policies = PolicyHolder(policy)
    for n in range(3):
        assert api.post_comment({"article_id": "a", "text": f"quick {n}"}).status_code == 202
    body = problem(
        api.post_comment({"article_id": "a", "text": "one too many"}), 429, "rate_limited"
    )
    assert 1 <= body["retry_after"] <= 60
    limited = api.post_comment({"article_id": "a", "text": "and again"})
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert (
        api.post_comment({"article_id": "a", "text": "someone else"}, sub="reader-2").status_code
        == 202
    )
    problem(api.post_comment({"article_id": "a", "text": ""}), 422, "text_empty")
