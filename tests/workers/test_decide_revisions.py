"""Deciding a revision: a `moderate` task names a comment at a revision of its text, and what
the worker decides is recorded only while the comment is still pending at that revision. A
result for text its author has since replaced is dropped, never stored against the new text.

The edits here are made on the row directly, as the edit route's transaction leaves it (a new
revision, pending): what these tests are about is the worker's side.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from sqlalchemy import func, select, update
from structlog.testing import capture_logs

from service.broker.contract import moderate_item
from service.comments.decisions import AutomatedDecision, record_automated_decisions
from service.comments.resources import comment_resource
from service.db.engine import Database
from service.db.tables import AuditSample, Comment, Decision, HoldReason, WebhookEvent, utcnow
from service.moderation.records import comment_history
from service.policies import PolicyHolder
from service.settings import DEFAULT_POLICY
from service.store.comments import get_comment_or_none
from service.store.decisions import list_decisions
from service.store.flags import put_author_flags
from tests.support.checkpoints import CLEAN, TinyCheckpoint
from tests.support.comments import stored_comment
from tests.support.databases import BACKENDS
from workers.decide import decide_comments
from workers.runtime import WorkerRuntime
from workers.scoring.scorer import Scorer, load_scorer

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

FIRST = "The council should publish the budget before the vote."
SECOND = "The council should publish the whole budget before Thursday's vote."


class RecordingProducer:
    """Stands in for the broker: the webhook deliveries the worker sends are only counted."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, tuple[Any, ...]]] = []

    def send(self, task: str, *args: Any, countdown: float | None = None) -> bool:
        self.sent.append((task, args))
        return True


class EditingScorer:
    """The real scorer, with the author's edit landing while the model runs: the worker has
    read revision 1 and records after the comment moved on."""

    def __init__(self, scorer: Scorer, edit: Callable[[], None]) -> None:
        self.model_id, self.labels = scorer.model_id, scorer.labels
        self.outputs_are = scorer.outputs_are
        self._scorer, self._edit = scorer, edit

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        self._edit()
        return self._scorer.score(texts)


@pytest.fixture(scope="module")
def clean(tiny_checkpoint: Callable[..., TinyCheckpoint]) -> tuple[TinyCheckpoint, Scorer]:
    checkpoint = tiny_checkpoint("original", bias=CLEAN)
    return checkpoint, load_scorer(checkpoint.settings())


@pytest.fixture
def rt(clean: tuple[TinyCheckpoint, Scorer], database_url: str) -> Iterator[WorkerRuntime]:
    checkpoint, scorer = clean
    made = WorkerRuntime(
        settings=checkpoint.settings(
            database_url=database_url, webhook_url="http://127.0.0.1:9/hook", audit_sample=1.0
        ),
        db=Database(database_url),
        redis=None,
        producer=RecordingProducer(),  # type: ignore[arg-type]
        policies=PolicyHolder(DEFAULT_POLICY),
        scorers={"default": scorer},
    )
    yield made
    made.db.dispose()


def post(db: Database, text: str = FIRST, *, author: str = "reader-1") -> str:
    with db.session() as session:
        return stored_comment(session, text=text, author_id=author).id


def edit(db: Database, comment_id: str, text: str = SECOND) -> None:
    """The comment row as an edit leaves it: the next revision's text, pending again. The old
    revision's hold reasons are left in place: recording the new decision must replace them."""
    with db.session() as session:
        session.execute(
            update(Comment)
            .where(Comment.id == comment_id)
            .values(
                text=text,
                revision=Comment.revision + 1,
                version=Comment.version + 1,
                status="pending",
                decided_at=None,
                max_score=None,
            )
        )


def state(db: Database, comment_id: str) -> dict[str, Any]:
    with db.session() as session:
        comment = get_comment_or_none(session, comment_id=comment_id)
        assert comment is not None
        decisions = list_decisions(session, comment_id=comment_id)
        return {
            "status": comment.status,
            "revision": comment.revision,
            "policy": [(d.revision, d.action) for d in decisions if d.by == "policy"],
            "hold_reasons": sorted(
                session.scalars(select(HoldReason.kind).where(HoldReason.comment_id == comment_id))
            ),
            "events": session.scalar(
                select(func.count())
                .select_from(WebhookEvent)
                .where(WebhookEvent.comment_id == comment_id)
            ),
            "samples": session.scalar(
                select(func.count())
                .select_from(AuditSample)
                .where(AuditSample.comment_id == comment_id)
            ),
            "resource": comment_resource(comment, decisions),
        }


def events(logs: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [entry for entry in logs if entry["event"] == name]


def test_a_task_for_a_revision_since_edited_records_nothing(rt: WorkerRuntime) -> None:
    comment_id = post(rt.db)
    edit(rt.db, comment_id)

    with capture_logs() as logs:
        assert decide_comments(rt, [moderate_item(comment_id, 1)]) == [None]

    (stale,) = events(logs, "moderation.stale_revision")
    assert (stale["comment_id"], stale["revision"], stale["current"]) == (comment_id, 1, 2)
    found = state(rt.db, comment_id)
    assert (found["status"], found["revision"], found["policy"]) == ("pending", 2, [])
    assert found["events"] == 0 and rt.producer.sent == []  # type: ignore[attr-defined]
    assert found["resource"]["revision"] == 2 and found["resource"]["decision"] is None


def test_an_edit_landing_while_the_model_runs_drops_the_result(rt: WorkerRuntime) -> None:
    comment_id = post(rt.db)
    assert rt.scorer is not None
    rt.scorer = EditingScorer(rt.scorer, lambda: edit(rt.db, comment_id))

    with capture_logs() as logs:
        assert decide_comments(rt, [moderate_item(comment_id, 1)]) == [None]

    assert [e["revision"] for e in events(logs, "moderation.stale_revision")] == [1]
    assert not events(logs, "decision.recorded")
    found = state(rt.db, comment_id)
    assert (found["status"], found["revision"], found["policy"]) == ("pending", 2, [])
    assert found["events"] == 0 and found["samples"] == 0


def test_the_current_revision_is_decided_and_shown(rt: WorkerRuntime) -> None:
    """Revision 1 held (its author is watched), then edited and approved: the resource shows
    revision 2 with no decision while it is pending, then revision 2's; the history has both;
    the hold reasons of revision 1 are gone."""
    now = utcnow()
    with rt.db.session() as session:
        put_author_flags(
            session, author_id="watched", always_hold=True, trusted=False, by="m", now=now
        )
    comment_id = post(rt.db, author="watched")
    assert decide_comments(rt, [moderate_item(comment_id, 1)]) == ["hold"]
    assert state(rt.db, comment_id)["hold_reasons"] == ["author"]

    edit(rt.db, comment_id)
    pending = state(rt.db, comment_id)["resource"]
    assert (pending["status"], pending["revision"], pending["decision"]) == ("pending", 2, None)
    with rt.db.session() as session:
        put_author_flags(
            session, author_id="watched", always_hold=False, trusted=False, by="m", now=now
        )
    assert decide_comments(rt, [moderate_item(comment_id, 2)]) == ["approve"]

    found = state(rt.db, comment_id)
    assert found["policy"] == [(1, "hold"), (2, "approve")]
    assert found["hold_reasons"] == []
    resource = found["resource"]
    assert (resource["status"], resource["revision"]) == ("approved", 2)
    assert resource["decision"]["action"] == "approve" and resource["decision"]["reasons"] == []
    history = comment_history(rt.db, comment_id=comment_id).model_dump(mode="json")
    assert [(item["revision"], item["action"]) for item in history["items"]] == [
        (1, "hold"),
        (2, "approve"),
    ]
    # Revision 2's webhook payload is the resource at revision 2.
    with rt.db.session() as session:
        payloads = list(
            session.scalars(
                select(WebhookEvent.payload)
                .where(WebhookEvent.comment_id == comment_id)
                .order_by(WebhookEvent.created_at)
            )
        )
    assert [p["data"]["revision"] for p in payloads] == [1, 2]


def test_a_bare_id_decides_the_current_revision(rt: WorkerRuntime) -> None:
    comment_id = post(rt.db)
    edit(rt.db, comment_id)

    assert decide_comments(rt, [comment_id]) == ["approve"]

    assert state(rt.db, comment_id)["policy"] == [(2, "approve")]


def test_a_duplicate_task_for_the_same_revision_stops_quietly(rt: WorkerRuntime) -> None:
    comment_id = post(rt.db)
    item = moderate_item(comment_id, 1)
    assert decide_comments(rt, [item]) == ["approve"]
    edit(rt.db, comment_id)
    assert decide_comments(rt, [moderate_item(comment_id, 2), item]) == ["approve", None]
    before = state(rt.db, comment_id)

    with capture_logs() as logs:
        assert decide_comments(rt, [moderate_item(comment_id, 2)]) == [None]
        # A run that had read the comment pending at revision 2 before the first one recorded.
        recorded = record_automated_decisions(
            rt.db,
            decisions=[
                AutomatedDecision(comment_id, "hold", [], {"toxicity": 0.9}, {}, revision=2)
            ],
            policy_version="sha256:second-run",
            model="m",
            webhooks=True,
            now=utcnow(),
        )

    assert recorded == [None]
    assert [e["status"] for e in events(logs, "moderation.skipped")] == ["approved"]
    after = state(rt.db, comment_id)
    assert after == before
    assert after["policy"] == [(1, "approve"), (2, "approve")]
    # Approved twice, sampled once: an edited comment keeps its first audit sample.
    assert after["samples"] == 1


def test_the_repeat_rule_ignores_the_comments_own_revisions(rt: WorkerRuntime) -> None:
    """An author rewording their own comment into what it said before is no repeat; the same
    words in another of their comments still are."""
    comment_id = post(rt.db)
    assert decide_comments(rt, [moderate_item(comment_id, 1)]) == ["approve"]
    edit(rt.db, comment_id, FIRST.upper())
    assert decide_comments(rt, [moderate_item(comment_id, 2)]) == ["approve"]
    with rt.db.session() as session:
        context = session.scalars(
            select(Decision.context).where(
                Decision.comment_id == comment_id, Decision.revision == 2
            )
        ).one()
    assert context["recent_digests"] == []

    copy = post(rt.db, FIRST)
    assert decide_comments(rt, [moderate_item(copy, 1)]) == ["hold"]
    assert state(rt.db, copy)["hold_reasons"] == ["repeat"]
