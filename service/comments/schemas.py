"""The comment routes' request bodies, parsed by pydantic models (service/http/bodies.py)."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Annotated, Any

from pydantic import Field, PlainValidator, WithJsonSchema, field_validator

from service.comments.text import MAX_GRAPHEMES, check_comment_text, normalize_comment_text
from service.http.bodies import Rules, StrictModel, fault

ARTICLE_ID_PATTERN = r"^[A-Za-z0-9._:~-]{1,200}$"
ARTICLE_ID = re.compile(ARTICLE_ID_PATTERN)
ARTICLE_ID_RULE = "article_id must be 1-200 characters of A-Z a-z 0-9 . _ : ~ -"
COMMENT_ID_MAX = 36


CommentText = Annotated[
    str,
    Field(
        description=f"1-{MAX_GRAPHEMES} user-perceived characters once NFC-normalised and trimmed."
    ),
    Rules(required="text is required.", invalid_type="text must be a string."),
]
"""A comment's text, on POST and on PATCH alike; `normalised_text` checks it."""


def _comment_id_or_none(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and 0 < len(value) <= COMMENT_ID_MAX):
        return value
    raise fault("invalid_type", "parent_id must be a comment id or null.")


class NewComment(StrictModel):
    """POST /v1/comments: a reader's comment."""

    article_id: Annotated[
        str,
        Field(pattern=ARTICLE_ID_PATTERN),
        Rules(
            required="article_id is required.",
            invalid_type="article_id must be a string.",
            invalid=ARTICLE_ID_RULE,
            invalid_code="invalid_article_id",
        ),
    ]
    parent_id: Annotated[
        str | None,
        # In Python, not pydantic's str check: an id with a lone surrogate is looked up (and
        # not found, 422 parent_not_found) like any other, never a type error.
        PlainValidator(_comment_id_or_none),
        WithJsonSchema(
            {"type": ["string", "null"], "minLength": 1, "maxLength": COMMENT_ID_MAX},
        ),
    ] = None
    text: CommentText

    @field_validator("text", mode="before")
    @classmethod
    def _normalised(cls, value: Any) -> Any:
        return normalised_text(value)

    def body_hash(self) -> str:
        return _hash(
            {"article_id": self.article_id, "text": self.text, "parent_id": self.parent_id}
        )


class EditComment(StrictModel):
    """PATCH /v1/comments/{comment_id}: the author's new text for the comment, and the
    revision it replaces (the one the author last read)."""

    text: CommentText
    revision: Annotated[
        int,
        Field(ge=1, description="The comment's current revision: the one this edit replaces."),
        Rules(
            required="revision is required.",
            invalid_type="revision must be an integer.",
            invalid="revision must be 1 or more.",
            invalid_code="invalid_revision",
        ),
    ]

    @field_validator("text", mode="before")
    @classmethod
    def _normalised(cls, value: Any) -> Any:
        return normalised_text(value)

    def body_hash(self) -> str:
        return _hash({"text": self.text, "revision": self.revision})


def normalised_text(value: Any) -> Any:
    """A comment's text as the contract counts it, or the fault that refuses it. It runs
    before pydantic's own str check, which can't take the lone surrogates that
    check_comment_text reports as text_invalid_characters."""
    if not isinstance(value, str):
        return value
    text = normalize_comment_text(value)
    problem = check_comment_text(text)
    if problem is not None:
        raise fault(problem.code, problem.detail, headline=True, **problem.figures)
    return text


def _hash(body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def field_error(field: str, code: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"field": field, "code": code, "detail": detail, **extra}


def parse_prefer_wait(header: str | None, *, maximum: int) -> int | None:
    """Seconds asked for by `Prefer: wait=N` (RFC 7240), capped; None when absent or unusable."""
    if not header:
        return None
    for preference in header.split(","):
        name, _, value = preference.strip().partition("=")
        if name.strip().lower() == "wait":
            value = value.split(";")[0].strip().strip('"')
            if value.isdigit():
                return min(int(value), maximum)
    return None
