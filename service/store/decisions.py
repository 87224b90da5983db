"""Decision rows (append-only) and the status change they cause."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
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


def add_decisions(
    session: Session, *, now: datetime, decisions: Sequence[Mapping[str, Any]]
) -> None:
    """Rows in the order given, in one statement. Unlike `add_decision` it hands back no
    rows: fetching their new ids would cost a statement per row on SQLite."""
    if decisions:
        session.execute(insert(Decision), [{"at": now, **fields} for fields in decisions])


def set_comment_status(session: Session, *, comment: Comment, status: str, now: datetime) -> None:
    set_comment_statuses(session, statuses=[(comment, status)], now=now)


def set_comment_statuses(
    session: Session, *, statuses: Sequence[tuple[Comment, str]], now: datetime
) -> None:
    for comment, status in statuses:
        comment.status = status
        comment.version += 1
        comment.decided_at = now
    session.flush()
