"""The OpenAPI paths and schemas of policy tuning (audit sample, insights), merged into
service/openapi.py."""

from __future__ import annotations

from typing import Any

PROBLEM = {"$ref": "#/components/schemas/Problem"}
MODERATOR_SECURITY: list[dict[str, list[str]]] = [{"bearer": []}]
PROBLEM_TITLES = {
    400: "Malformed request (malformed_json)",
    401: "Missing, invalid or expired token (invalid_token)",
    403: "The token lacks the moderator role (forbidden)",
    404: "The comment is not in the audit sample (not_found)",
    409: "Already labelled (already_labelled); send override: true to change the label",
    413: "Body over the limit (body_too_large)",
    415: "Not application/json (unsupported_media_type)",
    422: "A field or query parameter is invalid (invalid_label, invalid_since, "
    "invalid_target_precision, ...)",
    503: "The database is not answering (unavailable); see Retry-After",
}
NULLABLE_NUMBER = {"type": ["number", "null"]}
RATE = {"type": ["number", "null"], "minimum": 0, "maximum": 1}
COUNT = {"type": "integer", "minimum": 0}
ACTION_COUNTS = {
    "type": "object",
    "required": ["approve", "hold"],
    "properties": {"approve": COUNT, "hold": COUNT},
}


def _problems(*statuses: int) -> dict[str, Any]:
    return {
        str(status): {
            "description": PROBLEM_TITLES[status],
            "content": {"application/problem+json": {"schema": PROBLEM}},
        }
        for status in statuses
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


def _object(required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties}


THRESHOLD_POINT = _object(
    ["threshold", "precision", "recall", "tp", "fp", "fn", "tn"],
    {
        "threshold": {"type": "number"},
        "precision": RATE,
        "recall": RATE,
        **{
            name: {"type": "number", "description": "Weighted count (samples count 1/rate)."}
            for name in ("tp", "fp", "fn", "tn")
        },
    },
)

TUNING_SCHEMAS: dict[str, Any] = {
    "AuditSampleState": _object(
        ["rate", "sampled_at", "label", "labelled_by", "labelled_at"],
        {
            "rate": {"type": "number", "description": "The sampling rate when it was drawn."},
            "sampled_at": {"type": "string", "format": "date-time"},
            "label": {"enum": ["fine", "not_fine", None]},
            "labelled_by": {"type": ["string", "null"]},
            "labelled_at": {"type": ["string", "null"], "format": "date-time"},
        },
    ),
    "SampleItem": {
        "allOf": [
            _ref("Comment"),
            _object(
                ["max_score", "sample"],
                {"max_score": NULLABLE_NUMBER, "sample": _ref("AuditSampleState")},
            ),
        ]
    },
    "SampleQueuePage": _object(
        ["items", "next"],
        {
            "items": {"type": "array", "items": _ref("SampleItem")},
            "next": {"type": ["string", "null"]},
        },
    ),
    "SampleLabel": {
        "type": "object",
        "required": ["label"],
        "additionalProperties": False,
        "properties": {
            "label": {"enum": ["fine", "not_fine"]},
            "override": {
                "type": "boolean",
                "default": False,
                "description": "Required to change a label already given; audited.",
            },
        },
    },
    "SampleLabelled": {
        "allOf": [
            _ref("AuditSampleState"),
            _object(
                ["comment_id", "status"],
                {
                    "comment_id": {"type": "string"},
                    "status": {
                        "enum": ["approved", "rejected"],
                        "description": "Unchanged by a label: to take a comment down, reject "
                        "it through the decision route (with override: true).",
                    },
                },
            ),
        ]
    },
    "PolicyComparison": _object(
        [
            "since",
            "shadow_versions",
            "compared",
            "agreement",
            "confusion",
            "changes",
            "by_rule",
            "outcomes",
            "examples",
        ],
        {
            "since": {"type": "string", "format": "date-time"},
            "shadow_versions": {"type": "object", "additionalProperties": COUNT},
            "compared": COUNT,
            "agreement": _object(["count", "rate"], {"count": COUNT, "rate": RATE}),
            "confusion": {
                "type": "object",
                "description": "Rows: the real action; columns: the shadow policy's.",
                "required": ["approve", "hold"],
                "properties": {"approve": ACTION_COUNTS, "hold": ACTION_COUNTS},
            },
            "changes": _object(
                ["total", "approve_to_hold", "hold_to_approve"],
                {"total": COUNT, "approve_to_hold": COUNT, "hold_to_approve": COUNT},
            ),
            "by_rule": {
                "type": "array",
                "items": _object(
                    ["rule", "real", "shadow", "approve_to_hold", "hold_to_approve"],
                    {
                        "rule": {"type": "string"},
                        "real": COUNT,
                        "shadow": COUNT,
                        "approve_to_hold": COUNT,
                        "hold_to_approve": COUNT,
                    },
                ),
            },
            "outcomes": {
                "type": "object",
                "description": "misses: comments moderators rejected that a policy approves; "
                "extra_work: comments moderators approved that a policy holds.",
            },
            "examples": {"type": "object"},
        },
    ),
    "Insights": _object(
        [
            "as_of",
            "since",
            "policy_version",
            "target_precision",
            "labels",
            "rules",
            "model_labels",
            "volume",
            "sample",
            "shadow",
        ],
        {
            "as_of": {"type": "string", "format": "date-time"},
            "since": {"type": "string", "format": "date-time"},
            "policy_version": {"type": "string"},
            "target_precision": {"type": "number"},
            "labels": {
                "type": "object",
                "description": "Human judgements of comments decided in the window (the "
                "latest per comment): moderator decisions and audit-sample labels.",
                "required": ["total", "by_source", "approved", "rejected"],
                "properties": {
                    "total": COUNT,
                    "by_source": {"type": "object", "additionalProperties": COUNT},
                    "approved": COUNT,
                    "rejected": COUNT,
                },
            },
            "rules": {
                "type": "array",
                "description": "Per rule and threshold: holds, and how moderators judged them.",
                "items": _object(
                    [
                        "rule",
                        "kind",
                        "threshold",
                        "holds",
                        "reviewed",
                        "overturned",
                        "upheld",
                        "overturn_rate",
                        "upheld_rate",
                    ],
                    {
                        "rule": {"type": "string"},
                        "kind": {"type": "string"},
                        "threshold": NULLABLE_NUMBER,
                        "holds": COUNT,
                        "reviewed": COUNT,
                        "overturned": {**COUNT, "description": "Held, then approved."},
                        "upheld": {**COUNT, "description": "Held, then rejected."},
                        "overturn_rate": RATE,
                        "upheld_rate": RATE,
                    },
                ),
            },
            "model_labels": {
                "type": "array",
                "items": _object(
                    [
                        "label",
                        "threshold",
                        "labelled",
                        "at_threshold",
                        "suggested_threshold",
                        "points",
                        "histogram",
                    ],
                    {
                        "label": {"type": "string"},
                        "threshold": {
                            **NULLABLE_NUMBER,
                            "description": "The policy's threshold; null when off.",
                        },
                        "labelled": COUNT,
                        "at_threshold": {"oneOf": [{"type": "null"}, THRESHOLD_POINT]},
                        "suggested_threshold": {
                            **NULLABLE_NUMBER,
                            "description": "The lowest threshold whose precision reaches "
                            "target_precision; null if none does.",
                        },
                        "points": {"type": "array", "items": THRESHOLD_POINT},
                        "histogram": _object(
                            ["bins", "approved", "rejected"],
                            {
                                "bins": COUNT,
                                "approved": {"type": "array", "items": COUNT},
                                "rejected": {"type": "array", "items": COUNT},
                            },
                        ),
                    },
                ),
            },
            "volume": _object(
                ["bucket", "series"],
                {
                    "bucket": {"enum": ["hour", "day", "week"]},
                    "series": {
                        "type": "array",
                        "items": _object(
                            ["start", "end", "holds", "reviewed", "backlog", "oldest_age_seconds"],
                            {
                                "start": {"type": "string", "format": "date-time"},
                                "end": {"type": "string", "format": "date-time"},
                                "holds": COUNT,
                                "reviewed": COUNT,
                                "backlog": {**COUNT, "description": "Held at the bucket's end."},
                                "oldest_age_seconds": {"type": ["integer", "null"]},
                            },
                        ),
                    },
                },
            ),
            "sample": _object(
                ["rate", "sampled", "labelled", "fine", "not_fine"],
                {
                    "rate": {"type": "number"},
                    "sampled": COUNT,
                    "labelled": COUNT,
                    "fine": COUNT,
                    "not_fine": COUNT,
                },
            ),
            "shadow": {"oneOf": [{"type": "null"}, _ref("PolicyComparison")]},
        },
    ),
}

TUNING_PATHS: dict[str, Any] = {
    "/v1/moderation/comments/{comment_id}/sample-label": {
        "post": {
            "operationId": "labelSampledComment",
            "summary": "Mark a comment from the audit sample fine or not fine (it stays "
            "published; reject it through the decision route to take it down)",
            "security": MODERATOR_SECURITY,
            "parameters": [
                {
                    "name": "comment_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string"},
                }
            ],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("SampleLabel")}},
            },
            "responses": {
                "200": _json("SampleLabelled", "The label is recorded"),
                **_problems(400, 401, 403, 404, 409, 413, 415, 422, 503),
            },
        }
    },
    "/v1/moderation/insights": {
        "get": {
            "operationId": "moderationInsights",
            "summary": "Evidence for tuning the policy: per-rule overturn rates, precision and "
            "recall per label and threshold, hold volume and queue age, shadow policy",
            "security": MODERATOR_SECURITY,
            "parameters": [
                {
                    "name": "since",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "default": "30d"},
                    "description": "Comments decided since: a duration (30d, 12h, 90m, 2w) or "
                    "an ISO 8601 moment with a time zone.",
                },
                {
                    "name": "target_precision",
                    "in": "query",
                    "required": False,
                    "schema": {
                        "type": "number",
                        "exclusiveMinimum": 0,
                        "maximum": 1,
                        "default": 0.9,
                    },
                    "description": "The precision the board wants; each label's "
                    "suggested_threshold is the lowest threshold reaching it.",
                },
            ],
            "responses": {
                "200": _json("Insights", "The evidence over the window"),
                **_problems(401, 403, 422, 503),
            },
        }
    },
    "/moderate/insights": {
        "get": {
            "operationId": "insightsPage",
            "summary": "Charts of the insights for moderators and the board (holds no data; "
            "sign in there with a token)",
            "responses": {"200": {"description": "HTML", "content": {"text/html": {}}}},
        }
    },
}
