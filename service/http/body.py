"""Reading request bodies defensively: size first, then media type, then JSON."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from service.errors import ProblemError


async def read_json(request: Request, *, max_bytes: int) -> Any:
    """The decoded JSON body, or the contract's 413, 415 or 400."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise body_too_large(max_bytes)
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise ProblemError(
            415,
            "unsupported_media_type",
            "Send the body as application/json.",
        )
    chunks: list[bytes] = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > max_bytes:
            raise body_too_large(max_bytes)
        chunks.append(chunk)
    return decode_json(b"".join(chunks))


def body_too_large(max_bytes: int) -> ProblemError:
    return ProblemError(
        413, "body_too_large", f"The body is larger than {max_bytes} bytes.", limit=max_bytes
    )


def decode_json(raw: bytes) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise malformed("The body is not valid UTF-8.") from exc
    try:
        return json.loads(
            text, object_pairs_hook=_reject_duplicate_keys, parse_constant=_reject_constant
        )
    except RecursionError as exc:
        raise malformed("The JSON is nested too deeply.") from exc
    except ValueError as exc:
        raise malformed(f"The body is not valid JSON: {exc}") from exc


def malformed(detail: str) -> ProblemError:
    return ProblemError(400, "malformed_json", detail)


def _reject_constant(name: str) -> Any:
    """NaN and Infinity are Python's extensions, not JSON (RFC 8259)."""
    raise ValueError(f"{name} is not a JSON value")


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result
