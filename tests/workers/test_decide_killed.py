"""A comment whose scoring was killed in a batch (workers/killed.py), in-process: never scored
beside others again, and held unscored, for a person, once killed three times."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import update

from service.db.tables import Comment
from service.store.decisions import list_decisions
from tests.support.checkpoints import CLEAN, TinyCheckpoint
from tests.support.comments import stored_comment
from tests.support.runtimes import offline_runtime
from workers.decide import decide_comments
from workers.killed import MAX_KILLS, count_kills
from workers.runtime import WorkerRuntime


@pytest.fixture
def runtime(
    database_url: str, tiny_checkpoint: Callable[..., TinyCheckpoint]
) -> Iterator[WorkerRuntime]:
    settings = tiny_checkpoint("original", bias=CLEAN).settings(database_url=database_url)
    made = offline_runtime(settings, database_url)
    yield made
    made.db.dispose()


def store(runtime: WorkerRuntime, *texts: str) -> list[str]:
    with runtime.db.session() as session:
        return [stored_comment(session, text=body, author_id=f"r-{body}").id for body in texts]


def killed(runtime: WorkerRuntime, comment_id: str, kills: int) -> None:
    with runtime.db.session() as session:
        session.execute(update(Comment).where(Comment.id == comment_id).values(kill_count=kills))


def test_a_kill_counts_once_per_comment_still_pending_at_that_revision(
    runtime: WorkerRuntime,
) -> None:
    first, second, decided = store(runtime, "one", "two", "three")
    assert decide_comments(runtime, [decided]) != [None]
    counts = count_kills(
        runtime.db, [f"{first}@1", f"{first}@1", f"{second}@2", second, decided], cause="test"
    )
    # Named twice, counted once; a revision that isn't the current one, or a comment decided
    # since, not at all (the bare id counts at whatever revision is current).
    assert counts == {first: 1, second: 1}


def test_a_comment_killed_before_is_scored_only_alone(runtime: WorkerRuntime) -> None:
    neighbour, suspect = store(runtime, "A neighbour.", "The suspect.")
    killed(runtime, suspect, 1)
    assert decide_comments(runtime, [neighbour, suspect]) == ["approve", None]
    assert decide_comments(runtime, [suspect]) == ["approve"]


def test_a_comment_killed_three_times_is_held_unscored(runtime: WorkerRuntime) -> None:
    neighbour, poison = store(runtime, "A neighbour.", "The poison.")
    killed(runtime, poison, MAX_KILLS)
    assert decide_comments(runtime, [neighbour, poison]) == ["approve", "hold"]
    with runtime.db.session() as session:
        [decision] = list_decisions(session, comment_id=poison)
        assert (decision.action, decision.scores, decision.model) == ("hold", {}, None)
        [reason] = decision.reasons
    assert (reason["kind"], reason["rule"], reason["kills"]) == ("error", "worker_killed", 3)
    assert reason["message"].endswith("a person must read it.")
