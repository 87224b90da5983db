"""The moderators' side: the hold and reported queues, leases, human decisions and bans.

A human decision is one transaction, like an automated one: the comment row is locked, its
version checked, and the decision row, the audit row, the reports it closes and the webhook
outbox rows are written together, so no decision is lost, made twice, or left unannounced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.orm import Session

from service.authors.sanctions import impose, sanctions_in_force, unban
from service.comments.resources import comment_fields, comment_resource, isoformat
from service.db.engine import Database
from service.db.tables import Comment, utcnow
from service.errors import FieldError, ProblemError
from service.http.auth import Principal
from service.http.bodies import build
from service.moderation.announce import announce_review
from service.moderation.cursors import encode_cursor
from service.moderation.reported import report_summaries
from service.moderation.resources import (
    AuthorRecord,
    BanResult,
    BulkResult,
    BulkResults,
    Claim,
    QueueItem,
    QueuePage,
)
from service.moderation.schemas import CLAIM_SECONDS, Ban, QueueQuery, Review
from service.moderation.thread import thread_fields
from service.store.decisions import add_decision, list_decisions, set_comment_status
from service.store.moderation import (
    add_audit_entry,
    claim_queued_comments,
    count_statuses_by_author,
    list_decisions_for,
    list_held_comment_ids_by_author,
    list_queued_comments,
    lock_comment_or_none,
    release_claim,
    sort_key,
)
from service.store.reports import DISMISSED, UPHELD, close_open_reports, has_open_reports

log = structlog.get_logger(__name__)

REVIEW_STATUS = {"approve": "approved", "reject": "rejected", "keep": "approved"}
"""The status each moderator action leaves: a kept comment is (again) published."""


@dataclass(frozen=True)
class Reviewed:
    resource: dict[str, Any]
    webhook_event_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Reviews:
    results: BulkResults
    webhook_event_ids: list[str]


@dataclass(frozen=True)
class Banned:
    result: BanResult
    webhook_event_ids: list[str]


def read_queue(
    db: Database, *, moderator: Principal, query: QueueQuery, now: datetime | None = None
) -> QueuePage:
    now = now or utcnow()
    reported = query.filters.queue == "reported"
    with db.session() as session:
        if query.claim is not None:
            comments = claim_queued_comments(
                session,
                filters=query.filters,
                sort=query.sort,
                moderator_id=moderator.sub,
                now=now,
                until=now + timedelta(seconds=CLAIM_SECONDS),
                limit=query.claim,
            )
            if comments:
                log.info(
                    "queue.claimed",
                    moderator_id=moderator.sub,
                    queue=query.filters.queue,
                    count=len(comments),
                )
            items = _queue_items(session, comments, now=now, reported=reported)
            return build(QueuePage, items=items, next=None)
        comments = list_queued_comments(
            session,
            filters=query.filters,
            sort=query.sort,
            after=query.after,
            limit=query.limit + 1,
        )
        page, more = comments[: query.limit], len(comments) > query.limit
        cursor = None
        if more:
            key = sort_key(query.sort, query.filters.queue, page[-1])
            cursor = encode_cursor(query.sort, query.filters, key)
        items = _queue_items(session, page, now=now, reported=reported)
        return build(QueuePage, items=items, next=cursor)


def review_comment(
    db: Database,
    *,
    moderator: Principal,
    review: Review,
    events: frozenset[str],
    now: datetime | None = None,
) -> Reviewed:
    """Apply one moderator decision, or raise the 404/409 that says why not. `events`: the
    webhook events the deployment announces (settings.announced_events)."""
    now = now or utcnow()
    with db.session() as session:
        comment = lock_comment_or_none(session, comment_id=review.comment_id)
        if comment is None:
            raise ProblemError(404, "not_found", "No such comment.")
        refusal = _refusal(session, comment, review, moderator_id=moderator.sub, now=now)
        if refusal is not None:
            raise refusal
        event_ids = _apply(
            session, comment, moderator_id=moderator.sub, review=review, events=events, now=now
        )
        resource = comment_resource(comment, list_decisions(session, comment_id=comment.id))
    log.info(
        "review.recorded",
        comment_id=review.comment_id,
        action=review.action,
        moderator_id=moderator.sub,
        override=review.override,
        reason_code=review.reason_code,
    )
    return Reviewed(resource, event_ids)


def review_comments(
    db: Database,
    *,
    moderator: Principal,
    items: list[tuple[str | None, Review | FieldError]],
    events: frozenset[str],
    now: datetime | None = None,
) -> Reviews:
    """Each decision in its own transaction: one refusal never undoes or blocks another."""
    results: list[BulkResult] = []
    event_ids: list[str] = []
    for comment_id, item in items:
        try:
            if isinstance(item, FieldError):
                raise item
            reviewed = review_comment(db, moderator=moderator, review=item, events=events, now=now)
        except ProblemError as refusal:
            results.append(
                build(
                    BulkResult,
                    id=comment_id,
                    status=refusal.status,
                    code=refusal.code,
                    detail=refusal.detail,
                )
            )
            continue
        event_ids.extend(reviewed.webhook_event_ids)
        results.append(
            build(
                BulkResult,
                id=comment_id,
                status=200,
                comment_status=reviewed.resource["status"],
                version=reviewed.resource["version"],
            )
        )
    return Reviews(build(BulkResults, results=results), event_ids)


def ban_author(
    db: Database,
    *,
    moderator: Principal,
    author_id: str,
    ban: Ban,
    events: frozenset[str],
    key: bytes | None = None,
    now: datetime | None = None,
) -> Banned:
    """Ban the author and, if asked, reject their held comments, all in one transaction."""
    now = now or utcnow()
    rejected: list[str] = []
    with db.session() as session:
        # A ban sanction, audited ("ban") and announced (author.banned); one in force already
        # is replaced by this one (see `impose`).
        saved, event_ids = impose(
            session,
            author_id=author_id,
            kind="ban",
            moderator_id=moderator.sub,
            events=events,
            now=now,
            explanation=ban.reason,
            reject_held=ban.reject_held,
            key=key,
        )
        if ban.reject_held:
            for comment_id in list_held_comment_ids_by_author(session, author_id=author_id):
                comment = lock_comment_or_none(session, comment_id=comment_id)
                if comment is None or comment.status != "held":
                    continue
                review = Review(
                    comment_id, "reject", comment.version, f"Author banned: {ban.reason}", False
                )
                event_ids += _apply(
                    session,
                    comment,
                    moderator_id=moderator.sub,
                    review=review,
                    events=events,
                    now=now,
                )
                rejected.append(comment_id)
        result = build(
            BanResult,
            author_id=author_id,
            banned=True,
            reason=saved.explanation,
            banned_by=saved.created_by,
            banned_at=isoformat(saved.created_at),
            rejected=rejected,
        )
    log.info(
        "author.banned", author_id=author_id, moderator_id=moderator.sub, rejected=len(rejected)
    )
    return Banned(result, event_ids)


def unban_author(
    db: Database,
    *,
    moderator: Principal,
    author_id: str,
    events: frozenset[str] = frozenset(),
    now: datetime | None = None,
) -> list[str] | None:
    """Lift the author's ban, audited ("unban") and announced (author.sanction_lifted): the
    outbox rows to deliver, or None when there was no ban (nothing changes then)."""
    now = now or utcnow()
    with db.session() as session:
        event_ids = unban(
            session, author_id=author_id, moderator_id=moderator.sub, events=events, now=now
        )
    if event_ids is not None:
        log.info("author.unbanned", author_id=author_id, moderator_id=moderator.sub)
    return event_ids


def _refusal(
    session: Session, comment: Comment, review: Review, *, moderator_id: str, now: datetime
) -> ProblemError | None:
    """Why the review can't apply, if it can't. A comment in a queue (held, or reported) is
    decided without override, once, at its version; keep is for a comment with open reports."""
    if comment.status == "pending":
        return ProblemError(
            409,
            "not_held",
            "The policy has not decided this comment yet.",
            comment_status="pending",
        )
    if comment.status == "deleted":
        return _already_decided(comment, "Its author deleted this comment.")
    queued = comment.status == "held" or _reported(comment)
    if queued and _claimed_by_other(comment, moderator_id, now):
        return ProblemError(
            409,
            "claimed",
            "Another moderator is reviewing this comment.",
            claimed_by=comment.claimed_by,
            claimed_until=isoformat(comment.claimed_until),
        )
    if review.action == "keep":
        if review.version != comment.version:
            return _already_decided(comment, "The comment changed since you loaded it.")
        if not has_open_reports(session, comment_id=comment.id):
            return ProblemError(
                409,
                "no_open_reports",
                "Keep is for a comment with open reports; this one has none.",
                comment_status=comment.status,
                version=comment.version,
            )
        return None
    if comment.status == "held" or (review.action == "reject" and _reported(comment)):
        if review.version != comment.version:
            return _already_decided(comment, "The comment changed since you loaded it.")
        return None
    if not review.override:
        return _already_decided(
            comment, "The comment is already decided; send override: true to reverse it."
        )
    if review.version != comment.version:
        return _already_decided(comment, "The comment changed since you loaded it.")
    if REVIEW_STATUS[review.action] == comment.status:
        return _already_decided(comment, f"The comment is already {comment.status}.")
    return None


def _already_decided(comment: Comment, detail: str) -> ProblemError:
    return ProblemError(
        409, "already_decided", detail, comment_status=comment.status, version=comment.version
    )


def _reported(comment: Comment) -> bool:
    """In the reported queue: reported enough to be reviewed, or hidden by reports."""
    return comment.reported_at is not None or comment.status == "hidden"


def _claimed_by_other(comment: Comment, moderator_id: str, now: datetime) -> bool:
    return (
        comment.claimed_by is not None
        and comment.claimed_by != moderator_id
        and comment.claimed_until is not None
        and comment.claimed_until > now
    )


def _apply(
    session: Session,
    comment: Comment,
    *,
    moderator_id: str,
    review: Review,
    events: frozenset[str],
    now: datetime,
) -> list[str]:
    """Record the decision and its audit row, close the comment's open reports (a reject
    upholds them, anything else dismisses them), take it out of the reported queue, and
    write the outbox events the deployment announces; their ids."""
    previous = comment.status
    decision = add_decision(
        session,
        comment_id=comment.id,
        now=now,
        by="moderator",
        action=review.action,
        reasons=[],
        scores={},
        context={},
        moderator_id=moderator_id,
        reason=review.reason,
        reason_code=review.reason_code,
        explanation=review.explanation,
        legal_ground=review.legal_ground,
    )
    set_comment_status(session, comment=comment, status=REVIEW_STATUS[review.action], now=now)
    release_claim(session, comment=comment)
    closed = close_open_reports(
        session,
        comment_id=comment.id,
        outcome=UPHELD if review.action == "reject" else DISMISSED,
        moderator_id=moderator_id,
        now=now,
    )
    comment.reported_at = None
    session.flush()
    add_audit_entry(
        session,
        now=now,
        moderator_id=moderator_id,
        action=review.action,
        comment_id=comment.id,
        decision_id=decision.id,
        author_id=comment.author_id,
        previous_status=previous,
        new_status=comment.status,
        override=review.override and previous != "held",
        reason=review.reason,
    )
    return announce_review(
        session, events, comment=comment, decision=decision, closed=closed, now=now
    )


def _queue_items(
    session: Session, comments: list[Comment], *, now: datetime, reported: bool = False
) -> list[dict[str, Any]]:
    """The page's items, rendered: callers read them as the JSON they are. The reported
    queue's items carry their reports; the hold queue's have no `reports` at all."""
    ids = [comment.id for comment in comments]
    decisions = list_decisions_for(session, comment_ids=ids)
    authors = {comment.author_id for comment in comments}
    counts = count_statuses_by_author(session, author_ids=authors)
    # Queue items name authors as stored (their pseudonym once erased): no HMAC lookup.
    sanctioned = sanctions_in_force(session, author_ids=authors, now=now, key=None)
    banned = {author for author, sanction in sanctioned.items() if sanction.kind == "ban"}
    threads = thread_fields(session, comments)
    reports = report_summaries(session, comments) if reported else {}
    items = []
    for comment in comments:
        record = counts.get(comment.author_id, {})
        claim = None
        if comment.claimed_by is not None and comment.claimed_until and comment.claimed_until > now:
            claim = build(
                Claim, moderator_id=comment.claimed_by, until=isoformat(comment.claimed_until)
            )
        item = build(
            QueueItem,
            **comment_fields(comment, decisions[comment.id]),
            **threads[comment.id],
            max_score=comment.max_score,
            claim=claim,
            author_record=build(
                AuthorRecord,
                approved=record.get("approved", 0),
                rejected=record.get("rejected", 0),
                held=record.get("held", 0),
                banned=comment.author_id in banned,
            ),
            **({"reports": reports[comment.id]} if reported else {}),
        )
        items.append(item.model_dump(mode="json", exclude=None if reported else {"reports"}))
    return items
