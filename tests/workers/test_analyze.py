"""The worker's side of comments:analyze, in-process on tiny checkpoints: every attribute of
the unbiased layout, long texts scored in pieces, deadlines, and the answer left in Redis."""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
import redis

from service.broker.contract import ANALYZE_RESULT_PREFIX
from service.broker.producer import TaskProducer
from service.db.engine import Database
from service.perspective.analysis import RESULT_TTL_SECONDS
from service.perspective.analyze import ATTRIBUTES, parse_analyze_request, render_analysis
from service.perspective.text import piece_spans, segment_spans
from service.policies import PolicyHolder
from service.settings import DEFAULT_POLICY, Settings
from tests.support.api import API_REDIS_DB
from tests.support.checkpoints import CORPUS, TinyCheckpoint
from workers.analyze import PIECE_CHARS, analyze_request, analyze_text, route_analysis
from workers.runtime import WorkerRuntime
from workers.scoring.scorer import Scorer, load_scorer

UNBIASED_BIAS = {
    "toxicity": 2.0,
    "severe_toxicity": -3.0,
    "obscene": 1.0,
    "identity_attack": -2.0,
    "insult": 0.5,
    "threat": -1.0,
    "sexual_explicit": 1.5,
}
LATER = 1e12


@pytest.fixture(scope="module")
def unbiased(tiny_checkpoint: Callable[..., TinyCheckpoint]) -> Scorer:
    return load_scorer(tiny_checkpoint("unbiased", bias=UNBIASED_BIAS).settings())


@pytest.fixture(scope="module")
def random_original(tiny_checkpoint: Callable[..., TinyCheckpoint]) -> Scorer:
    return load_scorer(tiny_checkpoint("original").settings())


def test_every_perspective_attribute_of_an_unbiased_model(unbiased: Scorer) -> None:
    request = parse_analyze_request(
        {
            "comment": {"text": "Thanks for the article."},
            "requestedAttributes": {name: {} for name in ATTRIBUTES},
        }
    )
    result = analyze_text(unbiased, request.text, spans=False, deadline=LATER)
    scores = render_analysis(request, json.loads(json.dumps(result)))["attributeScores"]
    assert list(scores) == list(ATTRIBUTES)
    for name, label in ATTRIBUTES.items():
        expected = 1 / (1 + math.exp(-UNBIASED_BIAS[label]))
        assert scores[name]["summaryScore"]["value"] == pytest.approx(expected, abs=1e-4), name
    assert "sexual_explicit" in result["labels"]


def test_a_short_text_is_scored_whole(random_original: Scorer) -> None:
    text = CORPUS[1]
    result = analyze_text(random_original, text, spans=False, deadline=LATER)
    assert result["summary"] == random_original.score([text])[0]
    assert result["spans"] is None
    assert result["detected"] == "en"


def test_a_long_text_takes_each_labels_highest_piece(random_original: Scorer) -> None:
    text = " ".join(CORPUS * 4)
    assert len(text) > PIECE_CHARS
    result = analyze_text(random_original, text, spans=True, deadline=LATER)
    segments = segment_spans(text, max_chars=PIECE_CHARS)
    pieces = [text[b:e] for b, e in piece_spans(segments, max_chars=PIECE_CHARS)]
    assert len(pieces) > 1 and all(len(piece) <= PIECE_CHARS for piece in pieces)
    rows = random_original.score(pieces)
    for label in random_original.labels:
        assert result["summary"][label] == max(row[label] for row in rows)
    # The whole text, cut after MODERATION_MAX_TOKENS, would score otherwise.
    assert result["summary"] != random_original.score([text])[0]
    assert [span[:2] for span in result["spans"]] == [list(s) for s in segments]
    assert result["spans"][1][2] == random_original.score([text[slice(*segments[1])]])[0]


@pytest.fixture
def runtime(unbiased: Scorer, redis_server: str, tmp_path: Path) -> Iterator[WorkerRuntime]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'unused.db'}",
        redis_url=f"{redis_server}/{API_REDIS_DB}",
    )
    made = WorkerRuntime(
        settings=settings,
        db=Database(settings.effective_database_url),
        redis=redis.Redis.from_url(settings.redis_url or ""),
        producer=TaskProducer(settings),
        policies=PolicyHolder(DEFAULT_POLICY),
        scorers={"default": unbiased},
    )
    yield made
    made.producer.close()
    made.db.dispose()
    assert made.redis is not None
    made.redis.close()


def test_the_answer_is_left_in_redis_for_a_short_while(runtime: WorkerRuntime) -> None:
    request_id = uuid.uuid4().hex
    payload = {"request_id": request_id, "text": "Hi there.", "deadline": time.time() + 30}
    assert analyze_request(runtime, payload) == "answered"
    assert runtime.redis is not None
    key = ANALYZE_RESULT_PREFIX + request_id
    assert 0 < runtime.redis.ttl(key) <= RESULT_TTL_SECONDS
    answer = json.loads(runtime.redis.lpop(key) or b"")
    assert set(answer) == {"model", "labels", "summary", "spans", "detected", "routed"}
    assert answer["routed"] == "default"
    assert "Hi there." not in json.dumps(answer)


def test_a_request_past_its_deadline_is_dropped_unscored(runtime: WorkerRuntime) -> None:
    request_id = uuid.uuid4().hex
    payload = {"request_id": request_id, "text": "Too late.", "deadline": time.time() - 1}
    assert analyze_request(runtime, payload) == "expired"
    assert runtime.redis is not None
    assert not runtime.redis.exists(ANALYZE_RESULT_PREFIX + request_id)


def test_the_model_is_the_apis_choice_or_the_detected_languages_route() -> None:
    current = PolicyHolder(DEFAULT_POLICY).current()
    assert route_analysis(current, {"model": "ko-hate"}, "en") == "ko-hate"
    # No languages in the request: routed as a comment is, by the detected language.
    assert route_analysis(current, {"model": None}, "en") == "default"
    assert route_analysis(current, {}, None) == "default"
    assert route_analysis(current, {"model": None}, "ko") is None
    # No model reads the request's languages: nothing is scored, the language is detected.
    assert route_analysis(current, {"model": None, "score": False}, "en") is None


def test_outputs_become_labels_piece_by_piece(random_original: Scorer) -> None:
    text = " ".join(CORPUS * 4)
    segments = segment_spans(text, max_chars=PIECE_CHARS)
    pieces = [text[b:e] for b, e in piece_spans(segments, max_chars=PIECE_CHARS)]

    def convert(outputs: Mapping[str, float]) -> dict[str, float]:
        return {"calm": round(1 - outputs["toxicity"], 6)}

    result = analyze_text(
        random_original, text, spans=False, deadline=LATER, convert=convert, detected="en"
    )
    rows = random_original.score(pieces)
    assert result["labels"] == ["calm"]
    # Each label's highest piece after the map: 1 - the lowest toxicity.
    assert result["summary"] == {"calm": round(1 - min(row["toxicity"] for row in rows), 6)}
