"""The rows policy tuning reads and writes: shadow decisions, the audit sample, and the stored
decisions and human judgements that replays and the evidence are computed from."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, insert, or_, select
from sqlalchemy.orm import Session, aliased

from service.db.tables import AuditSample, Comment, Decision, Report, ShadowDecision

POLICY = Decision.by == "policy"


def add_shadow_decisions(
    session: Session,
    *,
    policy_version: str,
    decisions: Sequence[tuple[str, str, list[dict[str, Any]]]],
    now: datetime,
) -> None:
    """One shadow policy's (comment_id, action, reasons) for a batch, in one statement (no
    rows handed back: their new ids would cost a statement each on SQLite)."""
    if decisions:
        session.execute(
            insert(ShadowDecision),
            [
                {
                    "comment_id": comment_id,
                    "policy_version": policy_version,
                    "action": action,
                    "reasons": reasons,
                    "at": now,
                }
                for comment_id, action, reasons in decisions
            ],
        )


def list_shadow_pairs_since(
    session: Session, *, since: datetime
) -> list[tuple[ShadowDecision, Decision, str | None]]:
    """Each shadow decision with the real automated decision and the comment's text."""
    rows = session.execute(
        select(ShadowDecision, Decision, Comment.text)
        .join(Decision, and_(Decision.comment_id == ShadowDecision.comment_id, POLICY))
        .join(Comment, Comment.id == ShadowDecision.comment_id)
        .where(ShadowDecision.at >= since)
        .order_by(ShadowDecision.id)
    )
    return [(shadow, real, text) for shadow, real, text in rows]


def add_audit_samples(
    session: Session, *, comment_ids: Sequence[str], rate: float, now: datetime
) -> None:
    if comment_ids:
        session.execute(
            insert(AuditSample.__table__),
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
    """Sampled comments no moderator has labelled yet, oldest sample first."""
    query = (
        select(Comment, AuditSample)
        .join(AuditSample, AuditSample.comment_id == Comment.id)
        .where(AuditSample.label.is_(None))
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
        select(func.count()).select_from(Decision).where(POLICY, Decision.at >= since)
    )
    return int(count or 0)


def list_policy_decisions_after(
    session: Session, *, since: datetime, after_id: int, limit: int
) -> list[tuple[Decision, Comment]]:
    """One page of automated decisions made since `since`, by id, with their comments.

    Paged by id so a long replay reads in short transactions and never blocks the workers.
    """
    rows = session.execute(
        select(Decision, Comment)
        .join(Comment, Comment.id == Decision.comment_id)
        .where(POLICY, Decision.at >= since, Decision.id > after_id)
        .order_by(Decision.id)
        .limit(limit)
    )
    return [(decision, comment) for decision, comment in rows]


def _decided_since(since: datetime) -> Any:
    return select(Decision.comment_id).where(POLICY, Decision.at >= since)


def list_reviews_since(session: Session, *, since: datetime) -> list[tuple[str, str, datetime]]:
    """(comment id, action, at) of every moderator decision on comments decided since."""
    rows = session.execute(
        select(Decision.comment_id, Decision.action, Decision.at)
        .where(Decision.by == "moderator", Decision.comment_id.in_(_decided_since(since)))
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
    """Automated decisions since `since` that are holds or that a person judged.

    Unjudged approvals, nearly all of the traffic, carry no evidence and are left in the
    database.
    """
    reviewed = select(Decision.comment_id).where(Decision.by == "moderator")
    labelled = select(AuditSample.comment_id).where(AuditSample.label.is_not(None))
    return list(
        session.scalars(
            select(Decision)
            .where(
                POLICY,
                Decision.at >= since,
                or_(
                    Decision.action == "hold",
                    Decision.comment_id.in_(reviewed),
                    Decision.comment_id.in_(labelled),
                ),
            )
            .order_by(Decision.id)
        )
    )


def list_hold_times_since(
    session: Session, *, since: datetime
) -> list[tuple[datetime, datetime | None]]:
    """(held at, first moderator decision at) of each hold since `since`; holds made before
    it that were still waiting at `since` count too, since they are part of the queue then."""
    review = aliased(Decision)
    first_review = (
        select(review.comment_id, func.min(review.at).label("at"))
        .where(review.by == "moderator")
        .group_by(review.comment_id)
        .subquery()
    )
    rows = session.execute(
        select(Decision.at, first_review.c.at)
        .outerjoin(first_review, first_review.c.comment_id == Decision.comment_id)
        .where(
            POLICY,
            Decision.action == "hold",
            or_(
                Decision.at >= since,
                first_review.c.at.is_(None),
                first_review.c.at >= since,
            ),
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
