"""Moderator decisions, one at a time and in bulk: versions, overrides, the audit and the
webhook outbox, on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from service.broker.contract import DELIVER_WEBHOOK_TASK
from service.db.tables import AuthorRef, WebhookEvent
from tests.support.api import Api, problem
from tests.support.databases import BACKENDS
from tests.support.holds import database, decide_automatically, hold, make_comment
from tests.support.moderation import audit_rows, decide

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)


def test_approve_a_held_comment(api: Api) -> None:
    comment_id = hold(api)
    response = decide(api, comment_id, {"action": "approve", "version": 2, "reason": "Satire."})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "approved"
    assert body["version"] == 3
    assert body["review"]["action"] == "approve"
    assert body["review"]["moderator_id"] == "mod-1"
    assert body["review"]["reason"] == "Satire."
    assert body["decision"]["action"] == "hold"  # the automated decision never changes

    [entry] = audit_rows(api, comment_id)
    assert (entry.action, entry.previous_status, entry.new_status) == (
        "approve",
        "held",
        "approved",
    )
    assert entry.moderator_id == "mod-1" and entry.override is False
    assert entry.reason == "Satire." and entry.author_ref is not None
    with database(api).session() as session:
        author = session.scalar(
            select(AuthorRef.author_id).where(AuthorRef.ref == entry.author_ref)
        )
    assert author == "reader-1"  # named by reference, never by id

    author_view = api.client.get(f"/v1/comments/{comment_id}", headers=api.auth("reader-1"))
    assert author_view.json()["status"] == "approved"


def test_reject_without_a_reason(api: Api) -> None:
    comment_id = hold(api)
    body = decide(api, comment_id, {"action": "reject", "version": 2}).json()
    assert body["status"] == "rejected"
    assert body["review"]["reason"] is None


def test_stale_version_or_second_decision_is_409_already_decided(api: Api) -> None:
    comment_id = hold(api)
    stale = problem(
        decide(api, comment_id, {"action": "approve", "version": 1}), 409, "already_decided"
    )
    assert stale["version"] == 2
    assert decide(api, comment_id, {"action": "approve", "version": 2}).status_code == 200
    again = decide(api, comment_id, {"action": "reject", "version": 2}, sub="mod-2")
    body = problem(again, 409, "already_decided")
    assert body["comment_status"] == "approved"
    # even with the current version: reviewed is reviewed, unless it is a deliberate override
    problem(
        decide(api, comment_id, {"action": "reject", "version": 3}, sub="mod-2"),
        409,
        "already_decided",
    )
    assert len(audit_rows(api, comment_id)) == 1


def test_override_reverses_a_decision_and_is_audited(api: Api) -> None:
    comment_id = hold(api)
    decide(api, comment_id, {"action": "approve", "version": 2})
    reversed_ = decide(
        api,
        comment_id,
        {"action": "reject", "version": 3, "override": True, "reason": "Missed a slur."},
        sub="mod-2",
    )
    assert reversed_.status_code == 200, reversed_.text
    body = reversed_.json()
    assert body["status"] == "rejected"
    assert body["version"] == 4
    assert body["review"]["moderator_id"] == "mod-2"

    first, second = audit_rows(api, comment_id)
    assert first.override is False
    assert (second.previous_status, second.new_status, second.override) == (
        "approved",
        "rejected",
        True,
    )
    history = api.client.get(
        f"/v1/comments/{comment_id}/history", headers=api.auth("mod-3", moderator=True)
    ).json()["items"]
    assert [(entry["by"], entry["action"]) for entry in history] == [
        ("policy", "hold"),
        ("moderator", "approve"),
        ("moderator", "reject"),
    ]
    assert [entry.get("override") for entry in history] == [None, False, True]

    # an override still needs the current version, and must change something
    problem(
        decide(api, comment_id, {"action": "approve", "version": 3, "override": True}),
        409,
        "already_decided",
    )
    problem(
        decide(api, comment_id, {"action": "reject", "version": 4, "override": True}),
        409,
        "already_decided",
    )


def test_override_can_take_down_a_comment_the_policy_approved(api: Api) -> None:
    comment_id = make_comment(api, text="Looks fine to the model.")
    decide_automatically(api, comment_id, action="approve")
    problem(decide(api, comment_id, {"action": "reject", "version": 2}), 409, "already_decided")
    response = decide(api, comment_id, {"action": "reject", "version": 2, "override": True})
    assert response.json()["status"] == "rejected"


def test_a_pending_comment_is_not_held_yet(api: Api) -> None:
    comment_id = make_comment(api)
    problem(decide(api, comment_id, {"action": "approve", "version": 1}), 409, "not_held")


def test_unknown_comment_is_404(api: Api) -> None:
    problem(decide(api, "no-such-comment", {"action": "approve", "version": 2}), 404, "not_found")


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"version": 2}, "required", "action"),
        ({"action": "delete", "version": 2}, "invalid_action", "action"),
        ({"action": "approve"}, "required", "version"),
        ({"action": "approve", "version": "2"}, "invalid_type", "version"),
        ({"action": "approve", "version": True}, "invalid_type", "version"),
        ({"action": "approve", "version": 2, "reason": 5}, "invalid_type", "reason"),
        ({"action": "approve", "version": 2, "reason": "x" * 501}, "reason_too_long", "reason"),
        ({"action": "approve", "version": 2, "override": "yes"}, "invalid_type", "override"),
        ({"action": "approve", "version": 2, "id": "x"}, "unknown_field", "id"),
        (["approve"], "invalid_type", ""),
    ],
)
def test_invalid_decision_bodies_are_422(api: Api, body: object, code: str, field: str) -> None:
    comment_id = hold(api)
    found = problem(decide(api, comment_id, body), 422, code)  # type: ignore[arg-type]
    assert found["errors"][0]["field"] == field


def test_decision_body_must_be_json(api: Api) -> None:
    comment_id = hold(api)
    headers = {**api.auth("mod-1", moderator=True), "Content-Type": "text/plain"}
    response = api.client.post(
        f"/v1/moderation/comments/{comment_id}/decision", content=b"approve", headers=headers
    )
    problem(response, 415, "unsupported_media_type")
    headers["Content-Type"] = "application/json"
    response = api.client.post(
        f"/v1/moderation/comments/{comment_id}/decision", content=b"{nope", headers=headers
    )
    problem(response, 400, "malformed_json")


def test_bulk_decisions_are_each_applied_or_refused_on_their_own(api: Api) -> None:
    claimed, stale, free, other = (hold(api, minutes_ago=10 - i) for i in range(4))
    pending = make_comment(api)
    leased = api.client.get(
        "/v1/moderation/queue?claim=1", headers=api.auth("mod-2", moderator=True)
    )
    assert [item["id"] for item in leased.json()["items"]] == [claimed]
    items = [
        {"id": stale, "action": "approve", "version": 1},
        {"id": free, "action": "reject", "version": 2},
        {"id": "missing", "action": "approve", "version": 2},
        {"id": other, "action": "launch", "version": 2},
        {"action": "approve", "version": 2},
        {"id": pending, "action": "approve", "version": 1},
        {"id": other, "action": "reject", "version": 2, "reason": "Abusive."},
        {"id": other, "action": "approve", "version": 2},
        {"id": claimed, "action": "approve", "version": 2},
    ]
    response = api.client.post(
        "/v1/moderation/decisions",
        json={"items": items},
        headers=api.auth("mod-1", moderator=True),
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [(r["id"], r["status"], r.get("code")) for r in results] == [
        (stale, 409, "already_decided"),
        (free, 200, None),
        ("missing", 404, "not_found"),
        (other, 422, "invalid_action"),
        (None, 422, "required"),
        (pending, 409, "not_held"),
        (other, 200, None),
        (other, 409, "already_decided"),
        (claimed, 409, "claimed"),
    ]
    assert results[1]["comment_status"] == "rejected" and results[1]["version"] == 3
    assert results[6]["comment_status"] == "rejected"

    moderator = api.auth("mod-3", moderator=True)
    statuses = {
        comment_id: api.client.get(f"/v1/comments/{comment_id}", headers=moderator).json()["status"]
        for comment_id in (claimed, stale, free, other, pending)
    }
    assert statuses == {
        claimed: "held",
        stale: "held",
        free: "rejected",
        other: "rejected",
        pending: "pending",
    }


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"items": []}, "required"),
        ({}, "required"),
        ({"items": "all"}, "required"),
        ({"items": [{"id": "x", "action": "approve", "version": 2}] * 101}, "too_many_items"),
        ({"items": [], "extra": True}, "unknown_field"),
    ],
)
def test_bulk_body_errors_are_422(api: Api, body: dict, code: str) -> None:
    response = api.client.post(
        "/v1/moderation/decisions", json=body, headers=api.auth("mod-1", moderator=True)
    )
    problem(response, 422, code)


def test_a_hundred_decisions_at_once(api: Api) -> None:
    made = [hold(api, author=f"reader-{i % 7}") for i in range(100)]
    response = api.client.post(
        "/v1/moderation/decisions",
        json={"items": [{"id": c, "action": "approve", "version": 2} for c in made]},
        headers=api.auth("mod-1", moderator=True),
    )
    assert [r["status"] for r in response.json()["results"]] == [200] * 100


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE moderation_audit SET moderator_id = 'someone-else'",
        "DELETE FROM moderation_audit",
        "DELETE FROM moderation_audit WHERE moderator_id = 'mod-1'",
    ],
)
def test_the_audit_table_refuses_updates_and_deletes(api: Api, statement: str) -> None:
    comment_id = hold(api)
    decide(api, comment_id, {"action": "approve", "version": 2})
    with pytest.raises(DBAPIError, match="append-only"), database(api).session() as session:
        session.execute(text(statement))
    assert [row.moderator_id for row in audit_rows(api, comment_id)] == ["mod-1"]


def test_a_moderator_decision_writes_its_webhook_event_in_the_same_transaction(
    webhook_api: Api,
) -> None:
    api = webhook_api
    comment_id = hold(api, webhooks=True)
    # A pass-through spy, not a mock: the task still goes to the real broker. The Redis list
    # can't be counted instead, because kombu remembers queue bindings per process and the
    # fixtures' FLUSHDB deletes them, so later sends in the same test run are dropped by Redis.
    producer = api.client.app.state.services.producer  # type: ignore[attr-defined]
    sent: list[tuple[str, tuple[object, ...]]] = []
    real_send = producer.send

    def spy(task: str, *args: object, **kwargs: object) -> bool:
        sent.append((task, args))
        return bool(real_send(task, *args, **kwargs))

    producer.send = spy
    response = decide(api, comment_id, {"action": "reject", "version": 2, "reason": "Abuse."})
    resource = response.json()
    with database(api).session() as session:
        events = list(
            session.scalars(
                select(WebhookEvent)
                .where(WebhookEvent.comment_id == comment_id)
                .order_by(WebhookEvent.created_at)
            )
        )
    decided = [event for event in events if event.type == "comment.decided"]
    [reviewed] = [event for event in events if event.type == "comment.reviewed"]
    assert len(events) == 3
    automated, human = decided
    assert automated.payload["data"]["status"] == "held"
    assert set(human.payload) == {"type", "timestamp", "data"}
    assert human.payload["type"] == "comment.decided"
    assert human.payload["data"] == resource
    assert human.status == "pending"
    assert reviewed.payload["data"]["action"] == "reject"
    assert sorted(sent) == sorted(
        [(DELIVER_WEBHOOK_TASK, (human.id,)), (DELIVER_WEBHOOK_TASK, (reviewed.id,))]
    )


def test_refused_decisions_write_nothing(webhook_api: Api) -> None:
    api = webhook_api
    comment_id = hold(api, webhooks=True)
    problem(decide(api, comment_id, {"action": "approve", "version": 1}), 409, "already_decided")
    with database(api).session() as session:
        count = len(
            list(session.scalars(select(WebhookEvent).where(WebhookEvent.comment_id == comment_id)))
        )
    assert count == 1
    assert audit_rows(api, comment_id) == []
