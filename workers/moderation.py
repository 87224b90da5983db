"""Moderating one comment: score, gather context, evaluate the policy, record, announce."""

from __future__ import annotations

import time

import structlog

import policy
from service import store
from service.decisions import record_automated_decision
from service.models import utcnow
from service.notify import publish_decided
from service.queue import DELIVER_WEBHOOK_TASK
from workers import metrics
from workers.context import gather_context
from workers.runtime import WorkerRuntime
from workers.scoring.variants import variant_of
from workers.shadow import record_shadow_decision

log = structlog.get_logger(__name__)


def moderate_comment(rt: WorkerRuntime, comment_id: str) -> str | None:
    """The action taken, or None when there was nothing to do (missing or already decided)."""
    assert rt.scorer is not None, "moderate tasks run only where the model is loaded"
    with rt.db.session() as session:
        comment = store.get_comment_or_none(session, comment_id=comment_id)
        if comment is None or comment.status != "pending" or comment.text is None:
            log.info(
                "moderation.skipped",
                comment_id=comment_id,
                status=None if comment is None else comment.status,
            )
            return None
        subject = policy.Comment(
            text=comment.text, author_id=comment.author_id, article_id=comment.article_id
        )
        created_at = comment.created_at
    started, started_cpu = time.perf_counter(), time.thread_time()
    scores = rt.scorer.score([subject.text])[0]
    scoring_seconds = time.perf_counter() - started
    metrics.SCORING_SECONDS.observe(scoring_seconds)
    metrics.SCORING_CPU_SECONDS.inc(time.thread_time() - started_cpu)
    current = rt.policies.current()
    context = gather_context(
        rt,
        subject,
        comment_id=comment_id,
        created_at=created_at,
        current=current,
        # An unknown checkpoint counts as English-only for the language rule.
        model=variant_of(rt.settings.model) or "custom",
    )
    decision = current.evaluate(subject, scores, context)
    recorded = record_automated_decision(
        rt.db,
        comment_id=comment_id,
        action=decision.action,
        reasons=[reason.to_dict() for reason in decision.reasons],
        scores=scores,
        policy_version=current.version,
        model=rt.scorer.model_id,
        context=context.to_dict(),
        webhooks=rt.settings.webhook_url is not None,
        now=utcnow(),
        audit_sample_rate=rt.settings.audit_sample,
    )
    if recorded is None:
        log.info("moderation.duplicate", comment_id=comment_id)
        return None
    metrics.DECISIONS.labels(action=decision.action, by="policy").inc()
    metrics.DECISION_LATENCY.observe((utcnow() - created_at).total_seconds())
    publish_decided(rt.redis, comment_id)
    if recorded.webhook_event_id is not None:
        rt.producer.send(DELIVER_WEBHOOK_TASK, recorded.webhook_event_id)
    log.info(
        "decision.recorded",
        comment_id=comment_id,
        action=decision.action,
        reasons=[reason.rule for reason in decision.reasons],
        scoring_ms=round(scoring_seconds * 1000, 1),
        policy_version=current.version,
    )
    record_shadow_decision(
        rt, subject, scores, context, comment_id=comment_id, real_action=decision.action
    )
    return decision.action
