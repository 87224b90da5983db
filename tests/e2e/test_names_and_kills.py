"""Task names, the previous release's names, and killed batches, on one real worker.

A message queued under a legacy name by an API of the previous release is still decided. A
batch killed by its hard time limit counts a kill for each comment it named (in the worker's
parent, where Celery reports it) and the sweeper re-sends them one per message; a comment
killed three times is held, unscored, with a reason of kind `error`, and announced like any
other hold.

The kill is a real hard time limit, carried by the message as Celery allows (`time_limit`),
and made certain by a lock the test holds on the comments table: the child waits on it past
its limit. The test releases the lock once the parent has logged the timeout, so the parent
can count the kill.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from service.broker.contract import (
    LEGACY_MODERATE_QUEUE,
    LEGACY_MODERATE_TASK,
    MODERATE_TASK,
    SWEEP_TASK,
    moderate_item,
)
from service.broker.producer import TaskProducer
from service.db.engine import Database
from service.db.tables import Comment, utcnow
from service.store.comments import mark_enqueued
from tests.support.comments import stored_comment
from tests.support.databases import DEFAULT_BACKEND
from tests.support.stack import Stack, decisions_of, wait_for

# The limits the killed messages carry. Celery's pool sets the hard limit's timer only once
# the soft one has passed, so both are given. The soft limit is raised in the child only once
# the database call it is waiting in returns: SQLite's wait for its lock (10 s) outlasts the
# hard limit, so the child is killed; PostgreSQL's wait is interrupted, and the task then
# waits on the lock to count its kills, and is killed all the same.
SOFT_LIMIT_SECONDS = 1.0
HARD_LIMIT_SECONDS = 2.0
KILL_SECONDS = 60
DECIDED_SECONDS = 60


def store(stack: Stack, *texts: str) -> list[str]:
    """Pending comments, sent once just now (as the API would have), by id."""
    database = Database(stack.settings.effective_database_url)
    try:
        with database.session() as session:
            ids = [stored_comment(session, text=body, author_id=f"r-{body}").id for body in texts]
            mark_enqueued(session, comment_ids=ids, now=utcnow())
        return ids
    finally:
        database.dispose()


def rows(stack: Stack, comment_ids: list[str]) -> dict[str, tuple[str, int]]:
    """(status, kill count) by id."""
    database = Database(stack.settings.effective_database_url)
    try:
        with database.session() as session:
            found = session.query(Comment).filter(Comment.id.in_(comment_ids)).all()
            return {row.id: (row.status, row.kill_count) for row in found}
    finally:
        database.dispose()


@contextmanager
def comments_locked(stack: Stack) -> Iterator[None]:
    """No write to `comments` gets through until the block ends; reads still do."""
    url = stack.settings.effective_database_url
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            if url.startswith("sqlite"):
                # Any write takes SQLite's one write lock, held to the end of the transaction.
                connection.execute(text("UPDATE comments SET version = version"))
            else:
                connection.execute(text("LOCK TABLE comments IN EXCLUSIVE MODE"))
            yield
            connection.rollback()
    finally:
        engine.dispose()


def hard_limits_logged(stack: Stack) -> int:
    return stack.log("worker").count("Hard time limit")


def kill_batch(stack: Stack, producer: TaskProducer, comment_ids: list[str]) -> None:
    """One `moderate` message naming them, killed by its hard time limit."""
    before = hard_limits_logged(stack)
    with comments_locked(stack):
        producer.app.send_task(
            MODERATE_TASK,
            args=[moderate_item(comment_id, 1) for comment_id in comment_ids],
            soft_time_limit=SOFT_LIMIT_SECONDS,
            time_limit=HARD_LIMIT_SECONDS,
        )
        wait_for(
            lambda: hard_limits_logged(stack) > before,
            timeout=KILL_SECONDS,
            what="the hard time limit",
        )


def webhook_events(stack: Stack) -> list[dict[str, Any]]:
    return [json.loads(body) for _, body in stack.receiver.requests]


@pytest.mark.default_backend
def test_legacy_names_killed_batches_and_a_comment_killed_three_times(make_stack) -> None:  # type: ignore[no-untyped-def]
    stack: Stack = make_stack(DEFAULT_BACKEND)
    stack.start_worker()
    producer = TaskProducer(stack.settings)
    try:
        # Queued by an API of the previous release: the old task name, the old queue.
        [legacy] = store(stack, "queued before the upgrade")
        producer.app.send_task(
            LEGACY_MODERATE_TASK,
            args=[moderate_item(legacy, 1)],
            queue=LEGACY_MODERATE_QUEUE,
            routing_key=LEGACY_MODERATE_QUEUE,
            exchange="",
        )
        wait_for(
            lambda: rows(stack, [legacy])[legacy][0] == "approved",
            timeout=DECIDED_SECONDS,
            what="the legacy message's decision",
        )

        # A batch killed: one kill each, counted once, then each re-sent alone and decided.
        batch = store(stack, "first neighbour", "second neighbour", "third neighbour")
        kill_batch(stack, producer, batch)
        wait_for(
            lambda: all(kills == 1 for _, kills in rows(stack, batch).values()),
            timeout=KILL_SECONDS,
            what="a kill counted for each comment of the batch",
        )
        producer.send(SWEEP_TASK)
        wait_for(
            lambda: all(status == "approved" for status, _ in rows(stack, batch).values()),
            timeout=DECIDED_SECONDS,
            what="the batch's comments, re-sent one by one, decided",
        )
        assert {kills for _, kills in rows(stack, batch).values()} == {1}
        log = stack.log("worker")
        assert log.count('"sweeper.resent"') >= 1 and '"count": 3' in log
        # Their webhooks delivered first: a delivery waiting on the lock below would hold up
        # the one worker process.
        wait_for(
            lambda: len(stack.receiver.requests) >= 1 + len(batch),
            timeout=DECIDED_SECONDS,
            what="the decisions' webhooks",
        )

        # One comment killed three times: held unscored, for a person, like any other hold.
        [poison] = store(stack, "the comment that kills")
        for kills in (1, 2, 3):
            kill_batch(stack, producer, [poison])
            wait_for(
                lambda kills=kills: rows(stack, [poison])[poison] == ("pending", kills),  # type: ignore[misc]
                timeout=KILL_SECONDS,
                what=f"kill {kills} counted",
            )
        producer.send(SWEEP_TASK)
        wait_for(
            lambda: rows(stack, [poison])[poison][0] == "held",
            timeout=DECIDED_SECONDS,
            what="the thrice-killed comment held",
        )
    finally:
        producer.close()
    [decision] = decisions_of(stack.settings, poison)
    assert decision["action"] == "hold"
    event = wait_for(
        lambda: next(
            (e for e in webhook_events(stack) if e.get("data", {}).get("id") == poison), None
        ),
        timeout=DECIDED_SECONDS,
        what="the hold's webhook",
    )
    [reason] = event["data"]["decision"]["reasons"]
    assert (reason["kind"], reason["rule"], reason["kills"]) == ("error", "worker_killed", 3)
    assert "a person must read it" in reason["message"]
    with stack.client() as client:
        queue = client.get("/v1/moderation/queue", headers=stack.auth("m-1", moderator=True))
    assert poison in [item["id"] for item in queue.json()["items"]]
