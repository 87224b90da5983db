"""Filing and reading readers' reports: the domain behind the report routes.

A report is filed in one transaction that holds the comment's row lock: the repeat check,
the re-check that the comment is still published, the report, the counts, the reported
queue, a hide and the outbox rows. So of concurrent reports that cross `hide_after`, exactly
one sees the comment still approved and hides it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from policy.messages import DEFAULT_LOCALE, catalogue
from policy.sections import ReportsSettings
from service.authors.sanctions import check_author
from service.comments.resources import comment_resource
from service.db.engine import Database
from service.db.tables import Comment, utcnow
from service.errors import ProblemError
from service.events import COMMENT_DECIDED, COMMENT_REPORTED, write_events
from service.reports.resources import report_resource
from service.reports.schemas import NewReport
from service.store.comments import get_comment_or_none
from service.store.decisions import add_decision, list_decisions, set_comment_status
from service.store.moderation import count_statuses_by_author, lock_comment_or_none
from service.store.reports import (
    OpenCounts,
    add_report,
    count_open_reports,
    count_open_reports_by_reason,
    count_report_change,
    find_report,
    get_report_or_none,
    queue_reported_comment,
)

APPROVED = "approved"
HIDDEN = "hidden"


@dataclass(frozen=True)
class Filed:
    """The report (new, or the reader's earlier one: `created` False), what it did to the
    comment, and the outbox rows to deliver once committed."""

    resource: dict[str, Any]
    created: bool
    queued: bool = False
    hidden: bool = False
    event_ids: list[str] = field(default_factory=list)


def check_reportable(db: Database, *, reporter_id: str, comment_id: str) -> bool:
    """Whether the comment is the reporter's own. 404 unless it is theirs or another reader's
    published one: a reader learns nothing of comments they can't see."""
    with db.session() as session:
        comment = get_comment_or_none(session, comment_id=comment_id)
        if comment is None or (comment.author_id != reporter_id and comment.status != APPROVED):
            raise not_found("No such comment.")
        return comment.author_id == reporter_id


def file_report(
    db: Database,
    *,
    reporter_id: str,
    comment_id: str,
    new: NewReport,
    policy: ReportsSettings,
    events: Collection[str],
    admit: Callable[[str], int],
    now: datetime | None = None,
    erase_key: bytes | None = None,
    locale: str = DEFAULT_LOCALE,
) -> Filed:
    """File the report, or answer with the reader's earlier one. Refusals in the contract's
    order: the reporter's ban or suspension (403 author_banned, author_suspended; `erase_key`
    finds an erased reporter's), the comment no longer published (409), then the flood
    limit (429; `admit` gives the seconds to wait, 0 to go ahead, and counts the report).
    `locale`: the language of the hiding decision's reason, as stored."""
    now = now or utcnow()
    try:
        with db.session() as session:
            return _file(
                session,
                reporter_id,
                comment_id,
                new,
                policy,
                events,
                admit,
                now,
                erase_key,
                locale=locale,
            )
    except IntegrityError:
        # The same reader's concurrent report won the unique index: answer with it.
        with db.session() as session:
            existing = find_report(session, comment_id=comment_id, reporter_id=reporter_id)
            if existing is None:
                raise
            return Filed(report_resource(existing), created=False)


def _file(
    session: Session,
    reporter_id: str,
    comment_id: str,
    new: NewReport,
    policy: ReportsSettings,
    events: Collection[str],
    admit: Callable[[str], int],
    now: datetime,
    erase_key: bytes | None,
    *,
    locale: str,
) -> Filed:
    comment = lock_comment_or_none(session, comment_id=comment_id)
    existing = find_report(session, comment_id=comment_id, reporter_id=reporter_id)
    if existing is not None:
        return Filed(report_resource(existing), created=False)
    check_author(session, author_id=reporter_id, now=now, key=erase_key, may_not="report comments")
    if comment is None or comment.status != APPROVED:
        raise ProblemError(
            409, "not_reportable", "This comment is no longer published, so it can't be reported."
        )
    retry_after = admit(reporter_id)
    if retry_after:
        raise ProblemError(
            429,
            "rate_limited",
            "Too many reports in a short time; wait before reporting again.",
            headers={"Retry-After": str(retry_after)},
            retry_after=retry_after,
        )
    approved = count_statuses_by_author(session, author_ids=[reporter_id])[reporter_id]
    report = add_report(
        session,
        now=now,
        comment_id=comment_id,
        reporter_id=reporter_id,
        reason=new.reason,
        detail=new.detail,
        legal_ground=new.legal_ground,
        explanation=new.explanation,
        good_faith=new.good_faith,
        counts_toward_hide=approved.get(APPROVED, 0) >= policy.min_reporter_approved,
    )
    counts = count_open_reports(session, comment_id=comment_id)
    queued = policy.enabled and (counts.reporters >= policy.review_after or counts.legal_notice)
    hidden = _crosses_hide_after(policy, counts) and comment.status == APPROVED
    if hidden:
        # Its version + 1 with the status.
        _hide(session, comment, counts, policy, now, locale=locale)
    else:
        count_report_change(session, comment=comment)
    if queued or hidden:
        queue_reported_comment(session, comment=comment, now=now)
    event_ids = _announce(session, comment, report.id, hidden, events, now)
    return Filed(
        report_resource(report),
        created=True,
        queued=queued or hidden,
        hidden=hidden,
        event_ids=event_ids,
    )


HIDE_AFTER = "reports.hide_after"


def _crosses_hide_after(policy: ReportsSettings, counts: OpenCounts) -> bool:
    return policy.enabled and policy.hide_after is not None and counts.counted >= policy.hide_after


def _hide(
    session: Session,
    comment: Comment,
    counts: OpenCounts,
    policy: ReportsSettings,
    now: datetime,
    *,
    locale: str,
) -> None:
    evidence = {"count": counts.counted, "hide_after": policy.hide_after}
    set_comment_status(session, comment=comment, status=HIDDEN, now=now)
    add_decision(
        session,
        comment_id=comment.id,
        now=now,
        by="reports",
        action="hide",
        reasons=[
            {
                "kind": "reports",
                "rule": HIDE_AFTER,
                "message": catalogue(locale).reason("reports", HIDE_AFTER, evidence),
                **evidence,
            }
        ],
    )


def _announce(
    session: Session,
    comment: Comment,
    report_id: str,
    hidden: bool,
    events: Collection[str],
    now: datetime,
) -> list[str]:
    """comment.reported (counts by reason; never who reported it or what they wrote), and
    comment.decided when the report hid the comment."""
    by_reason = count_open_reports_by_reason(session, comment_ids=[comment.id])[comment.id]
    reported = {
        "comment_id": comment.id,
        "version": comment.version,
        "report_id": report_id,
        "counts": by_reason,
        "total": sum(by_reason.values()),
        "hidden": hidden,
    }
    written = write_events(session, events, COMMENT_REPORTED, [(comment.id, reported)], now=now)
    event_ids = list(written.values())
    if hidden:
        resource = comment_resource(comment, list_decisions(session, comment_id=comment.id))
        decided = write_events(session, events, COMMENT_DECIDED, [(comment.id, resource)], now=now)
        event_ids += decided.values()
    return event_ids


def read_report(
    db: Database, *, reader_id: str, is_moderator: bool, comment_id: str, report_id: str
) -> dict[str, Any]:
    """The report, for its reporter and the moderators; 404 alike for missing and not yours."""
    with db.session() as session:
        report = get_report_or_none(session, report_id=report_id)
        if (
            report is None
            or report.comment_id != comment_id
            or not (is_moderator or report.reporter_id == reader_id)
        ):
            raise not_found("No such report.")
        return report_resource(report)


def not_found(detail: str) -> ProblemError:
    return ProblemError(404, "not_found", detail)
