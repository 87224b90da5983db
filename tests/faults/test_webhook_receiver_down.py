"""The site's webhook receiver down for a while (its port closed): every event arrives once
it is back, each signed, none lost and none twice under one `webhook-id`.

Comments are posted to a real `moderation api` process, as a news site would."""

from __future__ import annotations

import time

import httpx
import pytest
from sqlalchemy import select

from service.db.engine import Database
from service.db.tables import WebhookEvent
from tests.support.fault_stack import STARTUP_SECONDS, TEARDOWN_SECONDS, FaultStack

WHILE_DOWN, AFTER = 8, 3
FAILED_ATTEMPTS = 2
POSTING_SECONDS = 30
REFUSED_SECONDS = 150
DECIDED_SECONDS = 120


def post(stack: FaultStack, client: httpx.Client, first: int, count: int) -> list[str]:
    ids = []
    for n in range(first, first + count):
        response = client.post(
            "/v1/comments",
            json={"article_id": "transport-plan", "text": f"Comment {n} on the new tram line."},
            headers=stack.auth(f"reader-{n}"),
        )
        assert response.status_code == 202, response.text
        ids.append(response.json()["id"])
    return ids


def attempts_so_far(stack: FaultStack) -> list[tuple[str, int, str | None]]:
    database = Database(stack.direct_database_url)
    try:
        with database.session() as session:
            rows = session.execute(
                select(WebhookEvent.status, WebhookEvent.attempts, WebhookEvent.last_error)
            ).all()
    finally:
        database.dispose()
    return [(status, attempts, error) for status, attempts, error in rows]


@pytest.mark.timeout(
    STARTUP_SECONDS + POSTING_SECONDS + REFUSED_SECONDS + DECIDED_SECONDS + TEARDOWN_SECONDS
)
def test_events_wait_out_a_receiver_outage(make_fault_stack) -> None:  # type: ignore[no-untyped-def]
    stack: FaultStack = make_fault_stack()
    receiver = stack.receiver
    receiver.stop()  # type: ignore[attr-defined]
    started = stack.start_connected(api=True)
    with httpx.Client(base_url=started.base_url, timeout=15) as client:
        answered = post(stack, client, 0, WHILE_DOWN)

        # Decided, and each delivery refused at least twice, before the site comes back.
        deadline = time.monotonic() + REFUSED_SECONDS
        while True:
            events = attempts_so_far(stack)
            if len(events) == WHILE_DOWN and all(a >= FAILED_ATTEMPTS for _, a, _ in events):
                break
            assert time.monotonic() < deadline, f"deliveries never failed: {events}\n{stack.logs()}"
            time.sleep(0.2)
        assert {status for status, _, _ in events} == {"pending"}
        assert {error for _, _, error in events} == {"ConnectError"}
        assert receiver.received() == []  # type: ignore[attr-defined]

        receiver.start()  # type: ignore[attr-defined]
        answered += post(stack, client, WHILE_DOWN, AFTER)
    stack.assert_nothing_lost(answered, timeout=DECIDED_SECONDS)
    assert {status for status, _, _ in attempts_so_far(stack)} == {"delivered"}
