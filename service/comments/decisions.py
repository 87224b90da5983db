"""Recording decisions: the status change, the decision row and its webhook event, in one
transaction, so no decision goes unannounced and none is recorded twice."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.comments.resources import comment_resource, isoformat
from service.db.engine import Database
from service.store.context import list_comments_by_id
from service.store.decisions import add_decisions, decide_pending_comments, replace_hold_reasons
from service.store.moderation import highest_label_score, list_decisions_for
from service.store.tuning import add_audit_samples
from service.store.webhooks import add_webhook_events
from service.tuning.sampling import in_audit_sample

log = structlog.get_logger(__name__)

DECIDED_EVENT = "comment.decided"
STATUS_AFTER = {"approve": "approved", "hold": "held", "reject": "rejected"}


@dataclass(frozen=True)
class Recorded:
    """A decision recorded; its outbox event's id where webhooks are on."""

    webhook_event_id: str | None


@dataclass(frozen=True)
class AutomatedDecision:
    """What the policy decided for one comment of a batch, at one revision of its text, and
    the model whose scores it read (`model`; None: the batch's `model=`). A batch's comments
    may be scored by different models, one per language (workers/decide.py)."""

    comment_id: str
    action: str
    reasons: list[dict[str, Any]]
    scores: dict[str, float]
    context: dict[str, Any]
    revision: int = field(kw_only=True)
    model: str | None = field(default=None, kw_only=True)


def record_automated_decisions(
    db: Database,
    *,
    decisions: Sequence[AutomatedDecision],
    policy_version: str,
    model: str | None = None,
    webhooks: bool,
    now: datetime,
    audit_sample_rate: float = 0.0,
) -> list[Recorded | None]:
    """A batch's automated decisions, in one transaction of a few statements: one result per
    decision, None for a comment that is gone, no longer pending at the decision's revision
    (decided, deleted, or edited since: that result is dropped, never stored against newer
    text) or already has its automated decision (a task that ran twice).

    An approval that falls in the audit sample (`service.tuning.sampling`) joins it in the same
    transaction, so no sampled approval is lost and none is sampled twice.

    A duplicate run that got to one of them first makes the database refuse the whole batch
    (the one-policy-decision index); each is then recorded on its own, so the others still are.
    """
    try:
        with db.session() as session:
            return _record(
                session,
                decisions,
                policy_version=policy_version,
                model=model,
                webhooks=webhooks,
                now=now,
                audit_sample_rate=audit_sample_rate,
            )
    except IntegrityError:
        if len(decisions) == 1:
            return [None]
    log.info("decisions.batch_conflict", comment_ids=[d.comment_id for d in decisions])
    return [
        record_automated_decisions(
            db,
            decisions=[decision],
            policy_version=policy_version,
            model=model,
            webhooks=webhooks,
            now=now,
            audit_sample_rate=audit_sample_rate,
        )[0]
        for decision in decisions
    ]


def _record(
    session: Session,
    decisions: Sequence[AutomatedDecision],
    *,
    policy_version: str,
    model: str | None,
    webhooks: bool,
    now: datetime,
    audit_sample_rate: float,
) -> list[Recorded | None]:
    """A handful of statements whatever the batch's size, none of them a read unless webhooks
    are on (their payload is the comment resource)."""
    changed = decide_pending_comments(
        session,
        outcomes=[
            (d.comment_id, d.revision, STATUS_AFTER[d.action], highest_label_score(d.scores))
            for d in decisions
        ],
        now=now,
    )
    todo = [decision for decision in decisions if decision.comment_id in changed]
    if not todo:
        return [None] * len(decisions)
    add_decisions(
        session,
        now=now,
        decisions=[
            {
                "comment_id": decision.comment_id,
                "revision": decision.revision,
                "by": "policy",
                "action": decision.action,
                "reasons": decision.reasons,
                "scores": decision.scores,
                "policy_version": policy_version,
                "model": model if decision.model is None else decision.model,
                "context": decision.context,
            }
            for decision in todo
        ],
    )
    replace_hold_reasons(
        session,
        # A first revision has no earlier decision whose reasons could linger.
        comment_ids=[decision.comment_id for decision in todo if decision.revision > 1],
        reasons=[
            (decision.comment_id, kind)
            for decision in todo
            for kind in sorted({str(r["kind"]) for r in decision.reasons if "kind" in r})
        ],
    )
    add_audit_samples(
        session,
        comment_ids=[
            decision.comment_id
            for decision in todo
            if decision.action == "approve"
            and in_audit_sample(decision.comment_id, audit_sample_rate)
        ],
        rate=audit_sample_rate,
        now=now,
    )
    event_ids = announce_decided(session, _resources(session, todo), now=now) if webhooks else {}
    recorded = {d.comment_id: Recorded(event_ids.get(d.comment_id)) for d in todo}
    return [recorded.get(decision.comment_id) for decision in decisions]


def _resources(session: Session, todo: Sequence[AutomatedDecision]) -> list[dict[str, Any]]:
    """The comment resources as the webhook payloads carry them, decisions included."""
    ids = [decision.comment_id for decision in todo]
    comments = list_comments_by_id(session, comment_ids=ids)
    history = list_decisions_for(session, comment_ids=ids)
    return [comment_resource(comments[cid], history[cid]) for cid in ids]


def announce_decided(
    session: Session, resources: Sequence[dict[str, Any]], *, now: datetime
) -> dict[str, str]:
    """A `comment.decided` outbox event for each comment resource; their ids, by comment id."""
    events = add_webhook_events(
        session,
        event_type=DECIDED_EVENT,
        payloads=[
            (
                resource["id"],
                {"type": DECIDED_EVENT, "timestamp": isoformat(now), "data": resource},
            )
            for resource in resources
        ],
        now=now,
    )
    return {resource["id"]: event.id for resource, event in zip(resources, events, strict=True)}
