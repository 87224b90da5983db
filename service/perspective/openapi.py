"""OpenAPI paths and schemas of the Perspective-compatible routes, merged into service/openapi.py.

They describe Perspective's v1alpha1 wire format as this service speaks it; errors are
Google's JSON error shape, not problem+json.
"""

from __future__ import annotations

from typing import Any

from service.perspective.analyze import ATTRIBUTES, MAX_BODY_BYTES, MAX_TEXT_BYTES

KEY_SECURITY: list[dict[str, list[str]]] = [{"perspectiveKey": []}, {"perspectiveKeyHeader": []}]
SECURITY_SCHEMES: dict[str, Any] = {
    "perspectiveKey": {"type": "apiKey", "in": "query", "name": "key"},
    "perspectiveKeyHeader": {"type": "apiKey", "in": "header", "name": "X-Goog-Api-Key"},
}
_ATTRIBUTE_NAMES = list(ATTRIBUTES)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _errors(*cases: tuple[int, str]) -> dict[str, Any]:
    return {
        str(status): {
            "description": description,
            "content": {"application/json": {"schema": _ref("GoogleError")}},
        }
        for status, description in cases
    }


_COMMON_ERRORS = (
    (
        400,
        "INVALID_ARGUMENT: malformed JSON, empty or too long comment, unknown attribute, "
        "language not supported by attribute, payload over the limit",
    ),
    (403, "PERMISSION_DENIED: missing, unknown or revoked key"),
    (503, "UNAVAILABLE: no worker answered in time, Redis or the database is down"),
)

_SCORE = {
    "type": "object",
    "required": ["value", "type"],
    "properties": {
        "value": {"type": "number", "minimum": 0, "maximum": 1},
        "type": {"const": "PROBABILITY"},
    },
}

PERSPECTIVE_SCHEMAS: dict[str, Any] = {
    "GoogleError": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "status"],
                "properties": {
                    "code": {"type": "integer"},
                    "message": {"type": "string"},
                    "status": {"type": "string"},
                    "details": {"type": "array", "items": {"type": "object"}},
                },
            }
        },
    },
    "PerspectiveComment": {
        "type": "object",
        "required": ["text"],
        "properties": {
            "text": {"type": "string", "description": f"1 to {MAX_TEXT_BYTES} UTF-8 bytes."},
            "type": {"enum": ["PLAIN_TEXT"]},
        },
    },
    "AnalyzeCommentRequest": {
        "type": "object",
        "required": ["comment", "requestedAttributes"],
        "properties": {
            "comment": _ref("PerspectiveComment"),
            "requestedAttributes": {
                "type": "object",
                "minProperties": 1,
                "propertyNames": {"enum": _ATTRIBUTE_NAMES},
                "additionalProperties": {
                    "type": "object",
                    "properties": {
                        "scoreType": {"enum": ["PROBABILITY"]},
                        "scoreThreshold": {"type": "number", "minimum": 0, "maximum": 1},
                    },
                },
            },
            "languages": {"type": "array", "items": {"type": "string"}},
            "spanAnnotations": {"type": "boolean"},
            "doNotStore": {
                "type": "boolean",
                "description": "Accepted; analyze never stores the text either way.",
            },
            "dropUnsupportedAttributes": {"type": "boolean"},
            "clientToken": {"type": "string"},
            "sessionId": {"type": "string"},
            "communityId": {"type": "string"},
            "context": {"type": "object", "description": "Accepted, unused."},
        },
    },
    "AnalyzeCommentResponse": {
        "type": "object",
        "required": ["attributeScores", "languages", "detectedLanguages"],
        "properties": {
            "attributeScores": {
                "type": "object",
                "propertyNames": {"enum": _ATTRIBUTE_NAMES},
                "additionalProperties": {
                    "type": "object",
                    "required": ["summaryScore", "spanScores"],
                    "properties": {
                        "summaryScore": _SCORE,
                        "spanScores": {
                            "type": "array",
                            "description": "UTF-16 code-unit offsets, `end` exclusive: one "
                            "span for the whole text, or one per sentence with spanAnnotations.",
                            "items": {
                                "type": "object",
                                "required": ["begin", "end", "score"],
                                "properties": {
                                    "begin": {"type": "integer", "minimum": 0},
                                    "end": {"type": "integer", "minimum": 0},
                                    "score": _SCORE,
                                },
                            },
                        },
                    },
                },
            },
            "languages": {"type": "array", "items": {"type": "string"}},
            "detectedLanguages": {"type": "array", "items": {"type": "string"}},
            "clientToken": {"type": "string"},
        },
    },
    "SuggestCommentScoreRequest": {
        "type": "object",
        "required": ["comment", "attributeScores"],
        "properties": {
            "comment": _ref("PerspectiveComment"),
            "attributeScores": {
                "type": "object",
                "minProperties": 1,
                "propertyNames": {"enum": _ATTRIBUTE_NAMES},
                "additionalProperties": {
                    "type": "object",
                    "required": ["summaryScore"],
                    "properties": {
                        "summaryScore": {
                            "type": "object",
                            "required": ["value"],
                            "properties": {"value": {"type": "number", "minimum": 0, "maximum": 1}},
                        }
                    },
                },
            },
            "languages": {"type": "array", "items": {"type": "string"}},
            "communityId": {"type": "string"},
            "clientToken": {"type": "string"},
            "sessionId": {"type": "string"},
            "context": {"type": "object"},
        },
    },
    "SuggestCommentScoreResponse": {
        "type": "object",
        "properties": {"clientToken": {"type": "string"}},
    },
}


def _operation(
    operation_id: str, summary: str, schema: str, answer: str, description: str, *errors: Any
) -> dict[str, Any]:
    return {
        "post": {
            "operationId": operation_id,
            "summary": summary,
            "description": description,
            "security": KEY_SECURITY,
            "requestBody": {
                "required": True,
                "description": f"JSON, at most {MAX_BODY_BYTES} bytes.",
                "content": {"application/json": {"schema": _ref(schema)}},
            },
            "responses": {
                "200": {
                    "description": "As Perspective answers",
                    "content": {"application/json": {"schema": _ref(answer)}},
                },
                **_errors(*errors),
            },
        }
    }


PERSPECTIVE_PATHS: dict[str, Any] = {
    "/v1alpha1/comments:analyze": _operation(
        "perspectiveAnalyze",
        "Score a comment, Perspective-compatible (synchronous, nothing stored)",
        "AnalyzeCommentRequest",
        "AnalyzeCommentResponse",
        "Google Perspective's `comments:analyze`, scored by the configured Detoxify model. "
        "See docs/perspective.md for what differs.",
        *_COMMON_ERRORS,
        (429, "RESOURCE_EXHAUSTED: over the key's queries-per-second quota"),
    ),
    "/v1alpha1/comments:suggestscore": _operation(
        "perspectiveSuggestScore",
        "Send feedback on a comment's scores, Perspective-compatible (stored with its text)",
        "SuggestCommentScoreRequest",
        "SuggestCommentScoreResponse",
        "Google Perspective's `comments:suggestscore`: stored as a labelled example in "
        "`perspective_feedback`, one row per attribute, then scored by a worker so that it "
        "counts in the per-label evidence of `GET /v1/moderation/insights`.",
        *_COMMON_ERRORS,
        (429, "RESOURCE_EXHAUSTED: over the key's queries-per-second quota"),
    ),
}
