"""Operating the pipeline: worker metrics, heartbeats in /readyz, graceful shutdown."""

from __future__ import annotations

import signal
import socket
import time

import httpx

from tests.e2e.conftest import decisions_of, wait_for
from tests.service.test_metrics import sample


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_worker_metrics_move_and_readyz_sees_the_worker(make_stack) -> None:  # type: ignore[no-untyped-def]
    stack = make_stack("sqlite")
    port = free_port()
    worker = stack.start("worker", "--concurrency", "2", "--metrics-port", str(port), name="worker")
    stack.wait_for_worker(worker)
    with stack.client() as client:
        for n in range(3):
            response = client.post(
                "/v1/comments",
                json={"article_id": "a", "text": f"Metrics please {n}."},
                headers={**stack.auth(), "Prefer": "wait=10"},
            )
            assert response.json()["status"] == "approved"
        ready = client.get("/readyz").json()
    assert ready["status"] == "ok", ready
    assert ready["checks"]["workers"]["alive"] >= 1
    wait_for(lambda: len(stack.receiver.requests) == 3, what="three webhooks")

    def scrape() -> str:
        return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text

    text = wait_for(
        lambda: (t := scrape()) and 'outcome="delivered"' in t and t, what="delivery metrics"
    )
    assert sample(text, "moderation_decisions_total", 'action="approve",by="policy"') == 3
    assert sample(text, "moderation_scoring_seconds_count") == 3
    assert sample(text, "moderation_decision_latency_seconds_count") == 3
    assert sample(text, "moderation_webhook_deliveries_total", 'outcome="delivered"') == 3


def test_sigterm_during_work_loses_nothing(make_stack) -> None:  # type: ignore[no-untyped-def]
    stack = make_stack("sqlite", webhook_url=None, webhook_secret=None)
    worker = stack.start_worker()
    ids = []
    with stack.client() as client:
        for n in range(20):
            ids.append(
                client.post(
                    "/v1/comments",
                    json={"article_id": "a", "text": f"c {n}"},
                    headers=stack.auth(f"reader-{n}"),
                ).json()["id"]
            )
    time.sleep(0.3)
    stack.stop(worker, signal.SIGTERM)
    assert worker.returncode == 0, stack.log("worker")[-2000:]
    stack.start_worker()
    wait_for(
        lambda: all(decisions_of(stack.settings, i) for i in ids),
        timeout=60,
        what="every comment decided after the restart",
    )
    assert all(len(decisions_of(stack.settings, i)) == 1 for i in ids)
