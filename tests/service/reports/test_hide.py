"""What reports do to a comment under the policy's `reports:` section: the reported queue, the
hide, the outbox, and concurrent reporters counted exactly, on both databases."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from policy.sections import ReportsSettings
from service.broker.contract import DELIVER_WEBHOOK_TASK
from service.db.tables import Comment
from service.errors import ProblemError
from service.reports.intake import Filed, file_report
from service.reports.schemas import NewReport
from tests.support.api import Api, ApiFactory, problem
from tests.support.databases import BACKENDS
from tests.support.holds import database
from tests.support.reports import (
    NOTICE,
    SPAM,
    approved,
    events_of,
    hide_decisions,
    report,
    reporter,
    reports_of,
)

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)


def comment_row(api: Api, comment_id: str) -> Comment:
    with database(api).session() as session:
        comment = session.get(Comment, comment_id)
        assert comment is not None
        return comment


def test_a_report_queues_the_comment_at_review_after(reports_api: ApiFactory) -> None:
    api = reports_api("  review_after: 2\n")
    comment_id = approved(api)
    assert report(api, comment_id, sub="reader-2").status_code == 201
    assert comment_row(api, comment_id).reported_at is None
    assert report(api, comment_id, sub="reader-3").status_code == 201
    queued = comment_row(api, comment_id)
    assert queued.reported_at is not None
    assert (queued.status, queued.version) == ("approved", 4)
    assert report(api, comment_id, sub="reader-4").status_code == 201
    assert comment_row(api, comment_id).reported_at == queued.reported_at  # the first moment


def test_a_notice_of_illegal_content_queues_at_once(reports_api: ApiFactory) -> None:
    api = reports_api("  review_after: 5\n")
    comment_id = approved(api)
    assert report(api, comment_id, NOTICE).status_code == 201
    assert comment_row(api, comment_id).reported_at is not None


def test_hide_after_hides_once_with_a_decision_and_events(reports_api: ApiFactory) -> None:
    api = reports_api("  review_after: 1\n  hide_after: 2\n")
    comment_id = approved(api, author="reader-1")
    first, second = (reporter(api, sub) for sub in ("reader-2", "reader-3"))
    created = report(api, comment_id, {"reason": "spam", "detail": "Buy now links."}, sub=first)
    assert created.status_code == 201
    assert comment_row(api, comment_id).status == "approved"
    assert report(api, comment_id, {"reason": "abusive"}, sub=second).status_code == 201
    hidden = comment_row(api, comment_id)
    assert (hidden.status, hidden.version) == ("hidden", 4)
    assert hidden.reported_at is not None and hidden.decided_at is not None
    (decision,) = hide_decisions(api, comment_id)
    assert (decision.action, decision.moderator_id) == ("hide", None)
    assert decision.reasons == [
        {
            "kind": "reports",
            "rule": "reports.hide_after",
            "message": "Hidden after 2 readers reported it.",
            "count": 2,
            "hide_after": 2,
        }
    ]
    # Hidden is not published: another reader finds nothing to report.
    problem(report(api, comment_id, sub=reporter(api, "reader-4")), 404, "not_found")
    author = api.client.get(f"/v1/comments/{comment_id}", headers=api.auth("reader-1"))
    assert author.json()["status"] == "hidden"

    events = events_of(api, comment_id)
    # Ordered by version: the two events of the hiding report share their moment.
    one, two = sorted(
        (event.payload["data"] for event in events if event.type == "comment.reported"),
        key=lambda data: data["version"],
    )
    (decided,) = (event.payload["data"] for event in events if event.type == "comment.decided")
    assert len(events) == 3
    assert one == {
        "comment_id": comment_id,
        "version": 3,
        "report_id": created.json()["id"],
        "counts": {"spam": 1},
        "total": 1,
        "hidden": False,
    }
    assert two["counts"] == {"spam": 1, "abusive": 1}
    assert (two["version"], two["total"], two["hidden"]) == (4, 2, True)
    assert (decided["id"], decided["status"], decided["version"]) == (comment_id, "hidden", 4)
    for event in events:
        text = str(event.payload)
        assert "reader-2" not in text and "reader-3" not in text
        assert "Buy now links." not in text


def test_only_reporters_with_published_comments_count_toward_hide_after(
    reports_api: ApiFactory,
) -> None:
    api = reports_api("  hide_after: 1\n  min_reporter_approved: 2\n")
    comment_id = approved(api)
    newcomer = reporter(api, "reader-2", approved_comments=1)
    assert report(api, comment_id, sub=newcomer).status_code == 201
    assert comment_row(api, comment_id).status == "approved"
    assert comment_row(api, comment_id).reported_at is not None  # review_after still applies
    regular = reporter(api, "reader-3", approved_comments=2)
    assert report(api, comment_id, sub=regular).status_code == 201
    assert comment_row(api, comment_id).status == "hidden"
    assert [row.counts_toward_hide for row in reports_of(api, comment_id)] == [False, True]
    (decision,) = hide_decisions(api, comment_id)
    assert decision.reasons[0]["count"] == 1


def test_disabled_reports_are_stored_but_never_queue_or_hide(reports_api: ApiFactory) -> None:
    api = reports_api("  enabled: false\n  hide_after: 1\n")
    comment_id = approved(api)
    for sub in ("reader-2", "reader-3"):
        assert report(api, comment_id, NOTICE, sub=reporter(api, sub)).status_code == 201
    row = comment_row(api, comment_id)
    assert (row.status, row.reported_at, row.version) == ("approved", None, 4)
    assert len(reports_of(api, comment_id)) == 2
    assert hide_decisions(api, comment_id) == []
    assert [event.type for event in events_of(api, comment_id)] == ["comment.reported"] * 2


def test_no_event_is_written_that_the_deployment_does_not_send(reports_api: ApiFactory) -> None:
    api = reports_api("  hide_after: 1\n", webhook_events="comment.decided")
    comment_id = approved(api)
    assert report(api, comment_id, sub=reporter(api, "reader-2")).status_code == 201
    assert [event.type for event in events_of(api, comment_id)] == ["comment.decided"]
    unannounced = reports_api("  hide_after: 1\n", webhook_url=None)
    other = approved(unannounced, text="Another comment.")
    assert report(unannounced, other, sub="reader-3").status_code == 201
    assert events_of(unannounced, other) == []


def test_a_filed_report_sends_its_events_after_commit(reports_api: ApiFactory) -> None:
    api = reports_api("  hide_after: 1\n")
    comment_id = approved(api)
    # A pass-through spy, not a mock: the task still goes to the real broker (see
    # tests/service/moderation/test_decisions.py for why the Redis list isn't counted).
    producer = api.client.app.state.services.producer  # type: ignore[attr-defined]
    sent: list[tuple[str, tuple[object, ...]]] = []
    real_send = producer.send

    def spy(task: str, *args: object, **kwargs: object) -> bool:
        sent.append((task, args))
        return bool(real_send(task, *args, **kwargs))

    producer.send = spy
    assert report(api, comment_id, sub=reporter(api, "reader-2")).status_code == 201
    events = events_of(api, comment_id)
    assert sorted(sent) == sorted((DELIVER_WEBHOOK_TASK, (event.id,)) for event in events)
    assert len(sent) == 2
    # The comment is no longer published: a repeat is refused as any report of it (404,
    # before the repeat in the contract's order); the reporter reads theirs with a GET.
    problem(report(api, comment_id, sub="reader-2"), 404, "not_found")
    assert len(sent) == 2


HIDE_AFTER = 5
REPORTERS = 8


def test_concurrent_reporters_are_counted_exactly_and_hide_once(api: Api) -> None:
    """Store level, one thread per reporter, all let go at once: the row lock makes each
    report see the ones before it, so exactly HIDE_AFTER get in, the one that crosses the
    threshold hides the comment, and the rest find it unpublished (409)."""
    comment_id = approved(api)
    subs = [reporter(api, f"racer-{n}") for n in range(REPORTERS)]
    policy = ReportsSettings(hide_after=HIDE_AFTER)
    events = frozenset({"comment.reported", "comment.decided"})
    outcomes = race(api, comment_id, subs, policy, events)
    filed = [outcome for outcome in outcomes if isinstance(outcome, Filed)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, ProblemError)]
    assert len(filed) == HIDE_AFTER and all(outcome.created for outcome in filed)
    assert [(error.status, error.code) for error in refused] == [(409, "not_reportable")] * (
        REPORTERS - HIDE_AFTER
    )
    assert [outcome.hidden for outcome in filed].count(True) == 1
    assert len(reports_of(api, comment_id)) == HIDE_AFTER
    assert len(hide_decisions(api, comment_id)) == 1
    row = comment_row(api, comment_id)
    assert (row.status, row.version) == ("hidden", 2 + HIDE_AFTER)
    types = [event.type for event in events_of(api, comment_id)]
    assert sorted(types) == ["comment.decided"] + ["comment.reported"] * HIDE_AFTER
    totals = sorted(
        event.payload["data"]["total"]
        for event in events_of(api, comment_id)
        if event.type == "comment.reported"
    )
    assert totals == list(range(1, HIDE_AFTER + 1))


def test_concurrent_repeats_by_one_reader_file_one_report(api: Api) -> None:
    comment_id = approved(api)
    outcomes = race(api, comment_id, ["reader-2"] * 6, ReportsSettings(), frozenset())
    assert all(isinstance(outcome, Filed) for outcome in outcomes)
    filed = [outcome for outcome in outcomes if isinstance(outcome, Filed)]
    assert [outcome.created for outcome in filed].count(True) == 1
    assert len({outcome.resource["id"] for outcome in filed}) == 1
    assert len(reports_of(api, comment_id)) == 1
    assert comment_row(api, comment_id).version == 3


def race(
    api: Api,
    comment_id: str,
    subs: list[str],
    policy: ReportsSettings,
    events: frozenset[str],
) -> list[Any]:
    db = database(api)
    barrier = threading.Barrier(len(subs))
    outcomes: list[Any] = [None] * len(subs)
    new = NewReport.parse(SPAM)

    def run(index: int, sub: str) -> None:
        barrier.wait()
        try:
            outcomes[index] = file_report(
                db,
                reporter_id=sub,
                comment_id=comment_id,
                new=new,
                policy=policy,
                events=events,
                admit=lambda _reader: 0,
            )
        except ProblemError as exc:
            outcomes[index] = exc

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(subs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes
