"""Readers' reports: one row per reader and comment, open until a moderator closes them."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from service.db.tables import Comment, Report

_REPORT_ID = re.compile(r"rep_[0-9a-f]{32}")
OPEN = "open"
UPHELD = "upheld"
DISMISSED = "dismissed"
# Closed because the comment's author deleted it: neither a moderator's yes nor no, so it
# counts in no precision.
WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class OpenCounts:
    """A comment's open reports: by how many readers, how many of them count toward
    `hide_after`, and whether one is a notice of illegal content."""

    reporters: int
    counted: int
    legal_notice: bool


def new_report_id() -> str:
    return "rep_" + uuid.uuid4().hex


def could_be_report_id(value: str) -> bool:
    """Shaped like `new_report_id`'s ids: anything else (a NUL PostgreSQL can't even take)
    is no report without asking the database."""
    return _REPORT_ID.fullmatch(value) is not None


def get_report_or_none(session: Session, *, report_id: str) -> Report | None:
    if not could_be_report_id(report_id):
        return None
    return session.get(Report, report_id)


def find_report(session: Session, *, comment_id: str, reporter_id: str) -> Report | None:
    return session.scalars(
        select(Report).where(Report.comment_id == comment_id, Report.reporter_id == reporter_id)
    ).one_or_none()


def add_report(session: Session, *, now: datetime, **fields: Any) -> Report:
    """A new open report; the unique (comment, reporter) index refuses a second one."""
    report = Report(id=new_report_id(), status=OPEN, created_at=now, **fields)
    session.add(report)
    session.flush()
    return report


def count_open_reports(session: Session, *, comment_id: str) -> OpenCounts:
    reporters, counted, illegal = session.execute(
        select(
            func.count(),
            func.count().filter(Report.counts_toward_hide.is_(True)),
            func.count().filter(Report.reason == "illegal"),
        ).where(Report.comment_id == comment_id, Report.status == OPEN)
    ).one()
    return OpenCounts(reporters=reporters, counted=counted, legal_notice=bool(illegal))


def count_open_reports_by_reason(
    session: Session, *, comment_ids: Sequence[str]
) -> dict[str, dict[str, int]]:
    found: dict[str, dict[str, int]] = {comment_id: {} for comment_id in comment_ids}
    if comment_ids:
        rows = session.execute(
            select(Report.comment_id, Report.reason, func.count())
            .where(Report.comment_id.in_(comment_ids), Report.status == OPEN)
            .group_by(Report.comment_id, Report.reason)
        )
        for comment_id, reason, count in rows:
            found[comment_id][reason] = count
    return found


def list_open_reports(session: Session, *, comment_ids: Sequence[str]) -> dict[str, list[Report]]:
    """Each comment's open reports, newest first."""
    found: dict[str, list[Report]] = {comment_id: [] for comment_id in comment_ids}
    if comment_ids:
        rows = session.scalars(
            select(Report)
            .where(Report.comment_id.in_(comment_ids), Report.status == OPEN)
            .order_by(Report.created_at.desc(), Report.id.desc())
        )
        for report in rows:
            found[report.comment_id].append(report)
    return found


def has_open_reports(session: Session, *, comment_id: str) -> bool:
    return (
        session.scalar(
            select(Report.id).where(Report.comment_id == comment_id, Report.status == OPEN).limit(1)
        )
        is not None
    )


def close_open_reports(
    session: Session,
    *,
    comment_id: str,
    outcome: str,
    moderator_id: str | None,
    now: datetime,
) -> list[Report]:
    """Close the comment's open reports as `upheld`, `dismissed` (by a moderator) or
    `withdrawn` (the author deleted the comment: no moderator); the reports closed."""
    ids = list(
        session.scalars(
            select(Report.id)
            .where(Report.comment_id == comment_id, Report.status == OPEN)
            .order_by(Report.created_at, Report.id)
        )
    )
    if not ids:
        return []
    session.execute(
        update(Report)
        .where(Report.id.in_(ids), Report.status == OPEN)
        .values(status=outcome, resolved_at=now, resolved_by=moderator_id)
        .execution_options(synchronize_session=False)
    )
    return list(
        session.scalars(
            select(Report)
            .where(Report.id.in_(ids))
            .order_by(Report.created_at, Report.id)
            .execution_options(populate_existing=True)
        )
    )


def count_report_change(session: Session, *, comment: Comment) -> None:
    """A new report changes the comment as a status change does: its version goes up."""
    comment.version += 1
    session.flush()


def queue_reported_comment(session: Session, *, comment: Comment, now: datetime) -> None:
    """Into the reported queue, keeping the moment it first entered."""
    if comment.reported_at is None:
        comment.reported_at = now
        session.flush()


def erase_report_text_before(session: Session, *, before: datetime, limit: int) -> int:
    """Erase what readers wrote in up to `limit` reports closed before `before` (`detail`,
    and a legal notice's `explanation`); the reason, the legal ground cited and the outcome
    stay, so precision by reason and reporter is still measured. Open reports keep their
    words: they are what the moderator has to read. Returns how many were erased."""
    ids = list(
        session.scalars(
            select(Report.id)
            .where(
                Report.status != OPEN,
                Report.resolved_at < before,
                (Report.detail.is_not(None) | Report.explanation.is_not(None)),
            )
            .limit(limit)
        )
    )
    if ids:
        session.execute(
            update(Report).where(Report.id.in_(ids)).values(detail=None, explanation=None)
        )
    return len(ids)


def erase_report_text(session: Session, *, comment_ids: Sequence[str]) -> None:
    """Erase what readers wrote in every report of these comments: a report's words follow
    the text they are about (they often quote it)."""
    if comment_ids:
        session.execute(
            update(Report)
            .where(
                Report.comment_id.in_(comment_ids),
                (Report.detail.is_not(None) | Report.explanation.is_not(None)),
            )
            .values(detail=None, explanation=None)
            .execution_options(synchronize_session="fetch")
        )
