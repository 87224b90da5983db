"""The webhook events: their names, which ones a deployment sends, and writing one to the
outbox in the transaction of the change it announces.

Every payload is `{"type", "timestamp", "data"}`, and every `data` carries the comment's
`version`: a site applies an event only if it is newer than what it has, so a late retry of
an older event never undoes a newer one.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from service.errors import ConfigurationError
from service.store.webhooks import add_webhook_events

COMMENT_DECIDED = "comment.decided"
"""A comment's status changed (decided, hidden by reports, published again): `data` is the
comment resource."""
COMMENT_REPORTED = "comment.reported"
"""A reader reported a comment: counts by reason, never who reported it or what they wrote."""
COMMENT_REVIEWED = "comment.reviewed"
"""A moderator decided a comment: the action, its reason code and the explanation for the
author."""
REPORT_RESOLVED = "report.resolved"
"""A report was closed (upheld or dismissed), for the site to tell the reporter."""
COMMENT_EDITED = "comment.edited"
"""The author edited a comment: `data` is {comment_id, version, revision, at}; the new
revision is pending, and its decision comes as a `comment.decided`. Never the text."""
COMMENT_DELETED = "comment.deleted"
"""The author deleted a comment: `data` is {comment_id, version, at}. Never the text."""
AUTHOR_WARNED = "author.warned"
"""A moderator warned an author: `data` is the sanction {author_id, sanction_id, kind,
reason_code, explanation, at}. Author events name no comment and carry no `version`."""
AUTHOR_SUSPENDED = "author.suspended"
"""A moderator suspended an author until `until`: `data` as for author.warned, with `until`.
None is sent when the suspension lapses by itself."""
AUTHOR_BANNED = "author.banned"
"""A moderator banned an author: `data` as for author.warned."""
AUTHOR_SANCTION_LIFTED = "author.sanction_lifted"
"""A moderator lifted a sanction early (or the ban, by DELETE .../ban)."""
AUTHOR_ERASED = "author.erased"
"""The author's data was erased: `data` is {author_id: their pseudonym, at}. The site
learns the pseudonym only; it should erase what it holds under the id it asked for."""
AUTHOR_EVENT_TYPES = (
    AUTHOR_WARNED,
    AUTHOR_SUSPENDED,
    AUTHOR_BANNED,
    AUTHOR_SANCTION_LIFTED,
    AUTHOR_ERASED,
)
EVENT_TYPES = (
    COMMENT_DECIDED,
    COMMENT_REPORTED,
    COMMENT_REVIEWED,
    REPORT_RESOLVED,
    COMMENT_EDITED,
    COMMENT_DELETED,
    *AUTHOR_EVENT_TYPES,
)


def event_names(value: str | None) -> frozenset[str]:
    """The events MODERATION_WEBHOOK_EVENTS names (comma-separated; unset or `all`: every
    one). An unknown name is a ConfigurationError that names it and the known ones."""
    if value is None or value.strip() in ("", "all"):
        return frozenset(EVENT_TYPES)
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in EVENT_TYPES]
    if unknown:
        raise ConfigurationError(
            f"MODERATION_WEBHOOK_EVENTS names no event {unknown[0]!r}; "
            f"events are: all, {', '.join(EVENT_TYPES)}"
        )
    return frozenset(names)


def write_events(
    session: Session,
    events: Collection[str],
    event_type: str,
    payloads: list[tuple[str, dict[str, Any]]],
    *,
    now: datetime,
) -> dict[str, str]:
    """An outbox row per (comment id, data) if `events` (the deployment's announced events)
    holds `event_type`; the new event ids by comment id (none when the event isn't sent)."""
    if event_type not in events or not payloads:
        return {}
    written = add_webhook_events(
        session,
        event_type=event_type,
        payloads=[
            (comment_id, {"type": event_type, "timestamp": _isoformat(now), "data": data})
            for comment_id, data in payloads
        ],
        now=now,
    )
    # By the ids given: a comment's event always names its comment (only author events don't).
    return {
        comment_id: event.id for (comment_id, _data), event in zip(payloads, written, strict=True)
    }


def write_author_event(
    session: Session,
    events: Collection[str],
    event_type: str,
    *,
    author_id: str,
    data: dict[str, Any],
    now: datetime,
) -> str | None:
    """An outbox row for an author's event (no comment), if the deployment announces it; the
    event's id, or None."""
    if event_type not in events:
        return None
    (event,) = add_webhook_events(
        session,
        event_type=event_type,
        payloads=[(None, {"type": event_type, "timestamp": _isoformat(now), "data": data})],
        now=now,
        author_id=author_id,
    )
    return event.id


def _isoformat(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
