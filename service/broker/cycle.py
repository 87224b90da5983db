"""The order a worker asks its queues for the next task: `analyze` first, the rest in turn.

`analyze` is `moderation.analyze`, then, for this release, the legacy `analyze` that an API of
the previous release sends to (contract.LEGACY_QUEUES).

kombu's Redis transport sends one BRPOP naming every queue the worker consumes, and Redis
answers from the first non-empty one. By default kombu rotates the queue that just answered
to the back, so a comment backlog would take every other turn from synchronous analyze
calls, whose callers are waiting. This keeps `analyze` at the front and rotates the others
exactly as kombu's round robin does, so deliveries and maintenance still get their turns
under a comment backlog. Named in the broker's `queue_order_strategy`.
"""

from __future__ import annotations

from collections.abc import Iterable

from kombu.utils.scheduling import round_robin_cycle

from service.broker.contract import ANALYZE_QUEUES


class AnalyzeFirstCycle(round_robin_cycle):
    def update(self, it: Iterable[str]) -> None:
        queues = list(it)
        first = [queue for queue in ANALYZE_QUEUES if queue in queues]
        self.items[:] = first + [queue for queue in queues if queue not in ANALYZE_QUEUES]

    def rotate(self, last_used: str) -> str:
        if last_used not in ANALYZE_QUEUES:
            # kombu leaves rotate unannotated, and mypy's untyped_calls_exclude does not
            # reach calls through super().
            super().rotate(last_used)  # type: ignore[no-untyped-call]
        return last_used
