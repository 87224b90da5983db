"""POST /v1/moderation/authors/{author_id}/sanctions: a warning, a suspension or a ban, parsed
by pydantic models (service/http/bodies.py); and the sanction resource the author routes
answer with.

`until` (a suspension's end) is checked against the clock after parsing (`NewSanction.checked`):
required for a suspension and only there, in the future, at most MAX_SUSPENSION ahead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, get_args

from pydantic import BeforeValidator, ConfigDict, Field, field_validator

from service.comments.resources import isoformat
from service.comments.schemas import field_error
from service.comments.text import has_invalid_characters
from service.db.tables import Sanction
from service.errors import FieldError
from service.http.bodies import DateTime, Resource, Rules, StrictModel, build, fault
from service.reports.reasons import REASON_CODES, ReasonCode
from service.store.sanctions import BLOCKING_KINDS

SanctionKind = Literal["warning", "suspension", "ban"]
SANCTION_KINDS: tuple[str, ...] = get_args(SanctionKind)
MAX_EXPLANATION_CHARS = 2000
MAX_SUSPENSION = timedelta(days=365)
UNTIL_RULE = "until is an RFC 3339 moment with a time zone, e.g. 2027-01-31T12:00:00Z."
RFC_3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


def parse_moment(value: str) -> datetime | None:
    """An RFC 3339 moment (a date, a time and a zone), in UTC; None when it is not one."""
    text = value.strip().upper()
    if not RFC_3339.fullmatch(text):
        return None
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except (ValueError, OverflowError):  # 2027-02-30, or past year 9999 in UTC
        return None


@dataclass(frozen=True)
class SanctionRequest:
    """A sanction to record, checked: what `service.authors.sanctions` applies."""

    kind: str
    reason_code: str | None
    explanation: str | None
    until: datetime | None


def _explanation(value: Any) -> Any:
    """The explanation, trimmed (empty: none); not a string is left to the type check."""
    if not isinstance(value, str):
        return value
    if has_invalid_characters(value):
        raise fault(
            "explanation_invalid_characters",
            "explanation has control characters or lone surrogates.",
        )
    value = value.strip()
    if len(value) > MAX_EXPLANATION_CHARS:
        raise fault(
            "explanation_too_long",
            f"explanation is at most {MAX_EXPLANATION_CHARS} characters.",
            limit=MAX_EXPLANATION_CHARS,
        )
    return value or None


class NewSanction(StrictModel):
    """POST /v1/moderation/authors/{author_id}/sanctions."""

    kind: Annotated[
        SanctionKind,
        Field(
            description="warning: recorded and announced, nothing refused; suspension: the "
            "author's new comments, reports and edits are refused (403 author_suspended) until "
            "`until`; ban: refused (403 author_banned) until lifted."
        ),
        Rules(
            required="kind is required.",
            invalid="kind is warning, suspension or ban.",
            invalid_code="invalid_kind",
        ),
    ]
    reason_code: Annotated[
        ReasonCode | None,
        Field(description="Why, as a code (the report reasons, or misinformation)."),
        Rules(
            invalid=f"reason_code is one of {', '.join(REASON_CODES)}.",
            invalid_code="invalid_reason_code",
        ),
    ] = None
    explanation: Annotated[
        str | None,
        Field(
            max_length=MAX_EXPLANATION_CHARS,
            description="What the author may be told; trimmed. Sent in the webhook event.",
        ),
        Rules(invalid_type="explanation must be a string."),
        BeforeValidator(_explanation),
    ] = None
    until: Annotated[
        str | None,
        Field(
            description="A suspension's end, an RFC 3339 moment in the future and at most "
            f"{MAX_SUSPENSION.days} days ahead: required for a suspension, refused with the "
            "others (until_not_allowed).",
            json_schema_extra={"format": "date-time"},
        ),
        Rules(invalid_type=UNTIL_RULE, invalid=UNTIL_RULE, invalid_code="invalid_until"),
    ] = None

    @field_validator("until")
    @classmethod
    def _moment(cls, value: str | None) -> str | None:
        if value is not None and parse_moment(value) is None:
            raise fault("invalid_until", UNTIL_RULE)
        return value

    def checked(self, now: datetime) -> SanctionRequest:
        """The sanction, or the 422 of an `until` that doesn't fit its kind or the clock."""
        until = None if self.until is None else parse_moment(self.until)
        if self.kind == "suspension":
            if until is None:
                raise _until_fault("until_required", "A suspension needs until, when it ends.")
            if until <= now:
                raise _until_fault("until_in_past", "until must be in the future.")
            if until - now > MAX_SUSPENSION:
                raise _until_fault(
                    "until_too_far",
                    f"A suspension lasts at most {MAX_SUSPENSION.days} days; ban instead.",
                    limit=MAX_SUSPENSION.days,
                )
        elif until is not None:
            raise _until_fault(
                "until_not_allowed", f"A {self.kind} has no end: until is for a suspension."
            )
        return SanctionRequest(
            kind=self.kind,
            reason_code=self.reason_code,
            explanation=self.explanation,
            until=until,
        )


def _until_fault(code: str, detail: str, **figures: int) -> FieldError:
    return FieldError([field_error("until", code, detail, **figures)], **figures)


class SanctionResource(Resource):
    model_config = ConfigDict(title="Sanction")
    id: str
    author_id: str
    kind: SanctionKind
    reason_code: ReasonCode | None
    explanation: str | None = Field(description="What the author may be told.")
    until: DateTime | None = Field(description="A suspension's end; null for the others.")
    created_by: str = Field(description="The moderator who imposed it.")
    created_at: DateTime
    lifted_at: DateTime | None = Field(description="When a moderator lifted it early.")
    lifted_by: str | None
    in_force: bool = Field(
        description="A suspension or ban neither lifted nor (a suspension) lapsed: the author's "
        "new comments, reports and edits are refused. A warning is never in force."
    )


def is_in_force(sanction: Sanction, now: datetime) -> bool:
    return (
        sanction.kind in BLOCKING_KINDS
        and sanction.lifted_at is None
        and (sanction.until is None or sanction.until > now)
    )


def sanction_resource(sanction: Sanction, now: datetime) -> SanctionResource:
    return build(
        SanctionResource,
        id=sanction.id,
        author_id=sanction.author_id,
        kind=sanction.kind,
        reason_code=sanction.reason_code,
        explanation=sanction.explanation,
        until=isoformat(sanction.until),
        created_by=sanction.created_by,
        created_at=isoformat(sanction.created_at),
        lifted_at=isoformat(sanction.lifted_at),
        lifted_by=sanction.lifted_by,
        in_force=is_in_force(sanction, now),
    )
