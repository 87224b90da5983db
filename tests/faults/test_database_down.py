"""PostgreSQL unreachable: POST answers 503 `unavailable` with Retry-After and writes nothing;
the service recovers by itself when the database is back.

The shared PostgreSQL keeps running: every process reaches it through a TCP proxy in this
test, and cutting the proxy (listener and every open connection) is the outage. The API's
pool then holds dead connections, which `pool_pre_ping` must notice on the first request.
"""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from tests.support.clients import JOIN_GRACE_SECONDS, PostingClient, finish_clients, run_clients
from tests.support.fault_stack import STARTUP_SECONDS, TEARDOWN_SECONDS, FaultStack
from tests.support.harness import TcpProxy
from tests.support.invariant import assert_one_comment_per_key

CLIENTS = 3
PER_CLIENT = 12
OUTAGE_SECONDS = 3
# The clients' deadline; the outage and the probes happen within it.
CLIENTS_SECONDS = 90
DECIDED_SECONDS = 150


@pytest.mark.timeout(
    STARTUP_SECONDS + CLIENTS_SECONDS + JOIN_GRACE_SECONDS + DECIDED_SECONDS + TEARDOWN_SECONDS
)
def test_postgres_unreachable_answers_503_and_recovers(make_fault_stack) -> None:  # type: ignore[no-untyped-def]
    proxy = TcpProxy(("127.0.0.1", 5432))
    proxy.start()
    try:
        stack: FaultStack = make_fault_stack("postgresql", proxy=proxy)
        base_url = stack.start_connected(api=True).base_url
        deadline = time.monotonic() + CLIENTS_SECONDS
        clients = [
            PostingClient(
                base_url,
                stack.auth,
                name=f"site{i}",
                count=PER_CLIENT,
                deadline=deadline,
                pause=0.2,
            )
            for i in range(CLIENTS)
        ]
        run_clients(clients)
        probe_key = uuid.uuid4().hex
        probe = {
            "json": {"article_id": "budget-2027", "text": "Posted while the database is away."},
            "headers": {**stack.auth("prober"), "Idempotency-Key": probe_key},
        }
        with httpx.Client(base_url=base_url, timeout=15) as http:
            _wait_until(lambda: _answered(clients) >= CLIENTS, "answers before the outage")
            assert proxy.connections() > 0, "nothing reaches PostgreSQL through the proxy"

            proxy.cut()
            refused = http.post("/v1/comments", **probe)
            assert refused.status_code == 503, refused.text
            assert refused.headers["content-type"] == "application/problem+json"
            assert refused.json()["code"] == "unavailable"
            assert int(refused.headers["retry-after"]) > 0
            ready = http.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["checks"]["database"]["status"] == "down"
            time.sleep(OUTAGE_SECONDS)
            proxy.restore()

            # The first request after the outage succeeds, and finds nothing of the refused
            # one stored: the same key makes a new comment rather than replaying one.
            accepted = http.post("/v1/comments", **probe)
            assert accepted.status_code == 202, accepted.text
            assert "idempotent-replayed" not in accepted.headers
            assert http.get("/readyz").status_code == 200
        outcomes = finish_clients(clients)

        assert any(503 in o.attempts for o in outcomes), "the outage refused no client request"
        answered = {o.key: o.comment_id for o in outcomes if o.comment_id is not None}
        assert len(answered) == CLIENTS * PER_CLIENT
        answered[probe_key] = accepted.json()["id"]
        assert_one_comment_per_key(stack.direct_database_url, answered)  # type: ignore[arg-type]
        stack.assert_nothing_lost(list(answered.values()), timeout=DECIDED_SECONDS)
    finally:
        proxy.cut()


def _answered(clients: list[PostingClient]) -> int:
    return sum(1 for c in clients for o in list(c.outcomes) if o.comment_id is not None)


def _wait_until(predicate, what: str, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
