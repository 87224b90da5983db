"""The author routes' requests: a moderator's note (POST …/notes) and the author record's
query string, with the opaque cursor of its pages of comments.

A cursor says where the last page ended and whose comments it pages (by a fingerprint of the
author id: an id may be 255 characters, a cursor at most 512); like the queue's
(service/moderation/cursors.py) it is not signed, and anything that does not decode to exactly
what `encode_comments_cursor` writes for this author is a 422 `invalid_cursor`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, Field

from service.comments.text import has_invalid_characters, normalize_comment_text
from service.http.bodies import Rules, StrictModel, fault
from service.moderation.cursors import comment_id_of, invalid_cursor, moment, pack, unpack
from service.moderation.schemas import Cursor

MAX_NOTE_CHARS = 2000
COMMENTS_PAGE = 50
"""The author record's comments per page."""
COMMENTS_CURSOR_VERSION = 1


def _note_text(value: Any) -> Any:
    """A note's text, trimmed as a comment's is; not a string is left to the type check."""
    if not isinstance(value, str):
        return value
    text = normalize_comment_text(value)
    if has_invalid_characters(text):
        raise fault(
            "text_invalid_characters", "The note has control characters or lone surrogates."
        )
    if not text:
        raise fault("text_empty", "The note is empty once trimmed.")
    if len(text) > MAX_NOTE_CHARS:
        raise fault(
            "text_too_long",
            f"The note has {len(text)} characters; the limit is {MAX_NOTE_CHARS}.",
            headline=True,
            limit=MAX_NOTE_CHARS,
            length=len(text),
        )
    return text


class NewNote(StrictModel):
    """POST /v1/moderation/authors/{author_id}/notes: what a moderator wants the others to
    know about this reader. Notes are never changed nor deleted."""

    text: Annotated[
        str,
        Field(
            min_length=1,
            max_length=MAX_NOTE_CHARS,
            description=f"1-{MAX_NOTE_CHARS} characters once NFC-normalised and trimmed.",
        ),
        Rules(required="text is required.", invalid_type="text must be a string."),
        BeforeValidator(_note_text),
    ]


class AuthorRecordParameters(StrictModel):
    """GET /v1/moderation/authors/{author_id}: which page of the author's comments. A
    parameter not named here is ignored, as the queue's are."""

    model_config = ConfigDict(extra="ignore")

    cursor: Cursor = None

    def before(self, author_id: str) -> tuple[datetime, str] | None:
        """Where the page starts: the (created_at, id) of the previous page's last comment,
        or None for the newest; a 422 `invalid_cursor` if the cursor isn't ours."""
        return None if self.cursor is None else decode_comments_cursor(self.cursor, author_id)


def parse_record_query(author_id: str, params: Mapping[str, str]) -> tuple[datetime, str] | None:
    return AuthorRecordParameters.parse(dict(params)).before(author_id)


def encode_comments_cursor(author_id: str, last: tuple[datetime, str]) -> str:
    created_at, comment_id = last
    return pack(
        {
            "v": COMMENTS_CURSOR_VERSION,
            "a": _fingerprint(author_id),
            "k": [created_at.isoformat(), comment_id],
        }
    )


def decode_comments_cursor(cursor: str, author_id: str) -> tuple[datetime, str]:
    payload = unpack(cursor, {"v", "a", "k"})
    if payload["v"] != COMMENTS_CURSOR_VERSION:
        raise invalid_cursor()
    if payload["a"] != _fingerprint(author_id):
        raise invalid_cursor("This cursor pages another author's comments.")
    key = payload["k"]
    if not (isinstance(key, list) and len(key) == 2):
        raise invalid_cursor()
    created_at, comment_id = key
    return moment(created_at), comment_id_of(comment_id)


def _fingerprint(author_id: str) -> str:
    return hashlib.sha256(author_id.encode("utf-8", "surrogatepass")).hexdigest()[:16]
