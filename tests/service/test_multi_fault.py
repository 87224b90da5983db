"""Bodies and query strings with several faults at once, and the answer each gets: the status,
the top-level code, every field error's (field, code) in order, and any figures. The answers in
tests/data/multi-fault.json were recorded before the contract moved to pydantic models; they must
not change. `MULTI_FAULT_RECORD=1` rewrites them (only ever on purpose, with the reason in the
commit)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

TESTS = next(p for p in Path(__file__).resolve().parents if p.name == "tests")
ANSWERS = TESTS / "data" / "multi-fault.json"
LONG = "x" * 300
CASES: list[tuple[str, str, str, Any, dict[str, str] | None, bool]] = [
    # name, method, path, json body (or None), query (dict or None), moderator
    ("comment-not-an-object", "POST", "/v1/comments", [], None, False),
    ("comment-empty-object", "POST", "/v1/comments", {}, None, False),
    (
        "comment-unknown-and-wrong-types",
        "POST",
        "/v1/comments",
        {"zeta": 1, "alpha": 2, "article_id": 5, "text": 5, "parent_id": 5},
        None,
        False,
    ),
    (
        "comment-text-too-long-after-other-faults",
        "POST",
        "/v1/comments",
        {"extra": 1, "article_id": "bad id!", "text": LONG, "parent_id": ""},
        None,
        False,
    ),
    (
        "comment-empty-text-bad-article",
        "POST",
        "/v1/comments",
        {"article_id": "", "text": "   "},
        None,
        False,
    ),
    (
        "comment-null-fields",
        "POST",
        "/v1/comments",
        {"article_id": None, "text": None, "parent_id": None},
        None,
        False,
    ),
    (
        "comment-number-as-string",
        "POST",
        "/v1/comments",
        {"article_id": "a-1", "text": 1.5, "parent_id": "x" * 37},
        None,
        False,
    ),
    (
        "article-flags-wrong",
        "PUT",
        "/v1/articles/a-1/settings",
        {"premoderated": "yes", "zzz": 1},
        None,
        True,
    ),
    ("article-flags-empty", "PUT", "/v1/articles/a-1/settings", {}, None, True),
    (
        "article-flags-bad-id",
        "PUT",
        "/v1/articles/bad%20id!/settings",
        {"premoderated": 1, "closed": False},
        None,
        True,
    ),
    (
        "author-flags-wrong",
        "PUT",
        "/v1/authors/reader-9/settings",
        {"always_hold": None, "trusted": "1", "x": 0},
        None,
        True,
    ),
    ("author-flags-not-object", "PUT", "/v1/authors/reader-9/settings", "flags", None, True),
    ("review-empty", "POST", "/v1/moderation/comments/c-1/decision", {}, None, True),
    (
        "review-all-wrong",
        "POST",
        "/v1/moderation/comments/c-1/decision",
        {"action": "maybe", "version": "1", "reason": 5, "override": "no", "q": 1},
        None,
        True,
    ),
    (
        "review-long-reason",
        "POST",
        "/v1/moderation/comments/c-1/decision",
        {"action": "reject", "version": 1.0, "reason": LONG * 2},
        None,
        True,
    ),
    (
        "review-bool-version",
        "POST",
        "/v1/moderation/comments/c-1/decision",
        {"action": "approve", "version": True},
        None,
        True,
    ),
    ("bulk-no-items", "POST", "/v1/moderation/decisions", {"other": []}, None, True),
    ("bulk-items-not-list", "POST", "/v1/moderation/decisions", {"items": "x"}, None, True),
    (
        "bulk-too-many",
        "POST",
        "/v1/moderation/decisions",
        {"items": [{"id": f"c-{i}", "action": "approve", "version": 1} for i in range(101)]},
        None,
        True,
    ),
    (
        "bulk-mixed-items",
        "POST",
        "/v1/moderation/decisions",
        {
            "items": [
                {"action": "approve"},
                5,
                {"id": 7, "action": "x", "version": "2"},
                {"id": "c-9", "action": "approve", "version": 1},
            ]
        },
        None,
        True,
    ),
    ("ban-empty", "POST", "/v1/moderation/authors/reader-2/ban", {}, None, True),
    (
        "ban-wrong",
        "POST",
        "/v1/moderation/authors/reader-2/ban",
        {"reason": LONG * 2, "reject_held": "yes", "extra": 1},
        None,
        True,
    ),
    ("ban-reason-type", "POST", "/v1/moderation/authors/reader-2/ban", {"reason": 5}, None, True),
    (
        "sample-label-wrong",
        "POST",
        "/v1/moderation/comments/c-1/sample-label",
        {"label": "meh", "override": 1, "z": 2},
        None,
        True,
    ),
    ("sample-label-empty", "POST", "/v1/moderation/comments/c-1/sample-label", {}, None, True),
    (
        "sample-label-null",
        "POST",
        "/v1/moderation/comments/c-1/sample-label",
        {"label": None, "override": None},
        None,
        True,
    ),
    (
        "review-null-action",
        "POST",
        "/v1/moderation/comments/c-1/decision",
        {"action": None, "version": None, "override": None},
        None,
        True,
    ),
    (
        "queue-query-wrong",
        "GET",
        "/v1/moderation/queue",
        None,
        {
            "sort": "best",
            "limit": "0",
            "min_score": "2",
            "article_id": "bad id!",
            "author_id": "",
            "reason": "zz",
            "cursor": "nope",
        },
        True,
    ),
    (
        "queue-query-sample-wrong",
        "GET",
        "/v1/moderation/queue",
        None,
        {"queue": "sample", "limit": "abc", "label": "x", "article_id": "!"},
        True,
    ),
    (
        "queue-query-bad-queue",
        "GET",
        "/v1/moderation/queue",
        None,
        {"queue": "all", "limit": "-1"},
        True,
    ),
    (
        "insights-query-wrong",
        "GET",
        "/v1/moderation/insights",
        None,
        {"since": "yesterday", "until": "x", "bins": "0"},
        True,
    ),
    (
        "insights-query-future",
        "GET",
        "/v1/moderation/insights",
        None,
        {"since": "2999-01-01T00:00:00Z"},
        True,
    ),
]

PROBLEM_KEYS = {"type", "title", "status", "detail", "code", "errors"}


def answer(response: Any) -> dict[str, Any]:
    body = response.json()
    return {
        "status": response.status_code,
        "content_type": response.headers["content-type"],
        "code": body.get("code"),
        "errors": [[error["field"], error["code"]] for error in body.get("errors", [])],
        "figures": {key: value for key, value in body.items() if key not in PROBLEM_KEYS},
    }


def ask(
    api: Any, method: str, path: str, body: Any, query: dict[str, str] | None, moderator: bool
) -> Any:
    headers = api.auth("moderator-1" if moderator else "reader-1", moderator=moderator)
    if body is None:
        return api.client.request(method, path, params=query, headers=headers)
    return api.client.request(method, path, json=body, headers=headers)


def test_the_table_names_each_case_once() -> None:
    names = [case[0] for case in CASES]
    assert len(names) == len(set(names))
    assert sorted(json.loads(ANSWERS.read_text())) == sorted(names)


@pytest.mark.parametrize(
    ("name", "method", "path", "body", "query", "moderator"), CASES, ids=[c[0] for c in CASES]
)
def test_a_multi_fault_request_gets_the_answer_it_always_got(
    api: Any,
    name: str,
    method: str,
    path: str,
    body: Any,
    query: dict[str, str] | None,
    moderator: bool,
) -> None:
    got = answer(ask(api, method, path, body, query, moderator))

    if os.environ.get("MULTI_FAULT_RECORD") == "1":
        answers = json.loads(ANSWERS.read_text()) if ANSWERS.exists() else {}
        answers[name] = got
        ANSWERS.write_text(json.dumps(answers, indent=1, sort_keys=True) + "\n")
    assert got == json.loads(ANSWERS.read_text())[name]
    # A bulk request answers 200 with a problem per item; anything else is a 4xx problem.
    assert got["status"] == 200 if name.startswith("bulk-mixed") else 400 <= got["status"] < 500
    if got["status"] != 200:
        assert got["content_type"] == "application/problem+json"
