"""suggestscore feedback as tuning labels: the route sends the rows' ids after the commit,
the worker's domain function scores them on a tiny checkpoint, and the insights count them
in per-label precision and recall. On both databases.

The task is taken from the real broker queue and run in-process (no worker process: loading
the model in a child costs seconds and adds nothing the task's body doesn't cover here).
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import redis
from sqlalchemy import select
from starlette.testclient import TestClient

from service.app import create_app
from service.broker.contract import FEEDBACK_QUEUE, SCORE_FEEDBACK_TASK
from service.db.engine import Database
from service.db.tables import PerspectiveFeedback, utcnow
from service.perspective.keys import create_key
from tests.support.api import API_REDIS_DB, Api, api_settings
from tests.support.checkpoints import TinyCheckpoint
from tests.support.databases import BACKENDS
from workers.feedback import score_feedback
from workers.scoring.scorer import Scorer, load_scorer

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

SUGGEST = "/v1alpha1/comments:suggestscore"
# A checkpoint whose scores are these biases' sigmoids, whatever the text.
BIAS = {"toxicity": 2.0, "insult": -2.0}
TOXICITY = 1 / (1 + math.exp(-2.0))
INSULT = 1 / (1 + math.exp(2.0))


@pytest.fixture(scope="module")
def scorer(tiny_checkpoint: Callable[..., TinyCheckpoint]) -> Scorer:
    return load_scorer(tiny_checkpoint("unbiased", bias=BIAS).settings())


@pytest.fixture
def api(database_url: str, redis_server: str, tmp_path: Path) -> Iterator[Api]:
    redis.Redis.from_url(f"{redis_server}/{API_REDIS_DB}").flushdb()
    settings = api_settings(database_url, redis_server, tmp_path)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield Api(client, settings)


def database(api: Api) -> Database:
    db: Database = api.client.app.state.services.db  # type: ignore[attr-defined]
    return db


def suggest(api: Api, key: str, text: str, **values: float) -> None:
    body = {
        "comment": {"text": text},
        "attributeScores": {name: {"summaryScore": {"value": v}} for name, v in values.items()},
        "clientToken": "comment:c-1",
    }
    response = api.client.post(SUGGEST, params={"key": key}, json=body)
    assert response.status_code == 200, response.text


def sent_feedback_tasks(api: Api) -> list[list[int]]:
    """The `score_feedback` messages waiting in their queue, taken off it as a worker would."""
    client = redis.Redis.from_url(api.settings.redis_url or "")
    found = []
    while (raw := client.rpop(FEEDBACK_QUEUE)) is not None:
        message = json.loads(raw)
        assert message["headers"]["task"] == SCORE_FEEDBACK_TASK
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        found.append(args[0])
    client.close()
    return found


def insights(api: Api) -> dict[str, Any]:
    response = api.client.get("/v1/moderation/insights", headers=api.auth("mod-1", moderator=True))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    document = api.client.get("/openapi.json").json()
    jsonschema.Draft202012Validator(
        {"$ref": "#/components/schemas/Insights", "components": document["components"]}
    ).validate(body)
    return body


def test_scored_feedback_is_a_label_in_the_insights(api: Api, scorer: Scorer) -> None:
    key = create_key(database(api), name="coral", qps=1000, now=utcnow())
    suggest(api, key, "You are a clown.", TOXICITY=1, INSULT=0)
    suggest(api, key, "Thanks for the article.", TOXICITY=0)
    # Stored but not scored yet: no label, since it can't be placed on a threshold.
    before = insights(api)
    assert "suggestscore" not in before["labels"]["by_source"]
    assert before["model_labels"] == []

    tasks = sent_feedback_tasks(api)
    assert [len(ids) for ids in tasks] == [2, 1]
    assert [score_feedback(database(api), scorer, ids) for ids in tasks] == [2, 1]
    # A task sent twice (the broker redelivers) scores nothing again.
    assert score_feedback(database(api), scorer, tasks[0]) == 0
    with database(api).session() as session:
        rows = list(session.scalars(select(PerspectiveFeedback).order_by(PerspectiveFeedback.id)))
        assert [row.scores is not None and row.scores["toxicity"] for row in rows] == [
            pytest.approx(TOXICITY, abs=1e-4)
        ] * 3

    body = insights(api)
    assert body["labels"] == {
        "total": 3,
        "by_source": {"suggestscore": 3},
        "approved": 2,
        "rejected": 1,
    }
    # Feedback is no policy hold: per-rule evidence stays empty.
    assert body["rules"] == []
    by_label = {item["label"]: item for item in body["model_labels"]}
    assert set(by_label) == {"toxicity", "insult"}
    toxicity = {point["threshold"]: point for point in by_label["toxicity"]["points"]}
    assert by_label["toxicity"]["labelled"] == 2
    # Both toxicity texts score ~0.88: held at 0.5, one rejected and one approved...
    assert toxicity[0.5] | {"precision": 0.5, "recall": 1.0} == toxicity[0.5]
    assert (toxicity[0.5]["tp"], toxicity[0.5]["fp"]) == (1.0, 1.0)
    # ...and let through at 0.9, missing the rejected one.
    assert (toxicity[0.9]["tp"], toxicity[0.9]["fn"], toxicity[0.9]["tn"]) == (0.0, 1.0, 1.0)
    insult = {point["threshold"]: point for point in by_label["insult"]["points"]}
    assert by_label["insult"]["labelled"] == 1
    # The insult score (~0.12) of an approved text: a false positive at 0.1, a true negative
    # at 0.15.
    assert (insult[0.1]["fp"], insult[0.15]["tn"]) == (1.0, 1.0)
    assert sum(by_label["insult"]["histogram"]["approved"]) == 1
    assert by_label["insult"]["histogram"]["approved"][int(INSULT * 20)] == 1
