"""The OpenAPI schemas of the moderators' routes, merged into service/openapi.py."""

from __future__ import annotations

from typing import Any

PROBLEM = {"$ref": "#/components/schemas/Problem"}


REVIEW_COUNTS = {
    "type": "object",
    "required": ["total", "by_action", "by_moderator"],
    "properties": {
        "total": {"type": "integer"},
        "by_action": {"type": "object", "additionalProperties": {"type": "integer"}},
        "by_moderator": {"type": "object", "additionalProperties": {"type": "integer"}},
    },
}

MODERATION_SCHEMAS: dict[str, Any] = {
    "QueueItem": {
        "allOf": [
            {"$ref": "#/components/schemas/Comment"},
            {
                "type": "object",
                "required": ["max_score", "claim", "author_record"],
                "properties": {
                    "max_score": {
                        "type": ["number", "null"],
                        "description": "The highest toxicity label score; what sort=score "
                        "and min_score use.",
                    },
                    "claim": {
                        "oneOf": [
                            {"type": "null"},
                            {
                                "type": "object",
                                "required": ["moderator_id", "until"],
                                "properties": {
                                    "moderator_id": {"type": "string"},
                                    "until": {"type": "string", "format": "date-time"},
                                },
                            },
                        ]
                    },
                    "author_record": {
                        "type": "object",
                        "required": ["approved", "rejected", "held", "banned"],
                        "properties": {
                            "approved": {"type": "integer"},
                            "rejected": {"type": "integer"},
                            "held": {"type": "integer"},
                            "banned": {"type": "boolean"},
                        },
                    },
                },
            },
        ]
    },
    "QueuePage": {
        "type": "object",
        "required": ["items", "next"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/QueueItem"}},
            "next": {
                "type": ["string", "null"],
                "description": "Pass as ?cursor= (with the same sort and filters) for the "
                "next page; null on the last page and for claims.",
            },
        },
    },
    "ModeratorDecision": {
        "type": "object",
        "required": ["action", "version"],
        "additionalProperties": False,
        "properties": {
            "action": {"enum": ["approve", "reject"]},
            "version": {"type": "integer", "minimum": 1},
            "reason": {"type": ["string", "null"], "maxLength": 500},
            "override": {
                "type": "boolean",
                "default": False,
                "description": "Required to reverse a comment already approved or rejected; "
                "audited.",
            },
        },
    },
    "BulkDecisions": {
        "type": "object",
        "required": ["items"],
        "additionalProperties": False,
        "properties": {
            "items": {
                "type": "array",
                "minItems": 1,
                "maxItems": 100,
                "items": {
                    "type": "object",
                    "required": ["id", "action", "version"],
                    "properties": {
                        "id": {"type": "string"},
                        "action": {"enum": ["approve", "reject"]},
                        "version": {"type": "integer", "minimum": 1},
                        "reason": {"type": ["string", "null"], "maxLength": 500},
                        "override": {"type": "boolean"},
                    },
                },
            }
        },
    },
    "BulkResults": {
        "type": "object",
        "required": ["results"],
        "properties": {
            "results": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "status"],
                    "properties": {
                        "id": {"type": ["string", "null"]},
                        "status": {
                            "type": "integer",
                            "description": "What this item alone would have answered: 200 "
                            "applied, else 404, 409 or 422 with `code`.",
                        },
                        "code": {"type": "string"},
                        "detail": {"type": "string"},
                        "comment_status": {"enum": ["approved", "rejected"]},
                        "version": {"type": "integer"},
                    },
                },
            }
        },
    },
    "Ban": {
        "type": "object",
        "required": ["reason"],
        "additionalProperties": False,
        "properties": {
            "reason": {"type": "string", "minLength": 1, "maxLength": 500},
            "reject_held": {"type": "boolean", "default": False},
        },
    },
    "BanResult": {
        "type": "object",
        "required": ["author_id", "banned", "reason", "banned_by", "banned_at", "rejected"],
        "properties": {
            "author_id": {"type": "string"},
            "banned": {"const": True},
            "reason": {"type": "string"},
            "banned_by": {"type": "string"},
            "banned_at": {"type": "string", "format": "date-time"},
            "rejected": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Ids of the held comments rejected with the ban.",
            },
        },
    },
    "History": {
        "type": "object",
        "required": ["items"],
        "properties": {
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": [
                        "by",
                        "action",
                        "reason",
                        "moderator_id",
                        "policy_version",
                        "at",
                    ],
                    "properties": {
                        "by": {"enum": ["policy", "moderator"]},
                        "action": {"enum": ["approve", "hold", "reject"]},
                        "reason": {"type": ["string", "null"]},
                        "moderator_id": {"type": ["string", "null"]},
                        "policy_version": {"type": ["string", "null"]},
                        "at": {"type": "string", "format": "date-time"},
                        "reasons": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Reason"},
                            "description": "Policy decisions only.",
                        },
                        "override": {
                            "type": "boolean",
                            "description": "Moderator decisions only: a deliberate reversal.",
                        },
                    },
                },
            }
        },
    },
    "ModerationStats": {
        "type": "object",
        "required": [
            "as_of",
            "held",
            "oldest_held_at",
            "oldest_held_age_seconds",
            "decisions",
            "holds_by_reason",
        ],
        "properties": {
            "as_of": {"type": "string", "format": "date-time"},
            "held": {"type": "integer"},
            "oldest_held_at": {"type": ["string", "null"], "format": "date-time"},
            "oldest_held_age_seconds": {"type": ["integer", "null"]},
            "decisions": {
                "type": "object",
                "description": "Moderator decisions in each window.",
                "required": ["last_hour", "last_day"],
                "properties": {"last_hour": REVIEW_COUNTS, "last_day": REVIEW_COUNTS},
            },
            "holds_by_reason": {
                "type": "object",
                "description": "Held comments by the kind of rule that held them; a comment "
                "held for two kinds counts under each.",
                "additionalProperties": {"type": "integer"},
            },
        },
    },
}
