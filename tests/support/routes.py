"""Valid request bodies for the routes that take one, so that a refusal can only be about who
is asking or what the URL says."""

from __future__ import annotations

from typing import Any

# Valid bodies, so that a refusal can only be about who is asking (settings routes read the
# body before the role, as the contract's error order says).
BODIES: dict[tuple[str, str], Any] = {
    ("PUT", "/v1/articles/{article_id}/settings"): {"premoderated": False, "closed": False},
    ("PUT", "/v1/authors/{author_id}/settings"): {"always_hold": False, "trusted": False},
    ("POST", "/v1/comments"): {"article_id": "story-1", "text": "Hello."},
    ("PATCH", "/v1/comments/{comment_id}"): {"text": "Hello again.", "revision": 1},
    ("POST", "/v1/moderation/comments/{comment_id}/decision"): {"action": "approve", "version": 2},
    ("POST", "/v1/moderation/decisions"): {
        "items": [{"id": "{comment_id}", "action": "approve", "version": 2}]
    },
    ("POST", "/v1/moderation/authors/{author_id}/ban"): {"reason": "spam"},
    ("POST", "/v1/moderation/authors/{author_id}/sanctions"): {"kind": "warning"},
    # Not the id in the URL: a moderator's call is refused (422) before it could erase anyone.
    ("POST", "/v1/moderation/authors/{author_id}/erase"): {"confirm": "someone-else"},
    ("POST", "/v1/moderation/authors/{author_id}/notes"): {"text": "Seen before."},
    ("POST", "/v1/comments/{comment_id}/reports"): {"reason": "spam"},
}


def fill_comment_id(value: Any, comment_id: str) -> Any:
    """`value` with every `{comment_id}` in its strings replaced by `comment_id`."""
    if isinstance(value, str):
        return value.replace("{comment_id}", comment_id)
    if isinstance(value, list):
        return [fill_comment_id(item, comment_id) for item in value]
    if isinstance(value, dict):
        return {key: fill_comment_id(item, comment_id) for key, item in value.items()}
    return value
