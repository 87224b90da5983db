"""GET /v1/moderation/queue?queue=reported: what it lists, each item's reports, filters, order,
cursor pages and claims, on both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest

from service.db.tables import utcnow
from tests.support.api import Api, problem
from tests.support.databases import BACKENDS
from tests.support.holds import decide_automatically, hold, make_comment
from tests.support.moderation import decide
from tests.support.reported import report, reported_comment, version_of

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

QUEUE = "/v1/moderation/queue"


def page(api: Api, sub: str = "mod-1", **params: str):  # type: ignore[no-untyped-def]
    return api.client.get(
        QUEUE, params={"queue": "reported", **params}, headers=api.auth(sub, moderator=True)
    )


def ids(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def test_lists_reported_and_hidden_comments_only(api: Api) -> None:
    held = hold(api)
    quiet = make_comment(api, text="Nobody minds this.")
    decide_automatically(api, quiet, action="approve")
    reported = reported_comment(api, minutes_ago=20)
    hidden = reported_comment(api, reporters=["reader-2", "reader-3"], hidden=True, minutes_ago=10)

    assert ids(page(api)) == [reported, hidden]
    held_queue = api.client.get(QUEUE, headers=api.auth("mod-1", moderator=True))
    assert ids(held_queue) == [held]
    # The hold queue's items don't grow a `reports` field.
    assert "reports" not in held_queue.json()["items"][0]

    items = page(api).json()["items"]
    assert items[0]["status"] == "approved" and items[0]["reports"]["hidden"] is False
    assert items[1]["status"] == "hidden" and items[1]["reports"]["hidden"] is True
    assert items[1]["reports"]["total"] == 2
    assert items[0]["author_record"]["approved"] == 2


def test_an_item_carries_its_open_reports(api: Api) -> None:
    start = utcnow() - timedelta(hours=1)
    comment_id = reported_comment(api, reporters=[], minutes_ago=60)
    for index in range(22):
        report(
            api,
            comment_id,
            reporter=f"reader-{index:02d}",
            reason="spam" if index % 2 else "offensive",
            detail=f"detail {index}" if index < 3 else None,
            at=start + timedelta(minutes=index),
        )
    report(
        api,
        comment_id,
        reporter="lawyer-1",
        reason="illegal",
        detail="See the notice.",
        legal_ground="Defamation Act 2013, s. 1",
        explanation="It says the mayor took bribes.",
        at=start + timedelta(minutes=30),
    )
    [item] = page(api).json()["items"]
    reports = item["reports"]
    assert reports["total"] == 23
    assert reports["by_reason"] == {"illegal": 1, "offensive": 11, "spam": 11}
    assert reports["reporters"] == ["lawyer-1"] + [f"reader-{i:02d}" for i in range(21, 2, -1)]
    assert [(d["reason"], d["detail"]) for d in reports["details"]] == [
        ("illegal", "See the notice."),
        ("offensive", "detail 2"),
        ("spam", "detail 1"),
        ("offensive", "detail 0"),
    ]
    [notice] = reports["legal_notices"]
    assert notice["legal_ground"] == "Defamation Act 2013, s. 1"
    assert notice["explanation"] == "It says the mayor took bribes."
    assert notice["good_faith"] is True and notice["report_id"].startswith("rep_")
    assert reports["hidden"] is False


def test_filters_and_order_by_when_reported(api: Api) -> None:
    # Written in this order, reported in the other: the queue goes by when it was reported.
    first = reported_comment(api, article="news-1", reason="spam", minutes_ago=5)
    second = reported_comment(api, article="news-2", author="reader-9", minutes_ago=30)
    assert ids(page(api)) == [second, first]
    assert ids(page(api, sort="newest")) == [first, second]
    assert ids(page(api, article_id="news-2")) == [second]
    assert ids(page(api, author_id="reader-9")) == [second]
    assert ids(page(api, reason="spam")) == [first]
    assert ids(page(api, reason="illegal")) == []


def test_a_kept_comment_leaves_and_a_new_report_brings_it_back(api: Api) -> None:
    comment_id = reported_comment(api)
    kept = decide(api, comment_id, {"action": "keep", "version": version_of(api, comment_id)})
    assert kept.status_code == 200, kept.text
    assert ids(page(api)) == []
    report(api, comment_id, reporter="reader-7", reason="spam")
    [item] = page(api).json()["items"]
    assert item["id"] == comment_id
    # Counts start again from the open reports.
    assert item["reports"]["total"] == 1 and item["reports"]["by_reason"] == {"spam": 1}


def test_cursor_pages_and_a_cursor_is_bound_to_its_queue(api: Api) -> None:
    made = [reported_comment(api, minutes_ago=30 - i) for i in range(5)]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        body = page(api, **params).json()
        seen += [item["id"] for item in body["items"]]
        cursor = body["next"]
        if cursor is None:
            break
    assert seen == made

    for i in range(3):
        hold(api, minutes_ago=10 - i)
    held_next = api.client.get(
        QUEUE, params={"limit": "1"}, headers=api.auth("mod-1", moderator=True)
    ).json()["next"]
    reported_next = page(api, limit="1").json()["next"]
    problem(page(api, limit="1", cursor=held_next), 422, "invalid_cursor")
    refused = api.client.get(
        QUEUE,
        params={"limit": "1", "cursor": reported_next},
        headers=api.auth("mod-1", moderator=True),
    )
    problem(refused, 422, "invalid_cursor")


def test_claims_lease_reported_comments(api: Api) -> None:
    first = reported_comment(api, minutes_ago=20)
    second = reported_comment(api, minutes_ago=10)
    assert ids(page(api, claim="1")) == [first]
    assert ids(page(api, "mod-2", claim="5")) == [second]
    refused = decide(api, first, {"action": "keep", "version": version_of(api, first)}, sub="mod-2")
    problem(refused, 409, "claimed")
    items = page(api).json()["items"]
    assert [item["claim"]["moderator_id"] for item in items] == ["mod-1", "mod-2"]
    mine = decide(api, first, {"action": "keep", "version": version_of(api, first)})
    assert mine.status_code == 200, mine.text


def test_an_unknown_queue_is_422(api: Api) -> None:
    response = api.client.get(
        QUEUE, params={"queue": "flagged"}, headers=api.auth("mod-1", moderator=True)
    )
    body = problem(response, 422, "invalid_queue")
    assert "reported" in body["errors"][0]["detail"]


def test_the_reported_queue_needs_a_moderator(api: Api) -> None:
    problem(api.client.get(QUEUE, params={"queue": "reported"}), 401, "invalid_token")
    reader = api.client.get(QUEUE, params={"queue": "reported"}, headers=api.auth("reader-1"))
    problem(reader, 403, "forbidden")
