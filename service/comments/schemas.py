"""Request bodies, validated into typed values or a list of field errors."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from service.comments.text import check_comment_text, normalize_comment_text
from service.errors import FieldError

ARTICLE_ID = re.compile(r"[A-Za-z0-9._:~-]{1,200}")
COMMENT_ID_MAX = 36


@dataclass(frozen=True)
class NewComment:
    article_id: str
    text: str
    parent_id: str | None

    def body_hash(self) -> str:
        canonical = json.dumps(
            {"article_id": self.article_id, "text": self.text, "parent_id": self.parent_id},
            sort_keys=True,
            ensure_ascii=False,
        )
        return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def field_error(field: str, code: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"field": field, "code": code, "detail": detail, **extra}


def parse_new_comment(body: Any) -> NewComment:
    if not isinstance(body, dict):
        raise FieldError([field_error("", "invalid_type", "The body must be a JSON object.")])
    errors: list[dict[str, Any]] = []
    figures: dict[str, int] = {}
    for unknown in sorted(set(body) - {"article_id", "text", "parent_id"}):
        errors.append(field_error(unknown, "unknown_field", f"Unknown field {unknown!r}."))

    article_id = body.get("article_id")
    if article_id is None:
        errors.append(field_error("article_id", "required", "article_id is required."))
    elif not isinstance(article_id, str):
        errors.append(field_error("article_id", "invalid_type", "article_id must be a string."))
    elif not ARTICLE_ID.fullmatch(article_id):
        errors.append(
            field_error(
                "article_id",
                "invalid_article_id",
                "article_id must be 1-200 characters of A-Z a-z 0-9 . _ : ~ -",
            )
        )

    parent_id = body.get("parent_id")
    if parent_id is not None and (
        not isinstance(parent_id, str) or not 0 < len(parent_id) <= COMMENT_ID_MAX
    ):
        errors.append(
            field_error("parent_id", "invalid_type", "parent_id must be a comment id or null.")
        )

    raw_text = body.get("text")
    text = ""
    if raw_text is None:
        errors.append(field_error("text", "required", "text is required."))
    elif not isinstance(raw_text, str):
        errors.append(field_error("text", "invalid_type", "text must be a string."))
    else:
        text = normalize_comment_text(raw_text)
        problem = check_comment_text(text)
        if problem is not None:
            errors.insert(0, field_error("text", problem.code, problem.detail, **problem.figures))
            figures = problem.figures

    if errors:
        raise FieldError(errors, **figures)
    assert isinstance(article_id, str)
    return NewComment(article_id=article_id, text=text, parent_id=parent_id)


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
