"""The moderation API's query strings and bodies, validated into typed values or field errors."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from service.comments.schemas import ARTICLE_ID, field_error
from service.comments.text import has_invalid_characters
from service.errors import FieldError
from service.moderation.cursors import decode_cursor
from service.store.moderation import QueueFilters, QueueSort

SORTS: tuple[QueueSort, ...] = ("oldest", "newest", "score")
ACTIONS = ("approve", "reject")
REASON_KIND = re.compile(r"[a-z_]{1,32}")
DEFAULT_LIMIT = 50
MAX_LIMIT = 100
MAX_BULK_ITEMS = 100
MAX_REASON_CHARS = 500
MAX_AUTHOR_ID_CHARS = 255
MAX_COMMENT_ID_CHARS = 36


@dataclass(frozen=True)
class QueueQuery:
    filters: QueueFilters
    sort: QueueSort
    limit: int
    after: list[Any] | None
    claim: int | None


@dataclass(frozen=True)
class Review:
    comment_id: str
    action: str
    version: int
    reason: str | None
    override: bool


@dataclass(frozen=True)
class Ban:
    reason: str
    reject_held: bool


def parse_queue_query(params: Mapping[str, str]) -> QueueQuery:
    errors: list[dict[str, Any]] = []
    article_id = params.get("article_id")
    if article_id is not None and not ARTICLE_ID.fullmatch(article_id):
        errors.append(
            field_error("article_id", "invalid_article_id", "article_id is not an article id.")
        )
    author_id = params.get("author_id")
    if author_id is not None and not valid_author_id(author_id):
        errors.append(
            field_error("author_id", "invalid_author_id", "author_id must be 1-255 characters.")
        )
    reason = params.get("reason")
    if reason is not None and not REASON_KIND.fullmatch(reason):
        errors.append(
            field_error(
                "reason", "invalid_reason", "reason is a kind of rule, such as toxicity or terms."
            )
        )
    min_score = _number(params.get("min_score"))
    if params.get("min_score") is not None and (min_score is None or not 0 <= min_score <= 1):
        errors.append(
            field_error("min_score", "invalid_min_score", "min_score is a number from 0 to 1.")
        )
    sort = params.get("sort", "oldest")
    if sort not in SORTS:
        errors.append(field_error("sort", "invalid_sort", "sort is oldest, newest or score."))
    limit = _bounded("limit", params.get("limit"), DEFAULT_LIMIT, errors)
    claim = _bounded("claim", params.get("claim"), None, errors)
    cursor = params.get("cursor")
    if claim is not None and cursor is not None:
        errors.append(
            field_error(
                "cursor", "invalid_cursor", "A claim takes the first free comments: no cursor."
            )
        )
    if errors:
        raise FieldError(errors)
    filters = QueueFilters(
        article_id=article_id, author_id=author_id, reason=reason, min_score=min_score
    )
    typed_sort = cast(QueueSort, sort)
    after = None if cursor is None else decode_cursor(cursor, typed_sort, filters)
    assert limit is not None
    return QueueQuery(filters=filters, sort=typed_sort, limit=limit, after=after, claim=claim)


def parse_review(body: Any, *, comment_id: str, in_bulk: bool = False) -> Review:
    """One decision; `comment_id` comes from the path, or from the item's `id` in bulk."""
    if not isinstance(body, dict):
        raise FieldError([field_error("", "invalid_type", "The body must be a JSON object.")])
    errors: list[dict[str, Any]] = []
    known = {"action", "version", "reason", "override"} | ({"id"} if in_bulk else set())
    for unknown in sorted(set(body) - known):
        errors.append(field_error(unknown, "unknown_field", f"Unknown field {unknown!r}."))
    action = body.get("action")
    if action is None:
        errors.append(field_error("action", "required", "action is required."))
    elif action not in ACTIONS:
        errors.append(field_error("action", "invalid_action", "action is approve or reject."))
    version = body.get("version")
    if version is None:
        errors.append(field_error("version", "required", "version is required."))
    elif not isinstance(version, int) or isinstance(version, bool) or version < 1:
        errors.append(
            field_error("version", "invalid_type", "version is the comment's version number.")
        )
    reason = _reason(body.get("reason"), errors)
    override = body.get("override", False)
    if not isinstance(override, bool):
        errors.append(field_error("override", "invalid_type", "override is true or false."))
    if errors:
        raise FieldError(errors)
    assert isinstance(action, str) and isinstance(version, int)
    return Review(
        comment_id=comment_id, action=action, version=version, reason=reason, override=override
    )


def parse_bulk_reviews(body: Any) -> list[tuple[str | None, Review | FieldError]]:
    """Each item parsed on its own: a bad item is refused, the others still go ahead."""
    if not isinstance(body, dict):
        raise FieldError([field_error("", "invalid_type", "The body must be a JSON object.")])
    unknown = sorted(set(body) - {"items"})
    if unknown:
        raise FieldError(
            [field_error(unknown[0], "unknown_field", f"Unknown field {unknown[0]!r}.")]
        )
    items = body.get("items")
    if not isinstance(items, list) or not items:
        raise FieldError([field_error("items", "required", "items is a non-empty list.")])
    if len(items) > MAX_BULK_ITEMS:
        raise FieldError(
            [
                field_error(
                    "items",
                    "too_many_items",
                    f"Send at most {MAX_BULK_ITEMS} decisions at once.",
                    limit=MAX_BULK_ITEMS,
                )
            ],
            limit=MAX_BULK_ITEMS,
        )
    parsed: list[tuple[str | None, Review | FieldError]] = []
    for item in items:
        comment_id = item.get("id") if isinstance(item, dict) else None
        if (
            not isinstance(comment_id, str)
            or not 0 < len(comment_id) <= MAX_COMMENT_ID_CHARS
            or has_invalid_characters(comment_id)  # echoed back; no lone surrogate encodes
        ):
            error = FieldError([field_error("id", "required", "id names a comment.")])
            parsed.append((None, error))
            continue
        try:
            parsed.append((comment_id, parse_review(item, comment_id=comment_id, in_bulk=True)))
        except FieldError as error:
            parsed.append((comment_id, error))
    return parsed


def parse_ban(body: Any) -> Ban:
    if not isinstance(body, dict):
        raise FieldError([field_error("", "invalid_type", "The body must be a JSON object.")])
    errors: list[dict[str, Any]] = []
    for unknown in sorted(set(body) - {"reason", "reject_held"}):
        errors.append(field_error(unknown, "unknown_field", f"Unknown field {unknown!r}."))
    reason = _reason(body.get("reason"), errors)
    if reason is None and not errors:
        errors.append(field_error("reason", "required", "Say why the author is banned."))
    reject_held = body.get("reject_held", False)
    if not isinstance(reject_held, bool):
        errors.append(field_error("reject_held", "invalid_type", "reject_held is true or false."))
    if errors:
        raise FieldError(errors)
    assert reason is not None
    return Ban(reason=reason, reject_held=reject_held)


def valid_author_id(author_id: str) -> bool:
    return 0 < len(author_id) <= MAX_AUTHOR_ID_CHARS and author_id.isprintable()


def _reason(value: Any, errors: list[dict[str, Any]]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        errors.append(field_error("reason", "invalid_type", "reason must be a string."))
        return None
    if has_invalid_characters(value):
        errors.append(
            field_error(
                "reason",
                "reason_invalid_characters",
                "reason has control characters or lone surrogates.",
            )
        )
        return None
    value = value.strip()
    if len(value) > MAX_REASON_CHARS:
        errors.append(
            field_error(
                "reason",
                "reason_too_long",
                f"reason is at most {MAX_REASON_CHARS} characters.",
                limit=MAX_REASON_CHARS,
            )
        )
        return None
    return value or None


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _bounded(
    name: str, value: str | None, default: int | None, errors: list[dict[str, Any]]
) -> int | None:
    if value is None:
        return default
    if value.isascii() and value.isdigit() and 1 <= int(value) <= MAX_LIMIT:
        return int(value)
    errors.append(
        field_error(
            name,
            f"invalid_{name}",
            f"{name} is a whole number from 1 to {MAX_LIMIT}.",
            limit=MAX_LIMIT,
        )
    )
    return None
