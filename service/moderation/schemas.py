"""The moderation API's query string and bodies, parsed by pydantic models
(service/http/bodies.py) into the typed values the moderators' side works with."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    SkipValidation,
    ValidationInfo,
    field_validator,
    model_validator,
)

from service.comments.schemas import ARTICLE_ID_PATTERN, COMMENT_ID_MAX, field_error
from service.comments.text import has_invalid_characters
from service.errors import FieldError
from service.http.bodies import Rules, StrictModel, fault
from service.moderation.cursors import decode_cursor
from service.store.moderation import QueueFilters, QueueSort

Action = Literal["approve", "reject"]
CLAIM_SECONDS = 300
"""How long ?claim=N leases the comments it returns."""
REASON_KIND_PATTERN = r"^[a-z_]{1,32}$"
DEFAULT_LIMIT = 50
MAX_LIMIT = 100
MAX_BULK_ITEMS = 100
MAX_REASON_CHARS = 500
MAX_AUTHOR_ID_CHARS = 255
AUTHOR_ID_RULE = f"author_id must be 1-{MAX_AUTHOR_ID_CHARS} characters."
BAN_REASON_RULE = "Say why the author is banned."
ITEMS_RULE = "items is a non-empty list."
CLAIM_WITH_CURSOR = object()
"""Stands for the cursor of a query that also claims: the cursor's fault, not the claim's."""


@dataclass(frozen=True)
class QueueQuery:
    filters: QueueFilters
    sort: QueueSort
    limit: int
    after: list[Any] | None
    claim: int | None


@dataclass(frozen=True)
class Review:
    """One moderator decision on one comment, as review_comment applies it."""

    comment_id: str
    action: str
    version: int
    reason: str | None
    override: bool


# The filters both queues take (the held queue here, the audit sample in service/tuning).
ArticleFilter = Annotated[
    str | None,
    Field(pattern=ARTICLE_ID_PATTERN, description="Only this article's comments."),
    Rules(invalid="article_id is not an article id.", invalid_code="invalid_article_id"),
]


def _printable_author_id(value: str | None) -> str | None:
    if value is not None and not value.isprintable():
        raise fault("invalid_author_id", AUTHOR_ID_RULE)
    return value


AuthorFilter = Annotated[
    str | None,
    Field(min_length=1, max_length=MAX_AUTHOR_ID_CHARS, description="Only this author's comments."),
    Rules(invalid=AUTHOR_ID_RULE, invalid_code="invalid_author_id"),
    AfterValidator(_printable_author_id),
]
Cursor = Annotated[str | None, Field(description="The `next` of the previous page.")]


class QueueParameters(StrictModel):
    """GET /v1/moderation/queue: the hold queue's filters, order and page (`?queue=sample`,
    the audit sample, is the tuning feature's query). Query values are strings: the numbers
    are converted here. A parameter not named here is ignored, as it always was."""

    model_config = ConfigDict(extra="ignore")

    article_id: ArticleFilter = None
    author_id: AuthorFilter = None
    reason: Annotated[
        str | None,
        Field(
            pattern=REASON_KIND_PATTERN,
            description="Only comments held by this kind of rule (toxicity, terms, links, ...).",
        ),
        Rules(
            invalid="reason is a kind of rule, such as toxicity or terms.",
            invalid_code="invalid_reason",
        ),
    ] = None
    min_score: Annotated[
        float | None,
        Field(ge=0, le=1, description="Only comments whose highest label score is at least this."),
        Rules(invalid="min_score is a number from 0 to 1.", invalid_code="invalid_min_score"),
    ] = None
    sort: Annotated[
        QueueSort,
        Field(description="score: highest label score first."),
        Rules(invalid="sort is oldest, newest or score.", invalid_code="invalid_sort"),
    ] = "oldest"
    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT, description="Page size.")] = DEFAULT_LIMIT
    cursor: Cursor = None
    claim: Annotated[
        int | None,
        Field(
            ge=1,
            le=MAX_LIMIT,
            description=f"Lease up to N free comments to the caller for {CLAIM_SECONDS // 60} "
            "minutes (the caller's own leases first, renewed); no other moderator can decide "
            "them meanwhile.",
        ),
    ] = None

    @model_validator(mode="before")
    @classmethod
    def _claim_takes_no_cursor(cls, data: Any) -> Any:
        # Reported where the cursor is, with the other faults; a claim that is itself wrong
        # is the only fault of the two.
        if (
            isinstance(data, dict)
            and data.get("cursor") is not None
            and _whole_number(data.get("claim")) is not None
        ):
            return {**data, "cursor": CLAIM_WITH_CURSOR}
        return data

    @field_validator("min_score", mode="before")
    @classmethod
    def _number(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise fault("invalid_min_score", "min_score is a number from 0 to 1.")
        return number

    @field_validator("limit", "claim", mode="before")
    @classmethod
    def _page_size(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, str):
            return value
        number = _whole_number(value)
        if number is None:
            name = info.field_name
            raise fault(
                f"invalid_{name}",
                f"{name} is a whole number from 1 to {MAX_LIMIT}.",
                limit=MAX_LIMIT,
            )
        return number

    @field_validator("cursor", mode="before")
    @classmethod
    def _not_with_claim(cls, value: Any) -> Any:
        if value is CLAIM_WITH_CURSOR:
            raise fault("invalid_cursor", "A claim takes the first free comments: no cursor.")
        return value

    def query(self) -> QueueQuery:
        """The query, with the cursor decoded (a 422 `invalid_cursor` if it isn't ours)."""
        filters = QueueFilters(
            article_id=self.article_id,
            author_id=self.author_id,
            reason=self.reason,
            min_score=self.min_score,
        )
        after = None if self.cursor is None else decode_cursor(self.cursor, self.sort, filters)
        return QueueQuery(
            filters=filters, sort=self.sort, limit=self.limit, after=after, claim=self.claim
        )


def parse_queue_query(params: Mapping[str, str]) -> QueueQuery:
    return QueueParameters.parse(dict(params)).query()


def _whole_number(value: Any) -> int | None:
    """A page size or claim from its query string: digits only, 1 to MAX_LIMIT."""
    if not (isinstance(value, str) and value.isascii() and value.isdigit()):
        return None
    digits = value.lstrip("0")
    if len(digits) > len(str(MAX_LIMIT)):  # int() of a long enough string raises
        return None
    number = int(digits or "0")
    return number if 1 <= number <= MAX_LIMIT else None


def _clean_reason(value: Any) -> Any:
    """A moderator's reason, trimmed; not a string is left to the type check."""
    if not isinstance(value, str):
        return value
    if has_invalid_characters(value):
        raise fault(
            "reason_invalid_characters", "reason has control characters or lone surrogates."
        )
    value = value.strip()
    if len(value) > MAX_REASON_CHARS:
        raise fault(
            "reason_too_long",
            f"reason is at most {MAX_REASON_CHARS} characters.",
            limit=MAX_REASON_CHARS,
        )
    return value


class ModeratorDecision(StrictModel):
    """POST /v1/moderation/comments/{comment_id}/decision: approve or reject."""

    action: Annotated[
        Action,
        Rules(
            required="action is required.",
            invalid="action is approve or reject.",
            invalid_code="invalid_action",
        ),
    ]
    version: Annotated[
        int,
        Field(ge=1),
        Rules(
            required="version is required.", invalid_type="version is the comment's version number."
        ),
    ]
    reason: Annotated[
        str | None,
        Field(max_length=MAX_REASON_CHARS),
        Rules(invalid_type="reason must be a string."),
    ] = None
    override: Annotated[
        bool,
        Field(description="Required to reverse a comment already approved or rejected; audited."),
        Rules(invalid_type="override is true or false."),
    ] = False

    @field_validator("reason", mode="before")
    @classmethod
    def _reason(cls, value: Any) -> Any:
        value = _clean_reason(value)
        return None if value == "" else value

    def review(self, comment_id: str) -> Review:
        return Review(
            comment_id=comment_id,
            action=self.action,
            version=self.version,
            reason=self.reason,
            override=self.override,
        )


class BulkDecision(ModeratorDecision):
    """One item of POST /v1/moderation/decisions: a decision and the comment it is on."""

    id: Annotated[str, Field(min_length=1, max_length=COMMENT_ID_MAX)]


class BulkDecisions(StrictModel):
    """POST /v1/moderation/decisions: decisions each applied or refused on its own."""

    # Each item is parsed on its own too (`decisions`): the body checks only that they're there.

    items: Annotated[
        # Parsed one by one in `decisions`: a bad item is that item's answer, not the body's.
        list[SkipValidation[BulkDecision]],
        Field(min_length=1, max_length=MAX_BULK_ITEMS),
        Rules(required=ITEMS_RULE),
    ]

    @classmethod
    def parse(cls, data: Any) -> BulkDecisions:
        # The first unknown field alone is the answer, as the bulk route has always given it.
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(cls.model_fields))
            if unknown:
                name = unknown[0]
                raise FieldError([field_error(name, "unknown_field", f"Unknown field {name!r}.")])
        return super().parse(data)

    @field_validator("items", mode="before")
    @classmethod
    def _some(cls, value: Any) -> Any:
        if not isinstance(value, list) or not value:
            raise fault("required", ITEMS_RULE)
        if len(value) > MAX_BULK_ITEMS:
            raise fault(
                "too_many_items",
                f"Send at most {MAX_BULK_ITEMS} decisions at once.",
                headline=True,
                limit=MAX_BULK_ITEMS,
            )
        return value

    def decisions(self) -> list[tuple[str | None, Review | FieldError]]:
        """Each item's comment id (None when it names none) and its review, or its 422."""
        raw: list[Any] = list(self.items)  # as sent: SkipValidation
        return [_bulk_item(item) for item in raw]


def _bulk_item(item: Any) -> tuple[str | None, Review | FieldError]:
    comment_id = item.get("id") if isinstance(item, dict) else None
    if (
        not isinstance(comment_id, str)
        or not 0 < len(comment_id) <= COMMENT_ID_MAX
        or has_invalid_characters(comment_id)  # echoed back; no lone surrogate encodes
    ):
        return None, FieldError([field_error("id", "required", "id names a comment.")])
    try:
        return comment_id, BulkDecision.parse(item).review(comment_id)
    except FieldError as error:
        return comment_id, error


class Ban(StrictModel):
    """POST /v1/moderation/authors/{author_id}/ban."""

    reason: Annotated[
        str,
        Field(min_length=1, max_length=MAX_REASON_CHARS),
        Rules(
            required=BAN_REASON_RULE,
            invalid_type="reason must be a string.",
            invalid=BAN_REASON_RULE,
            invalid_code="required",
        ),
    ]
    reject_held: Annotated[bool, Rules(invalid_type="reject_held is true or false.")] = False

    @classmethod
    def parse(cls, data: Any) -> Ban:
        try:
            return super().parse(data)
        except FieldError as error:
            # A body with an unknown field has always been answered without asking for the
            # reason it lacks.
            errors = error.errors or []
            if any(item["code"] == "unknown_field" for item in errors):
                kept = [
                    item
                    for item in errors
                    if not (item["field"] == "reason" and item["code"] == "required")
                ]
                if kept != errors:
                    raise FieldError(kept, **error.extra) from None
            raise

    @field_validator("reason", mode="before")
    @classmethod
    def _reason(cls, value: Any) -> Any:
        return _clean_reason(value)


def valid_author_id(author_id: str) -> bool:
    return 0 < len(author_id) <= MAX_AUTHOR_ID_CHARS and author_id.isprintable()
