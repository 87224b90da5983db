"""Graduated sanctions on authors: imposing and lifting them, and what they refuse at intake.

A sanction and its audit row and webhook event are written in one transaction. A warning
refuses nothing; a suspension refuses the author's new comments, reports and edits with 403
`author_suspended` until it lapses (no event then: nothing happened); a ban with 403
`author_banned` until lifted. With several in force a ban wins, else the suspension that ends
last (`service.store.sanctions.prevailing`).

The intake checks run in the transaction that stores the comment, edit or report, so a
sanction racing them lands either before (refused) or after (the comment was accepted first).

An erased author's sanctions are found by the HMAC of their old id under
MODERATION_ERASE_KEY (`author_hmac`), so they still refuse them; a sanction imposed on an
erased id is stored under their pseudonym, never under the id again.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.orm import Session

from service.authors.pseudonyms import author_hmac
from service.authors.sanction_schemas import SanctionRequest, is_in_force, sanction_resource
from service.comments.resources import isoformat
from service.db.engine import Database
from service.db.tables import Sanction, utcnow
from service.errors import ProblemError
from service.events import (
    AUTHOR_BANNED,
    AUTHOR_SANCTION_LIFTED,
    AUTHOR_SUSPENDED,
    AUTHOR_WARNED,
    write_author_event,
)
from service.http.auth import Principal
from service.settings import Settings
from service.store.authors import get_erasure_or_none
from service.store.moderation import add_audit_entry
from service.store.sanctions import (
    add_sanction,
    get_sanction_or_none,
    lift_bans,
    lift_sanction,
    list_sanctions_in_force,
    prevailing,
)

log = structlog.get_logger(__name__)

EVENTS = {"warning": AUTHOR_WARNED, "suspension": AUTHOR_SUSPENDED, "ban": AUTHOR_BANNED}
AUDIT_ACTIONS = {"warning": "warn", "suspension": "suspend", "ban": "ban"}
MAX_SANCTION_ID_CHARS = 40
LIFT, UNBAN = "lift", "unban"
"""The audit's actions for lifting one sanction (DELETE …/sanctions/{id}) and the ban
(DELETE …/ban)."""


@dataclass(frozen=True)
class Sanctioned:
    """The sanction as imposed or lifted, and the outbox rows to deliver once committed."""

    resource: dict[str, Any]
    event_ids: list[str]


# ---- intake ---------------------------------------------------------------------------------


def erase_key(settings: Settings) -> bytes | None:
    """MODERATION_ERASE_KEY as the HMAC key, or None when it is not set."""
    key = settings.erase_key
    return None if key is None else key.get_secret_value().encode()


def sanctions_in_force(
    session: Session, *, author_ids: Iterable[str], now: datetime, key: bytes | None
) -> dict[str, Sanction]:
    """The prevailing sanction in force on each author who has one: one query for them all,
    also by HMAC when an erase key is set."""
    wanted = sorted(set(author_ids))
    hmacs = {author_hmac(key, a): a for a in wanted} if key is not None else None
    found = list_sanctions_in_force(session, author_ids=wanted, now=now, hmacs=hmacs)
    current = {author: prevailing(rows) for author, rows in found.items()}
    return {author: sanction for author, sanction in current.items() if sanction is not None}


def current_sanction(
    session: Session, author_id: str, now: datetime, settings: Settings
) -> Sanction | None:
    """The sanction in force that answers for the author now (a ban, else the suspension that
    ends last), or None."""
    found = sanctions_in_force(session, author_ids=[author_id], now=now, key=erase_key(settings))
    return found.get(author_id)


def refusal(sanction: Sanction, now: datetime, *, may_not: str) -> ProblemError:
    """The 403 a sanction in force answers: author_banned, or author_suspended with `until`
    and Retry-After (whole seconds, rounded up). `may_not`: what the account may not do."""
    if sanction.kind == "ban" or sanction.until is None:
        return ProblemError(403, "author_banned", f"This account may not {may_not}.")
    seconds = max(1, math.ceil((sanction.until - now).total_seconds()))
    return ProblemError(
        403,
        "author_suspended",
        f"This account is suspended and may not {may_not} until {isoformat(sanction.until)}.",
        headers={"Retry-After": str(seconds)},
        until=isoformat(sanction.until),
    )


def check_author(
    session: Session, *, author_id: str, now: datetime, key: bytes | None, may_not: str
) -> None:
    """Raise the 403 of the author's sanction in force, if they have one."""
    sanction = sanctions_in_force(session, author_ids=[author_id], now=now, key=key).get(author_id)
    if sanction is not None:
        raise refusal(sanction, now, may_not=may_not)


# ---- imposing and lifting -------------------------------------------------------------------


def sanction_author(
    db: Database,
    *,
    moderator: Principal,
    author_id: str,
    request: SanctionRequest,
    events: Collection[str],
    key: bytes | None,
    now: datetime | None = None,
) -> Sanctioned:
    """Impose the sanction, with its audit row and webhook event, in one transaction."""
    now = now or utcnow()
    with db.session() as session:
        sanction, event_ids = impose(
            session,
            author_id=author_id,
            key=key,
            kind=request.kind,
            moderator_id=moderator.sub,
            events=events,
            now=now,
            reason_code=request.reason_code,
            explanation=request.explanation,
            until=request.until,
        )
        resource = sanction_resource(sanction, now).model_dump(mode="json")
    log.info(
        "author.sanctioned",
        sanction_id=resource["id"],
        kind=request.kind,
        moderator_id=moderator.sub,
    )
    return Sanctioned(resource, event_ids)


def impose(
    session: Session,
    *,
    author_id: str,
    kind: str,
    moderator_id: str,
    events: Collection[str],
    now: datetime,
    reason_code: str | None = None,
    explanation: str | None = None,
    until: datetime | None = None,
    reject_held: bool = False,
    key: bytes | None = None,
) -> tuple[Sanction, list[str]]:
    """Record the sanction, its audit row and its event; the sanction and the event ids.

    A ban while another is in force replaces it: the earlier one is lifted by the same
    moderator at the same moment (no `author.sanction_lifted`: the author stays banned), so
    an author has at most one ban in force and its reason is the latest."""
    author_id, hmac_of_id = stored_subject(session, author_id, key)
    if kind == "ban":
        lift_bans(session, author_id=author_id, by=moderator_id, now=now)
    sanction = add_sanction(
        session,
        author_id=author_id,
        author_hmac=hmac_of_id,
        kind=kind,
        created_by=moderator_id,
        now=now,
        reason_code=reason_code,
        explanation=explanation,
        until=until,
        reject_held=reject_held,
    )
    add_audit_entry(
        session,
        now=now,
        moderator_id=moderator_id,
        action=AUDIT_ACTIONS[kind],
        author_id=author_id,
        reason=explanation,
    )
    event_id = _announce(session, events, EVENTS[kind], sanction, now)
    return sanction, [event_id] if event_id is not None else []


def lift_author_sanction(
    db: Database,
    *,
    moderator: Principal,
    author_id: str,
    sanction_id: str,
    events: Collection[str],
    key: bytes | None,
    now: datetime | None = None,
) -> Sanctioned:
    """Lift one sanction early: 404 unless it is this author's, 409 `not_in_force` for a
    warning, a lapsed suspension or one lifted already."""
    now = now or utcnow()
    with db.session() as session:
        sanction = (
            get_sanction_or_none(session, sanction_id=sanction_id, lock=True)
            if _could_be_sanction_id(sanction_id)
            else None
        )
        if sanction is None or not _belongs_to(sanction, author_id, key):
            raise ProblemError(404, "not_found", "The author has no such sanction.")
        if not is_in_force(sanction, now):
            raise ProblemError(
                409,
                "not_in_force",
                "Only a suspension or ban in force can be lifted; this one is not "
                "(a warning, lapsed, or lifted already).",
                kind=sanction.kind,
            )
        lift_sanction(session, sanction=sanction, by=moderator.sub, now=now)
        add_audit_entry(
            session, now=now, moderator_id=moderator.sub, action=LIFT, author_id=sanction.author_id
        )
        event_id = _announce(session, events, AUTHOR_SANCTION_LIFTED, sanction, now)
        resource = sanction_resource(sanction, now).model_dump(mode="json")
    log.info(
        "author.sanction_lifted",
        sanction_id=sanction_id,
        kind=resource["kind"],
        moderator_id=moderator.sub,
    )
    return Sanctioned(resource, [event_id] if event_id is not None else [])


def unban(
    session: Session,
    *,
    author_id: str,
    moderator_id: str,
    events: Collection[str],
    now: datetime,
) -> list[str] | None:
    """DELETE …/ban: lift the author's ban in force, audited ("unban") and announced
    (`author.sanction_lifted`); the event ids, or None when there was no ban to lift."""
    lifted = lift_bans(session, author_id=author_id, by=moderator_id, now=now)
    if not lifted:
        return None
    add_audit_entry(session, now=now, moderator_id=moderator_id, action=UNBAN, author_id=author_id)
    event_ids = [_announce(session, events, AUTHOR_SANCTION_LIFTED, ban, now) for ban in lifted]
    return [event_id for event_id in event_ids if event_id is not None]


def stored_subject(session: Session, author_id: str, key: bytes | None) -> tuple[str, str | None]:
    """Who a new sanction is stored under: the author's id; or, once they are erased, their
    pseudonym and the HMAC of the id, so that the sanction refuses the old id at intake
    without the id coming back into the database."""
    if key is None:
        return author_id, None
    hmac_of_id = author_hmac(key, author_id)
    erasure = get_erasure_or_none(session, author_hmac=hmac_of_id)
    return (author_id, None) if erasure is None else (erasure.pseudonym, hmac_of_id)


def _could_be_sanction_id(sanction_id: str) -> bool:
    """Worth looking up: anything else (a NUL, which PostgreSQL refuses in a string) is 404."""
    return 0 < len(sanction_id) <= MAX_SANCTION_ID_CHARS and sanction_id.isprintable()


def _belongs_to(sanction: Sanction, author_id: str, key: bytes | None) -> bool:
    if sanction.author_id == author_id:
        return True
    return (
        key is not None
        and sanction.author_hmac is not None
        and sanction.author_hmac == author_hmac(key, author_id)
    )


def _announce(
    session: Session, events: Collection[str], event_type: str, sanction: Sanction, now: datetime
) -> str | None:
    """The author event: the sanction as the site may show it, never who imposed it."""
    data = {
        "author_id": sanction.author_id,
        "sanction_id": sanction.id,
        "kind": sanction.kind,
        "reason_code": sanction.reason_code,
        "explanation": sanction.explanation,
        "until": isoformat(sanction.until),
        "at": isoformat(now),
    }
    return write_author_event(
        session, events, event_type, author_id=sanction.author_id, data=data, now=now
    )
