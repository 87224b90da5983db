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
from service.reports.reasons import ILLEGAL, MAX_NOTICE_CHARS, REASON_CODES, ReasonCode
from service.store.moderation import QueueFilters, QueueKind, QueueSort

Action = Literal["approve", "reject", "keep"]
QUEUE_KINDS: tuple[QueueKind, ...] = ("held", "reported")
"""The queues this feature serves; `?queue=sample` is the tuning feature's."""
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
REASON_CODE_RULE = f"reason_code is one of {', '.join(REASON_CODES)}."
LEGAL_GROUND_RULE = "legal_ground goes with reason_code illegal, and is required with it."
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
    reason_code: str | None = None
    explanation: str | None = None
    legal_ground: str | None = None


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
    """GET /v1/moderation/queue: the hold (or, with `?queue=reported`, the reported) queue's
    filters, order and page (`?queue=sample`, the audit sample, is the tuning feature's query).
    Query values are strings: the numbers are converted here. A parameter not named here is
    ignored, as it always was."""

    model_config = ConfigDict(extra="ignore")

    article_id: ArticleFilter = None
    author_id: AuthorFilter = None
    reason: Annotated[
        str | None,
        Field(
            pattern=REASON_KIND_PATTERN,
            description="Only comments held by this kind of rule (toxicity, terms, links, ...); "
            "in the reported queue, only comments with an open report for this reason "
            "(offensive, spam, illegal, ...).",
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
            and whole_number(data.get("claim")) is not None
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
        number = whole_number(value)
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

    def query(self, queue: QueueKind = "held") -> QueueQuery:
        """The query, with the cursor decoded (a 422 `invalid_cursor` if it isn't ours, or was
        made for another queue)."""
        filters = QueueFilters(
            article_id=self.article_id,
            author_id=self.author_id,
            reason=self.reason,
            min_score=self.min_score,
            queue=queue,
        )
        after = None if self.cursor is None else decode_cursor(self.cursor, self.sort, filters)
        return QueueQuery(
            filters=filters, sort=self.sort, limit=self.limit, after=after, claim=self.claim
        )


def parse_queue_query(params: Mapping[str, str]) -> QueueQuery:
    """The hold queue's query, or the reported queue's with ?queue=reported."""
    queue: QueueKind = "reported" if params.get("queue") == "reported" else "held"
    return QueueParameters.parse(dict(params)).query(queue)


def whole_number(value: Any) -> int | None:
    """A page size or claim from its query string: digits only, 1 to MAX_LIMIT; else None."""
    if not (isinstance(value, str) and value.isascii() and value.isdigit()):
        return None
    digits = value.lstrip("0")
    if len(digits) > len(str(MAX_LIMIT)):  # int() of a long enough string raises
        return None
    number = int(digits or "0")
    return number if 1 <= number <= MAX_LIMIT else None


def _clean_reason(value: Any) -> Any:
    """A moderator's reason, trimmed; not a string is left to the type check."""
    return _clean_text(value, "reason", MAX_REASON_CHARS)


def _clean_text(value: Any, name: str, limit: int) -> Any:
    """A moderator's text (reason, explanation, legal ground), trimmed; not a string is left
    to the type check."""
    if not isinstance(value, str):
        return value
    if has_invalid_characters(value):
        raise fault(
            f"{name}_invalid_characters", f"{name} has control characters or lone surrogates."
        )
    value = value.strip()
    if len(value) > limit:
        raise fault(f"{name}_too_long", f"{name} is at most {limit} characters.", limit=limit)
    return value


class ModeratorDecision(StrictModel):
    """POST /v1/moderation/comments/{comment_id}/decision: approve, reject, or keep a reported
    comment published."""

    action: Annotated[
        Action,
        Field(
            description="keep: the comment stays (or, if hidden, is again) published and its "
            "open reports are dismissed; valid only while it has open reports."
        ),
        Rules(
            required="action is required.",
            invalid="action is approve, reject or keep.",
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
        Field(
            description="Required to reverse a comment already approved or rejected (not to "
            "reject a reported or hidden one); audited."
        ),
        Rules(invalid_type="override is true or false."),
    ] = False
    reason_code: Annotated[
        ReasonCode | None,
        Field(
            description="Why, as a code (the digit keys' order on the moderation page); "
            "required on reject when MODERATION_REQUIRE_REASON_CODE is on."
        ),
        Rules(invalid=REASON_CODE_RULE, invalid_code="invalid_reason_code"),
    ] = None
    explanation: Annotated[
        str | None,
        Field(max_length=MAX_NOTICE_CHARS, description="What the author may be told."),
        Rules(invalid_type="explanation must be a string."),
    ] = None
    legal_ground: Annotated[
        str | None,
        Field(
            max_length=MAX_NOTICE_CHARS,
            description="The law the comment breaks: required with reason_code illegal, and "
            "only then.",
        ),
        Rules(invalid_type="legal_ground must be a string."),
    ] = None

    @field_validator("reason", mode="before")
    @classmethod
    def _reason(cls, value: Any) -> Any:
        value = _clean_reason(value)
        return None if value == "" else value

    @field_validator("explanation", "legal_ground", mode="before")
    @classmethod
    def _notice(cls, value: Any, info: ValidationInfo) -> Any:
        value = _clean_text(value, str(info.field_name), MAX_NOTICE_CHARS)
        return None if value == "" else value

    def review(self, comment_id: str, *, require_reason_code: bool = False) -> Review:
        """The review, or the 422 of a code that doesn't fit: a legal ground goes with
        reason_code illegal alone, and the deployment may require a code on reject."""
        if self.reason_code == ILLEGAL and self.legal_ground is None:
            raise FieldError(
                [field_error("legal_ground", "legal_ground_required", LEGAL_GROUND_RULE)]
            )
        if self.reason_code != ILLEGAL and self.legal_ground is not None:
            raise FieldError([field_error("legal_ground", "unknown_field", LEGAL_GROUND_RULE)])
        if require_reason_code and self.action == "reject" and self.reason_code is None:
            raise FieldError(
                [
                    field_error(
                        "reason_code", "reason_code_required", "A reject needs a reason_code."
                    )
                ]
            )
        return Review(
            comment_id=comment_id,
            action=self.action,
            version=self.version,
            reason=self.reason,
            override=self.override,
            reason_code=self.reason_code,
            explanation=self.explanation,
            legal_ground=self.legal_ground,
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

    def decisions(
        self, *, require_reason_code: bool = False
    ) -> list[tuple[str | None, Review | FieldError]]:
        """Each item's comment id (None when it names none) and its review, or its 422."""
        raw: list[Any] = list(self.items)  # as sent: SkipValidation
        return [_bulk_item(item, require_reason_code) for item in raw]


def _bulk_item(item: Any, require_reason_code: bool) -> tuple[str | None, Review | FieldError]:
    comment_id = item.get("id") if isinstance(item, dict) else None
    if (
        not isinstance(comment_id, str)
        or not 0 < len(comment_id) <= COMMENT_ID_MAX
        or has_invalid_characters(comment_id)  # echoed back; no lone surrogate encodes
    ):
        return None, FieldError([field_error("id", "required", "id names a comment.")])
    try:
        decision = BulkDecision.parse(item)
        return comment_id, decision.review(comment_id, require_reason_code=require_reason_code)
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
