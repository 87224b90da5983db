"""The tuning routes' replies (the audit sample, the insights) as clients see them: pydantic
models, rendered to JSON and documented from the same definitions."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from service.comments.resources import CommentResource
from service.http.bodies import DateTime, Extension, Resource, build

Count = Annotated[int, Field(ge=0)]
Rate = Annotated[float | None, Field(ge=0, le=1)]
"""A share; null when there is nothing to divide by."""
Weighted = Annotated[float, Field(description="Weighted count (samples count 1/rate).")]
SampleLabelName = Literal["fine", "not_fine"]
TOP_REPORTERS = 20


class AuditSampleState(Resource):
    rate: Annotated[float, Field(description="The sampling rate when it was drawn.")]
    sampled_at: DateTime
    label: Literal[SampleLabelName, None]
    labelled_by: str | None
    labelled_at: DateTime | None


class SampleItem(CommentResource, Extension):
    """A comment of the audit sample, as its queue lists it."""

    model_config = ConfigDict(title="SampleItem")
    extends = CommentResource
    max_score: float | None
    sample: AuditSampleState


class SampleQueuePage(Resource):
    items: list[SampleItem]
    next: str | None


class _LabelledComment(Resource):
    comment_id: str
    status: Annotated[
        Literal["approved", "rejected"],
        Field(
            description="Unchanged by a label: to take a comment down, reject it through the "
            "decision route (with override: true)."
        ),
    ]


# pydantic orders fields from the last base class: `comment_id` and `status` come first in
# the JSON, then the AuditSampleState's fields, as the contract always had them.
class SampleLabelled(AuditSampleState, _LabelledComment, Extension):
    """A sampled comment's label, as recorded."""

    extends = AuditSampleState


# GET /v1/moderation/insights


class InsightsLabels(Resource):
    total: Count
    by_source: dict[str, Count]
    approved: Count
    rejected: Count


class InsightsRule(Resource):
    rule: str
    kind: str
    threshold: float | None
    holds: Count
    reviewed: Count
    overturned: Annotated[int, Field(ge=0, description="Held, then approved.")]
    upheld: Annotated[int, Field(ge=0, description="Held, then rejected.")]
    overturn_rate: Rate
    upheld_rate: Rate


class ThresholdPoint(Resource):
    threshold: float
    precision: Rate
    recall: Rate
    tp: Weighted
    fp: Weighted
    fn: Weighted
    tn: Weighted


class ScoreHistogram(Resource):
    bins: Count
    approved: list[Count]
    rejected: list[Count]


class InsightsModelLabel(Resource):
    label: str
    threshold: Annotated[float | None, Field(description="The policy's threshold; null when off.")]
    labelled: Count
    at_threshold: ThresholdPoint | None
    suggested_threshold: Annotated[
        float | None,
        Field(
            description="The lowest threshold whose precision reaches target_precision; "
            "null if none does."
        ),
    ]
    points: list[ThresholdPoint]
    histogram: ScoreHistogram


class VolumeBucket(Resource):
    start: DateTime
    end: DateTime
    holds: Count
    reviewed: Count
    backlog: Annotated[int, Field(ge=0, description="Held at the bucket's end.")]
    oldest_age_seconds: int | None


class HoldVolume(Resource):
    bucket: Literal["hour", "day", "week"]
    series: list[VolumeBucket]


class SampleProgress(Resource):
    rate: float
    sampled: Count
    labelled: Count
    fine: Count
    not_fine: Count


class ShadowAgreement(Resource):
    count: Count
    rate: Rate


class ShadowActionCounts(Resource):
    approve: Count
    hold: Count


class ShadowConfusion(Resource):
    approve: ShadowActionCounts
    hold: ShadowActionCounts


class ShadowChanges(Resource):
    total: Count
    approve_to_hold: Count
    hold_to_approve: Count


class ShadowRuleChanges(Resource):
    rule: str
    real: Count
    shadow: Count
    approve_to_hold: Count
    hold_to_approve: Count


class PolicyComparison(Resource):
    """The shadow policy against the real one, on the comments both decided."""

    since: DateTime
    shadow_versions: dict[str, Count]
    compared: Count
    agreement: ShadowAgreement
    confusion: Annotated[
        ShadowConfusion,
        Field(description="Rows: the real action; columns: the shadow policy's."),
    ]
    changes: ShadowChanges
    by_rule: list[ShadowRuleChanges]
    outcomes: Annotated[
        dict[str, Any],
        Field(
            description="misses: comments moderators rejected that a policy approves; "
            "extra_work: comments moderators approved that a policy holds."
        ),
    ]
    examples: dict[str, Any]


class ReportOutcomes(Resource):
    reports: Count
    upheld: Annotated[int, Field(ge=0, description="Closed when a moderator rejected it.")]
    dismissed: Annotated[int, Field(ge=0, description="Closed when a moderator kept it.")]
    open: Annotated[int, Field(ge=0, description="Not closed yet.")]
    precision: Annotated[
        float | None,
        Field(ge=0, le=1, description="upheld / (upheld + dismissed); null before any is closed."),
    ]


class ReasonReports(Resource):
    reason: str
    reports: Count
    upheld: Count
    dismissed: Count
    open: Count
    precision: Rate


class ReporterReports(Resource):
    reporter_id: str
    reports: Count
    upheld: Count
    dismissed: Count
    open: Count
    precision: Rate


class ReportPrecision(Resource):
    """Readers' reports made in the window, and how moderators closed them."""

    total: ReportOutcomes
    reporters: Annotated[int, Field(ge=0, description="Readers who reported in the window.")]
    by_reason: Annotated[list[ReasonReports], Field(description="In the reasons' list order.")]
    by_reporter: Annotated[
        list[ReporterReports],
        Field(
            description=f"The readers who reported most (at most {TOP_REPORTERS}), most "
            "reports first."
        ),
    ]


class Insights(Resource):
    as_of: DateTime
    since: DateTime
    policy_version: str
    target_precision: float
    labels: Annotated[
        InsightsLabels,
        Field(
            description="Human judgements of comments decided in the window (the latest per "
            "comment): moderator decisions and audit-sample labels."
        ),
    ]
    rules: Annotated[
        list[InsightsRule],
        Field(description="Per rule and threshold: holds, and how moderators judged them."),
    ]
    model_labels: list[InsightsModelLabel]
    volume: HoldVolume
    sample: SampleProgress
    reports: Annotated[
        ReportPrecision,
        Field(
            description="Report precision by reason and by reporter. Reports are never "
            "labels: only moderators' decisions and audit-sample labels are."
        ),
    ]
    shadow: PolicyComparison | None


def policy_comparison(report: dict[str, Any]) -> PolicyComparison:
    """The shadow report (service/tuning/shadow_report.py, which the CLI prints) as a reply."""
    return build(
        PolicyComparison,
        since=report["since"],
        shadow_versions=report["shadow_versions"],
        compared=report["compared"],
        agreement=build(ShadowAgreement, **report["agreement"]),
        confusion=build(
            ShadowConfusion,
            **{
                action: build(ShadowActionCounts, **counts)
                for action, counts in report["confusion"].items()
            },
        ),
        changes=build(ShadowChanges, **report["changes"]),
        by_rule=[build(ShadowRuleChanges, **row) for row in report["by_rule"]],
        outcomes=report["outcomes"],
        examples=report["examples"],
    )
