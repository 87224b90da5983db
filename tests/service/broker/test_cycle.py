"""Workers ask `analyze` first and the other queues in turn; `--queues` picks which, by short
or full name, each with its legacy queue for this release."""

from __future__ import annotations

import pytest
import redis
from kombu import Connection, Message, Queue
from kombu.utils.scheduling import cycle_by_name

from service.broker.contract import (
    ANALYZE_FIRST_CYCLE,
    ANALYZE_QUEUE,
    ANALYZE_TASK,
    MODERATE_QUEUE,
    MODERATE_TASK,
    QUEUES,
)
from service.broker.producer import DIRECT, TaskProducer, celery_config, parse_queues
from service.errors import ConfigurationError
from service.settings import Settings
from tests.support.api import API_REDIS_DB
from tests.support.processes import run_cli


def test_the_broker_uses_the_analyze_first_order() -> None:
    config = celery_config(Settings(redis_url="redis://127.0.0.1:6379/0"))
    assert config["broker_transport_options"]["queue_order_strategy"] == ANALYZE_FIRST_CYCLE
    assert config["task_routes"]["moderation.analyze"]["queue"] == "moderation.analyze"
    # Feedback takes turns with comments, never in front of their re-sends.
    assert config["task_routes"]["moderation.score_feedback"]["queue"] == "moderation.feedback"
    # Every queue a worker may consume, the legacy ones included, is declared.
    declared = [queue.name for queue in config["task_queues"]]
    assert declared == [*QUEUES, "analyze", "moderate", "feedback", "deliver", "maintenance"]


def test_analyze_stays_first_while_the_others_take_turns() -> None:
    cycle = cycle_by_name(ANALYZE_FIRST_CYCLE)()
    cycle.update(["moderate", "deliver", "analyze", "maintenance"])
    assert cycle.consume(4) == ["analyze", "moderate", "deliver", "maintenance"]
    cycle.rotate("moderate")
    assert cycle.consume(4) == ["analyze", "deliver", "maintenance", "moderate"]
    cycle.rotate("analyze")
    assert cycle.consume(4) == ["analyze", "deliver", "maintenance", "moderate"]
    cycle.rotate("deliver")
    assert cycle.consume(4) == ["analyze", "maintenance", "moderate", "deliver"]


def test_both_analyze_queues_stay_first() -> None:
    """The namespaced queue, then the legacy one an API of the previous release sends to."""
    cycle = cycle_by_name(ANALYZE_FIRST_CYCLE)()
    cycle.update(["moderation.moderate", "analyze", "moderate", "moderation.analyze"])
    assert cycle.consume(4) == ["moderation.analyze", "analyze", "moderation.moderate", "moderate"]
    cycle.rotate("analyze")
    cycle.rotate("moderation.analyze")
    assert cycle.consume(4) == ["moderation.analyze", "analyze", "moderation.moderate", "moderate"]
    cycle.rotate("moderation.moderate")
    assert cycle.consume(4) == ["moderation.analyze", "analyze", "moderate", "moderation.moderate"]


def test_a_worker_without_the_analyze_queue_keeps_kombus_round_robin() -> None:
    cycle = cycle_by_name(ANALYZE_FIRST_CYCLE)()
    cycle.update(["moderate", "deliver"])
    cycle.rotate("moderate")
    assert cycle.consume(2) == ["deliver", "moderate"]


EVERY_QUEUE = (*QUEUES, "analyze", "moderate", "feedback", "deliver", "maintenance")


@pytest.mark.parametrize(
    ("given", "queues"),
    [
        (None, EVERY_QUEUE),
        ("analyze", ("moderation.analyze", "analyze")),
        ("moderation.analyze", ("moderation.analyze", "analyze")),
        (
            " moderate , analyze,moderation.moderate ",
            (
                "moderation.moderate",
                "moderation.feedback",
                "moderation.analyze",
                "moderate",
                "feedback",
                "analyze",
            ),
        ),
        # Whoever scores comments scores feedback too: named or not, once.
        (
            "feedback,moderate",
            ("moderation.feedback", "moderation.moderate", "feedback", "moderate"),
        ),
        (
            "moderate,deliver,maintenance",
            (
                "moderation.moderate",
                "moderation.feedback",
                "moderation.deliver",
                "moderation.maintenance",
                "moderate",
                "feedback",
                "deliver",
                "maintenance",
            ),
        ),
    ],
)
def test_parse_queues(given: str | None, queues: tuple[str, ...]) -> None:
    assert parse_queues(given) == queues


@pytest.mark.parametrize("given", ["analyse", "analyze,webhooks", " , "])
def test_unknown_queues_stop_the_worker_in_one_line(given: str) -> None:
    with pytest.raises(ConfigurationError, match=r"--queues: .*known: analyze, moderate"):
        parse_queues(given)


def test_a_consumer_takes_analyze_before_an_older_comment_backlog(redis_server: str) -> None:
    """Through kombu and Redis, as a worker consumes: moderate named first, backlog older."""
    url = f"{redis_server}/{API_REDIS_DB}"
    redis.Redis.from_url(url).flushdb()
    settings = Settings(redis_url=url)
    producer = TaskProducer(settings)
    try:
        for number in range(5):
            assert producer.send(MODERATE_TASK, f"comment-{number}")
        assert producer.send(ANALYZE_TASK, {"request_id": "r-1"})
    finally:
        producer.close()
    received: list[str] = []

    def take(body: object, message: Message) -> None:
        received.append(message.delivery_info["routing_key"])
        message.ack()

    options = celery_config(settings)["broker_transport_options"]
    queues = [Queue(name, DIRECT, routing_key=name) for name in (MODERATE_QUEUE, ANALYZE_QUEUE)]
    with (
        Connection(url, transport_options=options) as connection,
        connection.Consumer(queues, callbacks=[take], accept=["json"]),
    ):
        for _ in range(3):
            connection.drain_events(timeout=5)
    assert received == [ANALYZE_QUEUE, MODERATE_QUEUE, MODERATE_QUEUE]


def test_the_worker_command_refuses_an_unknown_queue_in_one_line() -> None:
    result = run_cli("worker", "--queues", "analyze,webhooks")
    assert result.returncode == 3
    assert result.stderr == (
        "moderation: --queues: unknown queue(s) webhooks; "
        "known: analyze, moderate, feedback, deliver, maintenance\n"
    )
