"""One view of a reader, for moderators (GET /v1/moderation/authors/{author_id}): their
comments counted by status, the first and the last, how the policy treats them and why, their
sanctions, the moderators' notes, the reports they made and how many were upheld, and a page
of their comments with the policy's decision on each.

A fixed number of statements, however much the author wrote. An author nobody has seen
has an empty record, never a 404: a site may sanction an account before its first comment.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from policy.authors import author_standing
from policy.sections import AuthorSettings
from service.authors.resources import (
    AuthorView,
    RecordComment,
    RecordComments,
    ReportsMade,
    StatusCounts,
    Trust,
    note_resource,
)
from service.authors.sanction_schemas import sanction_resource
from service.authors.sanctions import current_sanction
from service.authors.schemas import COMMENTS_PAGE, encode_comments_cursor
from service.comments.resources import comment_fields, isoformat
from service.db.engine import Database
from service.db.tables import Comment, Decision, utcnow
from service.http.bodies import build
from service.settings import Settings
from service.store.authors import (
    count_reports_by_status,
    list_author_comments,
    list_notes,
    tally_author_comments,
)
from service.store.context import author_figures
from service.store.flags import get_author_flags_or_none
from service.store.moderation import list_decisions_for
from service.store.sanctions import list_sanctions


def read_author_record(
    db: Database,
    *,
    author_id: str,
    before: tuple[datetime, str] | None,
    author_settings: AuthorSettings,
    settings: Settings,
    now: datetime | None = None,
    locale: str | None = None,
) -> AuthorView:
    """The record, with the page of comments that starts after `before` (the created_at and
    id of the previous page's last comment; None: the newest). `locale`: the language of the
    trust message (default: MODERATION_DEFAULT_LOCALE)."""
    now = now or utcnow()
    with db.session() as session:
        tally = tally_author_comments(session, author_id=author_id)
        found = list_author_comments(
            session, author_id=author_id, before=before, limit=COMMENTS_PAGE + 1
        )
        page = found[:COMMENTS_PAGE]
        decisions = list_decisions_for(session, comment_ids=[comment.id for comment in page])
        cursor = None
        if len(found) > COMMENTS_PAGE:
            last = page[-1]
            cursor = encode_comments_cursor(author_id, (last.created_at, last.id))
        current = current_sanction(session, author_id, now, settings)
        return build(
            AuthorView,
            author_id=author_id,
            counts=build(
                StatusCounts,
                **{status: tally.by_status.get(status, 0) for status in StatusCounts.model_fields},
            ),
            first_comment_at=isoformat(tally.first_at),
            last_comment_at=isoformat(tally.last_at),
            trust=_trust(
                session,
                author_id=author_id,
                author_settings=author_settings,
                now=now,
                locale=locale or settings.default_locale,
            ),
            sanction=sanction_resource(current, now) if current is not None else None,
            sanctions=[
                sanction_resource(row, now) for row in list_sanctions(session, author_id=author_id)
            ],
            notes=[note_resource(row) for row in list_notes(session, author_id=author_id)],
            reports=_reports(count_reports_by_status(session, reporter_id=author_id)),
            comments=build(
                RecordComments,
                items=[_comment(comment, decisions[comment.id]) for comment in page],
                next_cursor=cursor,
            ),
        )


def _trust(
    session: Session,
    *,
    author_id: str,
    author_settings: AuthorSettings,
    now: datetime,
    locale: str,
) -> Trust:
    """The author's standing under the policy in force, from the figures the worker would
    gather for their next comment and the flags moderators set."""
    figures = author_figures(
        session, author_ids=[author_id], now=now, window_days=_window_days(author_settings)
    ).get(author_id, {})
    flags = get_author_flags_or_none(session, author_id=author_id)
    standing = author_standing(
        author_settings,
        {
            **figures,
            "always_hold": bool(flags and flags.always_hold),
            "trusted": bool(flags and flags.trusted),
        },
        locale=locale,
    )
    return build(
        Trust,
        state=standing.state,
        rule=standing.rule,
        message=standing.message,
        figures=dict(figures),
    )


def _window_days(author_settings: AuthorSettings) -> int:
    return author_settings.recent_rejections.window_days


def _reports(by_status: Mapping[str, int]) -> ReportsMade:
    upheld, dismissed = by_status.get("upheld", 0), by_status.get("dismissed", 0)
    decided = upheld + dismissed
    return build(
        ReportsMade,
        made=sum(by_status.values()),
        open=by_status.get("open", 0),
        upheld=upheld,
        dismissed=dismissed,
        precision=upheld / decided if decided else None,
    )


def _comment(comment: Comment, decisions: list[Decision]) -> RecordComment:
    # The comment resource's own rendering: its `decision` is the policy's on this revision.
    fields: dict[str, Any] = comment_fields(comment, decisions)
    return build(
        RecordComment,
        id=comment.id,
        article_id=comment.article_id,
        parent_id=comment.parent_id,
        status=comment.status,
        text=comment.text,
        revision=comment.revision,
        created_at=isoformat(comment.created_at),
        decision=fields["decision"],
    )
