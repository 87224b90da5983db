"""The tuning routes' query strings and bodies (audit sample, insights), parsed by pydantic
models (service/http/bodies.py).

A query string is text: the query models read their numbers from it in validators, and
ignore parameters they don't know, as the routes always did; the sample queue refuses the hold
queue's own parameters rather than ignore them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, ValidationInfo, field_validator
from pydantic.json_schema import SkipJsonSchema

from service.comments.schemas import field_error
from service.db.tables import utcnow
from service.errors import FieldError
from service.http.bodies import Rules, StrictModel, fault
from service.moderation.cursors import decode_cursor
from service.moderation.schemas import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    ArticleFilter,
    AuthorFilter,
    Cursor,
)
from service.tuning.resources import SampleLabelName
from service.tuning.sampling import SampleFilters, SampleQuery
from service.tuning.windows import InvalidWindow, parse_since

DEFAULT_SINCE = "30d"
DEFAULT_TARGET_PRECISION = 0.9
LIMIT_RULE = f"limit is a whole number from 1 to {MAX_LIMIT}."
TARGET_PRECISION_RULE = "target_precision is a number above 0 and at most 1."
# The hold queue's parameters, refused by the sample queue: they mean nothing there.
HeldOnly = SkipJsonSchema[str | None]


class SampleQueueQuery(StrictModel):
    """GET /v1/moderation/queue?queue=sample: the audit sample's unlabelled comments."""

    model_config = ConfigDict(extra="ignore")
    queue: Annotated[
        Literal["held", "reported", "sample"],
        Field(
            description="held: comments the policy held. reported: comments readers reported "
            "(or hidden by reports), by when they were reported, each item with its open "
            "`reports`; the hold queue's filters, sort, cursor and claim apply, and reason "
            "filters on a report reason. sample: the audit sample's unlabelled comments (a "
            "SampleQueuePage, oldest first; article_id, author_id, limit and cursor apply)."
        ),
        Rules(invalid="queue is held, reported or sample.", invalid_code="invalid_queue"),
    ] = "held"
    claim: HeldOnly = None
    reason: HeldOnly = None
    min_score: HeldOnly = None
    sort: HeldOnly = None
    article_id: ArticleFilter = None
    author_id: AuthorFilter = None
    limit: Annotated[
        int,
        Field(ge=1, le=MAX_LIMIT, description="Page size."),
        Rules(invalid=LIMIT_RULE, invalid_code="invalid_limit"),
    ] = DEFAULT_LIMIT
    cursor: Cursor = None

    @field_validator("claim", "reason", "min_score", "sort", mode="before")
    @classmethod
    def _hold_queue_only(cls, value: Any, info: ValidationInfo) -> Any:
        name = info.field_name
        raise fault(f"invalid_{name}", f"{name} applies to the hold queue only.")

    @field_validator("limit", mode="before")
    @classmethod
    def _whole_number(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        digits = value.lstrip("0")
        # Digits only, and no longer than MAX_LIMIT's (int() of a long enough string raises).
        if value.isascii() and value.isdigit() and len(digits) <= len(str(MAX_LIMIT)):
            number = int(digits or "0")
            if 1 <= number <= MAX_LIMIT:
                return number
        raise fault("invalid_limit", LIMIT_RULE, limit=MAX_LIMIT)


def parse_sample_query(params: Mapping[str, str]) -> SampleQuery:
    query = SampleQueueQuery.parse(dict(params))
    filters = SampleFilters(article_id=query.article_id, author_id=query.author_id)
    after = None if query.cursor is None else decode_cursor(query.cursor, "oldest", filters)
    return SampleQuery(filters=filters, limit=query.limit, after=after)


class SampleLabel(StrictModel):
    """A moderator's label for a comment of the audit sample."""

    label: Annotated[
        SampleLabelName,
        Rules(
            required="label is required.",
            invalid="label is fine or not_fine.",
            invalid_code="invalid_label",
        ),
    ]
    override: Annotated[
        bool,
        Field(description="Required to change a label already given; audited."),
        Rules(invalid_type="override is true or false."),
    ] = False


class InsightsQuery(StrictModel):
    """GET /v1/moderation/insights: the window, and the precision the board wants."""

    model_config = ConfigDict(extra="ignore")
    since: Annotated[
        str,
        Field(
            description="Comments decided since: a duration (30d, 12h, 90m, 2w) or an ISO 8601 "
            "moment with a time zone."
        ),
        Rules(invalid_code="invalid_since"),
    ] = DEFAULT_SINCE
    target_precision: Annotated[
        float,
        Field(
            gt=0,
            le=1,
            description="The precision the board wants; each label's suggested_threshold is "
            "the lowest threshold reaching it.",
        ),
        Rules(invalid=TARGET_PRECISION_RULE, invalid_code="invalid_target_precision"),
    ] = DEFAULT_TARGET_PRECISION

    @field_validator("since")
    @classmethod
    def _window(cls, value: str) -> str:
        # Only whether it reads as a window; `start` places it before the request's moment.
        try:
            parse_since(value, now=utcnow())
        except InvalidWindow as exc:
            raise fault("invalid_since", str(exc)) from None
        return value

    @field_validator("target_precision", mode="before")
    @classmethod
    def _number(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not (math.isfinite(number) and 0 < number <= 1):
            raise fault("invalid_target_precision", TARGET_PRECISION_RULE)
        return number

    def start(self, now: datetime) -> datetime:
        """The window's start: `since` back from `now`, or the moment it names."""
        since = parse_since(self.since, now=now)
        if since > now:
            raise FieldError([field_error("since", "invalid_since", "since is in the future.")])
        return since
