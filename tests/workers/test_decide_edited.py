"""The worker deciding an edited comment: the shadow decision is recorded against the revision
decided, and the decision latency runs from the edit, not from when the comment was posted."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from service.broker.contract import moderate_item
from service.db.engine import Database
from service.db.tables import ShadowDecision, utcnow
from service.policies import PolicyHolder
from service.settings import DEFAULT_POLICY
from service.store.comments import get_comment_or_none
from service.store.revisions import revise_comment
from tests.support.checkpoints import CLEAN, TinyCheckpoint
from tests.support.comments import stored_comment
from tests.support.databases import BACKENDS
from workers.decide import decide_comments
from workers.runtime import WorkerRuntime
from workers.scoring.scorer import Scorer, load_scorer
from workers.shadow import ShadowPolicy

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

HOLDS_EVERYTHING = "schema: 1\ntoxicity:\n  thresholds:\n    toxicity: 0\n"
LATENCY_SUM = "moderation_decision_latency_seconds_sum"
POSTED_AGO = timedelta(days=1)


class NoProducer:
    """Stands in for the broker: webhooks are off here, so nothing is sent."""

    def send(self, task: str, *args: Any, countdown: float | None = None) -> bool:
        raise AssertionError(f"unexpected task {task}")


@pytest.fixture(scope="module")
def clean(tiny_checkpoint: Callable[..., TinyCheckpoint]) -> tuple[TinyCheckpoint, Scorer]:
    checkpoint = tiny_checkpoint("original", bias=CLEAN)
    return checkpoint, load_scorer(checkpoint.settings())


@pytest.fixture
def rt(
    clean: tuple[TinyCheckpoint, Scorer], database_url: str, tmp_path: Path
) -> Iterator[WorkerRuntime]:
    checkpoint, scorer = clean
    shadow = tmp_path / "shadow.yaml"
    shadow.write_text(HOLDS_EVERYTHING)
    made = WorkerRuntime(
        settings=checkpoint.settings(database_url=database_url),
        db=Database(database_url),
        redis=None,
        producer=NoProducer(),  # type: ignore[arg-type]
        policies=PolicyHolder(DEFAULT_POLICY),
        scorers={"default": scorer},
        shadow=ShadowPolicy(shadow),
    )
    yield made
    made.db.dispose()


def latency_sum() -> float:
    return REGISTRY.get_sample_value(LATENCY_SUM) or 0.0


def test_an_edit_is_shadowed_and_timed_on_its_own_revision(rt: WorkerRuntime) -> None:
    with rt.db.session() as session:
        comment_id = stored_comment(
            session,
            text="The council should publish the budget before the vote.",
            now=utcnow() - POSTED_AGO,
        ).id
    assert decide_comments(rt, [moderate_item(comment_id, 1)]) == ["approve"]
    with rt.db.session() as session:
        comment = get_comment_or_none(session, comment_id=comment_id)
        assert comment is not None
        revise_comment(
            session,
            comment=comment,
            text="The council should publish the whole budget before Thursday's vote.",
            idempotency_key=None,
            body_hash="edit",
            now=utcnow(),
        )

    before = latency_sum()
    assert decide_comments(rt, [moderate_item(comment_id, 2)]) == ["approve"]
    # Seconds since the edit, not the day since the comment was posted.
    assert 0 <= latency_sum() - before < POSTED_AGO.total_seconds() / 2

    with rt.db.session() as session:
        shadows = session.scalars(
            select(ShadowDecision)
            .where(ShadowDecision.comment_id == comment_id)
            .order_by(ShadowDecision.revision)
        )
        assert [(row.revision, row.action) for row in shadows] == [(1, "hold"), (2, "hold")]
