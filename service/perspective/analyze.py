"""Google Perspective's `comments:analyze` and `comments:suggestscore`, answered from the
configured models.

Requests and answers follow Perspective's v1alpha1 API, errors included, so a client changes
only its endpoint. What differs (docs/perspective.md): the scores come from the model the
policy routes the comment's language to (service/perspective/routing.py), so the names match
but the calibration does not; attributes are the service's labels under Perspective's names,
and an attribute that model lacks is an unknown one.

This module holds the Perspective semantics and nothing else: reading a request body, checking
it against the models (service/perspective/schemas.py), turning a worker's raw scores into
Perspective's response (service/perspective/resources.py), and storing feedback. Google's
error shape is service/perspective/errors.py.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from policy.language import detect_language
from service.db.engine import Database
from service.http.bodies import build
from service.model_catalogue import model_labels, variant_of
from service.models.registry import DEFAULT_ID
from service.perspective.errors import PerspectiveError, invalid, unavailable
from service.perspective.resources import (
    SCORE_TYPE,
    AnalyzeCommentResponse,
    AttributeScores,
    Score,
    SpanScore,
    SuggestCommentScoreResponse,
)
from service.perspective.routing import language_not_supported, primary
from service.perspective.schemas import (
    MAX_TEXT_BYTES,
    AnalyzeCommentRequest,
    SuggestCommentScoreRequest,
    parse,
)
from service.perspective.text import utf16_offsets
from service.perspective.wire import ATTRIBUTES, render, unversioned
from service.store.perspective import add_perspective_feedback

__all__ = [
    "ATTRIBUTES",
    "MAX_BODY_BYTES",
    "MAX_TEXT_BYTES",
    "PerspectiveError",
    "decode_body",
    "invalid",
    "labels_of_model",
    "parse_analyze_request",
    "parse_suggestion",
    "record_suggestion",
    "render_analysis",
    "render_suggestion",
    "unavailable",
]

MAX_BODY_BYTES = 256 * 1024
# When neither the request nor the detector names a language (the detector declines short
# texts), the comment is taken to be in the language every Detoxify model reads.
FALLBACK_LANGUAGE = "en"


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
) -> AnalyzeCommentRequest:
    """`labels`: what the model scores (labels_of_model), when known; other attributes are
    unknown ones."""
    return parse(AnalyzeCommentRequest, body, labels=labels)


def render_analysis(request: AnalyzeCommentRequest, result: Mapping[str, Any]) -> dict[str, Any]:
    """Perspective's response from a worker's result (workers/analyze.py): scored by the
    model `result["routed"]` names, or by none (None) when no model reads the request's
    languages, or the language the worker detected in a request that names none."""
    detected = result.get("detected")
    detected_languages = [detected] if detected else []
    languages = list(request.languages) or [detected or FALLBACK_LANGUAGE]
    attributes = request.requested_attributes
    # A worker of an older release routes nothing: what it scored is `default`'s.
    if result.get("routed", DEFAULT_ID) is None:
        if not request.drop_unsupported_attributes:
            unsupported = list(dict.fromkeys(primary(language) for language in languages))
            raise language_not_supported(request, unsupported, detected=detected_languages)
        attributes = {}
    else:
        labels = set(result["labels"])
        for name in attributes:
            if ATTRIBUTES[unversioned(name)] not in labels:
                raise invalid(f"Unknown requested attribute: {name}")
    spans = result.get("spans") or [[0, len(request.text), result.get("summary", {})]]
    offsets = utf16_offsets(request.text, [offset for span in spans for offset in span[:2]])
    scores: dict[str, AttributeScores] = {}
    for name, parameters in attributes.items():
        label = ATTRIBUTES[unversioned(name)]
        summary = float(result["summary"][label])
        threshold = parameters.score_threshold
        if threshold is not None and summary < threshold:
            continue
        span_scores = [
            build(SpanScore, begin=offsets[2 * i], end=offsets[2 * i + 1], score=_score(value))
            for i, span in enumerate(spans)
            if (value := span[2][label]) >= (threshold or 0)
        ]
        scores[name] = build(
            AttributeScores, span_scores=span_scores, summary_score=_score(summary)
        )
    response = build(
        AnalyzeCommentResponse,
        attribute_scores=scores,
        languages=languages,
        detected_languages=detected_languages,
        client_token=request.client_token,
    )
    return render(response)


def parse_suggestion(
    body: Mapping[str, Any], *, labels: frozenset[str] | None = None
) -> SuggestCommentScoreRequest:
    return parse(SuggestCommentScoreRequest, body, labels=labels)


def render_suggestion(suggestion: SuggestCommentScoreRequest) -> dict[str, Any]:
    """Perspective's answer to feedback: the languages the request named, and the one the
    detector finds in the text (as analyze's `detectedLanguages`; none for a text too short
    or mixed to tell)."""
    detected = detect_language(suggestion.text)
    response = build(
        SuggestCommentScoreResponse,
        client_token=suggestion.client_token,
        detected_languages=[detected] if detected else [],
        requested_languages=list(suggestion.languages),
    )
    return render(response)


def record_suggestion(
    db: Database, *, key_name: str, suggestion: SuggestCommentScoreRequest, now: datetime
) -> list[int]:
    """The stored rows' ids, committed: the caller sends them on to be scored."""
    with db.session() as session:
        rows = [
            add_perspective_feedback(
                session,
                key_name=key_name,
                attribute=unversioned(attribute),
                value=score.summary_score.value,
                text=suggestion.text,
                community_id=suggestion.community_id,
                client_token=suggestion.client_token,
                now=now,
            )
            for attribute, score in suggestion.attribute_scores.items()
        ]
        ids = [row.id for row in rows]
    return ids


def _score(value: float) -> Score:
    return build(Score, value=value, type=SCORE_TYPE)


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
