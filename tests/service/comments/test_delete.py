"""DELETE /v1/comments/{id}: the author's deletion, what it erases and closes, what it keeps,
and a worker that races it, on both databases."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from service.db.tables import Comment, CommentRevision, Decision, Report
from service.store.moderation import lock_comment_or_none
from tests.support.api import Api, api_with_webhooks, problem
from tests.support.databases import BACKENDS
from tests.support.deletion import decide_revision, delete, edited, fully_copied
from tests.support.holds import database, hold
from tests.support.moderation import audit_rows, decide
from tests.support.reported import report
from tests.support.reports import approved, events_of, reports_of
from tests.support.threads import reply

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

TEXT = 'Ça "brûle" — Zorblax 010-1234-5678'


@pytest.fixture
def api(database_url: str, redis_server: str, tmp_path: Path) -> Iterator[Api]:
    with api_with_webhooks(database_url, redis_server, tmp_path) as client:
        yield client


def read(api: Api, comment_id: str, *, sub: str = "reader-1", moderator: bool = False):  # type: ignore[no-untyped-def]
    return api.client.get(f"/v1/comments/{comment_id}", headers=api.auth(sub, moderator=moderator))


def test_the_author_deletes_and_deleting_again_changes_nothing(api: Api) -> None:
    posted = api.post_comment({"article_id": "news-1", "text": TEXT}).json()

    first = delete(api, posted["id"])
    assert first.status_code == 204 and first.content == b""
    resource = read(api, posted["id"]).json()
    assert (resource["status"], resource["text"], resource["version"]) == ("deleted", None, 2)
    assert resource["decided_at"] is not None

    again = delete(api, posted["id"])
    assert again.status_code == 204 and again.content == b""
    assert read(api, posted["id"]).json() == resource
    assert [event.type for event in events_of(api, posted["id"])] == ["comment.deleted"]


def test_a_banned_author_may_delete(api: Api) -> None:
    comment_id = hold(api, text=TEXT)
    banned = api.client.post(
        "/v1/moderation/authors/reader-1/ban",
        json={"reason": "spam"},
        headers=api.auth("mod-1", moderator=True),
    )
    assert banned.status_code == 200, banned.text
    assert delete(api, comment_id).status_code == 204
    assert read(api, comment_id).json()["status"] == "deleted"


@pytest.mark.parametrize(
    ("comment", "sub", "moderator"),
    [
        ("theirs", "reader-2", False),
        ("theirs", "mod-1", True),
        ("missing", "reader-1", False),
        ("unusable", "reader-1", False),
    ],
)
def test_anyone_but_the_author_gets_404_and_changes_nothing(
    api: Api, comment: str, sub: str, moderator: bool
) -> None:
    comment_id = hold(api, text=TEXT)
    target = {
        "theirs": comment_id,
        "missing": "00000000-0000-4000-8000-000000000000",
        "unusable": "a\u00e9b",
    }[comment]
    problem(delete(api, target, sub=sub, moderator=moderator), 404, "not_found")
    resource = read(api, comment_id).json()
    assert (resource["status"], resource["text"], resource["version"]) == ("held", TEXT, 2)


def test_deletion_keeps_the_record_and_erases_every_text(api: Api) -> None:
    comment_id = fully_copied(api, text=TEXT, earlier="An earlier Zorblax draft.")
    before = read(api, comment_id).json()

    assert delete(api, comment_id).status_code == 204

    resource = read(api, comment_id).json()
    assert resource["status"] == "deleted"
    assert resource["text"] is None
    assert resource["version"] == before["version"] + 1
    assert resource["decision"] == before["decision"]
    assert resource["review"] == before["review"]
    with database(api).session() as session:
        comment = session.get(Comment, comment_id)
        assert comment is not None
        assert (comment.claimed_by, comment.reported_at) == (None, None)
        texts = session.scalars(
            select(CommentRevision.text).where(CommentRevision.comment_id == comment_id)
        )
        assert list(texts) == [None, None]
        decisions = session.scalars(select(Decision.by).where(Decision.comment_id == comment_id))
        assert list(decisions) == ["policy", "policy", "moderator"]
    assert [row.action for row in audit_rows(api, comment_id)] == ["approve"]
    history = api.client.get(
        f"/v1/comments/{comment_id}/history", headers=api.auth("mod-1", moderator=True)
    )
    assert history.status_code == 200 and len(history.json()["items"]) == 3


def test_every_stored_payload_loses_the_text_and_comment_deleted_carries_none(api: Api) -> None:
    comment_id = fully_copied(api, text=TEXT, earlier="An earlier Zorblax draft.")

    assert delete(api, comment_id).status_code == 204

    events = events_of(api, comment_id)
    decided = [event for event in events if event.type == "comment.decided"]
    assert {event.status for event in decided} == {"pending", "delivered"}
    assert all(event.payload["data"]["text"] is None for event in decided)
    assert all("Zorblax" not in str(event.payload) for event in events)
    [deleted] = [event for event in events if event.type == "comment.deleted"]
    resource = read(api, comment_id).json()
    assert deleted.payload["type"] == "comment.deleted"
    assert deleted.payload["data"] == {
        "comment_id": comment_id,
        "version": resource["version"],
        "at": resource["decided_at"],
    }
    assert deleted.status == "pending"


def test_its_open_reports_close_as_withdrawn_by_no_moderator(api: Api) -> None:
    comment_id = approved(api, text=TEXT)
    report(api, comment_id, reporter="reader-2", detail="Quotes: Zorblax")
    report(
        api,
        comment_id,
        reporter="reader-3",
        reason="illegal",
        legal_ground="Telecommunications Act s. 1",
        explanation="It gives out Zorblax's phone number.",
    )

    assert delete(api, comment_id).status_code == 204

    reports = reports_of(api, comment_id)
    assert [(r.status, r.resolved_by, r.detail, r.explanation) for r in reports] == [
        ("withdrawn", None, None, None),
        ("withdrawn", None, None, None),
    ]
    assert all(r.resolved_at is not None for r in reports)
    assert reports[1].legal_ground == "Telecommunications Act s. 1"
    resolved = [
        e.payload["data"] for e in events_of(api, comment_id) if e.type == "report.resolved"
    ]
    assert sorted((data["report_id"], data["outcome"]) for data in resolved) == sorted(
        (r.id, "withdrawn") for r in reports
    )
    again = api.client.post(
        f"/v1/comments/{comment_id}/reports", json={"reason": "spam"}, headers=api.auth("reader-4")
    )
    problem(again, 404, "not_found")


@pytest.mark.parametrize("queue", ["held", "reported"])
def test_the_queues_drop_it(api: Api, queue: str) -> None:
    kept = hold(api, text="Another held one.", author="reader-9")
    comment_id = hold(api, text=TEXT)
    if queue == "reported":
        decide(api, kept, {"action": "approve", "version": 2})
        decide(api, comment_id, {"action": "approve", "version": 2})
        report(api, kept, reporter="reader-2")
        report(api, comment_id, reporter="reader-2")
    moderator = api.auth("mod-1", moderator=True)
    claimed = api.client.get(f"/v1/moderation/queue?queue={queue}&claim=5", headers=moderator)
    assert {item["id"] for item in claimed.json()["items"]} == {kept, comment_id}

    assert delete(api, comment_id).status_code == 204

    listed = api.client.get(f"/v1/moderation/queue?queue={queue}", headers=moderator)
    assert [item["id"] for item in listed.json()["items"]] == [kept]
    stats = api.client.get("/v1/moderation/stats", headers=moderator).json()
    assert stats["held"] == (1 if queue == "held" else 0)
    assert sum(stats["holds_by_reason"].values()) == stats["held"]
    version = read(api, comment_id).json()["version"]
    refused = decide(api, comment_id, {"action": "approve", "version": version, "override": True})
    assert problem(refused, 409, "already_decided")["comment_status"] == "deleted"


def test_its_thread_shows_it_deleted_without_text(api: Api) -> None:
    """Replies keep their parent: a moderator reading a reply sees what it answered was
    deleted, and the deleted comment's own thread, without its words."""
    parent = hold(api, text=TEXT)
    answer = reply(api, parent, text="And you are wrong.")
    assert delete(api, parent).status_code == 204
    moderator = api.auth("mod-1", moderator=True)

    read_reply = read(api, answer, sub="mod-1", moderator=True).json()
    assert (read_reply["parent"]["status"], read_reply["parent"]["text"]) == ("deleted", None)
    thread = api.client.get(f"/v1/moderation/comments/{answer}/thread", headers=moderator)
    assert thread.status_code == 200, thread.text
    [ancestor] = thread.json()["ancestors"]
    assert (ancestor["id"], ancestor["status"], ancestor["text"]) == (parent, "deleted", None)
    own = api.client.get(f"/v1/moderation/comments/{parent}/thread", headers=moderator).json()
    assert (own["comment"]["status"], own["comment"]["text"]) == ("deleted", None)
    assert [item["id"] for item in own["replies"]] == [answer]


def test_a_worker_that_races_the_deletion_records_nothing(api: Api) -> None:
    """The worker read the edited comment as pending at revision 2 and scored it; it records
    after the deletion committed: its conditional update finds the comment no longer pending."""
    comment_id = edited(api, earlier="An earlier Zorblax draft.", text=TEXT)
    before = [event.type for event in events_of(api, comment_id)]
    assert delete(api, comment_id).status_code == 204

    assert decide_revision(api, comment_id, revision=2, action="approve") is None

    resource = read(api, comment_id).json()
    assert (resource["status"], resource["text"], resource["decision"]) == ("deleted", None, None)
    with database(api).session() as session:
        decisions = session.scalars(select(Decision).where(Decision.comment_id == comment_id))
        assert [(d.revision, d.action) for d in decisions] == [(1, "approve")]
        assert session.scalars(select(Report).where(Report.comment_id == comment_id)).all() == []
    assert [event.type for event in events_of(api, comment_id)] == [*before, "comment.deleted"]


def test_a_deletion_and_a_worker_at_once_leave_it_deleted_and_textless(api: Api) -> None:
    """Both wait on the comment's row (held here, as a slow transaction would) and go when it
    is let go: whichever wins, the comment ends deleted with no text anywhere, with at most
    the one decision the worker recorded before the deletion."""
    comment_id = edited(api, earlier="An earlier Zorblax draft.", text=TEXT)
    outcome: dict[str, object] = {}
    with database(api).session() as session:
        assert lock_comment_or_none(session, comment_id=comment_id) is not None
        threads = [
            threading.Thread(
                target=lambda: outcome.update(deleted=delete(api, comment_id).status_code)
            ),
            threading.Thread(
                target=lambda: outcome.update(
                    recorded=decide_revision(api, comment_id, revision=2, action="approve")
                )
            ),
        ]
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        assert all(thread.is_alive() for thread in threads)
    for thread in threads:
        thread.join(timeout=30)

    assert outcome["deleted"] == 204
    resource = read(api, comment_id).json()
    assert (resource["status"], resource["text"]) == ("deleted", None)
    with database(api).session() as session:
        decisions = session.scalars(
            select(Decision.revision).where(Decision.comment_id == comment_id)
        )
        expected = [1] if outcome["recorded"] is None else [1, 2]
        assert list(decisions) == expected
    assert all("Zorblax" not in str(event.payload) for event in events_of(api, comment_id))
