"""Making held comments for the moderation tests without a worker: the comment row is written
by the store and the hold by `record_automated_decisions`, the function the worker calls."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from service.comments.decisions import AutomatedDecision, record_automated_decisions
from service.db.engine import Database
from service.db.tables import utcnow
from service.store.comments import create_comment
from tests.support.api import Api

INSULT = {
    "kind": "toxicity",
    "rule": "toxicity.insult",
    "message": "The model rates this comment an insult (score 0.93; comments at 0.80 or above "
    "are held).",
    "label": "insult",
    "score": 0.93,
    "threshold": 0.8,
}


def terms_reason(start: int, end: int) -> dict[str, Any]:
    return {
        "kind": "terms",
        "rule": "en-banned",
        "message": "Uses a word on the banned list (English).",
        "severity": "banned",
        "language": "en",
        "terms": ["idiot"],
        "spans": [{"start": start, "end": end}],
    }


def database(api: Api) -> Database:
    db: Database = api.client.app.state.services.db  # type: ignore[attr-defined]
    return db


def make_comment(
    api: Api,
    *,
    text: str = "You are an idiot.",
    author: str = "reader-1",
    article: str = "news-1",
    at: datetime | None = None,
) -> str:
    with database(api).session() as session:
        comment = create_comment(
            session,
            article_id=article,
            parent_id=None,
            author_id=author,
            author_name=None,
            text=text,
            idempotency_key=None,
            body_hash=None,
            now=at or utcnow(),
        )
        return comment.id


def decide_automatically(
    api: Api,
    comment_id: str,
    *,
    action: str = "hold",
    reasons: list[dict[str, Any]] | None = None,
    scores: dict[str, float] | None = None,
    webhooks: bool = False,
) -> None:
    (recorded,) = record_automated_decisions(
        database(api),
        decisions=[
            AutomatedDecision(
                comment_id=comment_id,
                action=action,
                reasons=[INSULT] if reasons is None and action == "hold" else (reasons or []),
                scores=scores if scores is not None else {"insult": 0.93, "toxicity": 0.88},
                context={},
                revision=1,
            )
        ],
        policy_version="sha256:test",
        model="unbiased-test",
        webhooks=webhooks,
        now=utcnow(),
    )
    assert recorded is not None


def hold(
    api: Api,
    *,
    text: str = "You are an idiot.",
    author: str = "reader-1",
    article: str = "news-1",
    reasons: list[dict[str, Any]] | None = None,
    scores: dict[str, float] | None = None,
    minutes_ago: float = 0,
    webhooks: bool = False,
) -> str:
    """A held comment, written `minutes_ago` (so tests control the queue's order)."""
    comment_id = make_comment(
        api,
        text=text,
        author=author,
        article=article,
        at=utcnow() - timedelta(minutes=minutes_ago),
    )
    decide_automatically(api, comment_id, reasons=reasons, scores=scores, webhooks=webhooks)
    return comment_id
