"""Reason messages in the reader's language: GET answers render `message` for Accept-Language
and say so (Content-Language, Vary); what is stored stays in MODERATION_DEFAULT_LOCALE."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from starlette.testclient import TestClient

from service.app import create_app
from service.db.tables import utcnow
from service.store.flags import put_author_flags
from tests.support.api import API_REDIS_DB, Api, api_settings
from tests.support.databases import BACKENDS
from tests.support.holds import database, hold

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

PREMODERATED = {
    "kind": "article",
    "rule": "article.premoderated",
    "message": "This article is pre-moderated: every comment on it waits for a moderator.",
}
LINKS = {
    "kind": "links",
    "rule": "links",
    "message": "Links to spam.biz, not on the list of allowed sites.",
    "domains": ["spam.biz"],
    "spans": [{"start": 0, "end": 8}],
}
# A reason stored before its evidence held what the message reads: it keeps its words.
OLD = {"kind": "toxicity", "rule": "toxicity.hold", "message": "Toxicity 0.74"}

KOREAN = {
    "article.premoderated": "사전 검토 대상 기사입니다. "
    "이 기사에 달린 댓글은 모두 운영자의 확인을 기다립니다.",
    "links": "허용된 사이트 목록에 없는 곳으로 연결되는 링크가 있습니다: spam.biz.",
    "toxicity.hold": "Toxicity 0.74",
}
ENGLISH = {reason["rule"]: reason["message"] for reason in (PREMODERATED, LINKS, OLD)}


def messages(reasons: list[dict[str, Any]]) -> dict[str, str]:
    return {reason["rule"]: reason["message"] for reason in reasons}


def held(api: Api, **kwargs: Any) -> str:
    return hold(api, reasons=[PREMODERATED, LINKS, OLD], **kwargs)


def read(api: Api, path: str, language: str | None, *, moderator: bool = True) -> Any:
    headers = api.auth("mod-1" if moderator else "reader-1", moderator=moderator)
    if language is not None:
        headers["Accept-Language"] = language
    response = api.client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return response


def says(response: Any, locale: str) -> None:
    assert response.headers["content-language"] == locale
    assert "accept-language" in response.headers["vary"].lower()


@pytest.mark.parametrize(
    ("language", "locale", "expected"),
    [
        ("ko-KR,ko;q=0.9,en;q=0.5", "ko", KOREAN),
        ("en;q=0.3, ko;q=0.7", "ko", KOREAN),
        ("ko;q=0.3, en", "en", ENGLISH),
        ("fr-FR", "en", ENGLISH),
        (None, "en", ENGLISH),
    ],
)
def test_the_comment_resource_reads_in_the_accepted_language(
    api: Api, language: str | None, locale: str, expected: dict[str, str]
) -> None:
    comment_id = held(api)
    for moderator in (False, True):
        response = read(api, f"/v1/comments/{comment_id}", language, moderator=moderator)
        says(response, locale)
        reasons = response.json()["decision"]["reasons"]
        assert messages(reasons) == expected
        # Kind, rule and evidence are as stored, whatever the language.
        assert [{k: v for k, v in r.items() if k != "message"} for r in reasons] == [
            {k: v for k, v in r.items() if k != "message"} for r in (PREMODERATED, LINKS, OLD)
        ]


def test_the_queue_history_and_thread_read_in_the_accepted_language(api: Api) -> None:
    comment_id = held(api)
    queue = read(api, "/v1/moderation/queue", "ko")
    says(queue, "ko")
    [item] = queue.json()["items"]
    assert messages(item["decision"]["reasons"]) == KOREAN

    english = read(api, "/v1/moderation/queue", "en-GB")
    says(english, "en")
    assert messages(english.json()["items"][0]["decision"]["reasons"]) == ENGLISH

    history = read(api, f"/v1/comments/{comment_id}/history", "ko")
    says(history, "ko")
    assert messages(history.json()["items"][0]["reasons"]) == KOREAN

    thread = read(api, f"/v1/moderation/comments/{comment_id}/thread", "ko")
    says(thread, "ko")
    assert messages(thread.json()["comment"]["decision"]["reasons"]) == KOREAN

    # What is stored is untouched: the next reader without a preference reads English.
    assert (
        messages(read(api, "/v1/moderation/queue", None).json()["items"][0]["decision"]["reasons"])
        == ENGLISH
    )


def test_the_author_view_reads_in_the_accepted_language(api: Api) -> None:
    held(api, author="troll")
    with database(api).session() as session:
        put_author_flags(
            session, author_id="troll", always_hold=True, trusted=False, by="mod-1", now=utcnow()
        )
    korean = read(api, "/v1/moderation/authors/troll", "ko")
    says(korean, "ko")
    view = korean.json()
    assert view["trust"]["message"] == (
        "항상 보류 목록에 있는 작성자입니다. 이 작성자의 댓글은 모두 운영자의 확인을 기다립니다."
    )
    assert messages(view["comments"]["items"][0]["decision"]["reasons"]) == KOREAN
    english = read(api, "/v1/moderation/authors/troll", None).json()
    assert english["trust"]["message"].startswith("This author is on the always-hold list")


@pytest.fixture
def korean_api(database_url: str, redis_server: str, tmp_path: Path) -> Iterator[Api]:
    redis.Redis.from_url(f"{redis_server}/{API_REDIS_DB}").flushdb()
    settings = api_settings(database_url, redis_server, tmp_path, default_locale="ko")
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield Api(client, settings)


def test_the_default_locale_answers_a_request_that_names_none(korean_api: Api) -> None:
    comment_id = held(korean_api)
    for language in (None, "fr", "*"):
        response = read(korean_api, f"/v1/comments/{comment_id}", language)
        says(response, "ko")
        assert messages(response.json()["decision"]["reasons"]) == KOREAN
    english = read(korean_api, f"/v1/comments/{comment_id}", "en-US")
    says(english, "en")
    assert messages(english.json()["decision"]["reasons"]) == ENGLISH


def test_perspective_errors_stay_in_googles_english(api: Api) -> None:
    response = api.client.post(
        "/v1alpha1/comments:analyze",
        json={"comment": {"text": "hello"}, "requestedAttributes": {"TOXICITY": {}}},
        headers={"Accept-Language": "ko-KR,ko;q=0.9"},
    )
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert (error["status"], error["code"]) == ("PERMISSION_DENIED", 403)
    assert "missing a valid API key" in error["message"]
    assert error["message"].isascii()
    assert "content-language" not in response.headers
