"""Perspective's replies, errors included, as pydantic models: rendered with `wire.render`
from values our code computed (`build`, not validated again), and documented from the same
definitions."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from service.perspective.wire import Omittable, PerspectiveResource

SCORE_TYPE = "PROBABILITY"


class Score(PerspectiveResource):
    value: Annotated[float, Field(ge=0, le=1)]
    type: Literal["PROBABILITY"]


class SpanScore(PerspectiveResource):
    begin: Annotated[int, Field(ge=0)]
    end: Annotated[int, Field(ge=0)]
    score: Score


class AttributeScores(PerspectiveResource):
    span_scores: Annotated[
        list[SpanScore],
        Field(
            description="UTF-16 code-unit offsets, `end` exclusive: one span for the whole "
            "text, or one per sentence with spanAnnotations."
        ),
    ]
    summary_score: Score


class AnalyzeCommentResponse(PerspectiveResource):
    # Each attribute under the name it was asked by, version (`TOXICITY@6`) included.
    attribute_scores: dict[str, AttributeScores]
    languages: list[str]
    detected_languages: list[str]
    client_token: Omittable[str] = None


class SuggestCommentScoreResponse(PerspectiveResource):
    client_token: Omittable[str] = None
    detected_languages: list[str]
    requested_languages: list[str]


class GoogleErrorStatus(PerspectiveResource):
    """google.rpc.Status: the HTTP code, Google's English message, and its status name."""

    code: int
    message: str
    status: str
    details: Omittable[list[dict[str, Any]]] = None


class GoogleError(PerspectiveResource):
    """Every failure on the Perspective routes: {"error": {"code", "message", "status"}}."""

    error: GoogleErrorStatus
