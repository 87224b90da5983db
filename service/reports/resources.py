"""The report resource, as its reporter and the moderators read it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from service.comments.resources import isoformat
from service.db.tables import Report
from service.http.bodies import DateTime, Resource, build
from service.reports.reasons import ReportReason

ReportStatus = Literal["open", "upheld", "dismissed", "withdrawn"]


class ReportResource(Resource):
    model_config = ConfigDict(title="Report")
    id: str
    comment_id: str
    reason: ReportReason
    detail: str | None
    legal_ground: str | None = Field(description="With reason illegal: the law it breaks.")
    explanation: str | None = Field(description="With reason illegal: why it is illegal.")
    good_faith: bool | None = Field(description="With reason illegal: true.")
    status: ReportStatus = Field(
        description="open until a moderator decides the comment: upheld (rejected) or "
        "dismissed (kept); withdrawn when its author deleted the comment first."
    )
    created_at: DateTime
    resolved_at: DateTime | None


def report_resource(report: Report) -> dict[str, Any]:
    return build(
        ReportResource,
        id=report.id,
        comment_id=report.comment_id,
        reason=report.reason,
        detail=report.detail,
        legal_ground=report.legal_ground,
        explanation=report.explanation,
        good_faith=report.good_faith,
        status=report.status,
        created_at=isoformat(report.created_at),
        resolved_at=isoformat(report.resolved_at),
    ).model_dump(mode="json")
