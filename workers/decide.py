"""Deciding a batch of comments automatically: score, gather context, evaluate the policy, record,
announce. ("Moderation" in the code means people reviewing; this is the automated decision.)

Each comment gets the scores it would get alone (the scorer's batches don't couple comments)
and is decided in posting order, exactly as a task per comment would. What the batch shares is
the model's forward passes, and the database and Redis work: a constant number of round trips
whatever its size.

Each comment's language is detected once (`PendingComment.language`) and routes it to a model
(`Policy.route`); each model scores its group of the batch in one call, and its outputs become
the service's labels by the policy (`Policy.model_scores`). A comment whose language no model
reads (or that is too short or mixed to tell: `default`) is scored by `default`; the policy's
`language` rule holds the former. The decision records the scoring model (`model`: the weights
that scored it) and its context the model's id and the language.

A comment whose scoring was killed in a batch (workers/killed.py) is scored only in a task of
its own, never again beside others; one killed MAX_KILLS times is held unscored, for a person.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import structlog
from sqlalchemy.orm import Session

import policy
from service.broker.contract import DELIVER_WEBHOOK_TASK, parse_moderate_item
from service.broker.notify import publish_decided
from service.comments.decisions import AutomatedDecision, Recorded, record_automated_decisions
from service.db.tables import utcnow
from service.events import COMMENT_DECIDED
from service.store.context import list_pending_rows
from workers import metrics
from workers.context import BatchContext, PendingComment, read_contexts
from workers.killed import MAX_KILLS, killed_decision
from workers.memory import trim_heap_every
from workers.runtime import DEFAULT_MODEL_ID, WorkerRuntime
from workers.scoring.scorer import Scorer
from workers.shadow import ShadowCase, record_shadow_decisions

log = structlog.get_logger(__name__)

TRIM_SECONDS = 5.0


@dataclass(frozen=True)
class _Scored:
    scores: dict[str, float]
    seconds: float
    model_id: str
    """The scorer's `model_id` (which weights, which precision), what the decision records."""


@dataclass(frozen=True)
class _Decided:
    comment: PendingComment
    scores: dict[str, float]
    scoring_seconds: float
    context: policy.Context
    decision: policy.Decision
    model: str | None
    """None: held unscored (killed too often)."""


def decide_comments(rt: WorkerRuntime, items: Sequence[str]) -> list[str | None]:
    """The action taken on each item of a `moderate` task (a comment at a revision,
    `service.broker.contract.moderate_item`, or a bare id: its current revision), None where
    there was nothing to do (missing, already decided, edited since, or named twice)."""
    assert rt.scorer is not None, "moderate tasks run only where the model is loaded"
    current = rt.policies.current()
    # The comments and what the policy needs to know about them, in one transaction: the
    # context is the one the database held as the batch began.
    with rt.db.session() as session:
        pending, chosen, kills = _load_pending(session, items)
        if not pending:
            return [None] * len(items)
        contexts = read_contexts(session, pending, current=current, model=DEFAULT_MODEL_ID)
    to_score = [comment for comment in pending if comment.comment_id not in kills]
    routes = route_comments(current, to_score)
    scored = _score_routed(rt, current, to_score, routes)
    # The forward passes' freed activations leave holes in glibc's heap.
    trim_heap_every(TRIM_SECONDS)
    decided = []
    for comment in pending:
        if (kills_of := kills.get(comment.comment_id)) is not None:
            decided.append(_held_unscored(rt, current, comment, contexts, kills_of))
            continue
        result = scored[comment.comment_id]
        context = contexts.context_for(comment, model=routes[comment.comment_id])
        # Stored, and sent in webhooks, in the default locale; GET answers render it anew.
        decision = current.evaluate(comment.subject, result.scores, context).in_locale(
            rt.settings.default_locale
        )
        contexts.decided(comment, decision.action)
        decided.append(
            _Decided(comment, result.scores, result.seconds, context, decision, result.model_id)
        )
    recorded = record_automated_decisions(
        rt.db,
        decisions=[
            AutomatedDecision(
                comment_id=item.comment.comment_id,
                revision=item.comment.revision,
                action=item.decision.action,
                reasons=[reason.to_dict() for reason in item.decision.reasons],
                scores=item.scores,
                context=item.context.to_dict(),
                model=item.model,
            )
            for item in decided
        ],
        policy_version=current.version,
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
                revision=item.comment.revision,
            )
            for item in done
            if item.model is not None
        ],
    )
    actions = {item.comment.comment_id: item.decision.action for item in done}
    return [
        actions.get(comment_id) if chosen.get(comment_id) == index else None
        for index, comment_id in enumerate(parse_moderate_item(item)[0] for item in items)
    ]


def _held_unscored(
    rt: WorkerRuntime,
    current: policy.Policy,
    comment: PendingComment,
    contexts: BatchContext,
    kills: int,
) -> _Decided:
    """A comment killed MAX_KILLS times: held for a person, its text never scored again (nor
    its language detected: the text may be what kills)."""
    context = contexts.context_for(comment, model=DEFAULT_MODEL_ID, detect_language=False)
    decision = killed_decision(kills, policy_version=current.version)
    contexts.decided(comment, decision.action)
    return _Decided(comment, {}, 0.0, context, decision.in_locale(rt.settings.default_locale), None)


def _load_pending(
    session: Session, items: Sequence[str]
) -> tuple[list[PendingComment], dict[str, int], dict[str, int]]:
    """The batch's pending comments with their text, in posting order; the index of the
    item each was taken from; and the kill counts of those killed MAX_KILLS times, to hold
    unscored. An item for a revision the author has since replaced is dropped: its text is not
    the comment's any more, and the edit sent a task of its own. So is a comment killed in a
    batch before, when this task names others too: the sweeper sends it alone."""
    pending: dict[str, PendingComment] = {}
    chosen: dict[str, int] = {}
    held: dict[str, int] = {}
    named = [parse_moderate_item(item) for item in items]
    alone = len({comment_id for comment_id, _ in named}) == 1
    found = list_pending_rows(session, comment_ids=[comment_id for comment_id, _ in named])
    for index, (comment_id, revision) in enumerate(named):
        comment = found.get(comment_id)
        if comment is not None and revision is not None and revision != comment.revision:
            log.info(
                "moderation.stale_revision",
                comment_id=comment_id,
                revision=revision,
                current=comment.revision,
            )
        elif comment_id in pending:
            log.info("moderation.duplicate", comment_id=comment_id)
        elif comment is None or comment.status != "pending" or comment.text is None:
            log.info(
                "moderation.skipped",
                comment_id=comment_id,
                status=None if comment is None else comment.status,
            )
        elif 0 < comment.kill_count < MAX_KILLS and not alone:
            log.info("moderation.killed_before", comment_id=comment_id, kills=comment.kill_count)
        else:
            subject = policy.Comment(
                text=comment.text, author_id=comment.author_id, article_id=comment.article_id
            )
            pending[comment_id] = PendingComment(
                comment_id,
                subject,
                comment.created_at,
                revision=comment.revision,
                revised_at=comment.revised_at,
            )
            chosen[comment_id] = index
            if comment.kill_count >= MAX_KILLS:
                held[comment_id] = comment.kill_count
    return sorted(pending.values(), key=lambda comment: comment.posting_key), chosen, held


def _log_dropped(rt: WorkerRuntime, dropped: Sequence[_Decided]) -> None:
    """Why results went unrecorded: a read, in the rare batch that had any."""
    with rt.db.session() as session:
        found = list_pending_rows(session, comment_ids=[i.comment.comment_id for i in dropped])
    for item in dropped:
        comment_id, revision = item.comment.comment_id, item.comment.revision
        row = found.get(comment_id)
        if row is not None and row.revision != revision:
            log.info(
                "moderation.stale_revision",
                comment_id=comment_id,
                revision=revision,
                current=row.revision,
            )
        else:
            log.info(
                "moderation.duplicate",
                comment_id=comment_id,
                status=None if row is None else row.status,
            )


def route_comments(current: policy.Policy, pending: Sequence[PendingComment]) -> dict[str, str]:
    """Each comment's model id, by its language: `default` where the policy routes none (the
    `language` rule then holds it, unless its language is unknown)."""
    return {
        comment.comment_id: current.route(comment.language) or DEFAULT_MODEL_ID
        for comment in pending
    }


def _score_routed(
    rt: WorkerRuntime,
    current: policy.Policy,
    pending: Sequence[PendingComment],
    routes: Mapping[str, str],
) -> dict[str, _Scored]:
    """Each comment's scores as service labels, by comment id: each model scores its group
    (in posting order) in one call."""
    groups: dict[str, list[PendingComment]] = {}
    for comment in pending:
        groups.setdefault(routes[comment.comment_id], []).append(comment)
    scored: dict[str, _Scored] = {}
    for model_id, group in groups.items():
        scorer = rt.scorers.get(model_id)
        if scorer is None:
            # The holder puts a policy in force only once its models are loaded here.
            raise RuntimeError(f"the policy routes to model {model_id!r}, not loaded here")
        logits = scorer.outputs_are == "logits"
        for comment, outputs, seconds in _score(scorer, group):
            scores = current.model_scores(model_id, outputs, logits=logits)
            scored[comment.comment_id] = _Scored(scores, seconds, scorer.model_id)
    return scored


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
    returns; a comment another run had already decided, or that was edited or deleted while
    it was scored, is only logged."""
    done: list[tuple[_Decided, Recorded]] = []
    dropped = [item for item, record in zip(decided, recorded, strict=True) if record is None]
    if dropped:
        _log_dropped(rt, dropped)
    for item, record in zip(decided, recorded, strict=True):
        if record is None:
            continue
        metrics.DECISIONS.labels(action=item.decision.action, by="policy").inc()
        metrics.DECISION_LATENCY.observe((utcnow() - item.comment.accepted_at).total_seconds())
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
                model=item.context.model,
                language=item.context.language,
                policy_version=policy_version,
            )
    return [item for item, _ in done]
