"""POST /v1/comments/{comment_id}/reports: a reader's report, parsed by pydantic models
(service/http/bodies.py).

A report of `illegal` content is a notice (EU DSA Art. 16): it also takes `legal_ground`,
`explanation` and `good_faith`, all required then. With any other reason those three are
unknown fields, so the body is parsed by the model its reason picks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

from service.comments.text import has_invalid_characters
from service.http.bodies import Rules, StrictModel, fault
from service.reports.reasons import (
    ILLEGAL,
    MAX_DETAIL_CHARS,
    MAX_NOTICE_CHARS,
    REPORT_REASONS,
    ReportReason,
)


def _cleaned(field: str, limit: int, *, empty_is_none: bool) -> Callable[[Any], Any]:
    """A reader's free text, trimmed: control characters and lone surrogates refused as in a
    moderator's reason, then the length. Not a string is left to the type check."""

    def clean(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        if has_invalid_characters(value):
            raise fault(
                f"{field}_invalid_characters",
                f"{field} has control characters or lone surrogates.",
            )
        value = value.strip()
        if len(value) > limit:
            raise fault(f"{field}_too_long", f"{field} is at most {limit} characters.", limit=limit)
        if not value:
            if empty_is_none:
                return None
            raise fault("required", f"{field} is required with reason illegal.")
        return value

    return clean


def _confirmed(value: bool) -> bool:
    if not value:
        raise fault(
            "good_faith_required",
            "good_faith must be true: the reporter confirms the notice is accurate and complete.",
        )
    return value


_REASON = Annotated[
    ReportReason,
    Rules(
        required="reason is required.",
        invalid=f"reason is one of: {', '.join(REPORT_REASONS)}.",
        invalid_code="invalid_reason",
    ),
]
_DETAIL = Annotated[
    str | None,
    Field(
        max_length=MAX_DETAIL_CHARS,
        description="What the reader wants the moderators to know; trimmed. Never shown to "
        "the comment's author nor sent in webhooks.",
    ),
    Rules(invalid_type="detail must be a string."),
    BeforeValidator(_cleaned("detail", MAX_DETAIL_CHARS, empty_is_none=True)),
]
_NOTICE = "Only with reason illegal, and then required."
_LEGAL_GROUND_RULES = Rules(
    required="legal_ground is required with reason illegal.",
    invalid_type="legal_ground must be a string.",
)
_EXPLANATION_RULES = Rules(
    required="explanation is required with reason illegal.",
    invalid_type="explanation must be a string.",
)
_GOOD_FAITH_RULES = Rules(
    required="good_faith is required with reason illegal.",
    invalid_type="good_faith must be true.",
)
_LEGAL_GROUND_CLEAN = BeforeValidator(
    _cleaned("legal_ground", MAX_NOTICE_CHARS, empty_is_none=False)
)
_EXPLANATION_CLEAN = BeforeValidator(_cleaned("explanation", MAX_NOTICE_CHARS, empty_is_none=False))
_LEGAL_GROUND_DOC = Field(
    max_length=MAX_NOTICE_CHARS,
    description=f"The law the comment breaks, as the reporter sees it. {_NOTICE}",
)
_EXPLANATION_DOC = Field(
    max_length=MAX_NOTICE_CHARS,
    description=f"Why the comment is illegal under it. {_NOTICE}",
)
_GOOD_FAITH_DOC = Field(
    description="true: the reporter confirms, in good faith, that the notice is accurate and "
    f"complete. {_NOTICE}",
)


class NewReport(StrictModel):
    """POST /v1/comments/{comment_id}/reports: why a reader reports another reader's
    published comment."""

    reason: _REASON
    detail: _DETAIL = None
    legal_ground: Annotated[str | None, _LEGAL_GROUND_DOC, _LEGAL_GROUND_RULES] = None
    explanation: Annotated[str | None, _EXPLANATION_DOC, _EXPLANATION_RULES] = None
    good_faith: Annotated[bool | None, _GOOD_FAITH_DOC, _GOOD_FAITH_RULES] = None

    @classmethod
    def parse(cls, data: Any) -> NewReport:
        """The report, or a FieldError (422): the notice fields are parsed only with reason
        illegal, and are unknown fields with any other."""
        model: type[_Report] = (
            _Notice if isinstance(data, Mapping) and data.get("reason") == ILLEGAL else _Report
        )
        parsed = model.parse(data)
        return cls.model_construct(**parsed.model_dump())


class _Report(StrictModel):
    reason: _REASON
    detail: _DETAIL = None


class _Notice(_Report):
    legal_ground: Annotated[
        str, Field(max_length=MAX_NOTICE_CHARS), _LEGAL_GROUND_RULES, _LEGAL_GROUND_CLEAN
    ]
    explanation: Annotated[
        str, Field(max_length=MAX_NOTICE_CHARS), _EXPLANATION_RULES, _EXPLANATION_CLEAN
    ]
    good_faith: Annotated[bool, _GOOD_FAITH_RULES, AfterValidator(_confirmed)]
