"""Group commit for POST /v1/comments: the requests that arrive together are accepted together.

A thread hop, a transaction and a task message each cost the API more CPU than the comment's
own checks. So a request hands its comment to the intake and waits; one drain task per event
loop takes whatever is waiting (up to MAX_BATCH), accepts it in one `run_in_threadpool` call
(`service.comments.batch`), and hands each request its own answer or its own exception.

There is no timer: a batch is whatever arrived while the previous one was being written, so
a lone request goes at once, and under load the batches grow by themselves.
"""

from __future__ import annotations

import asyncio
import contextvars
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool

from service.comments.accept import Accepted
from service.comments.batch import Outcome, Submission
from service.comments.schemas import NewComment
from service.http.auth import Principal

# A batch's round trips, transaction and task message cost the same for 1 comment or 32; the
# cap only matters under load, where 32 cut the API's, the worker's and PostgreSQL's CPU per
# comment by a fifth against 16 (python -m bench.pipeline). The price: a task's first decision
# waits for its last comment's scoring, about 0.3 s more than at 16 on BERT-base.
MAX_BATCH = 32

AcceptBatch = Callable[[Sequence[Submission]], list[Outcome]]
_Waiting = tuple[Submission, "asyncio.Future[Accepted]"]


@dataclass
class _Lane:
    """One event loop's waiting comments and the task draining them."""

    waiting: deque[_Waiting] = field(default_factory=deque)
    drainer: asyncio.Task[None] | None = None


class CommentIntake:
    def __init__(self, accept_batch: AcceptBatch, *, max_batch: int = MAX_BATCH) -> None:
        self._accept_batch = accept_batch
        self._max_batch = max_batch
        # By loop, made on first use: Starlette's TestClient gives each client a loop of its
        # own, and an app served without lifespan has no start-up hook to make one in.
        self._lanes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Lane] = (
            weakref.WeakKeyDictionary()
        )

    async def accept(
        self, principal: Principal, new: NewComment, idempotency_key: str | None
    ) -> Accepted:
        """What `accept_comment` would return for this request, or what it would raise."""
        loop = asyncio.get_running_loop()
        lane = self._lanes.get(loop)
        if lane is None:
            lane = self._lanes[loop] = _Lane()
        future: asyncio.Future[Accepted] = loop.create_future()
        lane.waiting.append((Submission(principal, new, idempotency_key), future))
        if lane.drainer is None:
            # An empty context: the drainer outlives the request that started it, and what it
            # logs must not carry that request's id.
            lane.drainer = loop.create_task(self._drain(lane), context=contextvars.Context())
        return await future

    def waiting(self) -> int:
        """Requests on the running event loop not yet taken into a batch."""
        lane = self._lanes.get(asyncio.get_running_loop())
        return 0 if lane is None else len(lane.waiting)

    async def _drain(self, lane: _Lane) -> None:
        try:
            while lane.waiting:
                batch = self._take(lane)
                if batch:
                    await self._run(batch)
        finally:
            # Not holding the task lets the lane (and the loop, its key) be collected.
            lane.drainer = None
            for _submission, future in lane.waiting:
                future.cancel()
            lane.waiting.clear()

    def _take(self, lane: _Lane) -> list[_Waiting]:
        batch: list[_Waiting] = []
        while lane.waiting and len(batch) < self._max_batch:
            item = lane.waiting.popleft()
            if not item[1].done():  # a request cancelled while it waited is never stored
                batch.append(item)
        return batch

    async def _run(self, batch: list[_Waiting]) -> None:
        try:
            outcomes = await run_in_threadpool(self._accept_batch, [s for s, _ in batch])
        except asyncio.CancelledError:
            for _submission, future in batch:
                future.cancel()
            raise
        except Exception as exc:  # a bug in the batch itself: every request answers 500
            outcomes = [exc] * len(batch)
        for (_submission, future), outcome in zip(batch, outcomes, strict=True):
            if future.done():
                continue
            if isinstance(outcome, Accepted):
                future.set_result(outcome)
            else:
                future.set_exception(outcome)
