"""The project's exception family, and how each error reaches an HTTP client.

Every error is rendered once, here, as `application/problem+json` (RFC 9457) with a
machine-readable `code` and any figures (such as `limit`, `length`) at the top level.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

PROBLEM_TYPE_PREFIX = "urn:comment-moderation:problem:"


class ModerationError(Exception):
    """Base class of every error this project raises on purpose."""


class ConfigurationError(ModerationError):
    """A process can't start: the message is one line naming what is missing."""


class ProblemError(ModerationError):
    """An error that answers an HTTP request as problem+json."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        title: str | None = None,
        headers: Mapping[str, str] | None = None,
        errors: list[dict[str, Any]] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.title = title or HTTPStatus(status).phrase
        self.headers = dict(headers or {})
        self.errors = errors
        self.extra = extra

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_TYPE_PREFIX + self.code,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
            **self.extra,
        }
        if self.errors is not None:
            body["errors"] = self.errors
        return body


class FieldError(ProblemError):
    """422: one or more fields are wrong; the first names the top-level code."""

    def __init__(self, errors: list[dict[str, Any]], **extra: Any) -> None:
        first = errors[0]
        super().__init__(422, first["code"], first["detail"], errors=errors, **extra)


def invalid_token(detail: str) -> ProblemError:
    return ProblemError(
        401,
        "invalid_token",
        detail,
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


def unavailable(detail: str, *, retry_after: int = 5) -> ProblemError:
    return ProblemError(503, "unavailable", detail, headers={"Retry-After": str(retry_after)})


class ProblemResponse(JSONResponse):
    media_type = "application/problem+json"

    def render(self, content: Any) -> bytes:
        # ASCII escapes: an error may echo a client's field name, and one holding a lone
        # surrogate can't be encoded as UTF-8.
        return json.dumps(content, allow_nan=False, separators=(",", ":")).encode("ascii")


def problem_response(error: ProblemError) -> Response:
    return ProblemResponse(error.body(), status_code=error.status, headers=error.headers)


async def handle_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)
    return problem_response(exc)


class ScoringError(ModerationError):
    """Base of every error the scoring layer (a model, its checkpoint, its device) raises."""


class ModelUnavailable(ScoringError):
    """The configured model can't be loaded here; the message is one line saying what to do."""

    def __init__(self, message: str) -> None:
        # Operators read this in a start-up log line; a nested error's traceback text
        # would split it over several.
        super().__init__(" ".join(message.split()))
