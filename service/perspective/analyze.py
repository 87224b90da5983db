"""Google Perspective's `comments:analyze` and `comments:suggestscore`, answered from Detoxify.

Requests and answers follow Perspective's v1alpha1 API, errors included, so a client changes
only its endpoint. What differs (docs/perspective.md): the scores come from the configured
Detoxify model, so the names match but the calibration does not; attributes are Detoxify's
labels under Perspective's names, and an attribute the model lacks is an unknown one.

This module holds the Perspective semantics and nothing else: parsing and checking requests,
turning a worker's raw scores into Perspective's response, and Google's error shape.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeGuard

from starlette.responses import JSONResponse

from service.db.engine import Database
from service.errors import ModerationError
from service.model_catalogue import model_labels, variant_of
from service.perspective.text import utf16_offsets
from service.store.perspective import add_perspective_feedback

# Perspective's names → Detoxify's labels ("obscene" is Detoxify's profanity).
ATTRIBUTES: Mapping[str, str] = {
    "TOXICITY": "toxicity",
    "SEVERE_TOXICITY": "severe_toxicity",
    "IDENTITY_ATTACK": "identity_attack",
    "INSULT": "insult",
    "PROFANITY": "obscene",
    "THREAT": "threat",
    "SEXUALLY_EXPLICIT": "sexual_explicit",
}
MAX_TEXT_BYTES = 20_480
MAX_BODY_BYTES = 256 * 1024
# When neither the request nor the detector names a language (the detector declines short
# texts), the comment is taken to be in the language every Detoxify model reads.
FALLBACK_LANGUAGE = "en"
SCORE_TYPE = "PROBABILITY"
_SCORE_TYPES = frozenset({SCORE_TYPE, "SCORE_TYPE_UNSPECIFIED"})
_ERROR_TYPE = "type.googleapis.com/google.commentanalyzer.v1alpha1.Error"
_MAX_LANGUAGE_CHARS = 35


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
        error: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status}
        if self.error_type is not None:
            error["details"] = [{"@type": _ERROR_TYPE, "errorType": self.error_type, **self.extra}]
        return {"error": error}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.code, headers=self.headers)


def invalid(message: str, error_type: str = "INVALID_REQUEST", **extra: Any) -> PerspectiveError:
    return PerspectiveError(400, "INVALID_ARGUMENT", message, error_type=error_type, extra=extra)


def unavailable(message: str) -> PerspectiveError:
    return PerspectiveError(503, "UNAVAILABLE", message, headers={"Retry-After": "1"})


@dataclass(frozen=True)
class RequestedAttribute:
    name: str
    label: str
    threshold: float | None


@dataclass(frozen=True)
class AnalyzeRequest:
    text: str
    attributes: tuple[RequestedAttribute, ...]
    languages: tuple[str, ...]
    span_annotations: bool
    drop_unsupported: bool
    client_token: str | None


@dataclass(frozen=True)
class Suggestion:
    text: str
    scores: tuple[tuple[str, float], ...]
    community_id: str | None
    client_token: str | None


def decode_body(raw: bytes) -> dict[str, Any]:
    """The JSON object in a request body, or Google's 400 for anything else."""
    try:
        body = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise invalid("Invalid JSON payload received. The body is not valid UTF-8.") from exc
    except RecursionError as exc:
        raise invalid("Invalid JSON payload received. The JSON is nested too deeply.") from exc
    except ValueError as exc:
        raise invalid(f"Invalid JSON payload received. {exc}.") from exc
    if not isinstance(body, dict):
        raise invalid("Invalid JSON payload received. Expected an object at the top level.")
    _reject_unstorable_strings(body)
    return body


def labels_of_model(model: str) -> frozenset[str] | None:
    """The labels MODERATION_MODEL scores, known from its variant without loading it, so an
    attribute it lacks is refused before any worker is asked; None for a checkpoint of no
    published variant, whose labels only the worker can read (render_analysis checks them)."""
    variant = variant_of(model)
    return None if variant is None else frozenset(model_labels(variant))


def parse_analyze_request(
    body: Mapping[str, Any], *, labels: frozenset[str] | None = None
) -> AnalyzeRequest:
    """`labels`: what the model scores (labels_of_model), when known; other attributes are
    unknown ones."""
    text = _comment_text(body)
    attributes = _requested_attributes(body.get("requestedAttributes"), labels)
    languages = _languages(body.get("languages"))
    span_annotations = _optional(body, "spanAnnotations", bool) or False
    _optional(body, "doNotStore", bool)
    drop_unsupported = _optional(body, "dropUnsupportedAttributes", bool) or False
    client_token = _optional(body, "clientToken", str)
    for name in ("sessionId", "communityId"):
        _optional(body, name, str)
    _optional(body, "context", dict)
    return AnalyzeRequest(
        text, attributes, languages, span_annotations, drop_unsupported, client_token
    )


def render_analysis(request: AnalyzeRequest, result: Mapping[str, Any]) -> dict[str, Any]:
    """Perspective's response from a worker's result (workers/analyze.py)."""
    labels = set(result["labels"])
    for attribute in request.attributes:
        if attribute.label not in labels:
            raise invalid(f"Unknown requested attribute: {attribute.name}")
    detected = result.get("detected")
    detected_languages = [detected] if detected else []
    languages = list(request.languages) or [detected or FALLBACK_LANGUAGE]
    covered = set(result["covered"])
    unsupported = list(dict.fromkeys(_primary(lang) for lang in languages))
    unsupported = [lang for lang in unsupported if lang not in covered]
    attributes = request.attributes
    if unsupported and request.drop_unsupported:
        attributes = ()
    elif unsupported:
        name = attributes[0].name
        raise invalid(
            f"Attribute {name} does not support request languages: {', '.join(unsupported)}",
            "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE",
            languageNotSupportedByAttributeError={
                "detectedLanguages": detected_languages,
                "requestedLanguages": list(request.languages),
                "attribute": name,
            },
        )
    spans = result.get("spans") or [[0, len(request.text), result["summary"]]]
    offsets = utf16_offsets(request.text, [offset for span in spans for offset in span[:2]])
    scores: dict[str, Any] = {}
    for attribute in attributes:
        summary = float(result["summary"][attribute.label])
        threshold = attribute.threshold
        if threshold is not None and summary < threshold:
            continue
        span_scores = [
            {"begin": offsets[2 * i], "end": offsets[2 * i + 1], "score": _score(value)}
            for i, span in enumerate(spans)
            if (value := span[2][attribute.label]) >= (threshold or 0)
        ]
        scores[attribute.name] = {"spanScores": span_scores, "summaryScore": _score(summary)}
    response: dict[str, Any] = {
        "attributeScores": scores,
        "languages": languages,
        "detectedLanguages": detected_languages,
    }
    if request.client_token is not None:
        response["clientToken"] = request.client_token
    return response


def parse_suggestion(
    body: Mapping[str, Any], *, labels: frozenset[str] | None = None
) -> Suggestion:
    text = _comment_text(body)
    given = body.get("attributeScores")
    if given is None or given == {}:
        raise invalid("attribute_scores must not be empty.")
    if not isinstance(given, dict):
        raise _wrong_type("attribute_scores", "an object")
    scores: list[tuple[str, float]] = []
    for name, entry in given.items():
        _check_attribute(name, labels)
        summary = entry.get("summaryScore") if isinstance(entry, dict) else None
        value = summary.get("value") if isinstance(summary, dict) else None
        if not _is_probability(value):
            raise invalid(
                f"attribute_scores[{name}].summary_score.value must be set, between 0 and 1."
            )
        scores.append((name, float(value)))
    _languages(body.get("languages"))
    _optional(body, "sessionId", str)
    _optional(body, "context", dict)
    return Suggestion(
        text=text,
        scores=tuple(scores),
        community_id=_optional(body, "communityId", str),
        client_token=_optional(body, "clientToken", str),
    )


def record_suggestion(
    db: Database, *, key_name: str, suggestion: Suggestion, now: datetime
) -> list[int]:
    """The stored rows' ids, committed: the caller sends them on to be scored."""
    with db.session() as session:
        rows = [
            add_perspective_feedback(
                session,
                key_name=key_name,
                attribute=attribute,
                value=value,
                text=suggestion.text,
                community_id=suggestion.community_id,
                client_token=suggestion.client_token,
                now=now,
            )
            for attribute, value in suggestion.scores
        ]
        ids = [row.id for row in rows]
    return ids


def _comment_text(body: Mapping[str, Any]) -> str:
    comment = body.get("comment")
    if comment is not None and not isinstance(comment, dict):
        raise _wrong_type("comment", "an object")
    comment = comment or {}
    text = comment.get("text")
    if text is None or text == "":
        raise invalid("Comment must be non-empty.", "COMMENT_EMPTY")
    if not isinstance(text, str):
        raise _wrong_type("comment.text", "a string")
    kind = comment.get("type")
    if kind == "HTML":
        raise invalid("Currently, only 'PLAIN_TEXT' comments are supported")
    if kind not in (None, "PLAIN_TEXT", "TEXT_TYPE_UNSPECIFIED"):
        raise invalid("Unknown text type")
    size = len(text.encode("utf-8"))
    if size > MAX_TEXT_BYTES:
        raise invalid(
            f"Comment text was too many bytes. Value ({size}) exceeded limit ({MAX_TEXT_BYTES}).",
            "COMMENT_TOO_LONG",
        )
    return text


def _check_attribute(name: str, labels: frozenset[str] | None) -> None:
    if name not in ATTRIBUTES or (labels is not None and ATTRIBUTES[name] not in labels):
        raise invalid(f"Unknown requested attribute: {name}")


def _requested_attributes(
    given: Any, labels: frozenset[str] | None
) -> tuple[RequestedAttribute, ...]:
    if given is None or given == {}:
        raise invalid("Missing requested_attributes", "NO_REQUESTED_ATTRIBUTES")
    if not isinstance(given, dict):
        raise _wrong_type("requested_attributes", "an object")
    attributes: list[RequestedAttribute] = []
    for name, parameters in given.items():
        _check_attribute(name, labels)
        if parameters is None:
            parameters = {}
        if not isinstance(parameters, dict):
            raise _wrong_type(f"requested_attributes[{name}]", "an object")
        score_type = parameters.get("scoreType")
        if score_type is not None and score_type not in _SCORE_TYPES:
            raise invalid(f"Requested score type {score_type} is not supported by attribute {name}")
        threshold = parameters.get("scoreThreshold")
        if threshold is not None and not _is_probability(threshold):
            raise _wrong_type(f"requested_attributes[{name}].score_threshold", "a number 0-1")
        attributes.append(
            RequestedAttribute(name, ATTRIBUTES[name], None if threshold is None else threshold)
        )
    return tuple(attributes)


def _languages(given: Any) -> tuple[str, ...]:
    if given is None:
        return ()
    if not isinstance(given, list) or not all(
        isinstance(lang, str) and 0 < len(lang) <= _MAX_LANGUAGE_CHARS for lang in given
    ):
        raise _wrong_type("languages", "a list of language codes")
    return tuple(given)


def _primary(language: str) -> str:
    """ "en-US" → "en": Perspective takes ISO 639-1 and BCP-47 codes alike."""
    return language.replace("_", "-").split("-", 1)[0].lower()


def _optional(body: Mapping[str, Any], name: str, kind: type) -> Any:
    value = body.get(name)
    if value is not None and not isinstance(value, kind):
        raise _wrong_type(name, kind.__name__)
    return value


def _is_probability(value: Any) -> TypeGuard[int | float]:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and 0 <= value <= 1
    )


def _score(value: float) -> dict[str, Any]:
    return {"value": value, "type": SCORE_TYPE}


def _wrong_type(field: str, expected: str) -> PerspectiveError:
    return invalid(f"Invalid value at '{field}': expected {expected}.")


def _reject_unstorable_strings(body: dict[str, Any]) -> None:
    """Strings that can't be stored or sent on, refused before anything reads them.

    JSON's \\ud800 escapes decode to strings nothing can encode again, and PostgreSQL's text
    can't hold NUL (\\u0000): suggestscore would pass it to the insert and answer 503, which
    a client retries for ever. Either is the client's mistake, so Google's 400.
    """
    pending: list[Any] = [body]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                message = "Invalid JSON payload received. Unpaired surrogate in a string."
                raise invalid(message) from exc
            if "\x00" in value:
                raise invalid("Invalid JSON payload received. NUL (\\u0000) in a string.")
