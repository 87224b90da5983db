"""The OpenAPI paths of the moderators' routes, merged into service/openapi.py."""

from __future__ import annotations

from typing import Any

from service.moderation.openapi import PROBLEM

MODERATOR_SECURITY: list[dict[str, list[str]]] = [{"bearer": []}]


PROBLEM_TITLES = {
    400: "Malformed request (malformed_json)",
    401: "Missing, invalid or expired token (invalid_token)",
    403: "The token lacks the moderator role (forbidden)",
    404: "No such comment or author (not_found)",
    409: "Refused: already_decided (stale version or already reviewed), claimed (another "
    "moderator holds the lease) or not_held (the policy has not decided it yet)",
    413: "Body over the limit (body_too_large)",
    415: "Not application/json (unsupported_media_type)",
    422: "A field or query parameter is invalid (invalid_limit, invalid_cursor, ...)",
    503: "The database is not answering (unavailable); see Retry-After",
}


def _problems(*statuses: int) -> dict[str, Any]:
    return {
        str(status): {
            "description": PROBLEM_TITLES[status],
            "content": {"application/problem+json": {"schema": PROBLEM}},
        }
        for status in statuses
    }


def _json(schema: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


def _body(schema: str) -> dict[str, Any]:
    return {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


def _path_parameter(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


MODERATION_PATHS: dict[str, Any] = {
    "/v1/moderation/queue": {
        "get": {
            "operationId": "listHoldQueue",
            "summary": "Held comments, oldest first by default; ?claim=N leases N for 5 minutes",
            "security": MODERATOR_SECURITY,
            "parameters": [
                _query("article_id", {"type": "string"}, "Only this article's comments."),
                _query("author_id", {"type": "string"}, "Only this author's comments."),
                _query(
                    "reason",
                    {"type": "string", "pattern": "^[a-z_]{1,32}$"},
                    "Only comments held by this kind of rule (toxicity, terms, links, ...).",
                ),
                _query(
                    "min_score",
                    {"type": "number", "minimum": 0, "maximum": 1},
                    "Only comments whose highest label score is at least this.",
                ),
                _query(
                    "sort",
                    {"enum": ["oldest", "newest", "score"], "default": "oldest"},
                    "score: highest label score first.",
                ),
                _query("limit", {"type": "integer", "minimum": 1, "maximum": 100}, "Page size."),
                _query("cursor", {"type": "string"}, "The `next` of the previous page."),
                _query(
                    "claim",
                    {"type": "integer", "minimum": 1, "maximum": 100},
                    "Lease up to N free comments to the caller for 5 minutes (the caller's own "
                    "leases first, renewed); no other moderator can decide them meanwhile.",
                ),
                _query(
                    "queue",
                    {"enum": ["held", "sample"], "default": "held"},
                    "sample: the audit sample's unlabelled comments (a SampleQueuePage, oldest "
                    "first; article_id, author_id, limit and cursor apply).",
                ),
            ],
            "responses": {
                "200": {
                    "description": "A page of held comments, or of the audit sample",
                    "content": {
                        "application/json": {
                            "schema": {
                                "anyOf": [
                                    {"$ref": "#/components/schemas/QueuePage"},
                                    {"$ref": "#/components/schemas/SampleQueuePage"},
                                ]
                            }
                        }
                    },
                },
                **_problems(401, 403, 422, 503),
            },
        }
    },
    "/v1/moderation/comments/{comment_id}/decision": {
        "post": {
            "operationId": "decideComment",
            "summary": "Approve or reject a held comment (or, with override, reverse a decision)",
            "security": MODERATOR_SECURITY,
            "parameters": [_path_parameter("comment_id")],
            "requestBody": _body("ModeratorDecision"),
            "responses": {
                "200": _json("Comment", "The comment as decided: status, review, version + 1"),
                **_problems(400, 401, 403, 404, 409, 413, 415, 422, 503),
            },
        }
    },
    "/v1/moderation/decisions": {
        "post": {
            "operationId": "decideComments",
            "summary": "Up to 100 decisions, each applied or refused on its own",
            "security": MODERATOR_SECURITY,
            "requestBody": _body("BulkDecisions"),
            "responses": {
                "200": _json("BulkResults", "One result per item, in order"),
                **_problems(400, 401, 403, 413, 415, 422, 503),
            },
        }
    },
    "/v1/moderation/authors/{author_id}/ban": {
        "post": {
            "operationId": "banAuthor",
            "summary": "Refuse the author's new comments (403 author_banned), and optionally "
            "reject their held ones",
            "security": MODERATOR_SECURITY,
            "parameters": [_path_parameter("author_id")],
            "requestBody": _body("Ban"),
            "responses": {
                "200": _json("BanResult", "The author is banned"),
                **_problems(400, 401, 403, 404, 413, 415, 422, 503),
            },
        },
        "delete": {
            "operationId": "unbanAuthor",
            "summary": "Lift the author's ban (no change if there is none)",
            "security": MODERATOR_SECURITY,
            "parameters": [_path_parameter("author_id")],
            "responses": {
                "204": {"description": "The author may post again"},
                **_problems(401, 403, 404, 503),
            },
        },
    },
    "/v1/moderation/stats": {
        "get": {
            "operationId": "moderationStats",
            "summary": "Queue size and age, recent decisions, holds by reason",
            "security": MODERATOR_SECURITY,
            "responses": {
                "200": _json("ModerationStats", "The numbers, as of now"),
                **_problems(401, 403, 503),
            },
        }
    },
    "/v1/comments/{comment_id}/history": {
        "get": {
            "operationId": "commentHistory",
            "summary": "Every automated and human decision on a comment, oldest first",
            "security": MODERATOR_SECURITY,
            "parameters": [_path_parameter("comment_id")],
            "responses": {
                "200": _json("History", "The decisions"),
                **_problems(401, 403, 404, 503),
            },
        }
    },
    "/moderate": {
        "get": {
            "operationId": "moderatorPage",
            "summary": "The moderators' web page (holds no data; sign in there with a token)",
            "responses": {"200": {"description": "HTML", "content": {"text/html": {}}}},
        }
    },
}
