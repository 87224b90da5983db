"""Authors' edits: a new revision of a comment's text, moderated again as a new comment is.

An edit is one transaction holding the comment's row lock, as a moderator's decision is: the
checks, the revision rows, the comment back to `pending` (its lease and hold reasons gone)
and the `comment.edited` outbox row. So of an edit and a decision racing on a held comment,
whichever takes the lock second sees what the first did and is refused (409).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from service.authors.sanctions import check_author
from service.comments.accept import POST, rate_limited
from service.comments.resources import comment_resource, isoformat
from service.comments.schemas import EditComment
from service.db.engine import Database
from service.db.tables import Comment, utcnow
from service.errors import ProblemError
from service.events import COMMENT_EDITED, write_events
from service.http.auth import Principal
from service.store.comments import get_comment_or_none
from service.store.decisions import list_decisions
from service.store.moderation import lock_comment_or_none
from service.store.reports import has_open_reports
from service.store.revisions import find_revision_by_idempotency_key, revise_comment

MAX_EDITS = 10
"""Edits a comment may have: its revisions run from 1 (as posted) to MAX_EDITS + 1."""
NOT_EDITABLE = frozenset({"rejected", "deleted", "hidden"})
"""Statuses an edit can't leave: a moderator's or the readers' verdict, or the author's own
deletion. (A held comment may be edited: the new text goes to the policy again.)"""


@dataclass(frozen=True)
class Edited:
    """The comment as the edit left it (or, `created` False, as it is when the edit is
    replayed), its revision, and the outbox rows to deliver once committed."""

    resource: dict[str, Any]
    created: bool
    revision: int
    event_ids: list[str] = field(default_factory=list)


def check_editable_by(db: Database, *, principal: Principal, comment_id: str) -> None:
    """404 unless the comment is the caller's, before the body is read: anyone else, a
    moderator included, learns nothing here that GET would not tell them."""
    with db.session() as session:
        _own_comment(get_comment_or_none(session, comment_id=comment_id), principal)


def edit_comment(
    db: Database,
    *,
    principal: Principal,
    comment_id: str,
    edit: EditComment,
    idempotency_key: str | None,
    window: timedelta,
    events: Collection[str],
    admit: Callable[[str], int] = lambda _author: 0,
    now: datetime | None = None,
    erase_key: bytes | None = None,
) -> Edited:
    """Store the edit as the comment's next revision, or return the one this Idempotency-Key
    made, or raise why not.

    Refusals come in the contract's order: the idempotent replay (or its 409), the author's
    ban or suspension (403 author_banned, author_suspended; `erase_key` finds an erased
    author's), the
    409s (version_conflict, edit_window_closed, not_editable, edit_limit_reached) and last
    the flood limit (`admit` returns the seconds to wait, 0 to go ahead), so an edit refused
    for anything else is not counted. `window`: how long after posting edits are taken (0:
    never). `events`: the webhook events the deployment announces.
    """
    now = now or utcnow()
    body_hash = edit.body_hash()
    with db.session() as session:
        comment = _own_comment(lock_comment_or_none(session, comment_id=comment_id), principal)
        if idempotency_key is not None:
            earlier = find_revision_by_idempotency_key(
                session, comment_id=comment.id, key=idempotency_key
            )
            if earlier is not None:
                if earlier.body_hash != body_hash:
                    raise ProblemError(
                        409,
                        "idempotency_conflict",
                        "This Idempotency-Key was used with a different body.",
                    )
                return Edited(_resource(session, comment), False, earlier.revision)
        check_author(session, author_id=principal.sub, now=now, key=erase_key, may_not=POST)
        refusal = _refusal(session, comment, edit, window=window, now=now)
        if refusal is not None:
            raise refusal
        retry_after = admit(principal.sub)
        if retry_after:
            raise rate_limited(retry_after)
        revise_comment(
            session,
            comment=comment,
            text=edit.text,
            idempotency_key=idempotency_key,
            body_hash=body_hash,
            now=now,
        )
        edited = {
            "comment_id": comment.id,
            "version": comment.version,
            "revision": comment.revision,
            "at": isoformat(now),
        }
        event_ids = write_events(session, events, COMMENT_EDITED, [(comment.id, edited)], now=now)
        return Edited(_resource(session, comment), True, comment.revision, list(event_ids.values()))


def _own_comment(comment: Comment | None, principal: Principal) -> Comment:
    if comment is None or comment.author_id != principal.sub:
        raise ProblemError(404, "not_found", "No such comment.")
    return comment


def _refusal(
    session: Session, comment: Comment, edit: EditComment, *, window: timedelta, now: datetime
) -> ProblemError | None:
    if edit.revision != comment.revision:
        return ProblemError(
            409,
            "version_conflict",
            "The comment has another revision now; read it again before editing.",
            revision=comment.revision,
        )
    if not window or now > comment.created_at + window:
        seconds = int(window.total_seconds())
        return ProblemError(
            409,
            "edit_window_closed",
            f"A comment can be edited for {seconds} seconds after posting."
            if seconds
            else "Comments can't be edited here.",
            edit_window_seconds=seconds,
        )
    if comment.status in NOT_EDITABLE or has_open_reports(session, comment_id=comment.id):
        return ProblemError(
            409,
            "not_editable",
            "A rejected, deleted, hidden or reported comment can't be edited.",
            comment_status=comment.status,
        )
    if comment.revision > MAX_EDITS:
        return ProblemError(
            409,
            "edit_limit_reached",
            f"A comment can be edited at most {MAX_EDITS} times.",
            limit=MAX_EDITS,
        )
    return None


def _resource(session: Session, comment: Comment) -> dict[str, Any]:
    return comment_resource(comment, list_decisions(session, comment_id=comment.id))
