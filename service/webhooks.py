"""Delivering outbox events to the site, signed per Standard Webhooks.

Each attempt claims the event row first, so the relay and a retry never send it twice at
once; `webhook-id` is the event id on every attempt, so the site can drop duplicates.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import structlog
from standardwebhooks.webhooks import EmptyWebhookSecretError, Webhook

from service.broker.contract import DELIVER_WEBHOOK_TASK
from service.broker.producer import TaskProducer
from service.db.engine import Database
from service.db.tables import utcnow
from service.settings import Settings
from service.store.webhooks import (
    claim_webhook_event,
    get_webhook_event_or_none,
    list_due_webhook_events,
    list_failed_webhook_events,
)

log = structlog.get_logger(__name__)

CLAIM_SECONDS = 120
MAX_BACKOFF_SECONDS = 3600


@dataclass(frozen=True)
class Attempt:
    outcome: str  # "delivered" | "retry" | "failed" | "skipped"
    retry_in: float | None = None


def signed_headers(secret: str, event_id: str, body: str, at: datetime) -> dict[str, str]:
    signature = Webhook(secret).sign(event_id, at, body)
    return {
        "content-type": "application/json",
        "webhook-id": event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
    }


def backoff_seconds(settings: Settings, attempts: int) -> float:
    return float(min(settings.webhook_backoff_seconds * 2 ** (attempts - 1), MAX_BACKOFF_SECONDS))


def deliver_event(
    settings: Settings, db: Database, producer: TaskProducer, client: httpx.Client, event_id: str
) -> Attempt:
    now = utcnow()
    with db.session() as session:
        event = claim_webhook_event(
            session, event_id=event_id, now=now, lock_until=now + timedelta(seconds=CLAIM_SECONDS)
        )
        if event is None:
            return Attempt("skipped")
        body = json.dumps(event.payload, ensure_ascii=False, separators=(",", ":"))
        attempts = event.attempts
    error = _post(settings, client, event_id, body)
    with db.session() as session:
        event = get_webhook_event_or_none(session, event_id=event_id)
        assert event is not None
        event.locked_until = None
        if error is None:
            event.status, event.delivered_at, event.last_error = "delivered", utcnow(), None
            log.info("webhook.delivered", event_id=event_id, attempts=attempts)
            return Attempt("delivered")
        event.last_error = error
        if attempts >= settings.webhook_max_attempts:
            event.status = "failed"
            log.error("webhook.failed", event_id=event_id, attempts=attempts, error=error)
            return Attempt("failed")
        delay = backoff_seconds(settings, attempts)
        event.next_attempt_at = utcnow() + timedelta(seconds=delay)
    log.warning("webhook.retry", event_id=event_id, attempts=attempts, error=error, retry_in=delay)
    producer.send(DELIVER_WEBHOOK_TASK, event_id, countdown=delay)
    return Attempt("retry", retry_in=delay)


def _post(settings: Settings, client: httpx.Client, event_id: str, body: str) -> str | None:
    """None on success, else a short description of what went wrong.

    Configuration faults are failed attempts too, so the event backs off and is finally
    marked failed (`moderation webhooks redeliver` once fixed) instead of coming back forever.
    """
    if settings.webhook_url is None or settings.webhook_secret is None:
        return "not configured: set MODERATION_WEBHOOK_URL and MODERATION_WEBHOOK_SECRET"
    try:
        headers = signed_headers(
            settings.webhook_secret.get_secret_value(), event_id, body, utcnow()
        )
    except (ValueError, EmptyWebhookSecretError) as exc:
        # binascii.Error (not base64) is a ValueError; the message never holds the secret.
        return f"can't sign ({type(exc).__name__}): check MODERATION_WEBHOOK_SECRET"
    try:
        response = client.post(
            settings.webhook_url,
            content=body.encode(),
            headers=headers,
            timeout=settings.webhook_timeout_seconds,
        )
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return type(exc).__name__
    if 200 <= response.status_code < 300:
        return None
    return f"HTTP {response.status_code}"


def relay_due_events(db: Database, producer: TaskProducer, *, limit: int = 500) -> int:
    """Send a delivery task for every event that is due: those whose task was lost too."""
    with db.session() as session:
        due = list_due_webhook_events(session, now=utcnow(), limit=limit)
    for event_id in due:
        producer.send(DELIVER_WEBHOOK_TASK, event_id)
    return len(due)


def redeliver_failed(db: Database, producer: TaskProducer, *, event_id: str | None) -> int:
    """Put failed events back in line (all of them, or one) and send them now."""
    with db.session() as session:
        events = (
            [e for e in [get_webhook_event_or_none(session, event_id=event_id)] if e]
            if event_id
            else list_failed_webhook_events(session, limit=10_000)
        )
        ids = []
        for event in events:
            event.status, event.attempts, event.next_attempt_at = "pending", 0, utcnow()
            event.locked_until = None
            ids.append(event.id)
    for queued in ids:
        producer.send(DELIVER_WEBHOOK_TASK, queued)
    return len(ids)
