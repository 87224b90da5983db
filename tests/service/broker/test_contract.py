"""Reading kombu's envelope: what a queued or held `moderate` message names, and nothing from
any other message."""

from __future__ import annotations

import base64
import json

import pytest

from service.broker.contract import (
    DELIVER_WEBHOOK_TASK,
    MODERATE_QUEUE,
    MODERATE_TASK,
    held_moderate_items_in,
    moderate_items_in,
)


def raw_message(task: str, args: list[object], *, base64_body: bool = True) -> str:
    """A message as kombu's Redis transport stores it."""
    body = json.dumps([args, {}, {}])
    if base64_body:
        body = base64.b64encode(body.encode()).decode()
    properties = {"body_encoding": "base64"} if base64_body else {}
    return json.dumps({"headers": {"task": task}, "body": body, "properties": properties})


@pytest.mark.parametrize(
    ("raw", "items"),
    [
        (raw_message(MODERATE_TASK, ["a@1", "b@2"]), ["a@1", "b@2"]),
        (raw_message(MODERATE_TASK, ["bare-id"], base64_body=False), ["bare-id"]),
        (raw_message(DELIVER_WEBHOOK_TASK, ["e-1"]), []),
        (raw_message(MODERATE_TASK, [{"not": "an item"}]), []),
        (json.dumps({"headers": {"task": MODERATE_TASK}, "body": "!!", "properties": {}}), []),
        (json.dumps(["a list"]), []),
        (b"\xff not json", []),
    ],
)
def test_a_queued_message_names_the_items_of_a_moderate_task_only(
    raw: str | bytes, items: list[str]
) -> None:
    assert moderate_items_in(raw) == items


def test_a_held_message_is_read_from_kombus_record() -> None:
    message = json.loads(raw_message(MODERATE_TASK, ["a@1"]))
    assert held_moderate_items_in(json.dumps([message, "", MODERATE_QUEUE])) == ["a@1"]
    assert held_moderate_items_in(json.dumps([])) == []
    assert held_moderate_items_in("nonsense") == []
