"""The API SIGKILLed mid-burst and started again: clients that retry with the same
Idempotency-Key get the original comment, never a duplicate.

The clients ask `Prefer: wait=1` while the worker is paused, so at the kill every client has
a request whose comment is committed and whose answer never left: the exact case the key is
for. Whatever the killed requests never queued, the sweeper sends.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.support.clients import JOIN_GRACE_SECONDS, PostingClient, finish_clients, run_clients
from tests.support.fault_stack import (
    API_START_SECONDS,
    STARTUP_SECONDS,
    TEARDOWN_SECONDS,
    FaultStack,
)
from tests.support.invariant import assert_one_comment_per_key

CLIENTS = 4
PER_CLIENT = 5
BURST_SECONDS = 60
DECIDED_SECONDS = 150


# The API starts twice; the burst's clients may finish a request's timeout past their deadline.
@pytest.mark.timeout(
    STARTUP_SECONDS
    + API_START_SECONDS
    + BURST_SECONDS
    + JOIN_GRACE_SECONDS
    + DECIDED_SECONDS
    + TEARDOWN_SECONDS
)
def test_api_killed_mid_burst_never_duplicates(make_fault_stack) -> None:  # type: ignore[no-untyped-def]
    stack: FaultStack = make_fault_stack("postgresql")
    started = stack.start_connected(api=True)
    worker, api, base_url = started.worker, started.api, started.base_url
    assert api is not None
    port = int(base_url.rsplit(":", 1)[1])
    deadline = time.monotonic() + BURST_SECONDS
    clients = [
        PostingClient(
            base_url,
            stack.auth,
            name=f"site{i}",
            count=PER_CLIENT,
            deadline=deadline,
            prefer_wait=1,
        )
        for i in range(CLIENTS)
    ]
    # The worker is paused through the burst: no comment is decided, so each request waits
    # out its `Prefer: wait=1` and at the kill every client has one whose comment is stored.
    os.killpg(worker.pid, signal.SIGSTOP)
    try:
        run_clients(clients)
        time.sleep(1.6)
        stack.stop(api, signal.SIGKILL)
    finally:
        os.killpg(worker.pid, signal.SIGCONT)
    stack.start_api(port)
    outcomes = finish_clients(clients)

    interrupted = [o for o in outcomes if any(isinstance(a, str) for a in o.attempts)]
    assert interrupted, "the kill interrupted no request"
    replayed = [o for o in interrupted if o.replayed]
    assert replayed, f"no retry found its comment stored: {[o.attempts for o in interrupted]}"
    answered = {o.key: o.comment_id for o in outcomes if o.comment_id is not None}
    assert len(answered) == CLIENTS * PER_CLIENT
    assert_one_comment_per_key(stack.direct_database_url, answered)  # type: ignore[arg-type]
    stack.assert_nothing_lost(list(answered.values()), timeout=DECIDED_SECONDS)
