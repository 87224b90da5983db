"""What a running API process holds: built once at start-up, reached from `request.app`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import redis
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from service.authors.sanctions import erase_key
from service.broker.contract import DELIVER_WEBHOOK_TASK
from service.broker.notify import DecisionListener
from service.broker.producer import TaskProducer
from service.comments.batch import Outcome, Submission, accept_comments
from service.comments.flood import FloodGate
from service.comments.intake import CommentIntake
from service.db.engine import Database
from service.db.tables import utcnow
from service.http.auth import Principal, TokenVerifier, require_moderator
from service.policies import PolicyHolder
from service.settings import Settings


@dataclass
class Services:
    settings: Settings
    db: Database
    verifier: TokenVerifier
    producer: TaskProducer
    listener: DecisionListener
    redis: redis.Redis | None
    policies: PolicyHolder
    flood: FloodGate
    intake: CommentIntake = field(init=False)

    def __post_init__(self) -> None:
        self.intake = CommentIntake(self._accept_batch)

    def _accept_batch(self, submissions: Sequence[Submission]) -> list[Outcome]:
        # Everything read through `self` when the batch runs, not copied at start-up: tests
        # swap `policies` on a running app.
        return accept_comments(
            self.db,
            self.producer,
            submissions,
            window=timedelta(seconds=self.settings.idempotency_window_seconds),
            admit=self._admit,
            now=utcnow(),
            erase_key=erase_key(self.settings),
        )

    def _admit(self, author_ids: Sequence[str]) -> list[int]:
        current = self.policies.current()
        return self.flood.retry_after_many(
            author_ids,
            window_seconds=current.flood_window_seconds,
            hard_limit=current.flood_hard_limit,
        )

    async def deliver(self, event_ids: Sequence[str]) -> None:
        """Send a delivery task for each outbox event a committed change wrote (the relay
        sends any whose task is lost)."""
        for event_id in event_ids:
            await run_in_threadpool(self.producer.send, DELIVER_WEBHOOK_TASK, event_id)

    def close(self) -> None:
        self.db.dispose()
        self.producer.close()
        if self.redis is not None:
            self.redis.close()


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


async def authenticate(request: Request) -> Principal:
    verifier = services(request).verifier
    header = request.headers.get("authorization")
    if verifier.needs_network:
        return await run_in_threadpool(verifier.verify, header)
    return verifier.verify(header)


async def authenticate_moderator(request: Request) -> tuple[Services, Principal]:
    """The services and the signed-in moderator: 401 without a valid token, 403 for a reader."""
    principal = await authenticate(request)
    require_moderator(principal)
    return services(request), principal
