"""The Perspective-compatible API through a real worker: Coral Talk's exact request, every
attribute, spans that line up with the text, languages, nothing stored, the key never
logged, and analyze answered while a comment backlog waits.

One worker serves the whole module, on a tiny `original` checkpoint (no SEXUALLY_EXPLICIT)
whose every output is a fixed logit, so each attribute's score is known. The `unbiased`
layout's SEXUALLY_EXPLICIT is in tests/workers/test_analyze.py.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import redis
from sqlalchemy import inspect, text
from starlette.testclient import TestClient

from service.broker.contract import ANALYZE_QUEUE, MODERATE_QUEUE, MODERATE_TASK
from service.broker.producer import TaskProducer
from service.db.engine import Database
from service.db.tables import utcnow
from service.perspective.keys import create_key
from service.settings import DEFAULT_POLICY, Settings
from tests.support import stack as e2e
from tests.support.checkpoints import build_checkpoint
from tests.support.net import free_port
from tests.support.paths import REPO

ANALYZE = "/v1alpha1/comments:analyze"
SUGGEST = "/v1alpha1/comments:suggestscore"
ORIGINAL_BIAS = {
    "toxicity": 2.0,
    "severe_toxicity": -3.0,
    "obscene": 1.0,
    "threat": -1.0,
    "insult": 0.5,
    "identity_attack": -2.0,
}
ATTRIBUTE_LABELS = {
    "TOXICITY": "toxicity",
    "SEVERE_TOXICITY": "severe_toxicity",
    "IDENTITY_ATTACK": "identity_attack",
    "INSULT": "insult",
    "PROFANITY": "obscene",
    "THREAT": "threat",
}


def sigmoid(logit: float) -> float:
    return 1 / (1 + math.exp(-logit))


@dataclass
class Perspective:
    stack: e2e.Stack
    key: str
    client: TestClient
    redis: redis.Redis

    def analyze(self, body: Any, **params: str) -> httpx.Response:
        return self.client.post(ANALYZE, params={"key": self.key, **params}, json=body)


@pytest.fixture(scope="module")
def perspective(
    tmp_path_factory: pytest.TempPathFactory, checkpoints: Path, redis_server: str
) -> Iterator[Perspective]:
    tmp = tmp_path_factory.mktemp("perspective")
    policy = tmp / "standards-board.yaml"
    policy.write_bytes(DEFAULT_POLICY.read_bytes())
    built = build_checkpoint(checkpoints, "original", bias=ORIGINAL_BIAS)
    settings = e2e.perspective_settings(tmp, redis_server, built, policy)
    stack, key = e2e.perspective_stack(settings, tmp)
    client = stack.client()
    queues = redis.Redis.from_url(str(settings.redis_url))
    try:
        stack.start_worker()
        yield Perspective(stack, key, client, queues)
    finally:
        client.close()
        queues.close()
        stack.stop_all()
        stack.receiver.close()


def test_coral_talks_exact_request_reads_back_the_toxicity_score(perspective: Perspective) -> None:
    # As coralproject/talk's perspective service formats comments:analyze.
    body = {
        "comment": {"text": "You are an idiot and nobody wants to read your stupid opinions."},
        "doNotStore": True,
        "requestedAttributes": {"TOXICITY": {}},
        "languages": ["en"],
    }
    response = perspective.analyze(body)
    assert response.status_code == 200, response.text
    value = response.json()["attributeScores"]["TOXICITY"]["summaryScore"]["value"]
    assert value == pytest.approx(sigmoid(ORIGINAL_BIAS["toxicity"]), abs=1e-4)
    assert response.json()["languages"] == ["en"]


def test_every_attribute_comes_from_its_detoxify_label(perspective: Perspective) -> None:
    text_ = "Thanks for the article, the council should publish the full budget."
    response = perspective.analyze(
        {
            "comment": {"text": text_, "type": "PLAIN_TEXT"},
            "requestedAttributes": {name: {} for name in ATTRIBUTE_LABELS},
            "clientToken": "comment:42",
            "sessionId": "s-1",
            "communityId": "Coral:https://news.example",
            "context": {"entries": [{"text": "the article"}]},
        }
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert list(answer["attributeScores"]) == list(ATTRIBUTE_LABELS)
    for name, label in ATTRIBUTE_LABELS.items():
        scores = answer["attributeScores"][name]
        expected = pytest.approx(sigmoid(ORIGINAL_BIAS[label]), abs=1e-4)
        assert scores["summaryScore"] == {"value": expected, "type": "PROBABILITY"}
        # Without spanAnnotations, Perspective's one span covers the whole text.
        assert scores["spanScores"] == [
            {"begin": 0, "end": len(text_), "score": {"value": expected, "type": "PROBABILITY"}}
        ]
    assert answer["clientToken"] == "comment:42"
    assert answer["detectedLanguages"] == ["en"]
    assert answer["languages"] == ["en"]


def test_an_attribute_the_model_lacks_is_an_unknown_one(perspective: Perspective) -> None:
    response = perspective.analyze(
        {"comment": {"text": "hello"}, "requestedAttributes": {"SEXUALLY_EXPLICIT": {}}}
    )
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": 400,
        "message": "Unknown requested attribute: SEXUALLY_EXPLICIT",
        "status": "INVALID_ARGUMENT",
        "details": [
            {
                "@type": "type.googleapis.com/google.commentanalyzer.v1alpha1.Error",
                "errorType": "INVALID_REQUEST",
            }
        ],
    }


def test_span_offsets_are_utf16_and_line_up_with_the_text(perspective: Perspective) -> None:
    sentences = ["Great piece 👍🏽!", "The council lied again…", "Is it 🤔 true?", "Fix it 🙏"]
    text_ = "  " + " ".join(sentences[:2]) + "\n" + "  ".join(sentences[2:]) + " "
    response = perspective.analyze(
        {
            "comment": {"text": text_},
            "requestedAttributes": {"INSULT": {}},
            "spanAnnotations": True,
        }
    )
    assert response.status_code == 200, response.text
    spans = response.json()["attributeScores"]["INSULT"]["spanScores"]
    utf16 = text_.encode("utf-16-le")
    # As JavaScript's text.slice(begin, end) would read them.
    found = [utf16[2 * s["begin"] : 2 * s["end"]].decode("utf-16-le") for s in spans]
    assert found == sentences
    assert all(s["score"]["value"] == pytest.approx(sigmoid(0.5), abs=1e-4) for s in spans)


def test_scores_under_a_threshold_are_left_out(perspective: Perspective) -> None:
    response = perspective.analyze(
        {
            "comment": {"text": "One. Two."},
            "requestedAttributes": {
                "TOXICITY": {"scoreThreshold": 0.8, "scoreType": "PROBABILITY"},
                "THREAT": {"scoreThreshold": 0.5},
            },
            "spanAnnotations": True,
        }
    )
    assert response.status_code == 200, response.text
    scores = response.json()["attributeScores"]
    assert list(scores) == ["TOXICITY"]  # threat scores sigmoid(-1) = 0.27
    assert len(scores["TOXICITY"]["spanScores"]) == 2


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"comment": {"text": "Hello there"}, "languages": ["ko"]},
            "Attribute TOXICITY does not support request languages: ko",
        ),
        (
            # Refused only when no model reads any of them (["en", "ko"] is scored in English:
            # tests/e2e/test_perspective_languages.py).
            {"comment": {"text": "Hello"}, "languages": ["fr-FR", "ko", "FR"]},
            "Attribute TOXICITY does not support request languages: fr, ko",
        ),
        (
            {"comment": {"text": "정말 좋은 기사입니다. 감사합니다 여러분"}},
            "Attribute TOXICITY does not support request languages: ko",
        ),
    ],
)
def test_a_language_the_model_does_not_read_is_refused_as_perspective_does(
    perspective: Perspective, body: dict[str, Any], message: str
) -> None:
    body["requestedAttributes"] = {"TOXICITY": {}, "INSULT": {}}
    response = perspective.analyze(body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["status"], error["message"]) == ("INVALID_ARGUMENT", message)
    detail = error["details"][0]
    assert detail["errorType"] == "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE"
    assert detail["languageNotSupportedByAttributeError"]["attribute"] == "TOXICITY"


def test_drop_unsupported_attributes_answers_without_them(perspective: Perspective) -> None:
    response = perspective.analyze(
        {
            "comment": {"text": "정말 좋은 기사입니다. 감사합니다 여러분"},
            "requestedAttributes": {"TOXICITY": {}},
            "dropUnsupportedAttributes": True,
        }
    )
    assert response.status_code == 200, response.text
    assert response.json()["attributeScores"] == {}
    assert response.json()["detectedLanguages"] == ["ko"]


def test_a_bcp47_tag_of_a_covered_language_is_accepted(perspective: Perspective) -> None:
    response = perspective.analyze(
        {"comment": {"text": "ok"}, "requestedAttributes": {"TOXICITY": {}}, "languages": ["en-US"]}
    )
    assert response.status_code == 200, response.text
    assert response.json()["languages"] == ["en-US"]
    # Too short to detect: answered as English, the language every Detoxify model reads.
    assert response.json()["detectedLanguages"] == []


def test_20_kb_of_text_escaped_past_64_kib_is_scored(perspective: Perspective) -> None:
    # Control characters travel as six-byte \u escapes: 20 KB of text, over 64 KiB of JSON.
    sentence = "\u0001\u0002\u0003\u0004 ok.\n"
    text_ = sentence * (20_480 // len(sentence.encode()))
    raw = json.dumps(
        {
            "comment": {"text": text_},
            "requestedAttributes": {"TOXICITY": {}},
            "spanAnnotations": True,
        }
    ).encode()
    assert len(raw) > 64 * 1024
    response = perspective.client.post(ANALYZE, params={"key": perspective.key}, content=raw)
    assert response.status_code == 200, response.text
    spans = response.json()["attributeScores"]["TOXICITY"]["spanScores"]
    assert len(spans) == text_.count("\n")
    assert spans[-1]["end"] == len(text_) - 1


def _redis_dump(client: redis.Redis) -> str:
    parts: list[str] = []
    for key in client.scan_iter():
        kind = client.type(key).decode()
        if kind == "string":
            parts.append(repr(client.get(key)))
        elif kind == "list":
            parts.append(repr(client.lrange(key, 0, -1)))
        elif kind == "hash":
            parts.append(repr(client.hgetall(key)))
        elif kind == "set":
            parts.append(repr(client.smembers(key)))
        elif kind == "zset":
            parts.append(repr(client.zrange(key, 0, -1)))
        parts.append(repr(key))
    return "\n".join(parts)


def _database_dump(settings: Settings) -> str:
    database = Database(settings.effective_database_url)
    try:
        with database.engine.connect() as connection:
            rows = [
                repr(row)
                for table in inspect(connection).get_table_names()
                for row in connection.execute(text(f'SELECT * FROM "{table}"'))
            ]
    finally:
        database.dispose()
    return "\n".join(rows)


@pytest.mark.parametrize("do_not_store", [True, False, None])
def test_analyze_stores_no_text(perspective: Perspective, do_not_store: bool | None) -> None:
    marker = f"Unrepeatable marker {uuid.uuid4().hex} in a comment."
    body: dict[str, Any] = {"comment": {"text": marker}, "requestedAttributes": {"TOXICITY": {}}}
    if do_not_store is not None:
        body["doNotStore"] = do_not_store
    assert perspective.analyze(body).status_code == 200
    assert marker not in _database_dump(perspective.stack.settings)
    # The task message is acknowledged (and gone) once the worker has answered.
    e2e.wait_for(
        lambda: marker not in _redis_dump(perspective.redis), timeout=10, what="no text in Redis"
    )
    assert marker not in perspective.stack.log("worker")


def test_analyze_is_answered_while_a_comment_backlog_waits(perspective: Perspective) -> None:
    producer = TaskProducer(perspective.stack.settings)
    try:
        for _ in range(1500):
            producer.send(MODERATE_TASK, str(uuid.uuid4()))
    finally:
        producer.close()
    started = time.monotonic()
    response = perspective.analyze(
        {"comment": {"text": "Still there?"}, "requestedAttributes": {"TOXICITY": {}}}
    )
    elapsed = time.monotonic() - started
    assert response.status_code == 200, response.text
    waiting = perspective.redis.llen(MODERATE_QUEUE)
    assert waiting > 0, "the backlog drained first: this test proves nothing; queue more"
    assert elapsed < 3, f"analyze took {elapsed:.1f}s behind the backlog"
    assert perspective.redis.llen(ANALYZE_QUEUE) == 0
    perspective.redis.delete(MODERATE_QUEUE)


def test_responses_match_the_openapi_document(perspective: Perspective) -> None:
    document = perspective.client.get("/openapi.json").json()

    def check(schema: str, instance: Any) -> None:
        ref = {"$ref": f"#/components/schemas/{schema}", "components": document["components"]}
        jsonschema.Draft202012Validator(ref).validate(instance)

    analyzed = perspective.analyze(
        {
            "comment": {"text": "First. Second."},
            "requestedAttributes": {name: {} for name in ATTRIBUTE_LABELS},
            "spanAnnotations": True,
            "clientToken": "t",
        }
    )
    check("AnalyzeCommentResponse", analyzed.json())
    suggested = perspective.client.post(
        SUGGEST,
        params={"key": perspective.key},
        json={
            "comment": {"text": "x"},
            "attributeScores": {"TOXICITY": {"summaryScore": {"value": 0}}},
        },
    )
    check("SuggestCommentScoreResponse", suggested.json())
    check("GoogleError", perspective.analyze({}).json())


def test_the_key_never_reaches_a_log_line(perspective: Perspective) -> None:
    stack = perspective.stack
    port = free_port()
    env = {**stack.env, "MODERATION_LOG_LEVEL": "DEBUG"}
    log_path = stack.tmp / "api.log"
    with open(log_path, "ab") as log:
        api = subprocess.Popen(
            [sys.executable, "-m", "workers", "api", "--port", str(port)],
            env=env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    stack.processes.append(api)
    base = f"http://127.0.0.1:{port}"
    e2e.wait_for(lambda: _answers(base), timeout=60, what="the api process")
    database = Database(stack.settings.effective_database_url)
    tight = create_key(database, name="tight", qps=1, now=utcnow())
    database.dispose()
    body = {"comment": {"text": "Hello there, key test."}, "requestedAttributes": {"TOXICITY": {}}}
    with httpx.Client(base_url=base, timeout=30) as http:
        assert http.post(ANALYZE, params={"key": perspective.key}, json=body).status_code == 200
        assert http.post(ANALYZE, params={"key": perspective.key}, content=b"{").status_code == 400
        assert http.get(ANALYZE, params={"key": perspective.key}).status_code == 405
        assert http.post("/v1alpha1/nowhere", params={"key": perspective.key}).status_code == 404
        statuses = {
            http.post(ANALYZE, params={"key": tight}, json={}).status_code for _ in range(3)
        }
        assert 429 in statuses
        suggest = {
            "comment": {"text": "x"},
            "attributeScores": {"INSULT": {"summaryScore": {"value": 1}}},
        }
        assert http.post(SUGGEST, params={"key": perspective.key}, json=suggest).status_code == 200
        revoked = subprocess.run(
            [sys.executable, "-m", "workers", "keys", "revoke", "tight"],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        )
        assert tight not in revoked.stdout + revoked.stderr
        assert http.post(ANALYZE, params={"key": tight}, json=body).status_code == 403
    stack.stop(api)
    logged = stack.log("api")
    assert logged.count('"route": "/v1alpha1/comments:analyze"') >= 5, logged[-2000:]
    assert '"event": "perspective.analyzed"' in logged  # the debug level was on
    for key in (perspective.key, tight, perspective.key[4:], tight[4:]):
        assert key not in logged
        assert key not in stack.log("worker")


def _answers(base: str) -> bool:
    try:
        return httpx.get(base + "/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
