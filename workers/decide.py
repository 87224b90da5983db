"""Deciding a batch of comments automatically: score, gather context, evaluate the policy, record,
announce. ("Moderation" in the code means people reviewing; this is the automated decision.)

Each comment gets the scores it would get alone (the scorer's batches don't couple comments)
and is decided in posting order, exactly as a task per comment would. What the batch shares is
the model's forward passes, and the database and Redis work: a constant number of round trips
whatever its size.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import structlog
from sqlalchemy.orm import Session

import policy
from service.broker.contract import DELIVER_WEBHOOK_TASK
from service.broker.notify import publish_decided
from service.comments.decisions import AutomatedDecision, Recorded, record_automated_decisions
from service.db.tables import utcnow
from service.events import COMMENT_DECIDED
from service.model_catalogue import variant_of
from service.store.context import list_pending_rows
from workers import metrics
from workers.context import PendingComment, read_contexts
from workers.memory import trim_heap_every
from workers.runtime import WorkerRuntime
from workers.scoring.scorer import Scorer
from workers.shadow import ShadowCase, record_shadow_decisions

log = structlog.get_logger(__name__)

TRIM_SECONDS = 5.0


@dataclass(frozen=True)
class _Decided:
    comment: PendingComment
    scores: dict[str, float]
    scoring_seconds: float
    context: policy.Context
    decision: policy.Decision


def decide_comments(rt: WorkerRuntime, comment_ids: Sequence[str]) -> list[str | None]:
    """The action taken on each comment, None where there was nothing to do (missing, already
    decided, or named twice)."""
    assert rt.scorer is not None, "moderate tasks run only where the model is loaded"
    current = rt.policies.current()
    # The comments and what the policy needs to know about them, in one transaction: the
    # context is the one the database held as the batch began.
    with rt.db.session() as session:
        pending = _load_pending(session, comment_ids)
        if not pending:
            return [None] * len(comment_ids)
        contexts = read_contexts(
            session,
            pending,
            current=current,
            # An unknown checkpoint counts as English-only for the language rule.
            model=variant_of(rt.settings.model) or "custom",
        )
    scored = _score(rt.scorer, pending)
    # The forward passes' freed activations leave holes in glibc's heap.
    trim_heap_every(TRIM_SECONDS)
    decided = []
    for comment, scores, scoring_seconds in scored:
        context = contexts.context_for(comment)
        decision = current.evaluate(comment.subject, scores, context)
        contexts.decided(comment, decision.action)
        decided.append(_Decided(comment, scores, scoring_seconds, context, decision))
    recorded = record_automated_decisions(
        rt.db,
        decisions=[
            AutomatedDecision(
                comment_id=item.comment.comment_id,
                action=item.decision.action,
                reasons=[reason.to_dict() for reason in item.decision.reasons],
                scores=item.scores,
                context=item.context.to_dict(),
            )
            for item in decided
        ],
        policy_version=current.version,
        model=rt.scorer.model_id,
        webhooks=rt.settings.announces(COMMENT_DECIDED),
        now=utcnow(),
        audit_sample_rate=rt.settings.audit_sample,
    )
    done = _announce(rt, decided, recorded, policy_version=current.version)
    record_shadow_decisions(
        rt,
        [
            ShadowCase(
                item.comment.comment_id,
                item.comment.subject,
                item.scores,
                item.context,
                item.decision.action,
            )
            for item in done
        ],
    )
    actions = {item.comment.comment_id: item.decision.action for item in done}
    return [actions.pop(comment_id, None) for comment_id in comment_ids]


def _load_pending(session: Session, comment_ids: Sequence[str]) -> list[PendingComment]:
    """The batch's pending comments with their text, in posting order."""
    pending: dict[str, PendingComment] = {}
    found = list_pending_rows(session, comment_ids=comment_ids)
    for comment_id in comment_ids:
        comment = found.get(comment_id)
        if comment_id in pending:
            log.info("moderation.duplicate", comment_id=comment_id)
        elif comment is None or comment.status != "pending" or comment.text is None:
            log.info(
                "moderation.skipped",
                comment_id=comment_id,
                status=None if comment is None else comment.status,
            )
        else:
            subject = policy.Comment(
                text=comment.text, author_id=comment.author_id, article_id=comment.article_id
            )
            pending[comment_id] = PendingComment(comment_id, subject, comment.created_at)
    return sorted(pending.values(), key=lambda comment: comment.posting_key)


def _score(
    scorer: Scorer, pending: Sequence[PendingComment]
) -> list[tuple[PendingComment, dict[str, float], float]]:
    """Each comment, its scores and its share of the seconds the model took on the batch.
    The CPU metric covers the model alone."""
    started, started_cpu = time.perf_counter(), time.thread_time()
    rows = scorer.score([comment.subject.text for comment in pending])
    share = (time.perf_counter() - started) / len(pending)
    metrics.SCORING_CPU_SECONDS.inc(time.thread_time() - started_cpu)
    for _ in pending:
        metrics.SCORING_SECONDS.observe(share)
    return [(comment, scores, share) for comment, scores in zip(pending, rows, strict=True)]


def _announce(
    rt: WorkerRuntime,
    decided: Sequence[_Decided],
    recorded: Sequence[Recorded | None],
    *,
    policy_version: str,
) -> list[_Decided]:
    """Metrics, the `decided` hints and the webhook tasks of what was recorded, which it
    returns; a comment another run had already decided is only logged."""
    done: list[tuple[_Decided, Recorded]] = []
    for item, record in zip(decided, recorded, strict=True):
        if record is None:
            log.info("moderation.duplicate", comment_id=item.comment.comment_id)
            continue
        metrics.DECISIONS.labels(action=item.decision.action, by="policy").inc()
        metrics.DECISION_LATENCY.observe((utcnow() - item.comment.created_at).total_seconds())
        done.append((item, record))
    publish_decided(rt.redis, *(item.comment.comment_id for item, _ in done))
    for item, record in done:
        with structlog.contextvars.bound_contextvars(comment_id=item.comment.comment_id):
            if record.webhook_event_id is not None:
                rt.producer.send(DELIVER_WEBHOOK_TASK, record.webhook_event_id)
            log.info(
                "decision.recorded",
                comment_id=item.comment.comment_id,
                action=item.decision.action,
                reasons=[reason.rule for reason in item.decision.reasons],
                scoring_ms=round(item.scoring_seconds * 1000, 1),
                policy_version=policy_version,
            )
    return [item for item, _ in done]
