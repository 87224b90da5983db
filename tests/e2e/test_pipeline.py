"""Accept → store → queue → score → decide → deliver, through real processes."""

from __future__ import annotations

import subprocess
import sys

import pytest
from standardwebhooks.webhooks import Webhook

from service.broker.contract import MODERATE_TASK
from service.broker.producer import TaskProducer
from tests.support.api import WEBHOOK_SECRET
from tests.support.databases import BACKENDS
from tests.support.metrics import sample
from tests.support.paths import REPO
from tests.support.stack import decisions_of, json_body, wait_for

ORIGINAL_LABELS = {"toxicity", "severe_toxicity", "obscene", "threat", "insult", "identity_attack"}


@pytest.mark.parametrize("backend", BACKENDS)
def test_clean_comment_is_approved_and_announced(make_stack, backend: str) -> None:  # type: ignore[no-untyped-def]
    stack = make_stack(backend)
    stack.start_worker()
    with stack.client() as client:
        response = client.post(
            "/v1/comments",
            json={"article_id": "story-1", "text": "Thanks for the clear reporting."},
            headers={**stack.auth(), "Prefer": "wait=10"},
        )
        assert response.status_code == 200, response.text
        assert response.headers["preference-applied"] == "wait=10"
        comment = response.json()
        assert comment["status"] == "approved"
        assert comment["version"] == 2
        assert comment["decided_at"] is not None
        decision = comment["decision"]
        assert decision["action"] == "approve"
        assert decision["by"] == "policy"
        assert decision["reasons"] == []
        assert set(decision["scores"]) == ORIGINAL_LABELS
        assert all(score < 0.01 for score in decision["scores"].values())
        assert decision["policy_version"].startswith("sha256:")
        assert decision["model"]
        polled = client.get(f"/v1/comments/{comment['id']}", headers=stack.auth()).json()
        assert polled == comment

    wait_for(lambda: stack.receiver.requests, what="the webhook")
    headers, body = stack.receiver.requests[0]
    Webhook(WEBHOOK_SECRET).verify(body, headers)
    event = json_body(body)
    assert event["type"] == "comment.decided"
    assert event["data"]["id"] == comment["id"]
    assert event["data"]["status"] == "approved"
    assert headers["webhook-id"].startswith("msg_")
    assert headers["webhook-signature"].startswith("v1,")


@pytest.mark.parametrize("backend", BACKENDS)
def test_toxic_comment_is_held_with_reasons(make_stack, backend: str) -> None:  # type: ignore[no-untyped-def]
    stack = make_stack(backend, toxic=True)
    stack.start_worker()
    with stack.client() as client:
        response = client.post(
            "/v1/comments",
            json={"article_id": "story-1", "text": "You are all clowns."},
            headers={**stack.auth(), "Prefer": "wait=10"},
        )
    comment = response.json()
    assert comment["status"] == "held", comment
    reasons = comment["decision"]["reasons"]
    toxicity = [r for r in reasons if r["kind"] == "toxicity"]
    assert {r["label"] for r in toxicity} >= {"toxicity", "threat", "severe_toxicity"}
    for reason in toxicity:
        assert reason["score"] >= reason["threshold"]
        assert reason["rule"] and reason["message"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_webhook_retries_with_the_same_id_until_it_succeeds(make_stack, backend: str) -> None:  # type: ignore[no-untyped-def]
    stack = make_stack(backend, fail_first=2)
    stack.start_worker()
    with stack.client() as client:
        comment = client.post(
            "/v1/comments",
            json={"article_id": "a", "text": "Retry me."},
            headers={**stack.auth(), "Prefer": "wait=10"},
        ).json()
    wait_for(lambda: stack.receiver.requests, what="the webhook after two failures")
    assert stack.receiver.failures == 2
    assert len(stack.receiver.requests) == 1
    headers, body = stack.receiver.requests[0]
    Webhook(WEBHOOK_SECRET).verify(body, headers)
    assert json_body(body)["data"]["id"] == comment["id"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_failed_webhook_is_redelivered_on_demand(make_stack, backend: str) -> None:  # type: ignore[no-untyped-def]
    stack = make_stack(backend, fail_first=2, webhook_max_attempts=2)
    stack.start_worker()
    with stack.client() as client:
        client.post(
            "/v1/comments",
            json={"article_id": "a", "text": "Deliver me."},
            headers={**stack.auth(), "Prefer": "wait=10"},
        )
    wait_for(lambda: stack.receiver.failures == 2, what="two failed attempts")
    wait_for(lambda: "webhook.failed" in stack.log("worker"), what="the event marked failed")
    assert stack.receiver.requests == []
    result = subprocess.run(
        [sys.executable, "-m", "workers", "webhooks", "redeliver"],
        env=stack.env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "1 event(s) queued" in result.stderr
    wait_for(lambda: stack.receiver.requests, what="the redelivered webhook")


@pytest.mark.parametrize("backend", BACKENDS)
def test_comment_accepted_while_broker_is_down_is_swept_and_decided(
    make_stack, backend: str
) -> None:  # type: ignore[no-untyped-def]
    stack = make_stack(backend)
    with stack.client(broker_url="redis://127.0.0.1:1/0") as client:
        response = client.post(
            "/v1/comments",
            json={"article_id": "a", "text": "Stored first."},
            headers=stack.auth(),
        )
        assert response.status_code == 202
        comment_id = response.json()["id"]
        assert (
            client.get(f"/v1/comments/{comment_id}", headers=stack.auth()).json()["status"]
            == "pending"
        )
    stack.start_worker()
    stack.start("beat", name="beat")
    wait_for(
        lambda: decisions_of(stack.settings, comment_id),
        timeout=60,
        what="the swept comment's decision",
    )
    assert [d["by"] for d in decisions_of(stack.settings, comment_id)] == ["policy"]
    with stack.client() as client:
        ran = wait_for(
            lambda: (
                (t := client.get("/metrics").text)
                and 'task="relay"' in t
                and 'task="sweep"' in t
                and t
            ),
            what="beat's jobs noting their last runs",
        )
    assert sample(ran, "moderation_beat_last_run_timestamp_seconds", 'task="sweep"') > 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_task_run_twice_records_one_decision(make_stack, backend: str) -> None:  # type: ignore[no-untyped-def]
    stack = make_stack(backend, webhook_url=None, webhook_secret=None)
    with stack.client() as client:
        comment_id = client.post(
            "/v1/comments", json={"article_id": "a", "text": "Twice."}, headers=stack.auth()
        ).json()["id"]
    producer = TaskProducer(stack.settings)
    for _ in range(3):
        assert producer.send(MODERATE_TASK, comment_id)
    producer.close()
    stack.start_worker()
    wait_for(lambda: decisions_of(stack.settings, comment_id), what="the decision")
    wait_for(lambda: stack.log("worker").count("moderation.skipped") >= 3, what="duplicates")
    assert len(decisions_of(stack.settings, comment_id)) == 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_policy_rules_hold_with_spans_and_record_their_context(make_stack, backend: str) -> None:  # type: ignore[no-untyped-def]
    stack = make_stack(backend, webhook_url=None, webhook_secret=None)
    stack.start_worker()
    text = "Read more at example.com/deals, you f.u.c.k.i.n.g genius"
    with stack.client() as client:
        held = client.post(
            "/v1/comments",
            json={"article_id": "a", "text": text},
            headers={**stack.auth(), "Prefer": "wait=10"},
        ).json()
        repeated = [
            client.post(
                "/v1/comments",
                json={"article_id": "a", "text": "Same words said twice over."},
                headers={**stack.auth("reader-9"), "Prefer": "wait=10"},
            ).json()
            for _ in range(2)
        ]
        moderator = stack.auth("mod-1", moderator=True)
        client.put(
            "/v1/articles/live-1/settings",
            json={"premoderated": True, "closed": False},
            headers=moderator,
        )
        client.put(
            "/v1/authors/watched-1/settings",
            json={"always_hold": True, "trusted": False},
            headers=moderator,
        )
        premoderated = client.post(
            "/v1/comments",
            json={"article_id": "live-1", "text": "A kind word."},
            headers={**stack.auth(), "Prefer": "wait=10"},
        ).json()
        watched = client.post(
            "/v1/comments",
            json={"article_id": "a", "text": "Another kind word."},
            headers={**stack.auth("watched-1"), "Prefer": "wait=10"},
        ).json()
    assert [r["kind"] for r in premoderated["decision"]["reasons"]] == ["article"]
    assert [r["kind"] for r in watched["decision"]["reasons"]] == ["author"]
    assert held["status"] == "held"
    kinds = {reason["kind"]: reason for reason in held["decision"]["reasons"]}
    assert {"terms", "links"} <= kinds.keys()
    for span in kinds["terms"]["spans"]:
        assert "f.u.c.k" in held["text"][span["start"] : span["end"]]
    assert [c["status"] for c in repeated] == ["approved", "held"]
    assert [r["kind"] for r in repeated[1]["decision"]["reasons"]] == ["repeat"]
    context = decisions_of(stack.settings, repeated[1]["id"])[0]["context"]
    assert context["author"]["approved"] == 1
    assert context["flood_count"] == 2
    assert context["language"] == "en"
