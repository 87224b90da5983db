"""The reads behind a batch of automated decisions (workers/context.py): the comments, their
authors' recent comments, their authors' decided counts and the settings that apply, one
query each for the whole batch.

A worker decides several comments per task; asking these per comment was most of what it
spent outside the model.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import BindParameter, and_, bindparam, case, func, literal, select
from sqlalchemy.orm import Session

from service.db.tables import ArticleFlags, AuthorFlags, Comment, CommentRevision, Decision
from service.store.comments import could_be_comment_id


class AuthorComment(NamedTuple):
    id: str
    created_at: datetime
    text: str | None


class PendingRow(NamedTuple):
    """What moderating a comment reads of it."""

    id: str
    article_id: str
    author_id: str
    text: str | None
    status: str
    revision: int
    created_at: datetime
    # When the current revision was made, for an edited comment (None for one never edited).
    revised_at: datetime | None
    # How often a batch that named it was killed while scoring (workers/killed.py).
    kill_count: int


# The statements of the worker's every batch, built once: SQLAlchemy spends more building and
# keying a statement than the database spends running one of these.
_COMMENTS = Comment.__table__
# Comment, author and article ids: each a list of strings, expanded into IN (...).
_IDS: BindParameter[str] = bindparam("ids", expanding=True)
_COMMENTS_BY_ID = select(Comment).where(Comment.id.in_(_IDS))
_REVISIONS = CommentRevision.__table__
_PENDING_BY_ID = (
    select(
        *(_COMMENTS.c[field] for field in PendingRow._fields[:-2]),
        _REVISIONS.c.created_at.label("revised_at"),
        _COMMENTS.c.kill_count,
    )
    .select_from(
        _COMMENTS.outerjoin(
            _REVISIONS,
            and_(
                _REVISIONS.c.comment_id == _COMMENTS.c.id,
                _REVISIONS.c.revision == _COMMENTS.c.revision,
            ),
        )
    )
    .where(_COMMENTS.c.id.in_(_IDS))
)
_NEWEST_FIRST = (_COMMENTS.c.created_at.desc(), _COMMENTS.c.id.desc())
_RANKED = (
    select(
        _COMMENTS.c.author_id,
        _COMMENTS.c.id,
        _COMMENTS.c.created_at,
        _COMMENTS.c.text,
        func.row_number()
        .over(partition_by=_COMMENTS.c.author_id, order_by=_NEWEST_FIRST)
        .label("rank"),
    )
    .where(_COMMENTS.c.author_id.in_(_IDS))
    .where(_COMMENTS.c.created_at >= bindparam("since"))
    .where(_COMMENTS.c.created_at <= bindparam("until"))
    .subquery()
)
_RECENT_BY_AUTHOR = (
    select(_RANKED.c.author_id, _RANKED.c.id, _RANKED.c.created_at, _RANKED.c.text)
    .where(_RANKED.c.rank <= bindparam("limit"))
    .order_by(_RANKED.c.created_at.desc(), _RANKED.c.id.desc())
)
# An author's figures: each of their comments counted once, by its latest approve, reject or
# hold (whoever made it; a deleted comment's decisions stay), all time and within the window.
# The comments named `apart` are also counted one by one, so that a batch can tell what each
# of its own comments already adds (an edited comment's earlier decision).
FIGURE_KEYS = {"approve": "approved", "reject": "rejected", "hold": "held"}
_DECISIONS = Decision.__table__
_LATEST_RANKED = (
    select(
        _COMMENTS.c.author_id,
        _COMMENTS.c.id.label("comment_id"),
        _DECISIONS.c.action,
        _DECISIONS.c.at,
        func.row_number()
        .over(
            partition_by=_DECISIONS.c.comment_id,
            order_by=(_DECISIONS.c.at.desc(), _DECISIONS.c.id.desc()),
        )
        .label("rank"),
    )
    .select_from(_DECISIONS.join(_COMMENTS, _COMMENTS.c.id == _DECISIONS.c.comment_id))
    .where(_COMMENTS.c.author_id.in_(_IDS))
    .where(_DECISIONS.c.action.in_(sorted(FIGURE_KEYS)))
    .subquery()
)
_LATEST = (
    select(
        _LATEST_RANKED.c.author_id,
        case(
            (
                _LATEST_RANKED.c.comment_id.in_(bindparam("apart", expanding=True)),
                _LATEST_RANKED.c.comment_id,
            ),
            else_=literal(""),
        ).label("apart"),
        _LATEST_RANKED.c.action,
        case((_LATEST_RANKED.c.at >= bindparam("since"), 1), else_=0).label("recent"),
    )
    .where(_LATEST_RANKED.c.rank == 1)
    .subquery()
)
_AUTHOR_FIGURES = select(
    _LATEST.c.author_id,
    _LATEST.c.apart,
    _LATEST.c.action,
    func.count(),
    func.sum(_LATEST.c.recent),
).group_by(_LATEST.c.author_id, _LATEST.c.apart, _LATEST.c.action)
_AUTHOR_SETTINGS = select(AuthorFlags).where(AuthorFlags.author_id.in_(_IDS))
_ARTICLE_SETTINGS = select(ArticleFlags).where(ArticleFlags.article_id.in_(_IDS))


def _valid_ids(comment_ids: Iterable[str]) -> list[str]:
    return sorted({comment_id for comment_id in comment_ids if could_be_comment_id(comment_id)})


def list_comments_by_id(session: Session, *, comment_ids: Iterable[str]) -> dict[str, Comment]:
    """The named comments that exist, by id."""
    wanted = _valid_ids(comment_ids)
    if not wanted:
        return {}
    return {comment.id: comment for comment in session.scalars(_COMMENTS_BY_ID, {"ids": wanted})}


def list_pending_rows(session: Session, *, comment_ids: Iterable[str]) -> dict[str, PendingRow]:
    """`list_comments_by_id`, as plain rows of what moderation reads."""
    wanted = _valid_ids(comment_ids)
    if not wanted:
        return {}
    return {
        row.id: PendingRow._make(row) for row in session.execute(_PENDING_BY_ID, {"ids": wanted})
    }


def list_recent_comments_by_author(
    session: Session, *, windows: Mapping[str, tuple[datetime, datetime]], limit: int
) -> dict[str, list[AuthorComment]]:
    """Each author's comments posted within the windows' span (the earliest `since` to the
    latest `until`, both included), newest first (ties by id, as `list_author_texts_since`
    orders them), at most `limit` per author: a flooder's thousands of rows stop at the newest
    `limit`. One span for all keeps the statement the same whatever the batch; a batch's
    windows differ by the seconds between its comments, and callers filter by their own."""
    if not windows:
        return {}
    rows = session.execute(
        _RECENT_BY_AUTHOR,
        {
            "ids": sorted(windows),
            "since": min(since for since, _ in windows.values()),
            "until": max(until for _, until in windows.values()),
            "limit": limit,
        },
    )
    found: dict[str, list[AuthorComment]] = {author_id: [] for author_id in windows}
    for author_id, comment_id, created_at, text in rows:
        found[author_id].append(AuthorComment(comment_id, created_at, text))
    return found


def list_author_flags(session: Session, *, author_ids: Iterable[str]) -> dict[str, AuthorFlags]:
    wanted = sorted(set(author_ids))
    if not wanted:
        return {}
    return {row.author_id: row for row in session.scalars(_AUTHOR_SETTINGS, {"ids": wanted})}


def list_article_flags(session: Session, *, article_ids: Iterable[str]) -> dict[str, ArticleFlags]:
    wanted = sorted(set(article_ids))
    if not wanted:
        return {}
    return {row.article_id: row for row in session.scalars(_ARTICLE_SETTINGS, {"ids": wanted})}


class LatestDecision(NamedTuple):
    """A comment's latest approve, reject or hold, as an author's figures count it."""

    action: str
    recent: bool


def no_figures(window_days: int) -> dict[str, Any]:
    """The figures of an author with nothing decided."""
    return {
        "approved": 0,
        "rejected": 0,
        "held": 0,
        "recent": {"window_days": window_days, "decided": 0, "rejected": 0},
    }


def count_decision(
    figures: Mapping[str, Any], latest: LatestDecision, *, times: int = 1
) -> dict[str, Any]:
    """`figures` with `latest` counted `times` more (-1: taken out); a new mapping."""
    recent = dict(figures["recent"])
    counted = {**figures, "recent": recent}
    key = FIGURE_KEYS[latest.action]
    counted[key] += times
    if latest.recent and latest.action != "hold":
        recent["decided"] += times
        if latest.action == "reject":
            recent["rejected"] += times
    return counted


def author_figures(
    session: Session, *, author_ids: Iterable[str], now: datetime, window_days: int
) -> dict[str, dict[str, Any]]:
    """Each author's `{"approved", "rejected", "held", "recent": {"window_days", "decided",
    "rejected"}}`: their comments counted by each one's latest approve, reject or hold decision
    (any `by`; a deleted comment's rejection still counts), and of those decided (approved or
    rejected) within `window_days` before `now`, how many and how many rejected. Every author
    asked for is in the answer; one query whatever their number."""
    figures, _ = author_figures_apart(
        session, author_ids=author_ids, comment_ids=(), now=now, window_days=window_days
    )
    return figures


def author_figures_apart(
    session: Session,
    *,
    author_ids: Iterable[str],
    comment_ids: Iterable[str],
    now: datetime,
    window_days: int,
) -> tuple[dict[str, dict[str, Any]], dict[str, LatestDecision]]:
    """`author_figures`, and the latest decision of each of `comment_ids` that has one
    (counted in its author's figures as well), in the same query."""
    wanted = sorted(set(author_ids))
    figures = {author_id: no_figures(window_days) for author_id in wanted}
    latest: dict[str, LatestDecision] = {}
    if not wanted:
        return figures, latest
    rows = session.execute(
        _AUTHOR_FIGURES,
        {
            "ids": wanted,
            "apart": sorted(set(comment_ids)),
            "since": now - timedelta(days=window_days),
        },
    )
    for author_id, apart, action, count, recent in rows:
        if apart:
            latest[apart] = LatestDecision(action, bool(recent))
        figures[author_id] = count_decision(
            count_decision(figures[author_id], LatestDecision(action, True), times=int(recent)),
            LatestDecision(action, False),
            times=int(count) - int(recent),
        )
    return figures, latest
