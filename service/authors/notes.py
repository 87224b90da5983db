"""Moderators' notes on authors: append-only (never changed nor deleted), each with its
moderator and time. An author needn't have commented yet."""

from __future__ import annotations

from datetime import datetime

from service.authors.resources import NoteList, NoteResource, note_resource
from service.authors.schemas import NewNote
from service.db.engine import Database
from service.db.tables import utcnow
from service.http.bodies import build
from service.store.authors import add_note, list_notes


def write_note(
    db: Database,
    *,
    moderator_id: str,
    author_id: str,
    note: NewNote,
    now: datetime | None = None,
) -> NoteResource:
    with db.session() as session:
        row = add_note(
            session,
            author_id=author_id,
            moderator_id=moderator_id,
            text=note.text,
            now=now or utcnow(),
        )
        return note_resource(row)


def read_notes(db: Database, *, author_id: str) -> NoteList:
    with db.session() as session:
        rows = list_notes(session, author_id=author_id)
        return build(NoteList, items=[note_resource(row) for row in rows])
