"""The rows policy tuning reads and writes: shadow decisions, the audit sample, and the stored
decisions and human judgements that replays and the evidence are computed from.

An edit makes a comment pending again and the policy decides the new revision, so an edited
comment has an automated decision per revision. Only the current revision's counts: an earlier
one was superseded by the edit (its text is no longer the comment's), and a judgement counts
for a decision only when it was made on the same revision. Audit-sample labels are kept per
comment and are taken to be on its current revision.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, insert, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from service.db.tables import (
    AuditSample,
    Comment,
    CommentRevision,
    Decision,
    Report,
    ShadowDecision,
)

POLICY = Decision.by == "policy"
# With `Comment` joined on the decision's comment: the decision is on the current revision.
CURRENT = Decision.revision == Comment.revision


def add_shadow_decisions(
    session: Session,
    *,
    policy_version: str,
    decisions: Sequence[tuple[str, int, str, list[dict[str, Any]]]],
    now: datetime,
) -> None:
    """One shadow policy's (comment_id, revision, action, reasons) for a batch, in one
    statement (no rows handed back: their new ids would cost a statement each on SQLite)."""
    if decisions:
        session.execute(
            insert(ShadowDecision),
            [
                {
                    "comment_id": comment_id,
                    "policy_version": policy_version,
                    "revision": revision,
                    "action": action,
                    "reasons": reasons,
                    "at": now,
                }
                for comment_id, revision, action, reasons in decisions
            ],
        )


def list_shadow_pairs_since(
    session: Session, *, since: datetime
) -> list[tuple[ShadowDecision, Decision, str | None]]:
    """Each shadow decision on a comment's current revision with the real automated decision
    of that revision and the comment's text."""
    rows = session.execute(
        select(ShadowDecision, Decision, Comment.text)
        .join(
            Comment,
            and_(
                Comment.id == ShadowDecision.comment_id,
                Comment.revision == ShadowDecision.revision,
            ),
        )
        .join(
            Decision,
            and_(
                Decision.comment_id == ShadowDecision.comment_id,
                Decision.revision == ShadowDecision.revision,
                POLICY,
            ),
        )
        .where(ShadowDecision.at >= since)
        .order_by(ShadowDecision.id)
    )
    return [(shadow, real, text) for shadow, real, text in rows]


def add_audit_samples(
    session: Session, *, comment_ids: Sequence[str], rate: float, now: datetime
) -> None:
    """A comment is sampled once: an edited comment approved again keeps its first sample (a
    comment already sampled is skipped, in the same one statement)."""
    if comment_ids:
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        session.execute(
            dialect.insert(AuditSample.__table__).on_conflict_do_nothing(
                index_elements=["comment_id"]
            ),
            [{"comment_id": cid, "rate": rate, "sampled_at": now} for cid in comment_ids],
        )


def lock_audit_sample_or_none(session: Session, *, comment_id: str) -> AuditSample | None:
    return session.get(AuditSample, comment_id, with_for_update=True, populate_existing=True)


def set_audit_judgement(
    session: Session, *, sample: AuditSample, label: str, moderator_id: str, now: datetime
) -> None:
    sample.label, sample.labelled_by, sample.labelled_at = label, moderator_id, now
    session.flush()


def list_unjudged_samples(
    session: Session,
    *,
    article_id: str | None,
    author_id: str | None,
    after: Sequence[Any] | None,
    limit: int,
) -> list[tuple[Comment, AuditSample]]:
    """Sampled comments no moderator has labelled yet, oldest sample first; a comment its
    author deleted has no text left to judge."""
    query = (
        select(Comment, AuditSample)
        .join(AuditSample, AuditSample.comment_id == Comment.id)
        .where(AuditSample.label.is_(None), Comment.status != "deleted")
    )
    if article_id is not None:
        query = query.where(Comment.article_id == article_id)
    if author_id is not None:
        query = query.where(Comment.author_id == author_id)
    if after is not None:
        sampled_at, comment_id = after
        query = query.where(
            or_(
                AuditSample.sampled_at > sampled_at,
                and_(AuditSample.sampled_at == sampled_at, AuditSample.comment_id > comment_id),
            )
        )
    rows = session.execute(
        query.order_by(AuditSample.sampled_at, AuditSample.comment_id).limit(limit)
    )
    return [(comment, sample) for comment, sample in rows]


def summarize_audit_samples_since(session: Session, *, since: datetime) -> dict[str, int]:
    rows = session.execute(
        select(AuditSample.label, func.count())
        .where(AuditSample.sampled_at >= since)
        .group_by(AuditSample.label)
    )
    counts = {label: count for label, count in rows}
    return {
        "sampled": sum(counts.values()),
        "labelled": sum(count for label, count in counts.items() if label is not None),
        "fine": counts.get("fine", 0),
        "not_fine": counts.get("not_fine", 0),
    }


def count_policy_decisions_since(session: Session, *, since: datetime) -> int:
    count = session.scalar(
        select(func.count())
        .select_from(Decision)
        .join(Comment, Comment.id == Decision.comment_id)
        .where(POLICY, CURRENT, Decision.at >= since)
    )
    return int(count or 0)


def list_policy_decisions_after(
    session: Session, *, since: datetime, after_id: int, limit: int
) -> list[tuple[Decision, Comment]]:
    """One page of automated decisions made since `since` on their comments' current
    revisions, by id, with their comments.

    Paged by id so a long replay reads in short transactions and never blocks the workers.
    """
    rows = session.execute(
        select(Decision, Comment)
        .join(Comment, Comment.id == Decision.comment_id)
        .where(POLICY, CURRENT, Decision.at >= since, Decision.id > after_id)
        .order_by(Decision.id)
        .limit(limit)
    )
    return [(decision, comment) for decision, comment in rows]


def _decided_since(since: datetime) -> Any:
    """The comments whose current revision the policy decided since `since` (aliases: the
    callers' own `Decision` and `Comment` must not correlate into it)."""
    decision, comment = aliased(Decision), aliased(Comment)
    return (
        select(decision.comment_id)
        .join(comment, comment.id == decision.comment_id)
        .where(
            decision.by == "policy",
            decision.revision == comment.revision,
            decision.at >= since,
        )
    )


def list_reviews_since(session: Session, *, since: datetime) -> list[tuple[str, str, datetime]]:
    """(comment id, action, at) of every moderator decision on the current revision of
    comments decided since."""
    rows = session.execute(
        select(Decision.comment_id, Decision.action, Decision.at)
        .join(Comment, Comment.id == Decision.comment_id)
        .where(
            Decision.by == "moderator",
            CURRENT,
            Decision.comment_id.in_(_decided_since(since)),
        )
        .order_by(Decision.id)
    )
    return [(comment_id, action, at) for comment_id, action, at in rows]


def list_sample_judgements_since(
    session: Session, *, since: datetime
) -> list[tuple[str, str | None, datetime | None, float]]:
    """(comment id, label, labelled at, rate) of samples drawn from comments decided since."""
    rows = session.execute(
        select(AuditSample.comment_id, AuditSample.label, AuditSample.labelled_at, AuditSample.rate)
        .where(AuditSample.comment_id.in_(_decided_since(since)))
        .order_by(AuditSample.comment_id)
    )
    return [(comment_id, label, at, rate) for comment_id, label, at, rate in rows]


def list_evidence_decisions_since(session: Session, *, since: datetime) -> list[Decision]:
    """Automated decisions since `since` on their comments' current revisions that are holds
    or that a person judged (a moderator on that revision, or an audit-sample label).

    Unjudged approvals, nearly all of the traffic, carry no evidence and are left in the
    database.
    """
    review = aliased(Decision)
    reviewed = exists().where(
        review.by == "moderator",
        review.comment_id == Decision.comment_id,
        review.revision == Decision.revision,
    )
    labelled = select(AuditSample.comment_id).where(AuditSample.label.is_not(None))
    return list(
        session.scalars(
            select(Decision)
            .join(Comment, Comment.id == Decision.comment_id)
            .where(
                POLICY,
                CURRENT,
                Decision.at >= since,
                or_(
                    Decision.action == "hold",
                    reviewed,
                    Decision.comment_id.in_(labelled),
                ),
            )
            .order_by(Decision.id)
        )
    )


def list_hold_times_since(
    session: Session, *, since: datetime
) -> list[tuple[datetime, datetime | None]]:
    """(held at, when it left the queue) of each hold since `since`; holds made before it
    that were still waiting at `since` count too, since they are part of the queue then.

    A hold leaves the queue with the first moderator decision on its revision or, when the
    author edited the comment first, with the edit (the next revision is moderated anew).
    """
    review = aliased(Decision)
    first_review = (
        select(review.comment_id, review.revision, func.min(review.at).label("at"))
        .where(review.by == "moderator")
        .group_by(review.comment_id, review.revision)
        .subquery()
    )
    left_at = func.coalesce(first_review.c.at, CommentRevision.created_at)
    rows = session.execute(
        select(Decision.at, left_at)
        .outerjoin(
            first_review,
            and_(
                first_review.c.comment_id == Decision.comment_id,
                first_review.c.revision == Decision.revision,
            ),
        )
        .outerjoin(
            CommentRevision,
            and_(
                CommentRevision.comment_id == Decision.comment_id,
                CommentRevision.revision == Decision.revision + 1,
            ),
        )
        .where(
            POLICY,
            Decision.action == "hold",
            or_(Decision.at >= since, left_at.is_(None), left_at >= since),
        )
        .order_by(Decision.at)
    )
    return [(held_at, reviewed_at) for held_at, reviewed_at in rows]


def _report_counts() -> tuple[Any, ...]:
    return (
        func.count(),
        func.count().filter(Report.status == "upheld"),
        func.count().filter(Report.status == "dismissed"),
    )


def summarize_reports_by_reason_since(
    session: Session, *, since: datetime
) -> list[tuple[str, int, int, int]]:
    """(reason, reports, upheld, dismissed) of the readers' reports made since `since`."""
    rows = session.execute(
        select(Report.reason, *_report_counts())
        .where(Report.created_at >= since)
        .group_by(Report.reason)
    )
    return [(reason, total, upheld, dismissed) for reason, total, upheld, dismissed in rows]


def summarize_top_reporters_since(
    session: Session, *, since: datetime, limit: int
) -> tuple[int, list[tuple[str, int, int, int]]]:
    """How many readers reported since `since`, and (reporter, reports, upheld, dismissed)
    of the `limit` who reported most."""
    reporters = session.scalar(
        select(func.count(func.distinct(Report.reporter_id))).where(Report.created_at >= since)
    )
    total = func.count()
    rows = session.execute(
        select(Report.reporter_id, *_report_counts())
        .where(Report.created_at >= since)
        .group_by(Report.reporter_id)
        .order_by(total.desc(), Report.reporter_id)
        .limit(limit)
    )
    return int(reporters or 0), [
        (reporter, count, upheld, dismissed) for reporter, count, upheld, dismissed in rows
    ]
