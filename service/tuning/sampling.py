"""The audit sample: a share of auto-approved comments that moderators label after the fact.

Holds only ever teach us about what was held; the policy's misses hide among the approvals.
So `MODERATION_AUDIT_SAMPLE` of them (they stay published) go to a separate queue where a
moderator marks each `fine` or `not_fine`. Membership is a hash of the comment id, so the
same comment is in or out on every worker, every retry and every replay, and a comment
sampled at 1% is also sampled at 5%.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog

from service.comments.resources import comment_fields, isoformat
from service.db.engine import Database
from service.db.tables import AuditSample, Comment, utcnow
from service.errors import ProblemError
from service.http.auth import Principal
from service.http.bodies import build
from service.moderation.cursors import encode_cursor
from service.store.comments import get_comment_or_none
from service.store.moderation import QueueFilters, add_audit_entry, list_decisions_for
from service.store.tuning import (
    list_unjudged_samples,
    lock_audit_sample_or_none,
    set_audit_judgement,
)
from service.tuning.resources import AuditSampleState, SampleItem, SampleLabelled, SampleQueuePage

log = structlog.get_logger(__name__)

_SCALE = 2**64


def in_audit_sample(comment_id: str, rate: float) -> bool:
    if rate <= 0:
        return False
    digest = hashlib.sha256(b"audit-sample:" + comment_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") < rate * _SCALE


@dataclass(frozen=True)
class SampleFilters(QueueFilters):
    """The sample queue's filters; `queue` keeps its cursors from passing for the hold queue's."""

    queue: str = "sample"


@dataclass(frozen=True)
class SampleQuery:
    filters: SampleFilters
    limit: int
    after: list[Any] | None


def read_sample_queue(db: Database, *, query: SampleQuery) -> SampleQueuePage:
    """Sampled comments no moderator has labelled yet, oldest first, and the next cursor."""
    with db.session() as session:
        rows = list_unjudged_samples(
            session,
            article_id=query.filters.article_id,
            author_id=query.filters.author_id,
            after=query.after,
            limit=query.limit + 1,
        )
        page, more = rows[: query.limit], len(rows) > query.limit
        decisions = list_decisions_for(session, comment_ids=[c.id for c, _ in page])
        items = [
            build(
                SampleItem,
                **comment_fields(comment, decisions[comment.id]),
                max_score=comment.max_score,
                sample=sample_resource(sample),
            )
            for comment, sample in page
        ]
    cursor = None
    if more:
        _, last = page[-1]
        cursor = encode_cursor("oldest", query.filters, [last.sampled_at, last.comment_id])
    return build(SampleQueuePage, items=items, next=cursor)


def judge_sample(
    db: Database,
    *,
    moderator: Principal,
    comment_id: str,
    label: str,
    override: bool,
    now: datetime | None = None,
) -> SampleLabelled:
    """Record a moderator's label on a sampled comment. The comment stays as it is: to take it
    down, the moderator also rejects it through the decision route."""
    now = now or utcnow()
    with db.session() as session:
        sample = lock_audit_sample_or_none(session, comment_id=comment_id)
        comment = get_comment_or_none(session, comment_id=comment_id)
        if sample is None or comment is None:
            raise ProblemError(404, "not_found", "No such comment in the audit sample.")
        if sample.label is not None and not override:
            raise ProblemError(
                409,
                "already_labelled",
                "This sampled comment is already labelled; send override: true to change it.",
                label=sample.label,
                labelled_by=sample.labelled_by,
            )
        set_audit_judgement(
            session, sample=sample, label=label, moderator_id=moderator.sub, now=now
        )
        add_audit_entry(
            session,
            now=now,
            moderator_id=moderator.sub,
            action=f"sample_{label}",
            comment_id=comment_id,
            author_id=comment.author_id,
            previous_status=comment.status,
            new_status=comment.status,
            override=override,
        )
        resource = _judged_resource(comment, sample)
    log.info("sample.labelled", comment_id=comment_id, label=label, moderator_id=moderator.sub)
    return resource


def sample_resource(sample: AuditSample) -> AuditSampleState:
    return build(AuditSampleState, **_sample_fields(sample))


def _judged_resource(comment: Comment, sample: AuditSample) -> SampleLabelled:
    return build(
        SampleLabelled, comment_id=comment.id, status=comment.status, **_sample_fields(sample)
    )


def _sample_fields(sample: AuditSample) -> dict[str, Any]:
    return {
        "rate": sample.rate,
        "sampled_at": isoformat(sample.sampled_at),
        "label": sample.label,
        "labelled_by": sample.labelled_by,
        "labelled_at": isoformat(sample.labelled_at),
    }
