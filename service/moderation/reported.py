"""What the reported queue shows of a comment's open reports: counts, the latest reporters and
what they wrote, and any notice of illegal content."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from service.comments.resources import isoformat
from service.db.tables import Comment, Report
from service.http.bodies import build
from service.moderation.resources import REPORT_SAMPLE, LegalNotice, ReportDetail, Reports
from service.store.moderation import list_latest_open_reports
from service.store.reports import count_open_reports_by_reason


def report_summaries(session: Session, comments: Sequence[Comment]) -> dict[str, Reports]:
    """Each comment's open reports, in four queries for the whole page."""
    ids = [comment.id for comment in comments]
    by_reason = count_open_reports_by_reason(session, comment_ids=ids)
    latest = list_latest_open_reports(
        session, comment_ids=ids, selection="any", limit=REPORT_SAMPLE
    )
    detailed = list_latest_open_reports(
        session, comment_ids=ids, selection="detailed", limit=REPORT_SAMPLE
    )
    legal = list_latest_open_reports(
        session, comment_ids=ids, selection="legal", limit=REPORT_SAMPLE
    )
    return {
        comment.id: build(
            Reports,
            total=sum(by_reason[comment.id].values()),
            by_reason=dict(sorted(by_reason[comment.id].items())),
            reporters=[report.reporter_id for report in latest[comment.id]],
            details=[_detail(report) for report in detailed[comment.id]],
            legal_notices=[_notice(report) for report in legal[comment.id]],
            hidden=comment.status == "hidden",
        )
        for comment in comments
    }


def _detail(report: Report) -> ReportDetail:
    return build(
        ReportDetail, reason=report.reason, detail=report.detail, at=isoformat(report.created_at)
    )


def _notice(report: Report) -> LegalNotice:
    return build(
        LegalNotice,
        report_id=report.id,
        legal_ground=report.legal_ground,
        explanation=report.explanation,
        good_faith=report.good_faith,
        at=isoformat(report.created_at),
    )
