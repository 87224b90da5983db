"""Query strings and bodies of the tuning routes (audit sample, insights), validated."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service.comments.schemas import ARTICLE_ID, field_error
from service.errors import FieldError
from service.moderation.cursors import decode_cursor
from service.moderation.schemas import DEFAULT_LIMIT, MAX_LIMIT, valid_author_id
from service.tuning.sampling import SAMPLE_LABELS, SampleFilters, SampleQuery
from service.tuning.windows import InvalidWindow, parse_since

QUEUES = ("held", "sample")
# Hold-queue parameters that mean nothing for the sample: refused rather than ignored.
HELD_ONLY = ("claim", "reason", "min_score", "sort")
DEFAULT_SINCE = "30d"
DEFAULT_TARGET_PRECISION = 0.9


@dataclass(frozen=True)
class InsightsQuery:
    since: datetime
    target_precision: float


def parse_sample_query(params: Mapping[str, str]) -> SampleQuery:
    errors: list[dict[str, Any]] = []
    queue = params.get("queue", "held")
    if queue not in QUEUES:
        errors.append(field_error("queue", "invalid_queue", "queue is held or sample."))
    for name in HELD_ONLY:
        if name in params:
            errors.append(
                field_error(name, f"invalid_{name}", f"{name} applies to the hold queue only.")
            )
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
    limit = params.get("limit", str(DEFAULT_LIMIT))
    if not (limit.isascii() and limit.isdigit() and 1 <= int(limit) <= MAX_LIMIT):
        errors.append(
            field_error(
                "limit",
                "invalid_limit",
                f"limit is a whole number from 1 to {MAX_LIMIT}.",
                limit=MAX_LIMIT,
            )
        )
    if errors:
        raise FieldError(errors)
    filters = SampleFilters(article_id=article_id, author_id=author_id)
    cursor = params.get("cursor")
    after = None if cursor is None else decode_cursor(cursor, "oldest", filters)
    return SampleQuery(filters=filters, limit=int(limit), after=after)


def parse_sample_judgement(body: Any) -> tuple[str, bool]:
    """(label, override) from `{"label": "fine"|"not_fine", "override"?: bool}`."""
    if not isinstance(body, dict):
        raise FieldError([field_error("", "invalid_type", "The body must be a JSON object.")])
    errors: list[dict[str, Any]] = []
    for unknown in sorted(set(body) - {"label", "override"}):
        errors.append(field_error(unknown, "unknown_field", f"Unknown field {unknown!r}."))
    label = body.get("label")
    if label is None:
        errors.append(field_error("label", "required", "label is required."))
    elif label not in SAMPLE_LABELS:
        errors.append(field_error("label", "invalid_label", "label is fine or not_fine."))
    override = body.get("override", False)
    if not isinstance(override, bool):
        errors.append(field_error("override", "invalid_type", "override is true or false."))
    if errors:
        raise FieldError(errors)
    return str(label), override


def parse_insights_query(params: Mapping[str, str], *, now: datetime) -> InsightsQuery:
    errors: list[dict[str, Any]] = []
    since = now
    try:
        since = parse_since(params.get("since", DEFAULT_SINCE), now=now)
    except InvalidWindow as exc:
        errors.append(field_error("since", "invalid_since", str(exc)))
    raw = params.get("target_precision")
    target = DEFAULT_TARGET_PRECISION
    if raw is not None:
        try:
            target = float(raw)
        except ValueError:
            target = math.nan
        if not (math.isfinite(target) and 0 < target <= 1):
            errors.append(
                field_error(
                    "target_precision",
                    "invalid_target_precision",
                    "target_precision is a number above 0 and at most 1.",
                )
            )
    if errors:
        raise FieldError(errors)
    if since > now:
        raise FieldError([field_error("since", "invalid_since", "since is in the future.")])
    return InsightsQuery(since=since, target_precision=target)
