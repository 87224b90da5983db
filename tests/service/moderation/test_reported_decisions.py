"""Keep and reject on a reported comment: no override, version-checked, its open reports
closed once, the events written with it; on both databases, and a race on PostgreSQL."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from service.db.tables import Comment, Decision, WebhookEvent
from service.errors import ProblemError
from service.http.auth import Principal
from service.moderation.review import Reviewed, review_comment
from service.moderation.schemas import Review
from tests.support.api import Api, api_with_webhooks, problem
from tests.support.databases import BACKENDS
from tests.support.holds import database, decide_automatically, hold, make_comment
from tests.support.moderation import audit_rows, decide
from tests.support.reported import report, reported_comment, reports_of, version_of


def history(api: Api, comment_id: str) -> list[dict[str, object]]:
    response = api.client.get(
        f"/v1/comments/{comment_id}/history", headers=api.auth("mod-1", moderator=True)
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, object]] = response.json()["items"]
    return items


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_keep_publishes_a_hidden_comment_and_dismisses_its_reports(api: Api) -> None:
    comment_id = reported_comment(api, reporters=["reader-2", "reader-3"], hidden=True)
    version = version_of(api, comment_id)
    kept = decide(api, comment_id, {"action": "keep", "version": version, "reason": "Fair."})
    assert kept.status_code == 200, kept.text
    body = kept.json()
    assert body["status"] == "approved" and body["version"] == version + 1
    assert body["review"]["action"] == "keep"
    assert [(r.status, r.resolved_by) for r in reports_of(api, comment_id)] == [
        ("dismissed", "mod-1"),
        ("dismissed", "mod-1"),
    ]
    [entry] = audit_rows(api, comment_id)
    assert (entry.action, entry.previous_status, entry.new_status, entry.override) == (
        "keep",
        "hidden",
        "approved",
        False,
    )
    steps = [(item["by"], item["action"]) for item in history(api, comment_id)]
    assert steps == [("policy", "approve"), ("reports", "hide"), ("moderator", "keep")]
    hide_entry = history(api, comment_id)[1]
    assert hide_entry["reasons"][0]["rule"] == "reports.hide_after"  # type: ignore[index]
    author_view = api.client.get(f"/v1/comments/{comment_id}", headers=api.auth("reader-1"))
    assert author_view.json()["status"] == "approved"


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_keep_needs_open_reports(api: Api) -> None:
    quiet = make_comment(api, text="Nobody minds this.")
    decide_automatically(api, quiet, action="approve")
    refused = problem(decide(api, quiet, {"action": "keep", "version": 2}), 409, "no_open_reports")
    assert refused["comment_status"] == "approved"
    held = hold(api)
    problem(decide(api, held, {"action": "keep", "version": 2}), 409, "no_open_reports")

    comment_id = reported_comment(api)
    version = version_of(api, comment_id)
    assert decide(api, comment_id, {"action": "keep", "version": version}).status_code == 200
    # Kept once: its reports are closed, so a second keep has nothing to keep it from.
    again = decide(api, comment_id, {"action": "keep", "version": version + 1}, sub="mod-2")
    problem(again, 409, "no_open_reports")
    assert [row.action for row in audit_rows(api, comment_id)] == ["keep"]


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_keep_and_reject_check_the_version(api: Api) -> None:
    comment_id = reported_comment(api)
    stale = version_of(api, comment_id) - 1
    for action in ("keep", "reject"):
        body = problem(
            decide(api, comment_id, {"action": action, "version": stale}), 409, "already_decided"
        )
        assert body["version"] == stale + 1
    assert {r.status for r in reports_of(api, comment_id)} == {"open"}


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_reject_of_a_reported_comment_needs_no_override_and_upholds_its_reports(
    api: Api,
) -> None:
    approved = reported_comment(api, reporters=["reader-2", "reader-3"])
    hidden = reported_comment(api, hidden=True)
    for comment_id in (approved, hidden):
        version = version_of(api, comment_id)
        response = decide(api, comment_id, {"action": "reject", "version": version})
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "rejected"
        assert {r.status for r in reports_of(api, comment_id)} == {"upheld"}
        [entry] = audit_rows(api, comment_id)
        assert entry.override is False
    listed = api.client.get(
        "/v1/moderation/queue",
        params={"queue": "reported"},
        headers=api.auth("mod-1", moderator=True),
    )
    assert listed.json()["items"] == []


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_approve_of_a_hidden_comment_is_an_override(api: Api) -> None:
    comment_id = reported_comment(api, hidden=True)
    version = version_of(api, comment_id)
    problem(decide(api, comment_id, {"action": "approve", "version": version}), 409)
    response = decide(api, comment_id, {"action": "approve", "version": version, "override": True})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "approved"
    assert {r.status for r in reports_of(api, comment_id)} == {"dismissed"}
    [entry] = audit_rows(api, comment_id)
    assert entry.override is True


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_an_override_reject_upholds_reports_below_the_queue(api: Api) -> None:
    comment_id = make_comment(api, text="Published.")
    decide_automatically(api, comment_id, action="approve")
    report(api, comment_id, reporter="reader-5")
    with database(api).session() as session:  # reported, but not (yet) in the queue
        comment = session.get(Comment, comment_id)
        assert comment is not None
        comment.reported_at = None
    version = version_of(api, comment_id)
    problem(decide(api, comment_id, {"action": "reject", "version": version}), 409)
    response = decide(api, comment_id, {"action": "reject", "version": version, "override": True})
    assert response.status_code == 200, response.text
    assert {r.status for r in reports_of(api, comment_id)} == {"upheld"}


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_bulk_keeps_and_rejects_reported_comments(api: Api) -> None:
    kept = reported_comment(api, hidden=True)
    rejected = reported_comment(api)
    quiet = make_comment(api, text="Nobody minds this.")
    decide_automatically(api, quiet, action="approve")
    response = api.client.post(
        "/v1/moderation/decisions",
        json={
            "items": [
                {"id": kept, "action": "keep", "version": version_of(api, kept)},
                {"id": rejected, "action": "reject", "version": version_of(api, rejected)},
                {"id": quiet, "action": "keep", "version": 2},
            ]
        },
        headers=api.auth("mod-1", moderator=True),
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [(r["status"], r.get("comment_status"), r.get("code")) for r in results] == [
        (200, "approved", None),
        (200, "rejected", None),
        (409, None, "no_open_reports"),
    ]


def outbox(api: Api, comment_id: str) -> list[WebhookEvent]:
    with database(api).session() as session:
        return list(
            session.scalars(
                select(WebhookEvent)
                .where(WebhookEvent.comment_id == comment_id)
                .order_by(WebhookEvent.created_at)
            )
        )


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_a_keep_writes_decided_reviewed_and_one_resolved_per_report(webhook_api: Api) -> None:
    api = webhook_api
    comment_id = reported_comment(api, reporters=["reader-2", "reader-3"], hidden=True)
    producer = api.client.app.state.services.producer  # type: ignore[attr-defined]
    sent: list[tuple[str, tuple[object, ...]]] = []
    real_send = producer.send

    def spy(task: str, *args: object, **kwargs: object) -> bool:  # pass-through, not a mock
        sent.append((task, args))
        return bool(real_send(task, *args, **kwargs))

    producer.send = spy
    version = version_of(api, comment_id)
    body = {
        "action": "keep",
        "version": version,
        "reason_code": "other",
        "explanation": "Robust, but within the rules.",
    }
    resource = decide(api, comment_id, body).json()
    events = outbox(api, comment_id)
    by_type: dict[str, list[WebhookEvent]] = {}
    for event in events:
        by_type.setdefault(event.type, []).append(event)
    assert sorted(by_type) == ["comment.decided", "comment.reviewed", "report.resolved"]
    [decided] = by_type["comment.decided"]
    assert decided.payload["data"] == resource
    [reviewed] = by_type["comment.reviewed"]
    assert reviewed.payload["data"] == {
        "comment_id": comment_id,
        "version": version + 1,
        "action": "keep",
        "status": "approved",
        "reason_code": "other",
        "explanation": "Robust, but within the rules.",
        "legal_ground": None,
        "at": resource["review"]["at"],
    }
    resolved = [event.payload["data"] for event in by_type["report.resolved"]]
    assert sorted(data["reporter_id"] for data in resolved) == ["reader-2", "reader-3"]
    assert {data["outcome"] for data in resolved} == {"dismissed"}
    assert {data["version"] for data in resolved} == {version + 1}
    assert {data["report_id"] for data in resolved} == {r.id for r in reports_of(api, comment_id)}
    assert sorted(args[0] for _, args in sent) == sorted(event.id for event in events)  # type: ignore[type-var]


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_only_the_announced_events_are_written(
    database_url: str, redis_server: str, tmp_path: Path
) -> None:
    with api_with_webhooks(
        database_url, redis_server, tmp_path, webhook_events="report.resolved"
    ) as api:
        comment_id = reported_comment(api)
        decide(api, comment_id, {"action": "reject", "version": version_of(api, comment_id)})
        [event] = outbox(api, comment_id)
    assert event.type == "report.resolved"
    assert event.payload["data"]["outcome"] == "upheld"


MODERATORS = [Principal(sub, roles=frozenset({"moderator"})) for sub in ("mod-1", "mod-2")]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_moderators_at_once_one_wins_and_the_reports_close_once(api: Api) -> None:
    db = database(api)
    for _ in range(5):
        comment_id = reported_comment(api, reporters=["reader-2", "reader-3", "reader-4"])
        version = version_of(api, comment_id)
        barrier = threading.Barrier(2)
        outcomes: list[Reviewed | ProblemError] = []

        def decide_now(moderator: Principal, action: str) -> None:
            barrier.wait()
            try:
                outcomes.append(
                    review_comment(
                        db,
                        moderator=moderator,
                        review=Review(comment_id, action, version, None, False),
                        events=frozenset(),
                    )
                )
            except ProblemError as refusal:
                outcomes.append(refusal)

        threads = [
            threading.Thread(target=decide_now, args=(MODERATORS[0], "keep")),
            threading.Thread(target=decide_now, args=(MODERATORS[1], "reject")),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        [won] = [outcome for outcome in outcomes if isinstance(outcome, Reviewed)]
        [lost] = [outcome for outcome in outcomes if isinstance(outcome, ProblemError)]
        assert lost.status == 409 and lost.code in {"already_decided", "no_open_reports"}
        winner = won.resource["review"]["moderator_id"]
        outcome = "dismissed" if won.resource["review"]["action"] == "keep" else "upheld"
        assert [(r.status, r.resolved_by) for r in reports_of(api, comment_id)] == [
            (outcome, winner)
        ] * 3
        with db.session() as session:
            human = list(
                session.scalars(
                    select(Decision).where(
                        Decision.comment_id == comment_id, Decision.by == "moderator"
                    )
                )
            )
        assert len(human) == 1
        assert len(audit_rows(api, comment_id)) == 1
