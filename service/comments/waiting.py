"""`Prefer: wait=N`: hold the answer until the comment is decided or N seconds pass."""

from __future__ import annotations

import asyncio
import contextlib

from starlette.concurrency import run_in_threadpool

from service.comments.accept import comment_status
from service.http.services import Services

POLL_SECONDS_CONNECTED = 1.0
POLL_SECONDS_DISCONNECTED = 0.2


async def wait_until_decided(services: Services, comment_id: str, seconds: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    with services.listener.watch(comment_id) as decided:
        while True:
            status = await run_in_threadpool(comment_status, services.db, comment_id=comment_id)
            remaining = deadline - loop.time()
            if status != "pending" or remaining <= 0:
                return
            poll = (
                POLL_SECONDS_CONNECTED if services.listener.connected else POLL_SECONDS_DISCONNECTED
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(decided.wait(), timeout=min(remaining, poll))
            decided.clear()
