"""The invariant every fault test ends on: nothing lost, nobody in, one automated decision per
accepted revision.

Every comment the API answered 202/200 has, at rest, exactly one automated decision for its
current revision (unless its author deleted it), and at most one for any revision; nothing
else was created: the comments table holds exactly the answered ids, no decision row names any
other comment or a revision not yet written, and (with webhooks on) there is one
`comment.decided` outbox event per automated decision; when a receiver is given, each arrived,
signed, under its own `webhook-id`, and only once.
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
DECIDED_EVENT = "comment.decided"


@dataclass(frozen=True)
class Snapshot:
    comment_ids: list[str]
    comments: dict[str, tuple[str, int]]  # comment id -> (status, current revision)
    policy_decisions: Counter[tuple[str, int]]  # (comment id, revision) -> rows
    other_decisions: list[str]
    events: dict[str, str]  # comment.decided webhook event id -> comment id
    other_events: int

    def undecided(self, expected: Collection[str]) -> set[str]:
        """The expected comments still owed an automated decision on their current revision:
        missing, or pending it (a deleted comment is owed none)."""
        return {
            comment_id
            for comment_id in expected
            if (found := self.comments.get(comment_id)) is None
            or (found[0] != "deleted" and (comment_id, found[1]) not in self.policy_decisions)
        }


def snapshot(database_url: str) -> Snapshot:
    database = Database(database_url)
    try:
        with database.session() as session:
            comments = session.execute(select(Comment.id, Comment.status, Comment.revision)).all()
            decisions = session.execute(
                select(Decision.comment_id, Decision.revision, Decision.by)
            ).all()
            events = session.execute(
                select(WebhookEvent.id, WebhookEvent.comment_id, WebhookEvent.type)
            ).all()
    finally:
        database.dispose()
    return Snapshot(
        comment_ids=[cid for cid, _, _ in comments],
        comments={cid: (status, revision) for cid, status, revision in comments},
        policy_decisions=Counter((cid, rev) for cid, rev, by in decisions if by == "policy"),
        other_decisions=[cid for cid, _, by in decisions if by != "policy"],
        events={eid: cid for eid, cid, kind in events if kind == DECIDED_EVENT},
        other_events=sum(1 for _, _, kind in events if kind != DECIDED_EVENT),
    )


def assert_one_decision_per_revision(state: Snapshot, expected: Collection[str]) -> None:
    """At rest: each comment decided once on its current revision (unless deleted), never
    twice on any revision, never on a revision it doesn't have, never left pending once
    decided."""
    twice = {key: n for key, n in state.policy_decisions.items() if n != 1}
    assert not twice, f"revisions with more than one automated decision: {twice}"
    unknown = [
        (cid, rev)
        for cid, rev in state.policy_decisions
        if cid not in state.comments or rev > state.comments[cid][1]
    ]
    assert not unknown, f"automated decisions of revisions never written: {unknown[:5]}"
    owed = state.undecided(expected)
    assert not owed, f"comments without a decision on their current revision: {sorted(owed)[:5]}"
    half = [
        cid
        for cid in expected
        if state.comments[cid][0] == "pending"
        and (cid, state.comments[cid][1]) in state.policy_decisions
    ]
    assert not half, f"decided on their current revision yet still pending: {half[:5]}"


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
        undecided = state.undecided(expected)
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
    assert_one_decision_per_revision(state, expected)
    assert not state.other_decisions, f"unexpected human decisions: {state.other_decisions}"
    if not webhooks:
        assert not state.events and not state.other_events, (
            "webhook events written with webhooks off"
        )
        return state
    per_comment = Counter(state.events.values())
    decided = Counter(cid for cid, _ in state.policy_decisions)
    assert per_comment == decided, (
        f"webhook events do not match decisions one to one: {len(state.events)} events "
        f"for {decided.total()} decisions"
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
        return [headers["webhook-id"] for headers, body in receiver.received() if _decided(body)]

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
        if payload["type"] != DECIDED_EVENT:
            continue
        assert payload["data"]["id"] == events.get(headers["webhook-id"]), "an unknown event"
    duplicated = {wid: n for wid, n in Counter(delivered_ids()).items() if n > 1}
    assert not duplicated, f"webhook events delivered more than once: {duplicated}"
    assert set(delivered_ids()) == set(events), "deliveries of events that were never written"


def _decided(body: bytes) -> bool:
    return bool(json.loads(body)["type"] == DECIDED_EVENT)


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
