"""Delivery attempts: backoff is never skipped, and a misconfiguration fails an attempt
like an unreachable receiver does, instead of bringing the event back forever."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from service.broker.producer import TaskProducer
from service.db.engine import Database
from service.db.tables import utcnow
from service.settings import Settings
from service.store.webhooks import add_webhook_events, get_webhook_event_or_none
from service.webhooks import deliver_event
from tests.support.comments import stored_comment

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
