"""Reported comments for the moderation tests without the reports route: the report rows are
written by the store (`add_report`), and the comment enters the reported queue, or is hidden,
as the intake does it (`reported_at`, `version + 1`, a decision row by reports)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select

from service.db.tables import Comment, Report, utcnow
from service.store.decisions import add_decision
from service.store.reports import add_report
from tests.support.api import Api
from tests.support.holds import database, decide_automatically, make_comment


def report(
    api: Api,
    comment_id: str,
    *,
    reporter: str,
    reason: str = "offensive",
    detail: str | None = None,
    legal_ground: str | None = None,
    explanation: str | None = None,
    at: datetime | None = None,
) -> str:
    """An open report; the comment enters the reported queue (if not already there)."""
    now = at or utcnow()
    illegal = reason == "illegal"
    with database(api).session() as session:
        saved = add_report(
            session,
            now=now,
            comment_id=comment_id,
            reporter_id=reporter,
            reason=reason,
            detail=detail,
            legal_ground=legal_ground if illegal else None,
            explanation=explanation if illegal else None,
            good_faith=True if illegal else None,
            counts_toward_hide=True,
        )
        comment = session.get(Comment, comment_id)
        assert comment is not None
        if comment.reported_at is None:
            comment.reported_at = now
        comment.version += 1
        return saved.id


def hide(api: Api, comment_id: str) -> None:
    """Take an approved comment down as `reports.hide_after` does."""
    with database(api).session() as session:
        comment = session.get(Comment, comment_id)
        assert comment is not None and comment.status == "approved"
        count = len(
            list(
                session.scalars(
                    select(Report.id).where(
                        Report.comment_id == comment_id, Report.status == "open"
                    )
                )
            )
        )
        now = utcnow()
        add_decision(
            session,
            comment_id=comment_id,
            now=now,
            by="reports",
            action="hide",
            reasons=[
                {
                    "kind": "reports",
                    "rule": "reports.hide_after",
                    "message": f"Hidden after {count} readers reported it.",
                    "count": count,
                    "hide_after": count,
                }
            ],
            scores={},
            context={},
        )
        comment.status = "hidden"
        comment.version += 1
        comment.decided_at = now


def reported_comment(
    api: Api,
    *,
    reporters: Sequence[str] = ("reader-2",),
    reason: str = "offensive",
    hidden: bool = False,
    author: str = "reader-1",
    article: str = "news-1",
    minutes_ago: float = 0,
    text: str = "A published comment.",
) -> str:
    """An approved comment written and reported `minutes_ago` (oldest reporter first), hidden
    if asked; it is in the reported queue."""
    at = utcnow() - timedelta(minutes=minutes_ago)
    comment_id = make_comment(api, text=text, author=author, article=article, at=at)
    decide_automatically(api, comment_id, action="approve")
    for index, reporter in enumerate(reporters):
        report(
            api,
            comment_id,
            reporter=reporter,
            reason=reason,
            at=at + timedelta(milliseconds=index),
            legal_ground="Defamation law." if reason == "illegal" else None,
            explanation="It names a person falsely." if reason == "illegal" else None,
        )
    if hidden:
        hide(api, comment_id)
    return comment_id


def version_of(api: Api, comment_id: str) -> int:
    with database(api).session() as session:
        comment = session.get(Comment, comment_id)
        assert comment is not None
        return comment.version


def reports_of(api: Api, comment_id: str) -> list[Report]:
    with database(api).session() as session:
        return list(
            session.scalars(
                select(Report)
                .where(Report.comment_id == comment_id)
                .order_by(Report.created_at, Report.id)
            )
        )
