"""What the policy needs to know beyond the text: looked up here, recorded with the decision
so that it can be replayed faithfully."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

import policy
from service import store
from workers.runtime import WorkerRuntime

# The repeat rule compares against the author's recent texts (their digests); a flooder's
# thousands of copies add nothing past the most recent ones.
MAX_RECENT_TEXTS = 200


def gather_context(
    rt: WorkerRuntime,
    subject: policy.Comment,
    *,
    comment_id: str,
    created_at: datetime,
    current: policy.Policy,
    model: str,
) -> policy.Context:
    with rt.db.session() as session:
        statuses = store.count_author_statuses(session, author_id=subject.author_id)
        flood_count = store.count_author_comments_since(
            session,
            author_id=subject.author_id,
            since=created_at - timedelta(seconds=current.flood_window_seconds),
            up_to=created_at,
            up_to_id=comment_id,
        )
        recent = store.list_author_texts_since(
            session,
            author_id=subject.author_id,
            since=created_at - timedelta(seconds=current.repeat_window_seconds),
            before=created_at,
            before_id=comment_id,
            limit=MAX_RECENT_TEXTS,
        )
        author = author_record(session, subject.author_id, statuses)
        article = article_record(session, subject.article_id)
    return policy.Context(
        author=author,
        article=article,
        flood_count=flood_count,
        recent_digests=tuple(policy.text_digest(policy.normalize(text)) for text in recent),
        language=policy.detect_language(subject.text),
        model=model,
    )


def author_record(session: Session, author_id: str, statuses: dict[str, int]) -> dict[str, object]:
    settings = store.get_author_settings_or_none(session, author_id=author_id)
    return {
        "approved": statuses.get("approved", 0),
        "rejected": statuses.get("rejected", 0),
        "held": statuses.get("held", 0),
        "always_hold": bool(settings and settings.always_hold),
        "trusted": bool(settings and settings.trusted),
    }


def article_record(session: Session, article_id: str) -> dict[str, object]:
    settings = store.get_article_settings_or_none(session, article_id=article_id)
    return {
        "premoderated": bool(settings and settings.premoderated),
        "closed": bool(settings and settings.closed),
    }
