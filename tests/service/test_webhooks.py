"""Delivery attempts: backoff is never skipped, and a misconfiguration fails an attempt
like an unreachable receiver does, instead of bringing the event back forever."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from standardwebhooks.webhooks import Webhook

from service.authors.sanction_schemas import NewSanction
from service.authors.sanctions import sanction_author
from service.broker.producer import TaskProducer
from service.db.engine import Database
from service.db.tables import utcnow
from service.http.auth import Principal
from service.settings import Settings
from service.store.webhooks import add_webhook_events, get_webhook_event_or_none
from service.webhooks import deliver_event
from tests.support.comments import stored_comment
from tests.support.harness import WebhookReceiver

REDIS_DB = 12
SECRET = "whsec_" + "c2VjcmV0LWZvci10ZXN0cy1vbmx5LTEyMzQ1Njc4"


@pytest.fixture
def broker(redis_server: str) -> Iterator[str]:
    url = f"{redis_server}/{REDIS_DB}"
    redis.Redis.from_url(url).flushdb()
    yield url
    redis.Redis.from_url(url).flushdb()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client() as client:
        yield client


def make_settings(database_url: str, broker: str, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "redis_url": broker,
        "var_dir": tmp_path,
        "webhook_secret": SECRET,
        "webhook_backoff_seconds": 30.0,
    }
    values.update(overrides)
    return Settings(**values)


def new_event(db: Database) -> str:
    with db.session() as session:
        comment = stored_comment(session)
        (event,) = add_webhook_events(
            session,
            event_type="comment.decided",
            payloads=[(comment.id, {"type": "comment.decided"})],
            now=utcnow(),
        )
        return event.id


def event_row(db: Database, event_id: str) -> tuple[str, int, str | None]:
    with db.session() as session:
        event = get_webhook_event_or_none(session, event_id=event_id)
        assert event is not None
        return event.status, event.attempts, event.last_error


def test_a_retry_is_not_sent_before_its_backoff_ends(
    database_url: str,
    db: Database,
    broker: str,
    tmp_path: Path,
    http: httpx.Client,
    closed_port: int,
) -> None:
    settings = make_settings(
        database_url, broker, tmp_path, webhook_url=f"http://127.0.0.1:{closed_port}/hook"
    )
    producer = TaskProducer(settings)
    event_id = new_event(db)
    first = deliver_event(settings, db, producer, http, event_id)
    assert (first.outcome, first.retry_in) == ("retry", 30.0)
    # The relay's copy, or any other early one, while the countdown retry waits.
    early = deliver_event(settings, db, producer, http, event_id)
    assert early.outcome == "skipped"
    assert event_row(db, event_id) == ("pending", 1, "ConnectError")
    producer.close()


@pytest.mark.parametrize(
    "overrides",
    [
        {"webhook_secret": "whsec_a"},
        {"webhook_secret": "whsec_"},
        {"webhook_secret": None},
        {"webhook_url": None},
    ],
    ids=["not-base64", "empty-secret", "no-secret", "no-url"],
)
def test_a_misconfigured_webhook_fails_its_attempts(
    database_url: str,
    db: Database,
    broker: str,
    tmp_path: Path,
    http: httpx.Client,
    closed_port: int,
    overrides: dict[str, Any],
) -> None:
    settings = make_settings(
        database_url,
        broker,
        tmp_path,
        **{
            "webhook_url": f"http://127.0.0.1:{closed_port}/hook",
            "webhook_max_attempts": 2,
            **overrides,
        },
    )
    producer = TaskProducer(settings)
    event_id = new_event(db)
    assert deliver_event(settings, db, producer, http, event_id).outcome == "retry"
    status, attempts, error = event_row(db, event_id)
    assert (status, attempts) == ("pending", 1)
    assert error is not None and "MODERATION_WEBHOOK_" in error
    assert (overrides.get("webhook_secret") or SECRET) not in error
    with db.session() as session:
        event = get_webhook_event_or_none(session, event_id=event_id)
        assert event is not None
        event.next_attempt_at = utcnow()
    assert deliver_event(settings, db, producer, http, event_id).outcome == "failed"
    assert event_row(db, event_id)[:2] == ("failed", 2)
    producer.close()


def test_an_author_event_is_delivered_signed_like_a_comments(
    database_url: str, db: Database, broker: str, tmp_path: Path, http: httpx.Client
) -> None:
    """author.suspended names no comment: the outbox row has the author instead, and the
    delivery task sends it as any other event."""
    receiver = WebhookReceiver()
    receiver.start()
    settings = make_settings(database_url, broker, tmp_path, webhook_url=receiver.url)
    producer = TaskProducer(settings)
    try:
        now = utcnow()
        until = (now + timedelta(days=1)).isoformat().replace("+00:00", "Z")
        request = NewSanction.parse({"kind": "suspension", "until": until}).checked(now)
        suspended = sanction_author(
            db,
            moderator=Principal(sub="mod-1", roles=frozenset({"moderator"})),
            author_id="reader-1",
            request=request,
            events=settings.announced_events,
            key=None,
            now=now,
        )
        (event_id,) = suspended.event_ids
        with db.session() as session:
            event = get_webhook_event_or_none(session, event_id=event_id)
            assert event is not None
            assert (event.comment_id, event.author_id) == (None, "reader-1")
        assert deliver_event(settings, db, producer, http, event_id).outcome == "delivered"
        assert event_row(db, event_id) == ("delivered", 1, None)
        ((headers, body),) = receiver.received()
        assert headers["webhook-id"] == event_id
        Webhook(SECRET).verify(body, headers)
        sent = json.loads(body)
        assert sent["type"] == "author.suspended"
        assert sent["data"] == {
            "author_id": "reader-1",
            "sanction_id": suspended.resource["id"],
            "kind": "suspension",
            "reason_code": None,
            "explanation": None,
            "until": suspended.resource["until"],
            "at": suspended.resource["created_at"],
        }
        assert "mod-1" not in body.decode()
    finally:
        producer.close()
        receiver.stop()
