"""An author's figures in the context: counted from decision rows (each comment's latest approve,
reject or hold, whoever made it), not from comment statuses; a batch's earlier comments count
as decided; the queries don't grow with the batch."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event

import policy
from service.db.engine import Database
from service.db.tables import utcnow
from service.store.comments import get_comment_or_none, mark_comment_deleted
from service.store.context import author_figures
from service.store.decisions import add_decision
from tests.support.comments import stored_comment
from tests.support.databases import BACKENDS
from workers.context import PendingComment, read_contexts

RULES_ON = policy.parse_policy(
    b"author:\n  new_commenter: {hold_until_approved: 2}\n"
    b"  recent_rejections: {window_days: 10, min_decided: 2, max_rate: 0.5}\n",
    source="test.yaml",
)
NOW = utcnow()


def post(db: Database, author: str, *, at: datetime, text: str = "A fair point.") -> str:
    with db.session() as session:
        return stored_comment(session, text=text, author_id=author, now=at).id


def decide(db: Database, comment_id: str, *actions: tuple[str, str, datetime]) -> None:
    with db.session() as session:
        for by, action, at in actions:
            add_decision(session, comment_id=comment_id, now=at, by=by, action=action)


def history(db: Database) -> dict[str, str]:
    """reader-1: approved long ago; held then rejected by a moderator recently; approved,
    reported, hidden and kept; rejected and then deleted by its author; one still pending."""
    old, recent = NOW - timedelta(days=40), NOW - timedelta(days=2)
    made = {key: post(db, "reader-1", at=old) for key in ("old", "rejected", "kept", "deleted")}
    made["pending"] = post(db, "reader-1", at=recent)
    decide(db, made["old"], ("policy", "approve", old))
    decide(db, made["rejected"], ("policy", "hold", recent), ("moderator", "reject", recent))
    decide(
        db,
        made["kept"],
        ("policy", "approve", old),
        ("reports", "hide", recent),
        ("moderator", "keep", recent),
    )
    decide(db, made["deleted"], ("policy", "hold", recent), ("moderator", "reject", recent))
    with db.session() as session:
        comment = get_comment_or_none(session, comment_id=made["deleted"])
        assert comment is not None
        mark_comment_deleted(session, comment=comment, now=recent)
    post(db, "reader-2", at=recent)  # pending, nothing decided
    return made


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_figures_come_from_each_comments_latest_decision(db: Database) -> None:
    history(db)
    with db.session() as session:
        found = author_figures(
            session, author_ids=["reader-1", "reader-2", "nobody"], now=NOW, window_days=10
        )
    assert found["reader-1"] == {
        "approved": 2,
        "rejected": 2,  # the deleted comment's rejection still counts
        "held": 0,
        "recent": {"window_days": 10, "decided": 2, "rejected": 2},
    }
    empty = {
        "approved": 0,
        "rejected": 0,
        "held": 0,
        "recent": {"window_days": 10, "decided": 0, "rejected": 0},
    }
    assert found["reader-2"] == found["nobody"] == empty
    with db.session() as session:
        assert author_figures(session, author_ids=[], now=NOW, window_days=10) == {}
        wide = author_figures(session, author_ids=["reader-1"], now=NOW, window_days=60)
    assert wide["reader-1"]["recent"] == {"window_days": 60, "decided": 4, "rejected": 2}


def pending(db: Database, comment_id: str) -> PendingComment:
    with db.session() as session:
        comment = get_comment_or_none(session, comment_id=comment_id)
        assert comment is not None and comment.text is not None
        subject = policy.Comment(comment.text, comment.author_id, comment.article_id)
        return PendingComment(comment.id, subject, comment.created_at, revision=comment.revision)


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_the_context_carries_the_figures_and_a_batch_counts_its_earlier_comments(
    db: Database,
) -> None:
    made = history(db)
    later = [post(db, "reader-1", at=NOW - timedelta(seconds=n)) for n in (2, 1)]
    batch = [pending(db, comment_id) for comment_id in [made["pending"], *later]]
    with db.session() as session:
        contexts = read_contexts(session, batch, current=RULES_ON, model="unbiased", now=NOW)

    first = contexts.context_for(batch[0])
    assert first.author == {
        "approved": 2,
        "rejected": 2,
        "held": 0,
        "always_hold": False,
        "trusted": False,
        "recent": {"window_days": 10, "decided": 2, "rejected": 2},
    }
    decision = RULES_ON.evaluate(batch[0].subject, {}, first)
    assert [reason.rule for reason in decision.reasons] == ["author.recent_rejections"]
    # Stored as JSON and read back by a replay, the figures decide the same.
    stored = policy.Context.from_dict(first.to_dict())
    assert RULES_ON.evaluate(batch[0].subject, {}, stored) == decision

    contexts.decided(batch[0], "hold")
    second = contexts.context_for(batch[1])
    assert (second.author["held"], second.author["recent"]) == (
        1,
        {"window_days": 10, "decided": 2, "rejected": 2},
    )
    contexts.decided(batch[1], "approve")
    third = contexts.context_for(batch[2])
    assert third.author["approved"] == 3
    assert third.author["recent"] == {"window_days": 10, "decided": 3, "rejected": 2}
    # 2 of 3 rejected is still past the rate.
    assert RULES_ON.evaluate(batch[2].subject, {}, third).action == "hold"


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_an_edited_comment_is_not_part_of_its_own_record(db: Database) -> None:
    """Re-decided after an edit, a comment's earlier approval doesn't count for itself; for
    the author's later comments, its new decision replaces the old one."""
    first = post(db, "reader-3", at=NOW - timedelta(hours=1))
    decide(db, first, ("policy", "approve", NOW - timedelta(minutes=50)))
    second = post(db, "reader-3", at=NOW - timedelta(minutes=1))
    batch = [pending(db, first), pending(db, second)]
    with db.session() as session:
        contexts = read_contexts(session, batch, current=RULES_ON, model="unbiased", now=NOW)
    assert contexts.context_for(batch[0]).author["approved"] == 0
    contexts.decided(batch[0], "hold")
    author = contexts.context_for(batch[1]).author
    assert (author["approved"], author["held"]) == (0, 1)
    with db.session() as session:
        found = author_figures(session, author_ids=["reader-3"], now=NOW, window_days=10)
    assert found["reader-3"]["approved"] == 1


def counting(db: Database) -> Callable[[], int]:
    statements: list[Any] = []
    event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(args))
    return lambda: len(statements)


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_the_figures_take_one_query_whatever_the_batch(db: Database) -> None:
    history(db)
    one = [pending(db, post(db, "reader-1", at=NOW))]
    many = [pending(db, post(db, f"reader-{n}", at=NOW)) for n in range(12)]
    counted = counting(db)
    sizes = []
    for batch in (one, many):
        before = counted()
        with db.session() as session:
            read_contexts(session, batch, current=RULES_ON, model="unbiased", now=NOW)
        sizes.append(counted() - before)
    assert sizes[0] == sizes[1], sizes
