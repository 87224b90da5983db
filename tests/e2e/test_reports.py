"""After the first decision, through real processes: readers report a published reply, the
reports take it down, a moderator sees it with its parent in the reported queue and keeps it,
a new report brings it back and a coded rejection ends it; the site hears every step by
webhook, and the statements of reasons list each restriction."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from tests.support.databases import BACKENDS
from tests.support.stack import Stack, json_body, wait_for

MODERATOR = "editor-1"


def _events(stack: Stack, event_type: str) -> list[dict[str, Any]]:
    events = [json_body(body) for _headers, body in list(stack.receiver.requests)]
    return [event for event in events if event["type"] == event_type]


def _hide_after_two(stack: Stack) -> None:
    document = yaml.safe_load(stack.settings.policy.read_text())
    document["reports"] = {"review_after": 1, "hide_after": 2, "min_reporter_approved": 0}
    stack.settings.policy.write_text(yaml.safe_dump(document))


def _post(client: Any, stack: Stack, sub: str, text: str, parent_id: str | None = None) -> dict:  # type: ignore[type-arg]
    response = client.post(
        "/v1/comments",
        json={"article_id": "story-1", "text": text, "parent_id": parent_id},
        headers={**stack.auth(sub), "Prefer": "wait=10"},
    )
    assert response.status_code == 200, response.text
    comment: dict[str, Any] = response.json()
    assert comment["status"] == "approved", comment
    return comment


@pytest.mark.parametrize("backend", BACKENDS)
def test_reports_hide_a_reply_a_moderator_keeps_it_then_rejects_it_with_a_code(  # type: ignore[no-untyped-def]
    make_stack, backend: str
) -> None:
    stack = make_stack(backend)
    _hide_after_two(stack)
    stack.start_worker()
    moderator = stack.auth(MODERATOR, moderator=True)
    with stack.client() as client:
        parent = _post(client, stack, "reader-1", "The council should publish the budget.")
        reply = _post(client, stack, "reader-2", "So are you, frankly.", parent["id"])

        # Two readers report the reply: the second takes it down.
        first = client.post(
            f"/v1/comments/{reply['id']}/reports",
            json={"reason": "harassment", "detail": "Aimed at the person, not the point."},
            headers=stack.auth("reader-3"),
        )
        assert first.status_code == 201, first.text
        second = client.post(
            f"/v1/comments/{reply['id']}/reports",
            json={"reason": "abusive"},
            headers=stack.auth("reader-4"),
        )
        assert second.status_code == 201, second.text
        hidden = client.get(f"/v1/comments/{reply['id']}", headers=stack.auth("reader-2")).json()
        assert hidden["status"] == "hidden"

        # The reported queue shows it with its parent and the reports.
        page = client.get("/v1/moderation/queue?queue=reported", headers=moderator).json()
        [item] = page["items"]
        assert item["id"] == reply["id"]
        assert item["parent"]["id"] == parent["id"]
        assert item["parent"]["text"] == parent["text"]
        assert item["reports"]["total"] == 2
        assert item["reports"]["by_reason"] == {"harassment": 1, "abusive": 1}
        assert item["reports"]["hidden"] is True

        kept = client.post(
            f"/v1/moderation/comments/{reply['id']}/decision",
            json={"action": "keep", "version": item["version"]},
            headers=moderator,
        )
        assert kept.status_code == 200, kept.text
        assert kept.json()["status"] == "approved"
        assert (
            client.get("/v1/moderation/queue?queue=reported", headers=moderator).json()["items"]
            == []
        )
        outcome = client.get(
            f"/v1/comments/{reply['id']}/reports/{first.json()['id']}",
            headers=stack.auth("reader-3"),
        ).json()
        assert outcome["status"] == "dismissed"

        # A new reader's report reopens it; a coded rejection upholds that report.
        third = client.post(
            f"/v1/comments/{reply['id']}/reports",
            json={"reason": "harassment"},
            headers=stack.auth("reader-5"),
        )
        assert third.status_code == 201, third.text
        [item] = client.get("/v1/moderation/queue?queue=reported", headers=moderator).json()[
            "items"
        ]
        rejected = client.post(
            f"/v1/moderation/comments/{reply['id']}/decision",
            json={
                "action": "reject",
                "version": item["version"],
                "reason_code": "harassment",
                "explanation": "Personal attacks on other readers are removed.",
            },
            headers=moderator,
        )
        assert rejected.status_code == 200, rejected.text
        review = rejected.json()["review"]
        assert review["reason_code"] == "harassment"
        assert review["explanation"] == "Personal attacks on other readers are removed."
        final_version = rejected.json()["version"]

        thread = client.get(
            f"/v1/moderation/comments/{parent['id']}/thread", headers=moderator
        ).json()
        assert [entry["id"] for entry in thread["replies"]] == [reply["id"]]
        assert thread["replies"][0]["status"] == "rejected"

        statements = client.get(
            "/v1/moderation/statements",
            params={"since": parent["created_at"]},
            headers=moderator,
        )
        assert statements.status_code == 200, statements.text
        assert statements.headers["content-type"].startswith("application/x-ndjson")
        lines = [json.loads(line) for line in statements.text.splitlines()]
        assert lines[-1] == {"end": True, "count": 2}
        # Two restrictions of the reply: hidden by reports, then rejected.
        assert [record["puid"].startswith(reply["id"]) for record in lines[:-1]] == [True, True]
        assert "reader-2" not in statements.text

    # The site heard each step, every payload carrying the comment's version.
    wait_for(
        lambda: any(
            event["data"]["version"] == final_version
            for event in _events(stack, "comment.reviewed")
        ),
        what="the rejection's comment.reviewed",
    )
    wait_for(lambda: len(_events(stack, "report.resolved")) == 3, what="three report.resolved")
    reported = _events(stack, "comment.reported")
    assert len(reported) == 3
    assert all("reader-3" not in json.dumps(event) for event in reported)
    outcomes = sorted(
        (event["data"]["report_id"], event["data"]["outcome"])
        for event in _events(stack, "report.resolved")
    )
    assert sorted(outcome for _id, outcome in outcomes) == ["dismissed", "dismissed", "upheld"]
    statuses = [
        event["data"]["status"]
        for event in _events(stack, "comment.decided")
        if event["data"]["id"] == reply["id"]
    ]
    assert statuses[0] == "approved" and "hidden" in statuses and statuses[-1] == "rejected"
