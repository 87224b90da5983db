"""Decision rows (append-only) and the status change they cause."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import Comment, Decision


def list_decisions(session: Session, *, comment_id: str) -> list[Decision]:
    return list(
        session.scalars(
            select(Decision).where(Decision.comment_id == comment_id).order_by(Decision.id)
        )
    )


def add_decision(session: Session, *, comment_id: str, now: datetime, **fields: Any) -> Decision:
    decision = Decision(comment_id=comment_id, at=now, **fields)
    session.add(decision)
    session.flush()
    return decision


def set_comment_status(session: Session, *, comment: Comment, status: str, now: datetime) -> None:
    comment.status = status
    comment.version += 1
    comment.decided_at = now
    session.flush()
