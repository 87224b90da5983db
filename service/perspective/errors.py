"""Google's error shape, {"error": {"code", "message", "status"}}, as an exception.

`PerspectiveError` reaches the client through the app's exception handler, rendered from the
`GoogleError` model that the OpenAPI document describes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import JSONResponse

from service.errors import ModerationError
from service.http.bodies import build
from service.perspective.resources import GoogleError, GoogleErrorStatus
from service.perspective.wire import render

ERROR_TYPE = "type.googleapis.com/google.commentanalyzer.v1alpha1.Error"


class PerspectiveError(ModerationError):
    """An answer in Google's JSON error shape: {"error": {"code", "message", "status"}}."""

    def __init__(
        self,
        code: int,
        status: str,
        message: str,
        *,
        error_type: str | None = None,
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.message = message
        self.error_type = error_type
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        details = None
        if self.error_type is not None:
            details = [{"@type": ERROR_TYPE, "errorType": self.error_type, **self.extra}]
        status = build(
            GoogleErrorStatus,
            code=self.code,
            message=self.message,
            status=self.status,
            details=details,
        )
        return render(build(GoogleError, error=status))

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.code, headers=self.headers)


def invalid(message: str, error_type: str = "INVALID_REQUEST", **extra: Any) -> PerspectiveError:
    return PerspectiveError(400, "INVALID_ARGUMENT", message, error_type=error_type, extra=extra)


def unavailable(message: str) -> PerspectiveError:
    return PerspectiveError(503, "UNAVAILABLE", message, headers={"Retry-After": "1"})


def wrong_type(field: str, expected: str) -> PerspectiveError:
    return invalid(f"Invalid value at '{field}': expected {expected}.")
