"""A stored history for replay and insights tests: comments decided by the shipped policy the
way the worker decides them (its scores and context recorded), then judged by moderators.

The current policy is the shipped standards-board.yaml. `CANDIDATE` lowers the insult
threshold to 0.60, raises the toxicity threshold to 0.90 and allows links to trusted.example.

    key          insult  tox   other                        now      candidate  moderators
    close_call   0.65    0.10                               approve  hold       not fine (sample)
    unjudged     0.70    0.20                               approve  hold       -
    harmless     0.62    0.10                               approve  hold       fine (sample)
    trusted      0.01    0.01  link to trusted.example      hold     approve    approved
    spam         0.01    0.01  link to spam.example         hold     hold       rejected
    abusive      0.95    0.50                               hold     hold       rejected
    purged       0.91    0.50  text purged                  hold     (skip)     -
    polite       0.01    0.01                               approve  approve    -
    rude         0.30    0.85                               hold     approve    approved
    flooder      0.01    0.01  stored flood_count 7         hold     hold       -
    old          0.99    0.99  decided 40 days ago          (outside --since 30d)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import policy
from service.comments.decisions import AutomatedDecision, record_automated_decisions
from service.db.engine import Database
from service.db.tables import utcnow
from service.http.auth import Principal
from service.moderation.review import review_comment
from service.moderation.schemas import Review
from service.settings import DEFAULT_POLICY
from service.store.comments import create_comment, get_comment_or_none
from service.store.tuning import add_audit_samples
from service.tuning.sampling import judge_sample

CANDIDATE = """\
schema: 1
toxicity:
  thresholds:
    insult: 0.6
    toxicity: 0.9
links:
  allow_domains: [trusted.example]
"""
MODERATOR = Principal("mod-1", roles=frozenset({"moderator"}))
LOW = 0.01


@dataclass(frozen=True)
class Seed:
    key: str
    text: str
    insult: float = LOW
    toxicity: float = LOW
    flood_count: int = 1
    days_ago: float = 1
    review: str | None = None
    sample: str | None = None
    purge: bool = False


SEEDS = (
    Seed("close_call", "You make a fair point about the budget, sort of.", 0.65, 0.1,
         sample="not_fine"),
    Seed("unjudged", "That minister has no idea what he is doing at all.", 0.70, 0.2),
    Seed("harmless", "Fine, whatever you say, you win this round.", 0.62, 0.1, sample="fine"),
    Seed("trusted", "The full report is at https://trusted.example/report today.",
         review="approve"),
    Seed("spam", "Cheap watches at http://spam.example/deal right now.", review="reject"),
    Seed("abusive", "Nobody wants to read your garbage opinions.", 0.95, 0.5, review="reject"),
    Seed("purged", "This text was purged on request.", 0.91, 0.5, purge=True),
    Seed("polite", "Thanks for the careful reporting on this."),
    Seed("rude", "What a pathetic excuse for journalism this is.", 0.30, 0.85, review="approve"),
    Seed("flooder", "Posting again and again about the same thing.", flood_count=7),
    Seed("old", "An old comment from before the window opened.", 0.99, 0.99, days_ago=40),
)  # fmt: skip
EXPECTED_CURRENT = {
    "close_call": "approve",
    "unjudged": "approve",
    "harmless": "approve",
    "trusted": "hold",
    "spam": "hold",
    "abusive": "hold",
    "purged": "hold",
    "polite": "approve",
    "rude": "hold",
    "flooder": "hold",
    "old": "hold",
}


def record_policy_decision(
    db: Database,
    *,
    comment_id: str,
    decision: policy.Decision,
    scores: dict[str, float],
    context: policy.Context,
    policy_version: str,
    now: datetime,
    audit_sample_rate: float = 0.0,
) -> None:
    """Store `decision` as the policy's on the comment's first revision, as a worker would."""
    record_automated_decisions(
        db,
        decisions=[
            AutomatedDecision(
                comment_id=comment_id,
                action=decision.action,
                reasons=[reason.to_dict() for reason in decision.reasons],
                scores=scores,
                context=context.to_dict(),
                revision=1,
            )
        ],
        policy_version=policy_version,
        model="detoxify:unbiased",
        webhooks=False,
        now=now,
        audit_sample_rate=audit_sample_rate,
    )


def write_candidate(directory: Path) -> Path:
    path = directory / "candidate.yaml"
    path.write_text(CANDIDATE)
    return path


def context_for(seed: Seed) -> policy.Context:
    return policy.Context(
        author={"approved": 0, "rejected": 0, "held": 0, "always_hold": False, "trusted": False},
        article={"premoderated": False, "closed": False},
        flood_count=seed.flood_count,
        language="en",
        model="unbiased",
    )


def seed_history(db: Database, *, now: datetime | None = None) -> dict[str, str]:
    """Every seed decided (and judged) as the table says; returns comment ids by key."""
    now = now or utcnow()
    current = policy.load_policy(DEFAULT_POLICY)
    made: dict[str, str] = {}
    for seed in SEEDS:
        at = now - timedelta(days=seed.days_ago)
        with db.session() as session:
            comment = create_comment(
                session,
                article_id="news-1",
                parent_id=None,
                author_id=f"reader-{seed.key}",
                author_name=None,
                text=seed.text,
                idempotency_key=None,
                body_hash=None,
                now=at,
            )
            made[seed.key] = comment.id
        scores = {"insult": seed.insult, "toxicity": seed.toxicity, "threat": LOW}
        context = context_for(seed)
        subject = policy.Comment(
            text=seed.text, author_id=f"reader-{seed.key}", article_id="news-1"
        )
        decision = current.evaluate(subject, scores, context)
        assert decision.action == EXPECTED_CURRENT[seed.key], (seed.key, decision.reasons)
        record_policy_decision(
            db,
            comment_id=made[seed.key],
            decision=decision,
            scores=scores,
            context=context,
            policy_version=current.version,
            now=at + timedelta(seconds=2),
        )
        if seed.review is not None:
            with db.session() as session:
                version = get_comment_or_none(session, comment_id=made[seed.key]).version  # type: ignore[union-attr]
            review_comment(
                db,
                moderator=MODERATOR,
                review=Review(made[seed.key], seed.review, version, None, False),
                events=frozenset(),
                now=at + timedelta(hours=3),
            )
        if seed.sample is not None:
            with db.session() as session:
                add_audit_samples(
                    session, comment_ids=[made[seed.key]], rate=0.5, now=at + timedelta(seconds=2)
                )
            judge_sample(
                db,
                moderator=MODERATOR,
                comment_id=made[seed.key],
                label=seed.sample,
                override=False,
                now=at + timedelta(hours=5),
            )
        if seed.purge:
            with db.session() as session:
                get_comment_or_none(session, comment_id=made[seed.key]).text = None  # type: ignore[union-attr]
    return made
