"""An edited comment's history for the tuning tests: each revision decided by the shipped policy
as the worker records it (its scores and context stored with the decision), edits made by the
store as the edit route makes them, and a moderator's decision through the review domain."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import policy
from service.comments.decisions import AutomatedDecision, record_automated_decisions
from service.db.engine import Database
from service.moderation.review import review_comment
from service.moderation.schemas import Review
from service.settings import DEFAULT_POLICY
from service.store.comments import get_comment_or_none
from service.store.revisions import revise_comment
from tests.support.comments import stored_comment
from tests.support.tuning_history import LOW, MODERATOR

EDIT_AFTER = timedelta(minutes=10)
DECIDED_AFTER = timedelta(seconds=2)


@dataclass(frozen=True)
class Take:
    """One revision's text and what the model scored it."""

    text: str
    insult: float = LOW


CLEAN = Take("Thanks for the careful reporting on the budget.")
ABUSIVE = Take("Nobody wants to read your garbage opinions, idiot.", insult=0.95)
ABUSIVE_AGAIN = Take("Nobody wants your garbage opinions. Go away.", insult=0.9)


def _context() -> policy.Context:
    return policy.Context(
        author={"approved": 0, "rejected": 0, "held": 0, "always_hold": False, "trusted": False},
        article={"premoderated": False, "closed": False},
        flood_count=1,
        language="en",
        model="unbiased",
    )


def decide_revision(
    db: Database, *, comment_id: str, revision: int, take: Take, at: datetime
) -> str:
    """Revision `revision` decided by the shipped policy and recorded; its action."""
    current = policy.load_policy(DEFAULT_POLICY)
    scores = {"insult": take.insult, "toxicity": LOW, "threat": LOW}
    subject = policy.Comment(text=take.text, author_id="reader-edits", article_id="news-1")
    decision = current.evaluate(subject, scores, _context())
    (recorded,) = record_automated_decisions(
        db,
        decisions=[
            AutomatedDecision(
                comment_id=comment_id,
                action=decision.action,
                reasons=[reason.to_dict() for reason in decision.reasons],
                scores=scores,
                context=_context().to_dict(),
                revision=revision,
            )
        ],
        policy_version=current.version,
        model="detoxify:unbiased",
        webhooks=False,
        now=at,
    )
    assert recorded is not None, (comment_id, revision)
    return decision.action


def edited_comment(db: Database, *, takes: Sequence[Take], posted_at: datetime) -> str:
    """A comment posted as `takes[0]` and edited into each later take, EDIT_AFTER apart, each
    revision decided DECIDED_AFTER it was made; its id."""
    with db.session() as session:
        comment_id = stored_comment(
            session,
            text=takes[0].text,
            author_id="reader-edits",
            article_id="news-1",
            now=posted_at,
        ).id
    decide_revision(
        db, comment_id=comment_id, revision=1, take=takes[0], at=posted_at + DECIDED_AFTER
    )
    for index, take in enumerate(takes[1:], start=1):
        edit_and_decide(db, comment_id=comment_id, take=take, at=posted_at + index * EDIT_AFTER)
    return comment_id


def edit_and_decide(db: Database, *, comment_id: str, take: Take, at: datetime) -> str:
    """The author's edit into `take` at `at`, its new revision decided DECIDED_AFTER; the
    action."""
    with db.session() as session:
        comment = get_comment_or_none(session, comment_id=comment_id)
        assert comment is not None
        revise_comment(
            session,
            comment=comment,
            text=take.text,
            idempotency_key=None,
            body_hash=f"edit-{comment.revision + 1}",
            now=at,
        )
        revision = comment.revision
    return decide_revision(
        db, comment_id=comment_id, revision=revision, take=take, at=at + DECIDED_AFTER
    )


def review(db: Database, *, comment_id: str, action: str, at: datetime) -> None:
    """A moderator's decision on the comment as it stands."""
    with db.session() as session:
        comment = get_comment_or_none(session, comment_id=comment_id)
        assert comment is not None
        version = comment.version
    review_comment(
        db,
        moderator=MODERATOR,
        review=Review(comment_id, action, version, None, False),
        events=frozenset(),
        now=at,
    )
