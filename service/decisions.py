"""Recording decisions: the status change, the decision row and its webhook event, in one
transaction, so no decision goes unannounced and none is recorded twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service import store
from service.db import Database
from service.resources import comment_resource, isoformat
from service.sampling import in_audit_sample

DECIDED_EVENT = "comment.decided"
STATUS_AFTER = {"approve": "approved", "hold": "held", "reject": "rejected"}


@dataclass(frozen=True)
class Recorded:
    resource: dict[str, Any]
    webhook_event_id: str | None


def record_automated_decision(
    db: Database,
    *,
    comment_id: str,
    action: str,
    reasons: list[dict[str, Any]],
    scores: dict[str, float],
    policy_version: str,
    model: str,
    context: dict[str, Any],
    webhooks: bool,
    now: datetime,
    audit_sample_rate: float = 0.0,
) -> Recorded | None:
    """None when the comment already has its automated decision (a task that ran twice).

    An approval that falls in the audit sample (`service.sampling`) joins it in the same
    transaction, so no sampled approval is lost and none is sampled twice.
    """
    try:
        with db.session() as session:
            comment = store.get_comment_or_none(session, comment_id=comment_id)
            if comment is None or comment.status != "pending":
                return None
            store.add_decision(
                session,
                comment_id=comment_id,
                now=now,
                by="policy",
                action=action,
                reasons=reasons,
                scores=scores,
                policy_version=policy_version,
                model=model,
                context=context,
            )
            store.set_comment_status(session, comment=comment, status=STATUS_AFTER[action], now=now)
            store.record_hold_summary(
                session,
                comment=comment,
                scores=scores,
                kinds=[str(reason["kind"]) for reason in reasons if "kind" in reason],
            )
            if action == "approve" and in_audit_sample(comment_id, audit_sample_rate):
                store.add_audit_sample(
                    session, comment_id=comment_id, rate=audit_sample_rate, now=now
                )
            resource = comment_resource(
                comment, store.list_decisions(session, comment_id=comment_id)
            )
            event_id = _announce(session, resource, now=now) if webhooks else None
            return Recorded(resource, event_id)
    except IntegrityError:
        return None


def _announce(session: Session, resource: dict[str, Any], *, now: datetime) -> str:
    event = store.add_webhook_event(
        session,
        comment_id=resource["id"],
        event_type=DECIDED_EVENT,
        payload={"type": DECIDED_EVENT, "timestamp": isoformat(now), "data": resource},
        now=now,
    )
    return event.id
