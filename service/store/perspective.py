"""API keys of the Perspective-compatible API, and the feedback sent with them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from service.db.tables import FEEDBACK_UNSCORED, PerspectiveFeedback, PerspectiveKey


def create_perspective_key(
    session: Session, *, name: str, key_hash: str, qps: int, now: datetime
) -> PerspectiveKey:
    key = PerspectiveKey(name=name, key_hash=key_hash, qps=qps, created_at=now)
    session.add(key)
    session.flush()
    return key


def get_perspective_key_or_none(session: Session, *, name: str) -> PerspectiveKey | None:
    return session.get(PerspectiveKey, name)


def find_active_perspective_key(session: Session, *, key_hash: str) -> PerspectiveKey | None:
    return session.scalar(
        select(PerspectiveKey).where(
            PerspectiveKey.key_hash == key_hash, PerspectiveKey.revoked_at.is_(None)
        )
    )


def list_perspective_keys(session: Session) -> list[PerspectiveKey]:
    return list(session.scalars(select(PerspectiveKey).order_by(PerspectiveKey.created_at)))


def revoke_perspective_key(session: Session, *, name: str, now: datetime) -> PerspectiveKey | None:
    """The key, revoked now unless it already was; None if there is no such key."""
    key = session.get(PerspectiveKey, name, with_for_update=True)
    if key is not None and key.revoked_at is None:
        key.revoked_at = now
        session.flush()
    return key


def add_perspective_feedback(
    session: Session,
    *,
    key_name: str,
    attribute: str,
    value: float,
    text: str,
    community_id: str | None,
    client_token: str | None,
    now: datetime,
) -> PerspectiveFeedback:
    row = PerspectiveFeedback(
        key_name=key_name,
        attribute=attribute,
        value=value,
        text=text,
        community_id=community_id,
        client_token=client_token,
        created_at=now,
        # Counted as sent with the transaction: the caller sends after the commit, and a lost
        # send is the sweeper's to repeat.
        enqueued_at=now,
        enqueue_count=1,
    )
    session.add(row)
    session.flush()
    return row


def list_unscored_feedback(
    session: Session, *, feedback_ids: Sequence[int]
) -> list[PerspectiveFeedback]:
    return list(
        session.scalars(
            select(PerspectiveFeedback)
            .where(PerspectiveFeedback.id.in_(feedback_ids), FEEDBACK_UNSCORED)
            .order_by(PerspectiveFeedback.id)
        )
    )


def count_unscored_suggestions(session: Session) -> int:
    """Suggestions (the rows one `suggestscore` stored: one key, one time) still owed their
    scores: each is one `score_feedback` task, queued, in a worker's hands, or lost."""
    owed = (
        select(PerspectiveFeedback.key_name, PerspectiveFeedback.created_at)
        .where(FEEDBACK_UNSCORED)
        .group_by(PerspectiveFeedback.key_name, PerspectiveFeedback.created_at)
        .subquery()
    )
    return session.scalar(select(func.count()).select_from(owed)) or 0


def mark_feedback_enqueued(session: Session, *, feedback_ids: Sequence[int], now: datetime) -> None:
    session.execute(
        update(PerspectiveFeedback)
        .where(PerspectiveFeedback.id.in_(feedback_ids))
        .values(enqueued_at=now, enqueue_count=PerspectiveFeedback.enqueue_count + 1)
    )


def set_feedback_scores(
    session: Session, *, feedback: PerspectiveFeedback, scores: Mapping[str, float]
) -> None:
    feedback.scores = dict(scores)
    session.flush()


def list_scored_feedback_since(
    session: Session, *, since: datetime
) -> list[tuple[int, str, float, dict[str, float], datetime]]:
    """(id, attribute, suggested value, model scores, created_at) of each scored row."""
    rows = session.execute(
        select(
            PerspectiveFeedback.id,
            PerspectiveFeedback.attribute,
            PerspectiveFeedback.value,
            PerspectiveFeedback.scores,
            PerspectiveFeedback.created_at,
        )
        .where(PerspectiveFeedback.created_at >= since, PerspectiveFeedback.scores.is_not(None))
        .order_by(PerspectiveFeedback.id)
    )
    # The column is nullable; the WHERE above keeps only rows whose scores are set.
    return [(row[0], row[1], row[2], cast("dict[str, float]", row[3]), row[4]) for row in rows]


def erase_feedback_text_before(session: Session, *, before: datetime, limit: int) -> int:
    """Erase the text of up to `limit` feedback rows received before `before`; their label
    and scores stay. Returns how many were erased."""
    ids = list(
        session.scalars(
            select(PerspectiveFeedback.id)
            .where(PerspectiveFeedback.created_at < before, PerspectiveFeedback.text.is_not(None))
            .limit(limit)
        )
    )
    if ids:
        session.execute(
            update(PerspectiveFeedback).where(PerspectiveFeedback.id.in_(ids)).values(text=None)
        )
    return len(ids)
