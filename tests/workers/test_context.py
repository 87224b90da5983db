"""The context a worker gathers: only what came before the comment, and no other comment's text."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import MetaData, select

import policy
from service.comments.decisions import AutomatedDecision, record_automated_decisions
from service.db.engine import Database
from service.db.tables import Decision, WebhookEvent, utcnow
from service.retention import purge_expired_text
from service.settings import Settings
from service.store.comments import get_comment_or_none
from tests.support.comments import stored_comment
from tests.support.databases import BACKENDS
from tests.support.policies import SHIPPED
from workers.context import PendingComment, gather_contexts
from workers.runtime import WorkerRuntime

SHIPPED_POLICY = policy.load_policy(SHIPPED)
TEXT = "Vote for Smith on Thursday, everyone!"


def runtime(db: Database) -> WorkerRuntime:
    # gather_contexts reads the database only; the rest of a worker's runtime is not touched.
    return WorkerRuntime(
        settings=Settings(),
        db=db,
        redis=None,
        producer=None,  # type: ignore[arg-type]
        policies=None,  # type: ignore[arg-type]
    )


def post(db: Database, text: str, *, at: datetime, author_id: str = "reader-1") -> str:
    with db.session() as session:
        return stored_comment(session, text=text, author_id=author_id, now=at).id


def decide(db: Database, comment_id: str) -> tuple[policy.Decision, policy.Context]:
    with db.session() as session:
        comment = get_comment_or_none(session, comment_id=comment_id)
        assert comment is not None and comment.text is not None
        subject = policy.Comment(comment.text, comment.author_id, comment.article_id)
        pending = PendingComment(comment_id, subject, comment.created_at, revision=1)
    context = gather_contexts(
        runtime(db), [pending], current=SHIPPED_POLICY, model="unbiased"
    ).context_for(pending)
    return SHIPPED_POLICY.evaluate(subject, {}, context), context


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
@pytest.mark.parametrize("gap", [timedelta(seconds=5), timedelta(0)], ids=["later", "same-instant"])
def test_a_worker_behind_never_holds_the_original_as_a_repeat_of_its_copy(
    db: Database, gap: timedelta
) -> None:
    now = utcnow()
    ids = [post(db, TEXT, at=now), post(db, TEXT, at=now + gap)]
    # With equal timestamps, the id decides which one counts as first.
    first, second = sorted(ids) if not gap else ids
    post(db, "Something else entirely, posted later.", at=now + gap + timedelta(seconds=1))

    second_decision, second_context = decide(db, second)  # the worker gets to it first
    first_decision, first_context = decide(db, first)

    assert first_decision.action == "approve"
    assert first_context.recent_digests == ()
    assert first_context.flood_count == 1
    assert [reason.kind for reason in second_decision.reasons] == ["repeat"]
    assert second_context.flood_count == 2


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_no_comment_text_survives_a_purge(db: Database) -> None:
    posted_at = utcnow() - timedelta(days=91)
    texts = [TEXT, "Council meeting minutes are online, phone 010-1234-5678"]
    ids = [post(db, text, at=posted_at + timedelta(seconds=n)) for n, text in enumerate(texts)]
    ids.append(post(db, TEXT, at=posted_at + timedelta(seconds=5), author_id="reader-2"))
    for comment_id in ids:
        _decision, context = decide(db, comment_id)
        record_automated_decisions(
            db,
            decisions=[
                AutomatedDecision(
                    comment_id, "approve", [], {"toxicity": 0.01}, context.to_dict(), revision=1
                )
            ],
            policy_version=SHIPPED_POLICY.version,
            model="m",
            webhooks=True,
            now=posted_at + timedelta(minutes=1),
        )
    with db.session() as session:
        for event in session.scalars(select(WebhookEvent)):
            event.status = "delivered"
    assert len(context_digests(db)) == 1  # the second comment's context names the first

    assert purge_expired_text(db, retention_days=90) == 3

    dump = everything_stored(db)
    for text in texts:
        for fragment in (text, policy.normalize(text), "Smith", "smith", "010-1234-5678"):
            assert fragment not in dump
    assert len(context_digests(db)) == 1  # replay can still tell repeats apart


def context_digests(db: Database) -> list[str]:
    with db.session() as session:
        contexts = session.scalars(select(Decision.context)).all()
    return [digest for context in contexts for digest in (context or {}).get("recent_digests", ())]


def everything_stored(db: Database) -> str:
    metadata = MetaData()
    metadata.reflect(db.engine)
    rows = []
    with db.engine.connect() as connection:
        for table in metadata.sorted_tables:
            rows += [list(row) for row in connection.execute(table.select())]
    return json.dumps(rows, default=str, ensure_ascii=False)
