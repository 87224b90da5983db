"""The invariant every fault test ends on: nothing lost, nobody in.

Every comment the API answered 202/200 has exactly one automated decision, and nothing else
was created: the comments table holds exactly the answered ids, no decision row names any
other comment, and (with webhooks on) there is one outbox event per decision; when a
receiver is given, each event arrived, signed, under its own `webhook-id`, and only once.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass

from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from service.db.engine import Database
from service.db.tables import Comment, Decision, WebhookEvent
from tests.support.harness import WebhookReceiver

POLL_SECONDS = 0.25
# After every event has arrived, watch this long more for a duplicate on its way.
SETTLE_SECONDS = 2.0


@dataclass(frozen=True)
class Snapshot:
    comment_ids: list[str]
    policy_decisions: Counter[str]
    other_decisions: list[str]
    events: dict[str, str]  # webhook event id -> comment id


def snapshot(database_url: str) -> Snapshot:
    database = Database(database_url)
    try:
        with database.session() as session:
            comment_ids = list(session.scalars(select(Comment.id)))
            decisions = session.execute(select(Decision.comment_id, Decision.by)).all()
            events = dict(session.execute(select(WebhookEvent.id, WebhookEvent.comment_id)).all())
    finally:
        database.dispose()
    return Snapshot(
        comment_ids=comment_ids,
        policy_decisions=Counter(cid for cid, by in decisions if by == "policy"),
        other_decisions=[cid for cid, by in decisions if by != "policy"],
        events=events,
    )


def assert_nothing_lost(
    database_url: str,
    answered: Collection[str],
    *,
    webhooks: bool,
    receiver: WebhookReceiver | None = None,
    webhook_secret: str | None = None,
    timeout: float = 90,
    logs: Callable[[], str] = str,
) -> Snapshot:
    """Wait (bounded) until every answered comment is decided, then check the invariant.

    `logs()` is shown when a wait runs out, to say which process got stuck.
    """
    expected = set(answered)
    assert len(expected) == len(answered), "the API answered the same id for two comments"
    deadline = time.monotonic() + timeout
    while True:
        state = snapshot(database_url)
        undecided = expected - set(state.policy_decisions)
        if not undecided:
            break
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{len(undecided)} of {len(expected)} answered comments never decided "
                f"(e.g. {sorted(undecided)[:3]})\n{logs()}"
            )
        time.sleep(POLL_SECONDS)

    stored = Counter(state.comment_ids)
    assert set(stored) == expected, (
        f"comments stored but never answered: {sorted(set(stored) - expected)[:5]}"
    )
    twice = {cid: n for cid, n in state.policy_decisions.items() if n != 1}
    assert not twice, f"comments with more than one automated decision: {twice}"
    assert not state.other_decisions, f"unexpected human decisions: {state.other_decisions}"
    if not webhooks:
        assert not state.events, "webhook events written with webhooks off"
        return state
    per_comment = Counter(state.events.values())
    assert set(per_comment) == expected and set(per_comment.values()) == {1}, (
        f"webhook events do not match decisions one to one: {len(state.events)} events "
        f"for {len(expected)} decisions"
    )
    if receiver is not None:
        assert webhook_secret is not None, "verifying deliveries needs the signing secret"
        _assert_delivered_once(receiver, state.events, webhook_secret, deadline, logs)
    return state


def _assert_delivered_once(
    receiver: WebhookReceiver,
    events: dict[str, str],
    secret: str,
    deadline: float,
    logs: Callable[[], str],
) -> None:
    def delivered_ids() -> list[str]:
        return [headers["webhook-id"] for headers, _ in receiver.received()]

    while set(events) - set(delivered_ids()):
        if time.monotonic() > deadline:
            missing = set(events) - set(delivered_ids())
            raise AssertionError(f"{len(missing)} webhook events never arrived\n{logs()}")
        time.sleep(POLL_SECONDS)
    time.sleep(SETTLE_SECONDS)
    verifier = Webhook(secret)
    received = receiver.received()
    for headers, body in received:
        verifier.verify(body, headers)
        payload = json.loads(body)
        assert payload["type"] == "comment.decided"
        assert payload["data"]["id"] == events.get(headers["webhook-id"]), "an unknown event"
    duplicated = {wid: n for wid, n in Counter(delivered_ids()).items() if n > 1}
    assert not duplicated, f"webhook events delivered more than once: {duplicated}"
    assert set(delivered_ids()) == set(events), "deliveries of events that were never written"


def assert_one_comment_per_key(database_url: str, answered: dict[str, str]) -> None:
    """Each Idempotency-Key made exactly one comment, the one its client was finally given."""
    database = Database(database_url)
    try:
        with database.session() as session:
            rows = session.execute(
                select(Comment.idempotency_key, Comment.id).where(
                    Comment.idempotency_key.in_(list(answered))
                )
            ).all()
    finally:
        database.dispose()
    per_key = Counter(key for key, _ in rows)
    assert set(per_key.values()) <= {1}, f"keys with several comments: {per_key.most_common(3)}"
    assert dict(rows) == answered, "a client was given a comment its key did not make"
