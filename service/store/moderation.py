"""The moderation queues' rows (held comments, and comments readers reported): scores and
reasons to filter on, leases, bans and the audit."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    case,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from policy.sections import TOXICITY_LABELS
from service.db.tables import Comment, Decision, HoldReason, ModerationAudit, Report
from service.store.authors import author_ref
from service.store.comments import could_be_comment_id
from service.store.reports import OPEN

QueueSort = Literal["oldest", "newest", "score"]
QueueKind = Literal["held", "reported"]
"""held: comments the policy held. reported: published (or hidden) comments readers reported,
ordered by when they entered the queue."""
REPORTED_STATUSES = ("approved", "hidden")
# Held comments without a score (none before revision 0002 was backfilled) sort last.
UNSCORED = -1.0


@dataclass(frozen=True)
class QueueFilters:
    """Which queue and which of its comments; a cursor is bound to all of these."""

    article_id: str | None = None
    author_id: str | None = None
    reason: str | None = None
    """held: a kind of hold reason; reported: an open report's reason."""
    min_score: float | None = None
    queue: str = "held"
    """A QueueKind (the tuning feature's sample queue extends these filters with its own)."""


def highest_label_score(scores: Mapping[str, float]) -> float | None:
    """The score the queue sorts on: the highest of the labels that can hold a comment."""
    values = [float(scores[label]) for label in TOXICITY_LABELS if label in scores]
    return max(values, default=None)


def _score_key() -> ColumnElement[float]:
    return func.coalesce(Comment.max_score, UNSCORED)


def _moment(queue: str) -> Any:
    """The time a queue orders by: when the comment was written, or when it was reported."""
    return Comment.reported_at if queue == "reported" else Comment.created_at


def _order(sort: QueueSort, queue: str) -> list[ColumnElement[Any]]:
    moment = _moment(queue)
    if sort == "newest":
        return [moment.desc(), Comment.id.desc()]
    if sort == "score":
        return [_score_key().desc(), moment.asc(), Comment.id.asc()]
    return [moment.asc(), Comment.id.asc()]


def _after(sort: QueueSort, queue: str, key: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after the cursor's key in the given order."""
    moment = _moment(queue)
    if sort == "score":
        score, at, comment_id = key
        return or_(
            _score_key() < score,
            and_(_score_key() == score, moment > at),
            and_(_score_key() == score, moment == at, Comment.id > comment_id),
        )
    at, comment_id = key
    if sort == "newest":
        return or_(moment < at, and_(moment == at, Comment.id < comment_id))
    return or_(moment > at, and_(moment == at, Comment.id > comment_id))


def sort_key(sort: QueueSort, queue: str, comment: Comment) -> list[Any]:
    """The values a cursor carries to resume after `comment`."""
    at = comment.reported_at if queue == "reported" else comment.created_at
    if sort == "score":
        score = UNSCORED if comment.max_score is None else comment.max_score
        return [score, at, comment.id]
    return [at, comment.id]


def _in_queue(queue: str) -> list[ColumnElement[bool]]:
    if queue == "reported":
        return [Comment.reported_at.is_not(None), Comment.status.in_(REPORTED_STATUSES)]
    return [Comment.status == "held"]


def _queued(filters: QueueFilters) -> list[ColumnElement[bool]]:
    conditions = _in_queue(filters.queue)
    if filters.article_id is not None:
        conditions.append(Comment.article_id == filters.article_id)
    if filters.author_id is not None:
        conditions.append(Comment.author_id == filters.author_id)
    if filters.min_score is not None:
        conditions.append(Comment.max_score >= filters.min_score)
    if filters.reason is not None:
        conditions.append(Comment.id.in_(_with_reason(filters.queue, filters.reason)))
    return conditions


def _with_reason(queue: str, reason: str) -> Any:
    if queue == "reported":
        return select(Report.comment_id).where(Report.reason == reason, Report.status == OPEN)
    return select(HoldReason.comment_id).where(HoldReason.kind == reason)


def _free_for(moderator_id: str, now: datetime) -> ColumnElement[bool]:
    return or_(
        Comment.claimed_by.is_(None),
        Comment.claimed_until <= now,
        Comment.claimed_by == moderator_id,
    )


def list_queued_comments(
    session: Session,
    *,
    filters: QueueFilters,
    sort: QueueSort,
    after: Sequence[Any] | None,
    limit: int,
) -> list[Comment]:
    """A page of the queue `filters.queue` names."""
    query = select(Comment).where(*_queued(filters))
    if after is not None:
        query = query.where(_after(sort, filters.queue, after))
    return list(session.scalars(query.order_by(*_order(sort, filters.queue)).limit(limit)))


def claim_queued_comments(
    session: Session,
    *,
    filters: QueueFilters,
    sort: QueueSort,
    moderator_id: str,
    now: datetime,
    until: datetime,
    limit: int,
) -> list[Comment]:
    """Lease up to `limit` comments of the queue to the moderator: theirs already first, then
    free ones.

    PostgreSQL skips rows another transaction is claiming (SKIP LOCKED) and the UPDATE re-checks
    that each row is still free; SQLite's BEGIN IMMEDIATE runs claims one at a time.
    """
    mine_first = case(
        ((Comment.claimed_by == moderator_id) & (Comment.claimed_until > now), 0), else_=1
    )
    candidates = list(
        session.scalars(
            select(Comment.id)
            .where(*_queued(filters), _free_for(moderator_id, now))
            .order_by(mine_first, *_order(sort, filters.queue))
            .limit(limit)
            .with_for_update(skip_locked=True, of=Comment)
        )
    )
    if not candidates:
        return []
    session.execute(
        update(Comment)
        .where(
            Comment.id.in_(candidates),
            *_in_queue(filters.queue),
            _free_for(moderator_id, now),
        )
        .values(claimed_by=moderator_id, claimed_until=until)
        .execution_options(synchronize_session=False)
    )
    claimed = session.scalars(
        select(Comment)
        .where(Comment.id.in_(candidates), Comment.claimed_by == moderator_id)
        .execution_options(populate_existing=True)
    )
    by_id = {comment.id: comment for comment in claimed}
    return [by_id[comment_id] for comment_id in candidates if comment_id in by_id]


def lock_comment_or_none(session: Session, *, comment_id: str) -> Comment | None:
    """The comment, locked until the transaction ends so decisions on it happen one at a time."""
    if not could_be_comment_id(comment_id):
        return None
    return session.scalars(
        select(Comment)
        .where(Comment.id == comment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()


def release_claim(session: Session, *, comment: Comment) -> None:
    comment.claimed_by = None
    comment.claimed_until = None
    session.flush()


def list_decisions_for(
    session: Session, *, comment_ids: Sequence[str]
) -> dict[str, list[Decision]]:
    found: dict[str, list[Decision]] = {comment_id: [] for comment_id in comment_ids}
    if comment_ids:
        rows = session.scalars(
            select(Decision).where(Decision.comment_id.in_(comment_ids)).order_by(Decision.id)
        )
        for decision in rows:
            found[decision.comment_id].append(decision)
    return found


ReportSelection = Literal["any", "detailed", "legal"]
"""Which open reports `list_latest_open_reports` lists: all, those with a detail, notices of
illegal content."""


def list_latest_open_reports(
    session: Session, *, comment_ids: Sequence[str], selection: ReportSelection, limit: int
) -> dict[str, list[Report]]:
    """Each comment's latest `limit` open reports of the selection, newest first: one query
    for the page, however many reports a comment has."""
    found: dict[str, list[Report]] = {comment_id: [] for comment_id in comment_ids}
    if not comment_ids:
        return found
    conditions: list[ColumnElement[bool]] = [
        Report.comment_id.in_(comment_ids),
        Report.status == OPEN,
    ]
    if selection == "detailed":
        conditions.append(Report.detail.is_not(None))
    elif selection == "legal":
        conditions.append(Report.reason == "illegal")
    rank = (
        func.row_number()
        .over(
            partition_by=Report.comment_id,
            order_by=(Report.created_at.desc(), Report.id.desc()),
        )
        .label("rank")
    )
    ranked = select(Report.id, rank).where(*conditions).subquery()
    rows = session.scalars(
        select(Report)
        .join(ranked, ranked.c.id == Report.id)
        .where(ranked.c.rank <= limit)
        .order_by(Report.comment_id, Report.created_at.desc(), Report.id.desc())
    )
    for report in rows:
        found[report.comment_id].append(report)
    return found


# Built once: it runs for every batch a worker moderates.
_STATUSES_BY_AUTHOR = (
    select(Comment.author_id, Comment.status, func.count())
    .where(Comment.author_id.in_(bindparam("ids", expanding=True)))
    .group_by(Comment.author_id, Comment.status)
)


def count_statuses_by_author(
    session: Session, *, author_ids: Iterable[str]
) -> dict[str, dict[str, int]]:
    wanted = sorted(set(author_ids))
    counts: dict[str, dict[str, int]] = {author_id: {} for author_id in wanted}
    if wanted:
        rows = session.execute(_STATUSES_BY_AUTHOR, {"ids": wanted})
        for author_id, status, count in rows:
            counts[author_id][status] = count
    return counts


def list_held_comment_ids_by_author(session: Session, *, author_id: str) -> list[str]:
    return list(
        session.scalars(
            select(Comment.id)
            .where(Comment.author_id == author_id, Comment.status == "held")
            .order_by(Comment.created_at, Comment.id)
        )
    )


def add_audit_entry(
    session: Session, *, now: datetime, author_id: str | None = None, **fields: Any
) -> ModerationAudit:
    """An audit row; the author it concerns is named by their reference (`author_refs`)."""
    if author_id is not None:
        fields["author_ref"] = author_ref(session, author_id=author_id, now=now)
    entry = ModerationAudit(at=now, **fields)
    session.add(entry)
    session.flush()
    return entry


def list_audit_entries(session: Session, *, comment_id: str) -> list[ModerationAudit]:
    return list(
        session.scalars(
            select(ModerationAudit)
            .where(ModerationAudit.comment_id == comment_id)
            .order_by(ModerationAudit.id)
        )
    )


def held_summary(session: Session) -> tuple[int, datetime | None]:
    """How many comments are held, and when the oldest of them was written."""
    count, oldest = session.execute(
        select(func.count(), func.min(Comment.created_at)).where(Comment.status == "held")
    ).one()
    return count, oldest


def count_holds_by_reason(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(HoldReason.kind, func.count())
        .join(Comment, Comment.id == HoldReason.comment_id)
        .where(Comment.status == "held")
        .group_by(HoldReason.kind)
        .order_by(HoldReason.kind)
    )
    return {kind: count for kind, count in rows}


def count_reviews_since(session: Session, *, since: datetime) -> list[tuple[str, str | None, int]]:
    """(action, moderator, count) of moderator decisions made since the given moment."""
    rows = session.execute(
        select(Decision.action, Decision.moderator_id, func.count())
        .where(Decision.by == "moderator", Decision.at >= since)
        .group_by(Decision.action, Decision.moderator_id)
    )
    return [(action, moderator_id, count) for action, moderator_id, count in rows]
