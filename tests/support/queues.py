"""What waits in the broker: the moderate tasks in kombu's Redis queue and those consumers hold
unacknowledged."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from typing import Any

import redis

from service.broker.contract import MODERATE_QUEUE, MODERATE_TASK, parse_moderate_item


def held_moderations(broker: redis.Redis) -> list[str]:
    """Comment ids of the moderate tasks that consumers hold unacknowledged (kombu's Redis
    envelope: [message, exchange, routing key])."""
    return moderation_ids(json.loads(raw)[0] for raw in broker.hvals("unacked"))


def queued_moderations(broker: redis.Redis) -> list[str]:
    """Comment ids of the moderate tasks waiting in the queue."""
    return moderation_ids(json.loads(raw) for raw in broker.lrange(MODERATE_QUEUE, 0, -1))


def moderation_ids(messages: Iterable[dict[str, Any]]) -> list[str]:
    """The comment ids the moderate tasks among kombu's Redis messages name."""
    return [parse_moderate_item(item)[0] for item in moderation_items(messages)]


def moderation_items(messages: Iterable[dict[str, Any]]) -> list[str]:
    """The items (`moderate_item`: id@revision) of the moderate tasks among kombu's Redis
    messages (the body is [args, kwargs, embed])."""
    items = []
    for message in messages:
        if message["headers"].get("task") != MODERATE_TASK:
            continue
        body = message["body"]
        if message["properties"].get("body_encoding") == "base64":
            body = base64.b64decode(body).decode()
        args, _kwargs, _embed = json.loads(body)
        items.extend(args)
    return items
