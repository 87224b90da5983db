"""What the `moderate` queue holds, counted in comments rather than messages.

For this release the queue is two lists: `moderation.moderate` and the legacy `moderate`, where
an API of the previous release sends (contract.LEGACY_QUEUES); both are read, and a message
counts under either task name (contract.MODERATE_TASKS).

One message names up to a batch's worth of comments (a batch POST sends one task for all it
created), so the queue's length says little about the work waiting: the API's
`moderation_queued_comments`, which autoscaling reads, and the sweeper, which must tell a lost
comment from a queued one, read the messages themselves.

kombu pushes onto the list's left end and workers take from its right. The list is read from
the left in pages: a message pushed meanwhile shifts the unread ones further right, so a message
may be read twice but is never skipped; one taken from the right end leaves them in place.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from service.broker.contract import (
    MODERATE_QUEUES,
    UNACKED_INDEX_KEY,
    UNACKED_KEY,
    held_moderate_items_in,
    moderate_item,
    moderate_items_in,
)

PAGE_MESSAGES = 500
# 320,000 comments in full batches; past it, the count is estimated from the messages read, so
# that a scrape or a sweep never reads an unbounded list.
MAX_MESSAGES = 10_000


@dataclass(frozen=True)
class QueuedComments:
    items: frozenset[str]
    """The distinct `moderate_item`s (or bare ids) of the messages read."""
    named: int
    """Items named by the messages read, repeats included: each is a comment's scoring."""
    read: int
    """Messages read."""
    messages: int
    """The queue's length in messages."""
    complete: bool
    """Every message was read; otherwise MAX_MESSAGES were."""

    @property
    def comments(self) -> int:
        """Comments the queued messages name: counted, or when the queue was longer than
        MAX_MESSAGES, estimated from the messages read."""
        if self.complete or not self.read:
            return self.named
        return round(self.named * self.messages / self.read)


@dataclass(frozen=True)
class ModerateBacklog:
    """The `moderate` messages waiting in the queue and those in workers' hands."""

    queued: QueuedComments
    held: frozenset[str]
    """Items of the messages consumers took recently and hold unacknowledged."""

    def names(self, comment_id: str, revision: int) -> bool:
        """Whether a queued or held message scores the comment at `revision`; a bare id (a
        task sent before revisions existed) scores whatever revision is current."""
        return any(
            item in self.queued.items or item in self.held
            for item in (moderate_item(comment_id, revision), comment_id)
        )


def read_queued_comments(client: redis.Redis) -> QueuedComments:
    """Raises redis.RedisError when Redis doesn't answer."""
    lists = [_read_list(client, queue) for queue in MODERATE_QUEUES]
    return QueuedComments(
        items=frozenset(item for found in lists for item in found.items),
        named=sum(found.named for found in lists),
        read=sum(found.read for found in lists),
        messages=sum(found.messages for found in lists),
        complete=all(found.complete for found in lists),
    )


def _read_list(client: redis.Redis, queue: str) -> QueuedComments:
    items: set[str] = set()
    named = 0
    read = 0
    complete = False
    while read < MAX_MESSAGES:
        page: list[bytes | str] = client.lrange(queue, read, read + PAGE_MESSAGES - 1)
        for raw in page:
            found = moderate_items_in(raw)
            items.update(found)
            named += len(found)
        read += len(page)
        if len(page) < PAGE_MESSAGES:
            complete = True
            break
    messages = read if complete else max(read, int(client.llen(queue)))
    return QueuedComments(frozenset(items), named, read, messages, complete)


def moderate_queue_length(client: redis.Redis) -> int:
    """Messages in the `moderate` lists, the legacy one's included."""
    return sum(int(client.llen(queue)) for queue in MODERATE_QUEUES)


def read_held_items(client: redis.Redis, *, delivered_since: float) -> frozenset[str]:
    """The items of the `moderate` messages consumers took at or after `delivered_since` (unix
    time) and hold unacknowledged: being scored now, or next in a worker's hands."""
    tags: list[Any] = client.zrangebyscore(UNACKED_INDEX_KEY, delivered_since, "+inf")
    items: set[str] = set()
    for start in range(0, len(tags), PAGE_MESSAGES):
        held: list[bytes | str | None] = client.hmget(
            UNACKED_KEY, tags[start : start + PAGE_MESSAGES]
        )
        for raw in held:
            if raw is not None:
                items.update(held_moderate_items_in(raw))
    return frozenset(items)


def read_queued_files(folder: Path) -> QueuedComments:
    """The same for kombu's filesystem transport (`make run` without Redis): a file per
    message, named `<time>_<uuid>.<queue>.msg` (a queue's name may hold dots)."""
    paths = sorted(path for path in folder.iterdir() if _file_queue(path.name) in MODERATE_QUEUES)
    found = [moderate_items_in(raw) for raw in _contents(paths[:MAX_MESSAGES])]
    return QueuedComments(
        items=frozenset(item for items in found for item in items),
        named=sum(len(items) for items in found),
        read=len(found),
        messages=len(paths),
        complete=len(paths) <= MAX_MESSAGES,
    )


def _file_queue(name: str) -> str:
    return name.partition(".")[2].removesuffix(".msg")


def _contents(paths: Iterable[Path]) -> Iterable[bytes]:
    for path in paths:
        # A worker takes a message by moving its file away: gone since the listing, it isn't queued.
        with contextlib.suppress(FileNotFoundError):
            yield path.read_bytes()
