"""Hostile request bodies: each gets a clear 4xx as problem+json, never a 500, and a refused
comment leaves no row behind. On both databases: PostgreSQL refuses NUL where SQLite keeps it."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.api import Api, count_comments, problem
from tests.support.databases import BACKENDS
from tests.support.holds import hold

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

JSON = {"Content-Type": "application/json"}

# One user-perceived character each (UAX #29 extended grapheme clusters).
ZWJ_SEQUENCES = {
    "family": "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466",
    "kiss": "\U0001f469\u200d\u2764\ufe0f\u200d\U0001f48b\u200d\U0001f468",
    "rainbow-flag": "\U0001f3f3\ufe0f\u200d\U0001f308",
    "technologist-skin-tone": "\U0001f468\U0001f3fd\u200d\U0001f4bb",
    "handshake-skin-tones": "\U0001faf1\U0001f3fb\u200d\U0001faf2\U0001f3ff",
    "scotland-tag-sequence": "\U0001f3f4"
    + "".join(chr(0xE0000 + ord(c)) for c in "gbsct")
    + "\U000e007f",
    "keycap": "#\ufe0f\u20e3",
}


def post_raw(api: Api, raw: bytes | Iterator[bytes], **headers: str) -> Any:
    return api.client.post("/v1/comments", content=raw, headers={**api.auth(), **JSON, **headers})


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b'{"article_id": "a", "text": "caf\xe9"}', "latin-1 byte"),
        (b'{"article_id": "a", "text": "\xc0\xaf"}', "overlong encoding of /"),
        (b'{"article_id": "a", "text": "\xed\xa0\x80"}', "UTF-8-encoded surrogate (CESU)"),
        (b'{"article_id": "a", "text": "\xf4\x90\x80\x80"}', "beyond U+10FFFF"),
        (b'\xef\xbb\xbf{"article_id": "a", "text": "bom"}', "byte-order mark"),
        (b'{"article_id": "a", "text": "raw\x00nul"}', "raw NUL inside a string"),
        (b'{"article_id": "a", "text": "tab\tand\nnewline unescaped"}', "raw control chars"),
        (b'{"article_id": "a", "text": "x", "text": "y"}', "duplicate key"),
        (b'{"article_id": "a", "text": "x", "article_id": "a"}', "duplicate key, same value"),
        (b'{"article_id": "a", "text": "x",}', "trailing comma"),
        (b"{'article_id': 'a', 'text': 'x'}", "single quotes"),
        (b'{"article_id": "a", "text": NaN}', "NaN"),
        (b'{"article_id": "a", "text": "x", "parent_id": -Infinity}', "Infinity"),
        (b'{"article_id": "a", "text": "x"} trailing', "trailing garbage"),
        (b"", "empty"),
        (b"\x00" * 64, "NULs"),
        (b"[" * 50_000, "deeply nested arrays"),
        (b'{"a":' * 10_000 + b"1" + b"}" * 10_000, "deeply nested objects"),
        (b'{"article_id": "a", "text": ' + b"9" * 5000 + b"}", "a 5000-digit number"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_malformed_json_is_400_and_stores_nothing(api: Api, raw: bytes, why: str) -> None:
    problem(post_raw(api, raw), 400, "malformed_json")
    assert count_comments(api) == 0


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"article_id": "a", "text": "lone \ud800 high"}, "text_invalid_characters", "text"),
        ({"article_id": "a", "text": "lone \udfff low"}, "text_invalid_characters", "text"),
        (
            {"article_id": "a", "text": "\udc00\ud800 reversed pair"},
            "text_invalid_characters",
            "text",
        ),
        ({"article_id": "a", "text": "nul \u0000 escaped"}, "text_invalid_characters", "text"),
        ({"article_id": "a", "text": "escape \u001b[31m red"}, "text_invalid_characters", "text"),
        ({"article_id": "a", "text": "delete \u007f"}, "text_invalid_characters", "text"),
        ({"article_id": "a", "text": "c1 \u0085 next line"}, "text_invalid_characters", "text"),
        ({"article_id": "a\u0000", "text": "x"}, "invalid_article_id", "article_id"),
        ({"article_id": "a", "text": "x", "parent_id": "p\u0000"}, "parent_not_found", "parent_id"),
        ({"article_id": "a", "text": "x", "parent_id": "\ud800"}, "parent_not_found", "parent_id"),
        ({"article_id": "' OR 1=1 --", "text": "x"}, "invalid_article_id", "article_id"),
        ({"article_id": "a", "text": None}, "required", "text"),
        ({"article_id": "a", "text": 5}, "invalid_type", "text"),
        ({"article_id": "a", "text": True}, "invalid_type", "text"),
        ({"article_id": "a", "text": {"$gt": ""}}, "invalid_type", "text"),
        ({"article_id": "a", "text": ["x"]}, "invalid_type", "text"),
        ({"article_id": ["a"], "text": "x"}, "invalid_type", "article_id"),
        ({"article_id": 1e308, "text": "x"}, "invalid_type", "article_id"),
        ({"article_id": "a", "text": "x", "parent_id": ["p"]}, "invalid_type", "parent_id"),
        ({"article_id": "a", "text": "x", "parent_id": {}}, "invalid_type", "parent_id"),
        ({"article_id": "a", "text": "x", "parent_id": False}, "invalid_type", "parent_id"),
        ({"article_id": "a", "text": "x", "parent_id": "p" * 37}, "invalid_type", "parent_id"),
        ({"article_id": "a", "text": "x", "__proto__": {}}, "unknown_field", "__proto__"),
        (
            {"article_id": "a", "text": "x", "author_id": "someone-else"},
            "unknown_field",
            "author_id",
        ),
        ({"article_id": "a", "text": "x", "status": "approved"}, "unknown_field", "status"),
        ({"article_id": "a", "text": "x", "": 1}, "unknown_field", ""),
    ],
    ids=lambda value: None,
)
def test_wrong_values_are_422_and_store_nothing(
    api: Api, body: dict[str, Any], code: str, field: str
) -> None:
    raw = json.dumps(body, ensure_ascii=True).encode()  # lone surrogates travel as \\ud800
    found = problem(post_raw(api, raw), 422, code)
    assert found["errors"][0]["field"] == field
    assert count_comments(api) == 0


@pytest.mark.parametrize("body", [[], ["a"], "text", 42, None, True], ids=repr)
def test_a_body_that_is_not_an_object_is_422(api: Api, body: Any) -> None:
    problem(post_raw(api, json.dumps(body).encode()), 422, "invalid_type")
    assert count_comments(api) == 0


def test_a_1_mb_body_is_413_with_a_length_and_without_one(api: Api) -> None:
    big = json.dumps({"article_id": "a", "text": "x" * 1024 * 1024}).encode()
    problem(post_raw(api, big), 413, "body_too_large")

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(big), 16_384):
            yield big[start : start + 16_384]

    body = problem(post_raw(api, chunks()), 413, "body_too_large")
    assert body["limit"] == 64 * 1024
    lying = api.client.post(
        "/v1/comments",
        content=big,
        headers={**api.auth(), **JSON, "Content-Length": "10"},
    )
    assert lying.status_code in {400, 413}, lying.text
    assert count_comments(api) == 0


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "",
        "application/jsonx",
    ],
)
def test_only_json_is_accepted(api: Api, content_type: str) -> None:
    response = api.client.post(
        "/v1/comments",
        content=b'{"article_id": "a", "text": "x"}',
        headers={**api.auth(), "Content-Type": content_type},
    )
    problem(response, 415, "unsupported_media_type")
    assert count_comments(api) == 0


@pytest.mark.parametrize("name", sorted(ZWJ_SEQUENCES))
def test_250_emoji_zwj_sequences_are_accepted_and_251_are_not(api: Api, name: str) -> None:
    one = ZWJ_SEQUENCES[name]
    accepted = api.post_comment({"article_id": "a", "text": one * 250})
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["text"] == unicodedata.normalize("NFC", one * 250)
    refused = problem(
        api.post_comment({"article_id": "a", "text": one * 251}), 422, "text_too_long"
    )
    assert (refused["limit"], refused["length"]) == (250, 251)
    assert count_comments(api) == 1


def test_251_plain_graphemes_are_refused_and_leave_no_row(api: Api) -> None:
    assert api.post_comment({"article_id": "a", "text": "a" * 250}).status_code == 202
    body = problem(api.post_comment({"article_id": "a", "text": "b" * 251}), 422, "text_too_long")
    assert body["length"] == 251
    assert count_comments(api) == 1


def test_bidi_and_invisible_characters_are_stored_verbatim(api: Api) -> None:
    """Not errors: the page shows them as text (tests/security/test_xss.py)."""
    text = "evil\u202egnp.exe \u2066isolate\u2069 zero\u200bwidth \ufeffbom"
    created = api.post_comment({"article_id": "a", "text": text})
    assert created.status_code == 202, created.text
    assert created.json()["text"] == text


HELD = "{held}"  # replaced by a held comment's id, so each body reaches the database
MODERATION_BODIES: list[tuple[str, list[Any]]] = [
    (
        "/v1/moderation/comments/{held}/decision",
        [
            {"action": ["approve"], "version": 2},
            {"action": "approve", "version": 10**30},
            {"action": "approve", "version": -(10**30)},
            {"action": "approve", "version": 2.5},
            {"action": "approve", "version": "2"},
            {"action": "approve", "version": 2, "reason": "nul \u0000 reason"},
            {"action": "approve", "version": 2, "reason": "lone \ud800"},
            {"action": "approve", "version": 2, "reason": {"x": 1}},
            {"action": "approve", "version": 2, "override": "yes"},
            {"action": "approve", "version": 2, "\ud800": 1},
        ],
    ),
    (
        "/v1/moderation/decisions",
        [
            {"items": {"id": HELD}},
            {"items": [{}] * 101},
            {"items": []},
            {"\ud800": []},
        ],
    ),
    (
        "/v1/moderation/authors/reader-1/ban",
        [
            {"reason": "nul \u0000 in a reason"},
            {"reason": "lone \ud800 surrogate"},
            {"reason": "escape \u001b[2J"},
            {"reason": ["spam"]},
            {"reason": "spam", "reject_held": "true"},
            {"reason": "x" * 600},
        ],
    ),
    (
        "/v1/moderation/authors/reader-1/erase",
        [
            {"confirm": "reader-1\u0000"},
            {"confirm": "\ud800"},
            {"confirm": ["reader-1"]},
            {"confirm": "x" * 600},
            {"confirm": "reader-1", "\ud800": 1},
        ],
    ),
]
BULK_ITEMS: list[Any] = [
    None,
    1,
    "x",
    [],
    {"id": ["x"]},
    {"id": "\u0000", "action": "approve", "version": 2},
    {"id": "\ud800", "action": "approve", "version": 2},
    {"id": "' OR 1=1 --", "action": "approve", "version": 2},
    {"id": HELD, "action": "approve", "version": 10**30},
    {"id": HELD, "action": "reject", "version": 2, "reason": "\u0000"},
    {"id": HELD, "action": "reject", "version": 2, "reason": "\ud800"},
]


def post_as_moderator(api: Api, path: str, body: Any) -> Any:
    raw = json.dumps(body, ensure_ascii=True).encode()  # lone surrogates travel as \\ud800
    return api.client.post(
        path, content=raw, headers={**api.auth("editor-1", moderator=True), **JSON}
    )


@pytest.mark.parametrize(
    ("path", "body"),
    [(path, body) for path, bodies in MODERATION_BODIES for body in bodies],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_hostile_moderation_bodies_are_4xx_and_change_nothing(
    api: Api, path: str, body: Any
) -> None:
    held = hold(api)
    body = json.loads(json.dumps(body).replace(HELD, held))
    response = post_as_moderator(api, path.format(held=held), body)
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    response.json()
    assert status_of(api, held) == "held"
    bans = api.client.get(
        "/v1/moderation/queue?author_id=reader-1", headers=api.auth("editor-1", moderator=True)
    ).json()
    assert not any(item["author_record"]["banned"] for item in bans["items"])


def test_hostile_bulk_items_are_each_refused_and_change_nothing(api: Api) -> None:
    held = hold(api)
    items = json.loads(json.dumps(BULK_ITEMS).replace(HELD, held))
    response = post_as_moderator(api, "/v1/moderation/decisions", {"items": items})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert len(results) == len(items)
    assert all(400 <= result["status"] < 500 for result in results), results
    assert status_of(api, held) == "held"


def status_of(api: Api, comment_id: str) -> str:
    response = api.client.get(
        f"/v1/comments/{comment_id}", headers=api.auth("editor-1", moderator=True)
    )
    assert response.status_code == 200, response.text
    status: str = response.json()["status"]
    return status
