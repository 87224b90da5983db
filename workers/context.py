"""What the policy needs to know beyond the text: looked up here, recorded with the decision
so that it can be replayed faithfully.

A batch of comments is looked up at once, a constant number of queries whatever its size;
each comment's context is still the one it would get if moderated on its own, in posting
order, after the batch's earlier comments.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

import policy
from service.db.tables import ArticleFlags, AuthorFlags, utcnow
from service.store.comments import count_author_comments_since, list_author_texts_since
from service.store.context import (
    AuthorComment,
    LatestDecision,
    author_figures_apart,
    count_decision,
    list_article_flags,
    list_author_flags,
    list_recent_comments_by_author,
    no_figures,
)
from workers.runtime import WorkerRuntime

# The repeat rule compares against the author's recent texts (their digests); a flooder's
# thousands of copies add nothing past the most recent ones.
MAX_RECENT_TEXTS = 200
# Rows read per author for a batch. Past it (a flooder), what the rows read can't settle is
# asked of the database per comment, as when comments were moderated one at a time.
MAX_AUTHOR_ROWS = 2 * MAX_RECENT_TEXTS


@dataclass(frozen=True)
class PendingComment:
    comment_id: str
    subject: policy.Comment
    created_at: datetime
    # The revision of the text in `subject`: what the decision is recorded against.
    revision: int = field(kw_only=True)
    # When that revision was made, if it is an edit: the decision-latency metric runs from it.
    revised_at: datetime | None = field(default=None, kw_only=True)

    @property
    def posting_key(self) -> tuple[datetime, str]:
        """Posting order: by time, ties by id (as `list_author_texts_since` orders)."""
        return (self.created_at, self.comment_id)

    @property
    def accepted_at(self) -> datetime:
        """When the text being decided was accepted: the edit's time for an edited comment."""
        return self.revised_at or self.created_at

    @functools.cached_property
    def language(self) -> str | None:
        """`policy.detect_language` of the text, detected once: the worker routes the comment
        to a model by it, and its context records it."""
        return policy.detect_language(self.subject.text)


@dataclass(frozen=True)
class _History:
    flood_count: int
    recent_digests: tuple[str, ...]


class BatchContext:
    """The contexts of a batch. The caller decides the batch in posting order and reports each
    decision (`decided`), so that a comment counts its author's earlier comments of the batch
    as decided, as it would have had each been moderated by a task of its own.

    An author's figures leave out the comment being decided: an edited comment's earlier
    decision is not part of its author's record when it is decided again."""

    def __init__(
        self,
        *,
        figures: dict[str, dict[str, Any]],
        latest: dict[str, LatestDecision],
        window_days: int,
        authors: dict[str, AuthorFlags],
        articles: dict[str, ArticleFlags],
        histories: dict[str, _History],
        model: str,
    ) -> None:
        self._figures = figures
        self._latest = latest
        self._window_days = window_days
        self._authors = authors
        self._articles = articles
        self._histories = histories
        self._model = model

    def context_for(
        self, comment: PendingComment, *, model: str | None = None, detect_language: bool = True
    ) -> policy.Context:
        """`model`: the id of the model that scores the comment (the batch's by default).
        Without `detect_language`, the language is left unknown (None)."""
        subject = comment.subject
        history = self._histories[comment.comment_id]
        return policy.Context(
            author=author_record(
                self._figures_without(comment), self._authors.get(subject.author_id)
            ),
            article=article_record(self._articles.get(subject.article_id)),
            flood_count=history.flood_count,
            recent_digests=history.recent_digests,
            language=comment.language if detect_language else None,
            model=self._model if model is None else model,
        )

    def decided(self, comment: PendingComment, action: str) -> None:
        figures = self._figures_without(comment)
        self._latest.pop(comment.comment_id, None)
        self._figures[comment.subject.author_id] = count_decision(
            figures, LatestDecision(action, recent=True)
        )

    def _figures_without(self, comment: PendingComment) -> dict[str, Any]:
        figures = self._figures.get(comment.subject.author_id) or no_figures(self._window_days)
        earlier = self._latest.get(comment.comment_id)
        return figures if earlier is None else count_decision(figures, earlier, times=-1)


def gather_contexts(
    rt: WorkerRuntime,
    comments: Sequence[PendingComment],
    *,
    current: policy.Policy,
    model: str,
    max_author_rows: int = MAX_AUTHOR_ROWS,
    now: datetime | None = None,
) -> BatchContext:
    """The batch's lookups, in a session of their own: `read_contexts`."""
    with rt.db.session() as session:
        return read_contexts(
            session,
            comments,
            current=current,
            model=model,
            max_author_rows=max_author_rows,
            now=now,
        )


def read_contexts(
    session: Session,
    comments: Sequence[PendingComment],
    *,
    current: policy.Policy,
    model: str,
    max_author_rows: int = MAX_AUTHOR_ROWS,
    now: datetime | None = None,
) -> BatchContext:
    """The batch's lookups, four queries whatever its size; only a heavy author's comments
    that their `max_author_rows` newest rows can't settle add queries. `now` (the clock by
    default) ends the window of the authors' recent decisions."""
    flood = timedelta(seconds=current.flood_window_seconds)
    repeat = timedelta(seconds=current.repeat_window_seconds)
    windows: dict[str, tuple[datetime, datetime]] = {}
    for comment in comments:
        since, until = comment.created_at - max(flood, repeat), comment.created_at
        if (known := windows.get(comment.subject.author_id)) is not None:
            since, until = min(since, known[0]), max(until, known[1])
        windows[comment.subject.author_id] = (since, until)
    # Counted over the recent-rejections window even when that rule is off, so that a replay
    # of a policy that switches it on finds the figures stored.
    window_days = current.author.recent_rejections.window_days
    figures, latest = author_figures_apart(
        session,
        author_ids=windows,
        comment_ids=[comment.comment_id for comment in comments],
        now=utcnow() if now is None else now,
        window_days=window_days,
    )
    authors = list_author_flags(session, author_ids=windows)
    articles = list_article_flags(
        session, article_ids=[comment.subject.article_id for comment in comments]
    )
    rows = list_recent_comments_by_author(session, windows=windows, limit=max_author_rows)
    digests = _Digests()
    histories = {
        comment.comment_id: _history(
            session,
            comment,
            rows[comment.subject.author_id],
            complete=len(rows[comment.subject.author_id]) < max_author_rows,
            flood=flood,
            repeat=repeat,
            digests=digests,
        )
        for comment in comments
    }
    return BatchContext(
        figures=figures,
        latest=latest,
        window_days=window_days,
        authors=authors,
        articles=articles,
        histories=histories,
        model=model,
    )


class _Digests:
    """Each text's digest, computed once per batch: a batch of one author's comments shares
    most of its recent texts."""

    def __init__(self) -> None:
        self._known: dict[str, str] = {}

    def of(self, comment_id: str, text: str) -> str:
        digest = self._known.get(comment_id)
        if digest is None:
            digest = self._known[comment_id] = policy.text_digest(policy.normalize(text))
        return digest


def _history(
    session: Session,
    comment: PendingComment,
    rows: Sequence[AuthorComment],
    *,
    complete: bool,
    flood: timedelta,
    repeat: timedelta,
    digests: _Digests,
) -> _History:
    """The flood count and recent digests, from the author's rows when they settle them.

    `rows` are newest first; when the cap cut them short (`complete` false), the rows left out
    are all older than the oldest read, so a window that starts before it was read whole.
    """
    key, author_id = comment.posting_key, comment.subject.author_id
    oldest = rows[-1].created_at if rows else None
    flood_since = comment.created_at - flood
    if complete or (oldest is not None and oldest < flood_since):
        flood_count = sum(
            1 for row in rows if row.created_at >= flood_since and (row.created_at, row.id) <= key
        )
    else:
        flood_count = count_author_comments_since(
            session,
            author_id=author_id,
            since=flood_since,
            up_to=comment.created_at,
            up_to_id=comment.comment_id,
        )
    repeat_since = comment.created_at - repeat
    # The comment's own row never counts: an edited comment's text is its latest revision
    # (the earlier ones are in `comment_revisions`, which this never reads), and rewriting
    # one's own comment is not repeating it.
    earlier = [
        (row.id, row.text)
        for row in rows
        if row.text is not None
        and row.id != comment.comment_id
        and row.created_at >= repeat_since
        and (row.created_at, row.id) < key
    ][:MAX_RECENT_TEXTS]
    if (
        complete
        or len(earlier) == MAX_RECENT_TEXTS
        or (oldest is not None and oldest < repeat_since)
    ):
        recent = tuple(digests.of(comment_id, text) for comment_id, text in earlier)
    else:
        texts = list_author_texts_since(
            session,
            author_id=author_id,
            since=repeat_since,
            before=comment.created_at,
            before_id=comment.comment_id,
            limit=MAX_RECENT_TEXTS,
        )
        recent = tuple(policy.text_digest(policy.normalize(text)) for text in texts)
    return _History(flood_count, recent)


def author_record(figures: Mapping[str, Any], flags: AuthorFlags | None) -> dict[str, object]:
    """The context's `author`: the figures (`service.store.context.author_figures`) and the
    moderators' flags, as `policy.authors` reads them."""
    return {
        "approved": figures["approved"],
        "rejected": figures["rejected"],
        "held": figures["held"],
        "always_hold": bool(flags and flags.always_hold),
        "trusted": bool(flags and flags.trusted),
        "recent": dict(figures["recent"]),
    }


def article_record(flags: ArticleFlags | None) -> dict[str, object]:
    return {
        "premoderated": bool(flags and flags.premoderated),
        "closed": bool(flags and flags.closed),
    }
