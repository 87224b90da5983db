"""Comments posted together travel together: a real `moderation api` process sends them to
the broker in fewer messages than comments, and a real worker decides every one of them."""

from __future__ import annotations

import asyncio
import contextlib
import time

import httpx
import pytest
import redis

from service.broker.contract import MODERATE_QUEUE
from service.comments.accept import comment_status
from service.db.engine import Database
from tests.support import aio
from tests.support.databases import BACKENDS
from tests.support.net import free_port
from tests.support.queues import queued_moderations
from tests.support.stack import decisions_of, wait_for

COMMENTS = 24


@pytest.mark.parametrize("backend", BACKENDS)
def test_comments_posted_together_share_messages_and_are_each_decided_once(  # type: ignore[no-untyped-def]
    make_stack, backend: str
) -> None:
    stack = make_stack(backend)
    port = free_port()
    api = stack.start("api", "--host", "127.0.0.1", "--port", str(port), name="api")
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert api.poll() is None, stack.log("api")[-3000:]
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        time.sleep(0.1)

    async def post_together() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            return await asyncio.gather(
                *(
                    client.post(
                        "/v1/comments",
                        json={"article_id": "a", "text": f"Posted together, number {n}."},
                        headers=stack.auth(f"reader-{n}"),
                    )
                    for n in range(COMMENTS)
                )
            )

    responses = aio.run(post_together())
    assert [r.status_code for r in responses] == [202] * COMMENTS
    ids = [r.json()["id"] for r in responses]
    broker = redis.Redis.from_url(stack.settings.redis_url)
    # No worker yet: every comment waits in the queue, several to a message.
    assert sorted(queued_moderations(broker)) == sorted(ids)
    assert broker.llen(MODERATE_QUEUE) < COMMENTS

    stack.start_worker()
    db = Database(stack.settings.effective_database_url)
    try:
        wait_for(
            lambda: all(comment_status(db, comment_id=i) == "approved" for i in ids),
            timeout=120,
            what="every comment of the batches decided",
        )
    finally:
        db.dispose()
    for comment_id in ids:
        assert [d["by"] for d in decisions_of(stack.settings, comment_id)] == ["policy"]
    wait_for(lambda: len(stack.receiver.requests) == COMMENTS, what="one webhook each")
