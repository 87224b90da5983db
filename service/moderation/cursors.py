"""Opaque queue cursors: where the last page ended, bound to the sort and filters it was made for.

A cursor only says where to resume, and a moderator may read the whole queue anyway, so it is
not signed; it is checked field by field, and anything that does not decode to exactly what
`encode_cursor` writes for this sort and these filters is a 422, never a 500 or a wrong page.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import json
import math
from datetime import UTC, datetime
from typing import Any

from service.comments.schemas import field_error
from service.errors import FieldError
from service.store.comments import could_be_comment_id
from service.store.moderation import QueueFilters, QueueSort

CURSOR_VERSION = 1
MAX_CURSOR_CHARS = 512


def pack(payload: dict[str, Any]) -> str:
    """A cursor's opaque form: its JSON, URL-safe base64 without padding."""
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unpack(cursor: str, fields: set[str]) -> dict[str, Any]:
    """The payload `pack` wrote, with exactly these fields, or a 422 `invalid_cursor`."""
    if not 0 < len(cursor) <= MAX_CURSOR_CHARS:
        raise invalid_cursor()
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise invalid_cursor() from exc
    if not isinstance(payload, dict) or set(payload) != fields:
        raise invalid_cursor()
    return payload


def encode_cursor(sort: QueueSort, filters: QueueFilters, key: list[Any]) -> str:
    values = [value.isoformat() if isinstance(value, datetime) else value for value in key]
    return pack({"v": CURSOR_VERSION, "s": sort, "f": _fingerprint(filters), "k": values})


def decode_cursor(cursor: str, sort: QueueSort, filters: QueueFilters) -> list[Any]:
    """The key to resume after, or a 422 `invalid_cursor`."""
    payload = unpack(cursor, {"v", "s", "f", "k"})
    if payload["v"] != CURSOR_VERSION or payload["s"] != sort:
        raise invalid_cursor("This cursor was made for another sort order.")
    if payload["f"] != _fingerprint(filters):
        raise invalid_cursor("This cursor was made for other filters.")
    values = payload["k"]
    if not isinstance(values, list):
        raise invalid_cursor()
    if sort == "score":
        if len(values) != 3 or not _is_score(values[0]):
            raise invalid_cursor()
        return [float(values[0]), moment(values[1]), comment_id_of(values[2])]
    if len(values) != 2:
        raise invalid_cursor()
    return [moment(values[0]), comment_id_of(values[1])]


def invalid_cursor(detail: str = "The cursor is not one this API gave out.") -> FieldError:
    return FieldError([field_error("cursor", "invalid_cursor", detail)])


def _fingerprint(filters: QueueFilters) -> str:
    canonical = json.dumps(dataclasses.asdict(filters), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _is_score(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and -1 <= value <= 1
    )


def moment(value: object) -> datetime:
    """A cursor's moment, as `isoformat` wrote it, in UTC; else a 422 `invalid_cursor`."""
    if not isinstance(value, str) or len(value) > 40:
        raise invalid_cursor()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise invalid_cursor() from exc
    if moment.tzinfo is None:
        raise invalid_cursor()
    try:
        return moment.astimezone(UTC)
    except OverflowError as exc:  # year 1 east of UTC, or year 9999 west of it
        raise invalid_cursor() from exc


def comment_id_of(value: object) -> str:
    """A cursor's comment id; else a 422 `invalid_cursor`."""
    if not isinstance(value, str) or not could_be_comment_id(value):
        raise invalid_cursor()
    return value
