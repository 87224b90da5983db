"""Sanction rows (the `sanctions` table): warnings, suspensions and bans on authors.

A sanction is *in force* when it is a suspension or a ban, not lifted, and (a suspension)
its `until` is still ahead. An erased author's sanctions are found by the HMAC of their old
id (`author_hmac`), which the caller computes: this module never sees the erase key.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session

from service.db.tables import Sanction

BLOCKING_KINDS = ("suspension", "ban")


def in_force(now: datetime) -> ColumnElement[bool]:
    return and_(
        Sanction.kind.in_(BLOCKING_KINDS),
        Sanction.lifted_at.is_(None),
        or_(Sanction.until.is_(None), Sanction.until > now),
    )


def add_sanction(
    session: Session,
    *,
    author_id: str,
    kind: str,
    created_by: str,
    now: datetime,
    reason_code: str | None = None,
    explanation: str | None = None,
    until: datetime | None = None,
    reject_held: bool = False,
    author_hmac: str | None = None,
) -> Sanction:
    sanction = Sanction(
        id="snc_" + uuid.uuid4().hex,
        author_id=author_id,
        author_hmac=author_hmac,
        kind=kind,
        reason_code=reason_code,
        explanation=explanation,
        until=until,
        reject_held=reject_held,
        created_by=created_by,
        created_at=now,
    )
    session.add(sanction)
    session.flush()
    return sanction


def list_sanctions_in_force(
    session: Session,
    *,
    author_ids: Iterable[str],
    now: datetime,
    hmacs: Mapping[str, str] | None = None,
) -> dict[str, list[Sanction]]:
    """The sanctions in force on each author (by the id asked for), oldest first; authors with
    none are absent. `hmacs` maps HMAC → author id, to find erased authors' sanctions."""
    wanted = sorted(set(author_ids))
    if not wanted:
        return {}
    hmacs = dict(hmacs or {})
    who: ColumnElement[bool] = Sanction.author_id.in_(wanted)
    if hmacs:
        who = or_(who, Sanction.author_hmac.in_(sorted(hmacs)))
    rows = session.scalars(
        select(Sanction).where(who, in_force(now)).order_by(Sanction.created_at, Sanction.id)
    )
    found: dict[str, list[Sanction]] = {}
    for row in rows:
        author = row.author_id if row.author_id in wanted else hmacs.get(row.author_hmac or "")
        if author is not None:
            found.setdefault(author, []).append(row)
    return found


def list_sanctions(session: Session, *, author_id: str) -> list[Sanction]:
    """Every sanction on the author, newest first (the history)."""
    return list(
        session.scalars(
            select(Sanction)
            .where(Sanction.author_id == author_id)
            .order_by(Sanction.created_at.desc(), Sanction.id.desc())
        )
    )


def get_sanction_or_none(
    session: Session, *, sanction_id: str, lock: bool = False
) -> Sanction | None:
    return session.get(Sanction, sanction_id, with_for_update=lock)


def lift_sanction(session: Session, *, sanction: Sanction, by: str, now: datetime) -> None:
    sanction.lifted_at, sanction.lifted_by = now, by
    session.flush()


def lift_bans(session: Session, *, author_id: str, by: str, now: datetime) -> list[Sanction]:
    """Lift the author's bans in force; the ones lifted (none if there was none)."""
    bans = list(
        session.scalars(
            select(Sanction)
            .where(Sanction.author_id == author_id, Sanction.kind == "ban", in_force(now))
            .with_for_update()
        )
    )
    if bans:
        session.execute(
            update(Sanction)
            .where(Sanction.id.in_([ban.id for ban in bans]))
            .values(lifted_at=now, lifted_by=by)
        )
        for ban in bans:
            ban.lifted_at, ban.lifted_by = now, by
    return bans


def prevailing(sanctions: Iterable[Sanction]) -> Sanction | None:
    """Of several in force, the one that answers: a ban wins, else the suspension that ends
    last (ties: the newest)."""
    ordered = sorted(
        sanctions,
        key=lambda s: (
            s.kind == "ban",
            s.until or datetime.max.replace(tzinfo=s.created_at.tzinfo),
            s.created_at,
        ),
    )
    return ordered[-1] if ordered else None
