"""GET /v1/moderation/insights: the evidence for tuning the policy, over a window.

Per rule: how moderators judged its holds. Per model label: precision and recall of each
threshold against the labels, the threshold that reaches the board's target precision, and
the score distributions behind them. Over time: hold volume and the queue's age. Plus the
audit sample's progress and, when a shadow policy runs, how it compares.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from policy.sections import TOXICITY_LABELS
from service.comments.resources import isoformat
from service.db.engine import Database
from service.db.tables import Decision
from service.http.bodies import build
from service.reports.reasons import REPORT_REASONS
from service.store.tuning import (
    list_evidence_decisions_since,
    list_hold_times_since,
    summarize_audit_samples_since,
    summarize_reports_by_reason_since,
    summarize_top_reporters_since,
)
from service.tuning import evidence
from service.tuning.evidence import Observation, ReportTally, RuleHit
from service.tuning.judgements import (
    Judgement,
    collect_feedback_judgements,
    collect_judgements,
    sample_weights,
)
from service.tuning.resources import (
    TOP_REPORTERS,
    HoldVolume,
    Insights,
    InsightsLabels,
    InsightsModelLabel,
    InsightsRule,
    ReasonReports,
    ReporterReports,
    ReportOutcomes,
    ReportPrecision,
    SampleProgress,
    ScoreHistogram,
    ThresholdPoint,
    VolumeBucket,
    policy_comparison,
)
from service.tuning.shadow_report import shadow_report

HOURLY_UP_TO = timedelta(days=2)
DAILY_UP_TO = timedelta(days=92)


@dataclass(frozen=True)
class InsightsRequest:
    since: datetime
    now: datetime
    target_precision: float
    thresholds: Mapping[str, float]
    policy_version: str
    sample_rate: float


def build_insights(db: Database, *, request: InsightsRequest) -> Insights:
    bucket, start = time_buckets(request.since, request.now)
    with db.session() as session:
        decisions = list_evidence_decisions_since(session, since=request.since)
        labels = collect_judgements(session, since=request.since)
        weights = sample_weights(session, since=request.since)
        hold_times = list_hold_times_since(session, since=start)
        sample = summarize_audit_samples_since(session, since=request.since)
        feedback = collect_feedback_judgements(session, since=request.since)
        by_reason = summarize_reports_by_reason_since(session, since=request.since)
        reporters, top = summarize_top_reporters_since(
            session, since=request.since, limit=TOP_REPORTERS
        )
    observations = [
        observation(decision, labels.get(decision.comment_id), weights) for decision in decisions
    ] + [item.observation for item in feedback]
    shadow = shadow_report(db, since=request.since)
    return build(
        Insights,
        as_of=isoformat(request.now),
        since=isoformat(request.since),
        policy_version=request.policy_version,
        target_precision=request.target_precision,
        labels=_judgement_summary([*labels.values(), *(item.label for item in feedback)]),
        rules=[_rule(item) for item in evidence.rule_evidence(observations)],
        model_labels=[
            _model_label(observations, label, request.thresholds.get(label), request)
            for label in _judgements_seen(observations)
        ],
        volume=build(
            HoldVolume,
            bucket=_bucket_name(bucket),
            series=[
                build(
                    VolumeBucket,
                    start=isoformat(item.start),
                    end=isoformat(item.end),
                    holds=item.holds,
                    reviewed=item.reviewed,
                    backlog=item.backlog,
                    oldest_age_seconds=item.oldest_age_seconds,
                )
                for item in evidence.queue_over_time(
                    [evidence.Hold(held_at, reviewed_at) for held_at, reviewed_at in hold_times],
                    start=start,
                    end=request.now,
                    bucket=bucket,
                )
            ],
        ),
        sample=build(SampleProgress, rate=request.sample_rate, **sample),
        reports=report_precision(
            [ReportTally(*row) for row in by_reason],
            reporters,
            [ReportTally(*row) for row in top],
        ),
        shadow=policy_comparison(shadow) if shadow["compared"] else None,
    )


def observation(
    decision: Decision, label: Judgement | None, weights: Mapping[str, float]
) -> Observation:
    return Observation(
        comment_id=decision.comment_id,
        action=decision.action,
        hits=tuple(
            RuleHit(
                rule=str(reason["rule"]),
                kind=str(reason.get("kind", "")),
                threshold=_number(reason.get("threshold")),
            )
            for reason in decision.reasons or ()
            if "rule" in reason
        ),
        scores=decision.scores or {},
        outcome=None if label is None else label.outcome,
        weight=weights.get(decision.comment_id, 1.0),
    )


def report_precision(
    by_reason: Iterable[ReportTally], reporters: int, top: Iterable[ReportTally]
) -> ReportPrecision:
    reasons = sorted(by_reason, key=lambda item: _reason_rank(item.key))
    total = ReportTally(
        "",
        sum(item.reports for item in reasons),
        sum(item.upheld for item in reasons),
        sum(item.dismissed for item in reasons),
    )
    return build(
        ReportPrecision,
        total=build(ReportOutcomes, **_outcomes(total)),
        reporters=reporters,
        by_reason=[build(ReasonReports, reason=item.key, **_outcomes(item)) for item in reasons],
        by_reporter=[
            build(ReporterReports, reporter_id=item.key, **_outcomes(item)) for item in top
        ],
    )


def _outcomes(tally: ReportTally) -> dict[str, int | float | None]:
    return {
        "reports": tally.reports,
        "upheld": tally.upheld,
        "dismissed": tally.dismissed,
        "open": tally.open,
        "precision": tally.precision,
    }


def _reason_rank(reason: str) -> tuple[int, str]:
    known = reason in REPORT_REASONS
    return (REPORT_REASONS.index(reason) if known else len(REPORT_REASONS), reason)


def time_buckets(since: datetime, now: datetime) -> tuple[timedelta, datetime]:
    """Hours for a window up to two days, days up to three months, weeks beyond; the first
    bucket starts on a whole hour, day or Monday (UTC), so the axis reads naturally."""
    span = now - since
    if span <= HOURLY_UP_TO:
        return timedelta(hours=1), since.replace(minute=0, second=0, microsecond=0)
    day = since.replace(hour=0, minute=0, second=0, microsecond=0)
    if span <= DAILY_UP_TO:
        return timedelta(days=1), day
    return timedelta(weeks=1), day - timedelta(days=day.weekday())


def _model_label(
    observations: list[Observation],
    label: str,
    threshold: float | None,
    request: InsightsRequest,
) -> InsightsModelLabel:
    points = evidence.precision_recall(observations, label)
    at_threshold = (
        evidence.precision_recall(observations, label, [threshold])[0]
        if threshold is not None
        else None
    )
    histogram = evidence.score_histogram(observations, label)
    return build(
        InsightsModelLabel,
        label=label,
        threshold=threshold,
        labelled=sum(histogram.approved) + sum(histogram.rejected),
        at_threshold=None if at_threshold is None else _point(at_threshold),
        suggested_threshold=evidence.threshold_for_precision(points, request.target_precision),
        points=[_point(point) for point in points],
        histogram=build(
            ScoreHistogram,
            bins=evidence.HISTOGRAM_BINS,
            approved=list(histogram.approved),
            rejected=list(histogram.rejected),
        ),
    )


def _judgements_seen(observations: list[Observation]) -> list[str]:
    seen = {label for item in observations for label in item.scores}
    return [label for label in TOXICITY_LABELS if label in seen]


def _rule(item: evidence.RuleEvidence) -> InsightsRule:
    return build(
        InsightsRule,
        rule=item.rule,
        kind=item.kind,
        threshold=item.threshold,
        holds=item.holds,
        reviewed=item.reviewed,
        overturned=item.overturned,
        upheld=item.upheld,
        overturn_rate=item.overturn_rate,
        upheld_rate=item.upheld_rate,
    )


def _point(point: evidence.Point) -> ThresholdPoint:
    return build(
        ThresholdPoint,
        threshold=point.threshold,
        precision=point.precision,
        recall=point.recall,
        tp=round(point.tp, 3),
        fp=round(point.fp, 3),
        fn=round(point.fn, 3),
        tn=round(point.tn, 3),
    )


def _judgement_summary(labels: Iterable[Judgement]) -> InsightsLabels:
    by_source: dict[str, int] = {}
    outcomes = {"approved": 0, "rejected": 0}
    total = 0
    for label in labels:
        total += 1
        by_source[label.source] = by_source.get(label.source, 0) + 1
        outcomes[label.outcome] += 1
    return build(InsightsLabels, total=total, by_source=dict(sorted(by_source.items())), **outcomes)


def _bucket_name(bucket: timedelta) -> str:
    return {timedelta(hours=1): "hour", timedelta(days=1): "day"}.get(bucket, "week")


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
