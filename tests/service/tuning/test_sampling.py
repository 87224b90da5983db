"""The audit sample: deterministic membership, drawn with the decision, its own queue, labels."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from service.db.tables import AuditSample, ModerationAudit
from service.store.moderation import list_audit_entries
from service.tuning.sampling import in_audit_sample
from tests.support.api import Api, problem
from tests.support.holds import database, decide_automatically, hold, make_comment

MOD = {"moderator": True}


def test_membership_is_a_fixed_hash_of_the_comment_id() -> None:
    # Pinned: a different hash would put different comments in the sample, and replays and
    # reports of past windows would no longer agree with what was sampled then.
    assert [n for n in range(40) if in_audit_sample(f"c-{n}", 0.2)] == [
        3, 6, 13, 14, 24, 25, 27, 31, 32, 36,
    ]  # fmt: skip
    assert all(in_audit_sample(f"c-{n}", 1.0) for n in range(100))
    assert not any(in_audit_sample(f"c-{n}", 0.0) for n in range(100))


def test_a_higher_rate_keeps_every_comment_a_lower_rate_sampled() -> None:
    ids = [f"comment-{n}" for n in range(5000)]
    low = {i for i in ids if in_audit_sample(i, 0.01)}
    high = {i for i in ids if in_audit_sample(i, 0.05)}
    assert low <= high
    assert 20 <= len(low) <= 80
    assert 180 <= len(high) <= 320


def test_the_share_sampled_is_the_rate() -> None:
    sampled = sum(in_audit_sample(f"comment-{n}", 0.1) for n in range(20_000))
    assert abs(sampled / 20_000 - 0.1) < 0.006


def draw(api: Api, *, rate: float, action: str = "approve", text: str = "Fine words.") -> str:
    comment_id = make_comment(api, text=text)
    from service.comments.decisions import AutomatedDecision, record_automated_decisions
    from service.db.tables import utcnow

    (recorded,) = record_automated_decisions(
        database(api),
        decisions=[
            AutomatedDecision(comment_id, action, [], {"insult": 0.1}, context={}, revision=1)
        ],
        policy_version="sha256:test",
        model="unbiased-test",
        webhooks=False,
        now=utcnow(),
        audit_sample_rate=rate,
    )
    assert recorded is not None
    return comment_id


def sample_row(api: Api, comment_id: str) -> AuditSample | None:
    with database(api).session() as session:
        return session.get(AuditSample, comment_id)


def test_approvals_are_drawn_with_their_decision_and_holds_never(api: Api) -> None:
    always = draw(api, rate=1.0)
    row = sample_row(api, always)
    assert row is not None and row.rate == 1.0 and row.label is None
    assert sample_row(api, draw(api, rate=0.0)) is None
    assert sample_row(api, draw(api, rate=1.0, action="hold")) is None
    some = [draw(api, rate=0.5) for _ in range(8)]
    assert [sample_row(api, c) is not None for c in some] == [in_audit_sample(c, 0.5) for c in some]


def sample_queue(api: Api, **params: Any) -> Any:
    return api.client.get(
        "/v1/moderation/queue",
        params={"queue": "sample", **params},
        headers=api.auth("mod-1", **MOD),
    )


def label(api: Api, comment_id: str, body: Any, sub: str = "mod-1") -> Any:
    return api.client.post(
        f"/v1/moderation/comments/{comment_id}/sample-label",
        json=body,
        headers=api.auth(sub, **MOD),
    )


def schema(api: Api, name: str) -> jsonschema.Draft202012Validator:
    document = api.client.get("/openapi.json").json()
    return jsonschema.Draft202012Validator(
        {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    )


def test_the_sample_queue_lists_unlabelled_samples_oldest_first_in_pages(api: Api) -> None:
    first, second, third = (draw(api, rate=1.0, text=f"Sampled {n}.") for n in range(3))
    hold(api)  # the hold queue's comments are not the sample's
    response = sample_queue(api, limit=2)
    assert response.status_code == 200, response.text
    body = response.json()
    schema(api, "SampleQueuePage").validate(body)
    assert [item["id"] for item in body["items"]] == [first, second]
    item = body["items"][0]
    assert item["status"] == "approved"
    assert item["text"] == "Sampled 0."
    assert item["decision"]["action"] == "approve"
    assert item["sample"]["rate"] == 1.0 and item["sample"]["label"] is None
    following = sample_queue(api, limit=2, cursor=body["next"]).json()
    assert [item["id"] for item in following["items"]] == [third]
    assert following["next"] is None

    # a cursor belongs to its queue
    held = api.client.get(
        "/v1/moderation/queue",
        params={"cursor": body["next"], "limit": 2},
        headers=api.auth("mod-1", **MOD),
    )
    problem(held, 422, "invalid_cursor")
    other = sample_queue(api, author_id="someone-else").json()
    assert other == {"items": [], "next": None}


def test_labelling_keeps_the_comment_published_and_leaves_the_queue(api: Api) -> None:
    sampled = draw(api, rate=1.0)
    response = label(api, sampled, {"label": "not_fine"})
    assert response.status_code == 200, response.text
    body = response.json()
    schema(api, "SampleLabelled").validate(body)
    assert body["comment_id"] == sampled
    assert body["status"] == "approved"
    assert body["label"] == "not_fine" and body["labelled_by"] == "mod-1"
    assert sample_queue(api).json()["items"] == []
    comment = api.client.get(f"/v1/comments/{sampled}", headers=api.auth("mod-1", **MOD)).json()
    assert comment["status"] == "approved" and comment["version"] == 2

    again = problem(label(api, sampled, {"label": "fine"}, sub="mod-2"), 409, "already_labelled")
    assert again["label"] == "not_fine"
    changed = label(api, sampled, {"label": "fine", "override": True}, sub="mod-2")
    assert changed.json()["label"] == "fine" and changed.json()["labelled_by"] == "mod-2"
    with database(api).session() as session:
        audit = list_audit_entries(session, comment_id=sampled)
    assert [(entry.action, entry.moderator_id, entry.override) for entry in audit] == [
        ("sample_not_fine", "mod-1", False),
        ("sample_fine", "mod-2", True),
    ]
    assert all(entry.new_status == "approved" for entry in audit)

    # taking it down is the decision route's job, and the label stays
    taken_down = api.client.post(
        f"/v1/moderation/comments/{sampled}/decision",
        json={"action": "reject", "version": 2, "override": True},
        headers=api.auth("mod-1", **MOD),
    )
    assert taken_down.json()["status"] == "rejected"
    row = sample_row(api, sampled)
    assert row is not None and row.label == "fine"


def test_refusals(api: Api) -> None:
    sampled = draw(api, rate=1.0)
    unsampled = draw(api, rate=0.0)
    problem(label(api, unsampled, {"label": "fine"}), 404, "not_found")
    problem(label(api, "no-such-comment", {"label": "fine"}), 404, "not_found")
    problem(label(api, sampled, {"label": "maybe"}), 422, "invalid_label")
    problem(label(api, sampled, {}), 422, "required")
    problem(label(api, sampled, {"label": "fine", "why": "x"}), 422, "unknown_field")
    problem(label(api, sampled, {"label": "fine", "override": "yes"}), 422, "invalid_type")
    problem(label(api, sampled, ["fine"]), 422, "invalid_type")
    reader = api.client.post(
        f"/v1/moderation/comments/{sampled}/sample-label",
        json={"label": "fine"},
        headers=api.auth("reader-1"),
    )
    problem(reader, 403, "forbidden")
    problem(
        api.client.get(
            "/v1/moderation/queue", params={"queue": "sample"}, headers=api.auth("reader-1")
        ),
        403,
        "forbidden",
    )
    problem(sample_queue(api, queue="spam"), 422, "invalid_queue")
    problem(sample_queue(api, claim=5), 422, "invalid_claim")
    problem(sample_queue(api, sort="score"), 422, "invalid_sort")
    problem(sample_queue(api, limit=0), 422, "invalid_limit")
    problem(sample_queue(api, cursor="nonsense"), 422, "invalid_cursor")
    with database(api).session() as session:
        assert session.query(ModerationAudit).count() == 0
    row = sample_row(api, sampled)
    assert row is not None and row.label is None


@pytest.mark.parametrize("rate", [-0.1, 1.5])
def test_the_rate_setting_is_a_share(rate: float) -> None:
    from pydantic import ValidationError

    from service.settings import Settings

    with pytest.raises(ValidationError):
        Settings(audit_sample=rate)  # type: ignore[call-arg]


def test_decide_automatically_leaves_no_sample_by_default(api: Api) -> None:
    comment_id = make_comment(api)
    decide_automatically(api, comment_id, action="approve")
    assert sample_row(api, comment_id) is None
