"""What a running API process holds: built once at start-up, reached from `request.app`."""

from __future__ import annotations

from dataclasses import dataclass

import redis
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from service.auth import Principal, TokenVerifier
from service.db import Database
from service.flood import FloodGate
from service.notify import DecisionListener
from service.policies import PolicyHolder
from service.queue import TaskProducer
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
