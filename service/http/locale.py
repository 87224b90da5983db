"""The language of an answer: the request's Accept-Language against the catalogued locales,
the reasons of a resource rendered in it, and the headers that say which it is.

Only reason messages change with the language. Problem details, field names and codes stay
as they are (a client's code reads those), and so do the Perspective routes' errors, which are
Google's words whatever the client asks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from policy.messages import LOCALES, reason_message
from service.http.openapi import Parameter
from service.http.services import services

ACCEPT_LANGUAGE = Parameter(
    "Accept-Language",
    "header",
    {"type": "string"},
    f"The language of the reasons' `message` ({', '.join(LOCALES)}; q-values honoured; any "
    "other: MODERATION_DEFAULT_LOCALE). The answer names it in Content-Language.",
)


def negotiate(accept_language: str | None, *, default: str) -> str:
    """The catalogued locale the header prefers most (RFC 9110 12.5.4: highest q, then the
    first written; `ko-KR` is `ko`, `*` the default); `default` when it names none."""
    best, best_quality = default, 0.0
    for item in (accept_language or "").split(","):
        tag, _, parameters = item.partition(";")
        locale = _locale_of(tag.strip().lower(), default)
        quality = _quality(parameters)
        if locale is not None and quality > best_quality:
            best, best_quality = locale, quality
    return best


def request_locale(request: Request) -> str:
    return negotiate(
        request.headers.get("accept-language"), default=services(request).settings.default_locale
    )


def language_headers(locale: str) -> dict[str, str]:
    return {"Content-Language": locale, "Vary": "Accept-Language"}


def localise_reasons(body: Any, locale: str) -> Any:
    """`body` (a resource as JSON) with the message of every reason in it (an object of a
    `reasons` list, at any depth) rendered in `locale`. A reason the catalogue can't render
    (stored before its evidence had what the message reads, a moderator's) keeps its own."""
    if isinstance(body, list):
        return [localise_reasons(item, locale) for item in body]
    if not isinstance(body, Mapping):
        return body
    return {
        key: _reasons(value, locale) if key == "reasons" else localise_reasons(value, locale)
        for key, value in body.items()
    }


def localised_response(
    request: Request,
    body: Any,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A JSON answer whose reasons read in the request's language, saying so in its headers."""
    locale = request_locale(request)
    return JSONResponse(
        localise_reasons(body, locale),
        status_code=status_code,
        headers={**(headers or {}), **language_headers(locale)},
    )


def _reasons(reasons: Any, locale: str) -> Any:
    if not isinstance(reasons, list):
        return localise_reasons(reasons, locale)
    return [
        {**reason, "message": reason_message(reason, locale) or reason["message"]}
        if isinstance(reason, Mapping) and isinstance(reason.get("message"), str)
        else localise_reasons(reason, locale)
        for reason in reasons
    ]


def _locale_of(tag: str, default: str) -> str | None:
    if tag == "*":
        return default
    return next(
        (locale for locale in LOCALES if tag == locale or tag.startswith(f"{locale}-")), None
    )


def _quality(parameters: str) -> float:
    """The q of one Accept-Language item's parameters; 1 when none, 0 when malformed."""
    for parameter in parameters.split(";"):
        name, _, value = parameter.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                quality = float(value.strip())
            except ValueError:
                return 0.0
            return quality if 0.0 <= quality <= 1.0 else 0.0
    return 1.0
