"""An author's data as one JSON document (`AuthorExport`), produced in chunks: each list is
read a page at a time (service/store/exports.py), each page in its own short transaction,
and written out before the next is read, so neither the document nor the author's history is
ever held in memory whole.

What it holds: their comments with every revision's text and every decision (by, action,
time, reasons as kind/rule/message, reason code, the explanation they were given), the
reports they made, their sanctions and the notes about them (text and time). What it never
holds: a moderator's id (deciding, sanctioning, writing a note or resolving a report), a
moderator's internal `reason`, or any other reader's id.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from service.authors.data_schemas import export_reason
from service.comments.resources import isoformat
from service.db.engine import Database
from service.db.tables import AuthorNote, Comment, CommentRevision, Decision, Report, Sanction
from service.http.auth import Principal
from service.store import exports as store
from service.store.moderation import add_audit_entry

PAGE = 200

Row = TypeVar("Row")


def audit_export(db: Database, *, moderator: Principal, author_id: str, now: datetime) -> None:
    """The export is audited before a byte of it is sent."""
    with db.session() as session:
        add_audit_entry(
            session, now=now, moderator_id=moderator.sub, action="export", author_id=author_id
        )


def export_chunks(db: Database, *, author_id: str, now: datetime) -> Iterator[bytes]:
    """The document, in chunks of at most a page of rows each."""
    head = {"author_id": author_id, "exported_at": isoformat(now)}
    yield json.dumps(head)[:-1].encode()
    yield b', "comments": ['
    yield from _items(db, lambda s, after: _comment_page(s, author_id, after))
    yield b'], "reports": ['
    yield from _items(
        db,
        lambda s, after: _simple_page(
            store.list_reports_page(s, reporter_id=author_id, after=after, limit=PAGE), _report
        ),
    )
    yield b'], "sanctions": ['
    yield from _items(
        db,
        lambda s, after: _simple_page(
            store.list_sanctions_page(s, author_id=author_id, after=after, limit=PAGE), _sanction
        ),
    )
    yield b'], "notes": ['
    yield from _items(db, lambda s, after: _note_page(s, author_id, after))
    yield b"]}"


Page = tuple[list[dict[str, Any]], Any]
"""A page's items, and the cursor after its last row (None: it was the last page)."""


def _items(db: Database, read: Callable[[Session, Any], Page]) -> Iterator[bytes]:
    after: Any = None
    first = True
    while True:
        with db.session() as session:
            items, after = read(session, after)
        if items:
            chunk = ", ".join(json.dumps(item, ensure_ascii=False) for item in items)
            yield ((", " if not first else "") + chunk).encode()
            first = False
        if after is None:
            return


def _cursor(rows: Sequence[Any]) -> Any:
    if len(rows) < PAGE:
        return None
    return (rows[-1].created_at, rows[-1].id)


def _simple_page(rows: Sequence[Row], render: Callable[[Row], dict[str, Any]]) -> Page:
    return [render(row) for row in rows], _cursor(rows)


def _comment_page(session: Session, author_id: str, after: Any) -> Page:
    comments = store.list_comments_page(session, author_id=author_id, after=after, limit=PAGE)
    ids = [comment.id for comment in comments]
    revisions = store.list_revisions_of(session, comment_ids=ids)
    decisions = store.list_decisions_of(session, comment_ids=ids)
    items = [
        _comment(comment, revisions.get(comment.id, []), decisions.get(comment.id, []))
        for comment in comments
    ]
    return items, _cursor(comments)


def _note_page(session: Session, author_id: str, after: Any) -> Page:
    notes = store.list_notes_page(session, author_id=author_id, after=after, limit=PAGE)
    return [_note(note) for note in notes], (notes[-1].id if len(notes) == PAGE else None)


def _comment(
    comment: Comment, revisions: Sequence[CommentRevision], decisions: Sequence[Decision]
) -> dict[str, Any]:
    # An edited comment has a row per revision, the current one included; an unedited one
    # has its one revision on the comment row.
    texts = [
        {"revision": row.revision, "text": row.text, "created_at": isoformat(row.created_at)}
        for row in revisions
    ] or [
        {
            "revision": comment.revision,
            "text": comment.text,
            "created_at": isoformat(comment.created_at),
        }
    ]
    return {
        "id": comment.id,
        "article_id": comment.article_id,
        "parent_id": comment.parent_id,
        "status": comment.status,
        "created_at": isoformat(comment.created_at),
        "revisions": texts,
        "decisions": [_decision(decision) for decision in decisions],
    }


def _decision(decision: Decision) -> dict[str, Any]:
    return {
        "by": decision.by,
        "action": decision.action,
        "at": isoformat(decision.at),
        "reasons": [export_reason(reason) for reason in decision.reasons or ()],
        "reason_code": decision.reason_code,
        "explanation": decision.explanation,
    }


def _report(report: Report) -> dict[str, Any]:
    return {
        "id": report.id,
        "comment_id": report.comment_id,
        "reason": report.reason,
        "detail": report.detail,
        "legal_ground": report.legal_ground,
        "explanation": report.explanation,
        "good_faith": report.good_faith,
        "status": report.status,
        "created_at": isoformat(report.created_at),
        "resolved_at": isoformat(report.resolved_at),
    }


def _sanction(sanction: Sanction) -> dict[str, Any]:
    return {
        "kind": sanction.kind,
        "reason_code": sanction.reason_code,
        "explanation": sanction.explanation,
        "until": isoformat(sanction.until),
        "created_at": isoformat(sanction.created_at),
        "lifted_at": isoformat(sanction.lifted_at),
    }


def _note(note: AuthorNote) -> dict[str, Any]:
    return {"text": note.text, "at": isoformat(note.at)}
