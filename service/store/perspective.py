"""API keys of the Perspective-compatible API, and the feedback sent with them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import PerspectiveFeedback, PerspectiveKey


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
    )
    session.add(row)
    session.flush()
    return row
