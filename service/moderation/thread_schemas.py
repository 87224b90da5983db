"""GET /v1/moderation/comments/{comment_id}/thread: its query string, and the opaque cursor of
its pages of replies.

A cursor says where the last page ended and which comment's replies it pages; like the queue's
(service/moderation/cursors.py) it is not signed, and anything that does not decode to exactly
what `encode_replies_cursor` writes for this comment is a 422 `invalid_cursor`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import ConfigDict, Field, field_validator

from service.http.bodies import Rules, StrictModel, fault
from service.moderation.cursors import comment_id_of, invalid_cursor, moment, pack, unpack
from service.moderation.schemas import DEFAULT_LIMIT, MAX_LIMIT, Cursor, whole_number

REPLIES_CURSOR_VERSION = 1
LIMIT_RULE = f"limit is a whole number from 1 to {MAX_LIMIT}."


@dataclass(frozen=True)
class ThreadQuery:
    comment_id: str
    limit: int
    after: tuple[datetime, str] | None
    """The (created_at, id) of the last reply of the previous page."""


class ThreadParameters(StrictModel):
    """The page of direct replies. A parameter not named here is ignored, as the queue's are."""

    model_config = ConfigDict(extra="ignore")

    limit: Annotated[
        int,
        Field(ge=1, le=MAX_LIMIT, description="Replies per page."),
        Rules(invalid=LIMIT_RULE, invalid_code="invalid_limit"),
    ] = DEFAULT_LIMIT
    cursor: Cursor = None

    @field_validator("limit", mode="before")
    @classmethod
    def _page_size(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        number = whole_number(value)
        if number is None:
            raise fault("invalid_limit", LIMIT_RULE, limit=MAX_LIMIT)
        return number

    def query(self, comment_id: str) -> ThreadQuery:
        """The query, with the cursor decoded (a 422 `invalid_cursor` if it isn't ours)."""
        after = None if self.cursor is None else decode_replies_cursor(self.cursor, comment_id)
        return ThreadQuery(comment_id=comment_id, limit=self.limit, after=after)


def parse_thread_query(comment_id: str, params: Mapping[str, str]) -> ThreadQuery:
    return ThreadParameters.parse(dict(params)).query(comment_id)


def encode_replies_cursor(comment_id: str, last: tuple[datetime, str]) -> str:
    created_at, reply_id = last
    return pack(
        {"v": REPLIES_CURSOR_VERSION, "c": comment_id, "k": [created_at.isoformat(), reply_id]}
    )


def decode_replies_cursor(cursor: str, comment_id: str) -> tuple[datetime, str]:
    payload = unpack(cursor, {"v", "c", "k"})
    if payload["v"] != REPLIES_CURSOR_VERSION:
        raise invalid_cursor()
    if payload["c"] != comment_id:
        raise invalid_cursor("This cursor pages another comment's replies.")
    key = payload["k"]
    if not (isinstance(key, list) and len(key) == 2):
        raise invalid_cursor()
    created_at, reply_id = key
    return moment(created_at), comment_id_of(reply_id)
