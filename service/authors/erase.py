"""Erasing an author: every text they wrote goes, and a random pseudonym (`erased:<uuid4>`,
never derived from the id) replaces their id wherever it is stored, in one transaction.
Irreversible; audited ("erase"); announced as `author.erased` {author_id: pseudonym, at}.

Table by table (service/db/tables.py):
- `comments`: `author_id` → pseudonym; `author_name`, `text`, `idempotency_key`, `body_hash`
  → NULL; out of every queue (no lease, not reported) and version + 1; pending and held
  comments become `deleted` (nothing is left to decide, and a late worker skips them).
- `comment_revisions` of their comments: `text`, `idempotency_key`, `body_hash` → NULL.
- `reports` they made: `reporter_id` → pseudonym; `detail`, `legal_ground`, `explanation` →
  NULL (reason, status and times stay, for report precision). Reports by others on their
  comments: `detail` and `explanation` → NULL (they quote the comment, as on deletion) and the
  open ones close as `withdrawn` (told by `report.resolved`). `resolved_by` naming them (an
  author's deletion before `withdrawn` existed) → pseudonym.
- `decisions`, `hold_reasons`, `shadow_decisions`, `audit_samples`: stay as they are (reasons
  are offsets and rule ids, never the text); only a legacy `context.recent_texts` (texts of
  their own recent comments, before contexts kept digests) becomes `recent_digests`, which is
  what replay reads.
- `author_notes`: `author_id` → pseudonym; the notes stay (moderators' words), with any
  mention of the id (→ pseudonym) or of a name they posted under (→ "[erased]") replaced.
- `author_settings`: `author_id` → pseudonym.
- `sanctions`: `author_id` → pseudonym, `author_hmac` = HMAC-SHA256(MODERATION_ERASE_KEY, id):
  the ones in force still refuse the old id at intake.
- `author_refs`: `author_id` → pseudonym; `moderation_audit` names authors by ref only, so no
  audit row is rewritten (the database refuses UPDATE and DELETE there).
- `erasures`: a new row, HMAC → pseudonym: a second erase of the id answers already_erased.
- `webhook_events`: payloads of events about their comments lose every `text` and
  `author_name`, and every value equal to the id becomes the pseudonym, at any depth; author
  events (`webhook_events.author_id`) and events about comments they reported (a
  `report.resolved` names the reporter) have the id replaced the same way.
- `article_settings`, `perspective_keys`, `perspective_feedback`: hold no author id.
Moderators' ids (`decisions.moderator_id`, `sanctions.created_by`, ...) are moderators acting,
and stay. After the commit, Redis keys named by the id (the comment and report flood counters,
service/broker/contract.py) are deleted, best effort: they expire by themselves anyway.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import redis
import structlog
from sqlalchemy.orm import Session

import policy
from service.authors.pseudonyms import author_hmac, is_pseudonym, new_pseudonym
from service.broker.contract import FLOOD_PREFIX, REPORT_FLOOD_PREFIX
from service.comments.resources import isoformat
from service.db.engine import Database
from service.db.tables import Report, WebhookEvent, utcnow
from service.events import AUTHOR_ERASED, write_author_event
from service.http.auth import Principal
from service.moderation.announce import announce_resolved
from service.store import erasures as store
from service.store.moderation import add_audit_entry
from service.store.reports import WITHDRAWN

log = structlog.get_logger(__name__)

ERASED_NAME = "[erased]"
# Names shorter than this are not searched for in notes: "Al" would hit "Also".
MIN_NAME_CHARS = 3
TEXT_KEYS = frozenset({"text", "author_name"})


@dataclass(frozen=True)
class Erased:
    pseudonym: str | None
    """None: the id had been erased already, and nothing was stored under it since."""
    counts: dict[str, int] = field(default_factory=dict)
    webhook_event_ids: list[str] = field(default_factory=list)
    again: bool = False
    """The id had been erased before: what was stored under it since (the account came back,
    or a moderator noted it) was erased now, under a pseudonym of its own."""


def erase_author(
    db: Database,
    *,
    moderator: Principal,
    author_id: str,
    key: bytes,
    events: frozenset[str],
    now: datetime | None = None,
) -> Erased:
    now = now or utcnow()
    hmac = author_hmac(key, author_id)
    pseudonym = new_pseudonym()
    with db.session() as session:
        if is_pseudonym(author_id):
            return Erased(None)
        first = store.claim_erasure(
            session, author_hmac=hmac, pseudonym=pseudonym, erased_by=moderator.sub, now=now
        )
        if not first and not store.holds_author(session, author_id=author_id):
            return Erased(None)
        # The audit row names the author by their ref, which follows them to the pseudonym.
        add_audit_entry(
            session, now=now, moderator_id=moderator.sub, action="erase", author_id=author_id
        )
        names = store.list_author_names(session, author_id=author_id)
        closed = store.close_reports_on_comments(
            session, author_id=author_id, outcome=WITHDRAWN, now=now
        )
        counts = {
            "revisions": store.erase_revisions(session, author_id=author_id),
            "reports_on_comments": store.erase_reports_on_comments(session, author_id=author_id),
            "comments": store.rename_comments(session, old=author_id, new=pseudonym, now=now),
        }
        counts["decisions"] = store.replace_recent_texts(
            session, author_id=pseudonym, digest=policy.text_digest
        )
        counts["reports"] = store.rename_reporter(session, old=author_id, new=pseudonym)
        counts["notes"] = _rename_notes(session, old=author_id, new=pseudonym, names=names)
        counts["settings"] = store.rename_settings(session, old=author_id, new=pseudonym)
        counts["sanctions"] = store.rename_sanctions(
            session, old=author_id, new=pseudonym, author_hmac=hmac
        )
        store.rename_ref(session, old=author_id, new=pseudonym)
        counts["webhook_events"] = _scrub_events(session, old=author_id, new=pseudonym)
        written = _announce(session, events, closed=closed, pseudonym=pseudonym, now=now)
    log.info("author.erased", pseudonym=pseudonym, moderator_id=moderator.sub, **counts)
    return Erased(pseudonym, counts, written, again=not first)


def forget_in_redis(client: redis.Redis | None, *, author_id: str) -> None:
    """Delete the Redis keys named by the id; best effort, after the commit."""
    if client is None:
        return
    try:
        client.delete(FLOOD_PREFIX + author_id, REPORT_FLOOD_PREFIX + author_id)
    except redis.RedisError as exc:
        log.warning("author.erase_redis_skipped", error=type(exc).__name__)


def _rename_notes(session: Session, *, old: str, new: str, names: Iterable[str]) -> int:
    mentions = [name for name in names if len(name) >= MIN_NAME_CHARS]
    for note in store.list_notes(session, author_id=old):
        text = note.text.replace(old, new)
        for name in mentions:
            text = text.replace(name, ERASED_NAME)
        if text != note.text:
            note.text = text
    session.flush()
    return store.rename_notes(session, old=old, new=new)


def _scrub_events(session: Session, *, old: str, new: str) -> int:
    scrubbed = 0
    for event in store.events_about_comments(session, author_id=new):
        scrubbed += _scrub_event(event, old=old, new=new, drop_text=True)
    for event in store.events_naming(session, author_id=old, reporter_id=new):
        scrubbed += _scrub_event(event, old=old, new=new, drop_text=False)
    session.flush()
    return scrubbed


def _scrub_event(event: WebhookEvent, *, old: str, new: str, drop_text: bool) -> int:
    payload = scrub(event.payload, old=old, new=new, drop_text=drop_text)
    changed = payload != event.payload or event.author_id == old
    if payload != event.payload:
        event.payload = payload
    if event.author_id == old:
        event.author_id = new
    return int(changed)


def scrub(value: Any, *, old: str, new: str, drop_text: bool) -> Any:
    """`value` with every string equal to `old` replaced by `new`, and (`drop_text`) every
    `text` and `author_name` set to null, at any depth."""
    if isinstance(value, dict):
        return {
            key: None
            if drop_text and key in TEXT_KEYS
            else scrub(item, old=old, new=new, drop_text=drop_text)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [scrub(item, old=old, new=new, drop_text=drop_text) for item in value]
    if value == old:
        return new
    return value


def _announce(
    session: Session,
    events: frozenset[str],
    *,
    closed: dict[str, list[Report]],
    pseudonym: str,
    now: datetime,
) -> list[str]:
    written: list[str] = []
    if closed:
        for comment in store.load_comments(session, comment_ids=sorted(closed)):
            written += announce_resolved(
                session, events, comment=comment, closed=closed[comment.id], now=now
            )
    erased = {"author_id": pseudonym, "at": isoformat(now)}
    event_id = write_author_event(
        session, events, AUTHOR_ERASED, author_id=pseudonym, data=erased, now=now
    )
    return written + ([event_id] if event_id else [])
