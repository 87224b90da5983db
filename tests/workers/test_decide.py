"""Moderating one comment, in-process: the tiny `unbiased` model's every label reaches the
stored decision, identity labels included (Detoxify's own `predict` drops them)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from service.comments.resources import comment_resource
from service.db.tables import utcnow
from service.model_catalogue import IDENTITY_LABELS, model_labels
from service.store.comments import create_comment, get_comment_or_none
from service.store.decisions import list_decisions
from tests.support.checkpoints import TOXIC, TinyCheckpoint
from tests.support.databases import BACKENDS
from tests.support.runtimes import offline_runtime
from workers.decide import decide_comments
from workers.runtime import WorkerRuntime

FLAGGED = ("female", "muslim")


@pytest.fixture
def runtime(
    database_url: str, tiny_checkpoint: Callable[..., TinyCheckpoint]
) -> Iterator[WorkerRuntime]:
    checkpoint = tiny_checkpoint("unbiased", bias=dict.fromkeys(FLAGGED, TOXIC))
    settings = checkpoint.settings(database_url=database_url)
    made = offline_runtime(settings, database_url)
    yield made
    made.db.dispose()


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_identity_labels_of_unbiased_reach_the_stored_decision(runtime: WorkerRuntime) -> None:
    with runtime.db.session() as session:
        comment_id = create_comment(
            session,
            article_id="a-1",
            parent_id=None,
            author_id="r-1",
            author_name=None,
            text="Thanks for the reporting on the council vote.",
            idempotency_key=None,
            body_hash=None,
            now=utcnow(),
        ).id

    assert decide_comments(runtime, [comment_id]) != [None]

    with runtime.db.session() as session:
        comment = get_comment_or_none(session, comment_id=comment_id)
        assert comment is not None
        resource = comment_resource(comment, list_decisions(session, comment_id=comment_id))
    scores = resource["decision"]["scores"]
    assert set(IDENTITY_LABELS) <= set(scores)
    # As a set: PostgreSQL's JSONB keeps no key order.
    assert set(scores) == set(model_labels("unbiased"))
    assert {label for label, value in scores.items() if value > 0.99} == set(FLAGGED)
    assert all(scores[label] < 0.01 for label in scores if label not in FLAGGED)
