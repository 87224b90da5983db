"""The OpenAPI 3.1 document for every route; a test keeps it and the routes in step."""

from __future__ import annotations

from functools import cache
from typing import Any

from service.moderation.openapi import MODERATION_SCHEMAS
from service.moderation.openapi_paths import MODERATION_PATHS
from service.perspective.openapi import PERSPECTIVE_PATHS, PERSPECTIVE_SCHEMAS, SECURITY_SCHEMES
from service.tuning.openapi import TUNING_PATHS, TUNING_SCHEMAS

PROBLEM = {"$ref": "#/components/schemas/Problem"}


def _problem_responses(*statuses: int) -> dict[str, Any]:
    titles = {
        400: "Malformed request (malformed_json, invalid_idempotency_key)",
        401: "Missing, invalid or expired token (invalid_token)",
        403: "Not allowed (forbidden, author_banned)",
        404: "No such resource, or not yours (not_found)",
        409: "Conflict (idempotency_conflict, article_closed)",
        429: "Too many comments from this author (rate_limited); see Retry-After",
        413: "Body over the limit (body_too_large)",
        415: "Not application/json (unsupported_media_type)",
        422: "A field is invalid (text_too_long, text_empty, text_invalid_characters, ...)",
        503: "The database is not answering (unavailable); see Retry-After",
    }
    return {
        str(status): {
            "description": titles[status],
            "content": {"application/problem+json": {"schema": PROBLEM}},
        }
        for status in statuses
    }


WAIT_PARAMETER = {
    "name": "Prefer",
    "in": "header",
    "required": False,
    "description": "`wait=N` (0-10): answer once the comment is decided or N seconds pass.",
    "schema": {"type": "string"},
}

COMMENT_RESPONSE = {
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Comment"}}},
}

SCHEMAS: dict[str, Any] = {
    "Problem": {
        "type": "object",
        "required": ["type", "title", "status", "detail", "code"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "code": {"type": "string"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["field", "code", "detail"],
                    "properties": {
                        "field": {"type": "string"},
                        "code": {"type": "string"},
                        "detail": {"type": "string"},
                    },
                },
            },
        },
    },
    "NewComment": {
        "type": "object",
        "required": ["article_id", "text"],
        "additionalProperties": False,
        "properties": {
            "article_id": {"type": "string", "pattern": "^[A-Za-z0-9._:~-]{1,200}$"},
            "text": {
                "type": "string",
                "description": "1-250 user-perceived characters once NFC-normalised and trimmed.",
            },
            "parent_id": {"type": ["string", "null"]},
        },
    },
    "Reason": {
        "type": "object",
        "required": ["kind", "rule", "message"],
        "properties": {
            "kind": {"type": "string"},
            "rule": {"type": "string"},
            "message": {"type": "string"},
        },
    },
    "AutomatedDecision": {
        "type": "object",
        "required": ["action", "by", "reasons", "scores", "policy_version", "model", "at"],
        "properties": {
            "action": {"enum": ["approve", "hold"]},
            "by": {"const": "policy"},
            "reasons": {"type": "array", "items": {"$ref": "#/components/schemas/Reason"}},
            "scores": {"type": "object", "additionalProperties": {"type": "number"}},
            "policy_version": {"type": ["string", "null"]},
            "model": {"type": ["string", "null"]},
            "at": {"type": "string", "format": "date-time"},
        },
    },
    "Review": {
        "type": "object",
        "required": ["action", "moderator_id", "reason", "at"],
        "properties": {
            "action": {"enum": ["approve", "reject"]},
            "moderator_id": {"type": ["string", "null"]},
            "reason": {"type": ["string", "null"]},
            "at": {"type": "string", "format": "date-time"},
        },
    },
    "Comment": {
        "type": "object",
        "required": [
            "id",
            "article_id",
            "parent_id",
            "author_id",
            "text",
            "status",
            "version",
            "created_at",
            "decided_at",
            "decision",
            "review",
        ],
        "properties": {
            "id": {"type": "string"},
            "article_id": {"type": "string"},
            "parent_id": {"type": ["string", "null"]},
            "author_id": {"type": "string"},
            "text": {"type": ["string", "null"]},
            "status": {"enum": ["pending", "approved", "held", "rejected"]},
            "version": {"type": "integer"},
            "created_at": {"type": "string", "format": "date-time"},
            "decided_at": {"type": ["string", "null"], "format": "date-time"},
            "decision": {
                "oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/AutomatedDecision"}]
            },
            "review": {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Review"}]},
        },
    },
    "ArticleSettings": {
        "type": "object",
        "required": ["article_id", "premoderated", "closed", "updated_by", "updated_at"],
        "properties": {
            "article_id": {"type": "string"},
            "premoderated": {"type": "boolean"},
            "closed": {"type": "boolean"},
            "updated_by": {"type": ["string", "null"]},
            "updated_at": {"type": ["string", "null"], "format": "date-time"},
        },
    },
    "AuthorSettings": {
        "type": "object",
        "required": ["author_id", "always_hold", "trusted", "updated_by", "updated_at"],
        "properties": {
            "author_id": {"type": "string"},
            "always_hold": {"type": "boolean"},
            "trusted": {"type": "boolean"},
            "updated_by": {"type": ["string", "null"]},
            "updated_at": {"type": ["string", "null"], "format": "date-time"},
        },
    },
    "Readiness": {
        "type": "object",
        "required": ["status", "checks"],
        "properties": {
            "status": {"enum": ["ok", "degraded", "unavailable"]},
            "checks": {"type": "object"},
        },
    },
}


def _flags_schema(*names: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": list(names),
        "additionalProperties": False,
        "properties": {name: {"type": "boolean"} for name in names},
    }


def _settings_path(
    kind: str, key: str, flags: tuple[str, ...], read_statuses: tuple[int, ...]
) -> dict[str, Any]:
    schema = {"$ref": f"#/components/schemas/{kind}Settings"}
    ok = {
        "description": f"The {kind.lower()}'s settings",
        "content": {"application/json": {"schema": schema}},
    }
    parameters = [{"name": key, "in": "path", "required": True, "schema": {"type": "string"}}]
    return {
        "get": {
            "operationId": f"get{kind}Settings",
            "summary": f"Read an {kind.lower()}'s moderation settings",
            "security": [{"bearer": []}],
            "parameters": parameters,
            "responses": {"200": ok, **_problem_responses(*read_statuses)},
        },
        "put": {
            "operationId": f"put{kind}Settings",
            "summary": f"Set an {kind.lower()}'s moderation settings (moderators)",
            "security": [{"bearer": []}],
            "parameters": parameters,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _flags_schema(*flags)}},
            },
            "responses": {"200": ok, **_problem_responses(400, 401, 403, 413, 415, 422, 503)},
        },
    }


PATHS: dict[str, Any] = {
    "/v1/articles/{article_id}/settings": _settings_path(
        "Article", "article_id", ("premoderated", "closed"), (401, 422, 503)
    ),
    "/v1/authors/{author_id}/settings": _settings_path(
        "Author", "author_id", ("always_hold", "trusted"), (401, 403, 422, 503)
    ),
    "/v1/comments": {
        "post": {
            "operationId": "createComment",
            "summary": "Submit a reader's comment for moderation",
            "security": [{"bearer": []}],
            "parameters": [
                WAIT_PARAMETER,
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,255}$"},
                },
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/NewComment"}}
                },
            },
            "responses": {
                "202": {"description": "Accepted and pending a decision", **COMMENT_RESPONSE},
                "200": {
                    "description": "Decided within the wait, or an idempotent replay",
                    **COMMENT_RESPONSE,
                },
                **_problem_responses(400, 401, 403, 409, 413, 415, 422, 429, 503),
            },
        }
    },
    "/v1/comments/{comment_id}": {
        "get": {
            "operationId": "getComment",
            "summary": "Read a comment: its author and moderators only",
            "security": [{"bearer": []}],
            "parameters": [
                {
                    "name": "comment_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string"},
                },
                WAIT_PARAMETER,
            ],
            "responses": {
                "200": {"description": "The comment", **COMMENT_RESPONSE},
                **_problem_responses(401, 404, 503),
            },
        }
    },
    "/healthz": {
        "get": {
            "operationId": "healthz",
            "summary": "The process is alive",
            "responses": {"200": {"description": "Alive"}},
        }
    },
    "/readyz": {
        "get": {
            "operationId": "readyz",
            "summary": "Can this process accept comments? Each dependency's state",
            "responses": {
                "200": {
                    "description": "Ready (status ok or degraded)",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Readiness"}}
                    },
                },
                "503": {
                    "description": "Not ready: database down",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Readiness"}}
                    },
                },
            },
        }
    },
    "/metrics": {
        "get": {
            "operationId": "metrics",
            "summary": "Prometheus metrics of the API processes",
            "responses": {
                "200": {
                    "description": "Prometheus text format",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                }
            },
        }
    },
    "/openapi.json": {
        "get": {
            "operationId": "openapi",
            "summary": "This document",
            "responses": {"200": {"description": "OpenAPI 3.1"}},
        }
    },
}


@cache
def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "comment-moderation",
            "version": "0.1.0",
            "description": "Self-hosted comment moderation for news sites.",
        },
        "paths": {**PATHS, **MODERATION_PATHS, **TUNING_PATHS, **PERSPECTIVE_PATHS},
        "components": {
            "schemas": {**SCHEMAS, **MODERATION_SCHEMAS, **TUNING_SCHEMAS, **PERSPECTIVE_SCHEMAS},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                **SECURITY_SCHEMES,
            },
        },
    }
