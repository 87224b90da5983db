"""A news site posting comments the way the contract asks: each with its own Idempotency-Key,
the same request sent again on a connection error or a 503 (after Retry-After, shortened
here), until it is answered 202/200 or its deadline passes."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

RETRY_PAUSE_SECONDS = 0.1
MAX_RETRY_AFTER_SECONDS = 0.3
# How long past its deadline a client may take to finish: its last request's timeout.
REQUEST_TIMEOUT_SECONDS = 15
JOIN_GRACE_SECONDS = REQUEST_TIMEOUT_SECONDS + 5


@dataclass
class Outcome:
    key: str
    author: str
    attempts: list[int | str] = field(default_factory=list)
    """The HTTP status, or the transport error's name, of each attempt."""
    comment_id: str | None = None
    replayed: bool = False


class PostingClient(threading.Thread):
    def __init__(
        self,
        base_url: str,
        auth: Callable[[str], dict[str, str]],
        *,
        name: str,
        count: int,
        deadline: float,
        prefer_wait: int | None = None,
        pause: float = 0.0,
    ) -> None:
        super().__init__(name=name, daemon=True)
        self.base_url = base_url
        self.auth = auth
        self.count = count
        self.deadline = deadline
        self.prefer_wait = prefer_wait
        self.pause = pause
        self.outcomes: list[Outcome] = []
        self.errors: list[str] = []

    def run(self) -> None:
        try:
            with httpx.Client(base_url=self.base_url, timeout=REQUEST_TIMEOUT_SECONDS) as client:
                for n in range(self.count):
                    outcome = Outcome(key=uuid.uuid4().hex, author=f"{self.name}-reader-{n}")
                    self.outcomes.append(outcome)
                    self._post_until_answered(client, outcome, n)
                    time.sleep(self.pause)
        except Exception as exc:
            self.errors.append(f"{type(exc).__name__}: {exc}")

    def _post_until_answered(self, client: httpx.Client, outcome: Outcome, n: int) -> None:
        body = {"article_id": "breaking-news", "text": f"{self.name} says number {n}."}
        headers = {**self.auth(outcome.author), "Idempotency-Key": outcome.key}
        if self.prefer_wait is not None:
            headers["Prefer"] = f"wait={self.prefer_wait}"
        while time.monotonic() < self.deadline:
            try:
                response = client.post("/v1/comments", json=body, headers=headers)
            except httpx.TransportError as exc:
                outcome.attempts.append(type(exc).__name__)
                time.sleep(RETRY_PAUSE_SECONDS)
                continue
            outcome.attempts.append(response.status_code)
            if response.status_code in (200, 202):
                outcome.comment_id = response.json()["id"]
                outcome.replayed = response.headers.get("idempotent-replayed") == "true"
                return
            if response.status_code != 503:
                self.errors.append(f"{outcome.key}: {response.status_code} {response.text}")
                return
            problem = response.json()
            if problem.get("code") != "unavailable" or "retry-after" not in response.headers:
                self.errors.append(f"{outcome.key}: a 503 off contract: {response.text}")
                return
            time.sleep(min(float(response.headers["retry-after"]), MAX_RETRY_AFTER_SECONDS))
        self.errors.append(f"{outcome.key}: never answered: {outcome.attempts}")


def run_clients(clients: list[PostingClient]) -> None:
    for client in clients:
        client.start()


def finish_clients(clients: list[PostingClient]) -> list[Outcome]:
    """Join every client (each stops by its deadline) and return their outcomes."""
    for client in clients:
        client.join(timeout=max(0.0, client.deadline - time.monotonic()) + JOIN_GRACE_SECONDS)
        assert not client.is_alive(), f"{client.name} outlived its deadline"
    errors = [error for client in clients for error in client.errors]
    assert not errors, errors
    return [outcome for client in clients for outcome in client.outcomes]
