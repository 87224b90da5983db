"""Persistence functions: keyword-only, named by verb, one session passed in.

One module per table family, all re-exported here: `store.create_comment(session, ...)`.
"""

from __future__ import annotations

from service.store.comments import (
    count_pending_comments,
    create_comment,
    find_comment_by_idempotency_key,
    forget_idempotency_key,
    get_comment_or_none,
    list_pending_enqueued_before,
    mark_enqueued,
    new_comment_id,
    parent_exists,
)
from service.store.decisions import (
    add_decision,
    list_decisions,
    set_comment_status,
)
from service.store.webhooks import (
    add_webhook_event,
    claim_webhook_event,
    get_webhook_event_or_none,
    list_due_webhook_events,
    list_failed_webhook_events,
)

__all__ = [
    "add_decision",
    "add_webhook_event",
    "claim_webhook_event",
    "count_pending_comments",
    "create_comment",
    "find_comment_by_idempotency_key",
    "forget_idempotency_key",
    "get_comment_or_none",
    "get_webhook_event_or_none",
    "list_decisions",
    "list_due_webhook_events",
    "list_failed_webhook_events",
    "list_pending_enqueued_before",
    "mark_enqueued",
    "new_comment_id",
    "parent_exists",
    "set_comment_status",
]
