"""What the policy needs to know beyond the text: looked up here, recorded with the decision
so that it can be replayed faithfully.

A batch of comments is looked up at once, a constant number of queries whatever its size;
each comment's context is still the one it would get if moderated on its own, in posting
order, after the batch's earlier comments.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

import policy
from service.comments.decisions import STATUS_AFTER
from service.db.tables import ArticleFlags, AuthorFlags
from service.store.comments import count_author_comments_since, list_author_texts_since
from service.store.context import (
    AuthorComment,
    list_article_flags,
    list_author_flags,
    list_recent_comments_by_author,
)
from service.store.moderation import count_statuses_by_author
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


@dataclass(frozen=True)
class _History:
    flood_count: int
    recent_digests: tuple[str, ...]


class BatchContext:
    """The contexts of a batch. The caller decides the batch in posting order and reports each
    decision (`decided`), so that a comment counts its author's earlier comments of the batch
    as decided, as it would have had each been moderated by a task of its own."""

    def __init__(
        self,
        *,
        statuses: dict[str, dict[str, int]],
        authors: dict[str, AuthorFlags],
        articles: dict[str, ArticleFlags],
        histories: dict[str, _History],
        model: str,
    ) -> None:
        self._statuses = statuses
        self._authors = authors
        self._articles = articles
        self._histories = histories
        self._model = model

    def context_for(self, comment: PendingComment) -> policy.Context:
        subject = comment.subject
        history = self._histories[comment.comment_id]
        return policy.Context(
            author=author_record(
                self._statuses.get(subject.author_id, {}), self._authors.get(subject.author_id)
            ),
            article=article_record(self._articles.get(subject.article_id)),
            flood_count=history.flood_count,
            recent_digests=history.recent_digests,
            language=policy.detect_language(subject.text),
            model=self._model,
        )

    def decided(self, comment: PendingComment, action: str) -> None:
        counts = self._statuses.setdefault(comment.subject.author_id, {})
        status = STATUS_AFTER[action]
        counts[status] = counts.get(status, 0) + 1


def gather_contexts(
    rt: WorkerRuntime,
    comments: Sequence[PendingComment],
    *,
    current: policy.Policy,
    model: str,
    max_author_rows: int = MAX_AUTHOR_ROWS,
) -> BatchContext:
    """The batch's lookups, in a session of their own: `read_contexts`."""
    with rt.db.session() as session:
        return read_contexts(
            session, comments, current=current, model=model, max_author_rows=max_author_rows
        )


def read_contexts(
    session: Session,
    comments: Sequence[PendingComment],
    *,
    current: policy.Policy,
    model: str,
    max_author_rows: int = MAX_AUTHOR_ROWS,
) -> BatchContext:
    """The batch's lookups, four queries whatever its size; only a heavy author's comments
    that their `max_author_rows` newest rows can't settle add queries."""
    flood = timedelta(seconds=current.flood_window_seconds)
    repeat = timedelta(seconds=current.repeat_window_seconds)
    windows: dict[str, tuple[datetime, datetime]] = {}
    for comment in comments:
        since, until = comment.created_at - max(flood, repeat), comment.created_at
        if (known := windows.get(comment.subject.author_id)) is not None:
            since, until = min(since, known[0]), max(until, known[1])
        windows[comment.subject.author_id] = (since, until)
    statuses = count_statuses_by_author(session, author_ids=windows)
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
        statuses=statuses, authors=authors, articles=articles, histories=histories, model=model
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


def author_record(statuses: dict[str, int], flags: AuthorFlags | None) -> dict[str, object]:
    return {
        "approved": statuses.get("approved", 0),
        "rejected": statuses.get("rejected", 0),
        "held": statuses.get("held", 0),
        "always_hold": bool(flags and flags.always_hold),
        "trusted": bool(flags and flags.trusted),
    }


def article_record(flags: ArticleFlags | None) -> dict[str, object]:
    return {
        "premoderated": bool(flags and flags.premoderated),
        "closed": bool(flags and flags.closed),
    }
