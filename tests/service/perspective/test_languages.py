"""comments:analyze routed by language through a registry of two models, the API's side (no
worker runs): which model the analyze task names, and the 400s answered before any worker is
asked. `default` is MODERATION_MODEL `original` (English; no SEXUALLY_EXPLICIT) and `ko-hate`
a tiny Korean Hugging Face checkpoint (tests/support/hf_checkpoints.py) whose policy label map
gives TOXICITY, INSULT and IDENTITY_ATTACK only.

A real worker scoring with the Korean model is tests/e2e/test_perspective_languages.py.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from starlette.testclient import TestClient

from policy import load_policy
from service.app import create_app
from service.broker.contract import ANALYZE_QUEUE, ANALYZE_TASK
from service.db.engine import Database
from service.db.tables import utcnow
from service.models.registry import registered_models
from service.perspective.analyze import parse_analyze_request, render_analysis
from service.perspective.errors import PerspectiveError
from service.perspective.keys import create_key
from service.perspective.routing import (
    attribute_labels,
    model_labels,
    primary,
    registry_outputs,
    route_languages,
)
from service.settings import Settings
from tests.support.api import API_REDIS_DB, api_settings
from tests.support.hf_checkpoints import HfCheckpoint, tiny_hf_checkpoint

ANALYZE = "/v1alpha1/comments:analyze"
KO_LABELS = ("clean", "offensive", "hate")
POLICY = """\
schema: 1
language:
  routes:
    ko: ko-hate
models:
  ko-hate:
    activation: softmax
    labels:
      toxicity: {one_minus: clean}
      insult: offensive
      identity_attack: hate
"""
KOREAN = "이 기사 쓴 기자는 바보 멍청이다."


@pytest.fixture(scope="module")
def korean_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> HfCheckpoint:
    models = tmp_path_factory.mktemp("perspective-models")
    return tiny_hf_checkpoint(
        models / "ko-hate", "electra", KO_LABELS, "single_label_classification"
    )


class Client:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        database = Database(settings.effective_database_url)
        self.key = create_key(database, name="coral", qps=1000, now=utcnow())
        database.dispose()
        self.http = TestClient(create_app(settings), raise_server_exceptions=False)

    def analyze(self, body: Any) -> Any:
        return self.http.post(ANALYZE, params={"key": self.key}, json=body)


@pytest.fixture
def client(
    database_url: str, redis_server: str, tmp_path: Path, korean_checkpoint: HfCheckpoint
) -> Iterator[Client]:
    redis.Redis.from_url(f"{redis_server}/{API_REDIS_DB}").flushdb()
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    settings = api_settings(
        database_url,
        redis_server,
        tmp_path,
        analyze_timeout_seconds=0.2,
        model="original",
        models=json.dumps({"ko-hate": korean_checkpoint.path.name}),
        models_dir=korean_checkpoint.path.parent,
        policy=policy,
    )
    made = Client(settings)
    # Entered, so the app's lifespan closes its database pool at the end.
    with made.http:
        yield made


def assert_google_error(response: Any, code: int, status: str, message: str = "") -> None:
    assert response.status_code == code, response.text
    error = response.json()["error"]
    assert (error["code"], error["status"]) == (code, status)
    assert message in error["message"]


def analyze_tasks(settings: Settings) -> list[dict[str, Any]]:
    """The payloads of the analyze tasks waiting in the broker (nobody consumes them here)."""
    broker = redis.Redis.from_url(settings.redis_url or "")
    payloads = []
    for raw in broker.lrange(ANALYZE_QUEUE, 0, -1):
        message = json.loads(raw)
        if message["headers"].get("task") != ANALYZE_TASK:
            continue
        body = message["body"]
        if message["properties"].get("body_encoding") == "base64":
            body = base64.b64decode(body).decode()
        args, _kwargs, _embed = json.loads(body)
        payloads.extend(args)
    broker.close()
    return payloads


def body(text: str = "Thanks for the article.", **changes: Any) -> dict[str, Any]:
    return {"comment": {"text": text}, "requestedAttributes": {"TOXICITY": {}}, **changes}


@pytest.mark.parametrize(
    ("languages", "model"),
    [
        (["ko"], "ko-hate"),
        (["ko-KR"], "ko-hate"),
        (["en"], "default"),
        (["en-US", "ko"], "default"),
        # The first requested language a model reads picks the model.
        (["ja", "ko", "en"], "ko-hate"),
        (["xx", "EN"], "default"),
    ],
)
def test_the_first_requested_language_a_model_reads_picks_it(
    client: Client, languages: list[str], model: str
) -> None:
    assert_google_error(client.analyze(body(languages=languages)), 503, "UNAVAILABLE")
    [task] = analyze_tasks(client.settings)
    assert (task["model"], task["score"]) == (model, True)
    assert "text" in task and task["text"] == "Thanks for the article."


def test_without_languages_the_worker_detects_and_routes(client: Client) -> None:
    assert_google_error(client.analyze(body(KOREAN)), 503, "UNAVAILABLE")
    [task] = analyze_tasks(client.settings)
    assert (task["model"], task["score"]) == (None, True)


@pytest.mark.parametrize(
    ("languages", "message"),
    [
        (["ja"], "Attribute TOXICITY does not support request languages: ja"),
        (["ja", "zh-Hant", "JA"], "Attribute TOXICITY does not support request languages: ja, zh"),
    ],
)
def test_no_model_reading_any_requested_language_is_refused_before_a_worker(
    client: Client, languages: list[str], message: str
) -> None:
    response = client.analyze(body(languages=languages, requestedAttributes={"TOXICITY": {}}))
    assert_google_error(response, 400, "INVALID_ARGUMENT", message)
    detail = response.json()["error"]["details"][0]
    assert detail["errorType"] == "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE"
    assert detail["languageNotSupportedByAttributeError"] == {
        "detectedLanguages": [],
        "requestedLanguages": languages,
        "attribute": "TOXICITY",
    }
    assert analyze_tasks(client.settings) == []


def test_drop_unsupported_attributes_asks_the_worker_only_to_detect(client: Client) -> None:
    response = client.analyze(body(languages=["ja"], dropUnsupportedAttributes=True))
    assert_google_error(response, 503, "UNAVAILABLE")
    [task] = analyze_tasks(client.settings)
    assert (task["model"], task["score"]) == (None, False)


@pytest.mark.parametrize(
    ("languages", "attribute"),
    [
        # The Korean model's label map gives no threat, profanity or severe toxicity.
        (["ko"], "THREAT"),
        (["ko", "en"], "PROFANITY"),
        (["ja", "ko"], "SEVERE_TOXICITY"),
        # `original` has no sexual_explicit.
        (["en", "ko"], "SEXUALLY_EXPLICIT"),
        # Neither model scores it: unknown wherever the worker would route the text.
        ([], "SEXUALLY_EXPLICIT"),
        (["ja"], "SEXUALLY_EXPLICIT"),
    ],
)
def test_an_attribute_the_routed_model_lacks_is_an_unknown_one(
    client: Client, languages: list[str], attribute: str
) -> None:
    requested: dict[str, Any] = {"TOXICITY": {}, attribute: {}}
    response = client.analyze(body(languages=languages, requestedAttributes=requested))
    assert_google_error(
        response, 400, "INVALID_ARGUMENT", f"Unknown requested attribute: {attribute}"
    )
    assert response.json()["error"]["details"][0]["errorType"] == "INVALID_REQUEST"
    assert analyze_tasks(client.settings) == []


def test_an_attribute_only_the_other_model_has_goes_to_the_worker_when_it_routes(
    client: Client,
) -> None:
    # No languages: PROFANITY is `default`'s, and the worker may route the text there.
    requested: dict[str, Any] = {"TOXICITY": {}, "PROFANITY": {}}
    assert_google_error(client.analyze(body(requestedAttributes=requested)), 503, "UNAVAILABLE")
    [task] = analyze_tasks(client.settings)
    assert task["model"] is None


def test_an_unknown_attribute_comes_before_a_later_fault_as_perspective_orders_them(
    client: Client,
) -> None:
    request = body(languages=["ko"], requestedAttributes={"THREAT": {}}, spanAnnotations="yes")
    assert_google_error(
        client.analyze(request), 400, "INVALID_ARGUMENT", "Unknown requested attribute: THREAT"
    )


def test_each_models_labels_are_known_without_loading_it(
    client: Client, korean_checkpoint: HfCheckpoint
) -> None:
    settings = client.settings
    outputs = registry_outputs(settings)
    assert outputs["ko-hate"] == KO_LABELS
    policy = load_policy(settings.policy, registry=registered_models(settings))
    korean = frozenset({"toxicity", "insult", "identity_attack"})
    assert model_labels(policy, outputs, "ko-hate") == korean
    original = model_labels(policy, outputs, "default")
    assert original is not None
    assert "obscene" in original and "sexual_explicit" not in original
    # A model whose outputs only loading tells: left to the worker.
    assert model_labels(policy, {"default": None}, "default") is None
    assert attribute_labels(policy, {**outputs, "default": None}, {"languages": ["ja"]}) is None
    assert attribute_labels(policy, outputs, {"languages": ["ko"]}) == korean
    assert route_languages(policy, ["pt-BR", "ko_KR"]) == "ko-hate"
    assert primary("zh_Hant_TW") == "zh"


def worker_result(routed: str | None, **overrides: Any) -> dict[str, Any]:
    summary = {"toxicity": 0.9, "insult": 0.2, "identity_attack": 0.1}
    result: dict[str, Any] = {
        "model": "hf:ko-hate@00000000+int8",
        "labels": list(summary),
        "summary": summary,
        "spans": None,
        "detected": "ko",
        "routed": routed,
    }
    return {**result, **overrides}


def test_the_answer_from_a_routed_model_keeps_languages_as_perspective_does() -> None:
    request = parse_analyze_request(body(KOREAN, requestedAttributes={"INSULT": {}}))
    answer = render_analysis(request, worker_result("ko-hate"))
    assert answer["attributeScores"]["INSULT"]["summaryScore"]["value"] == 0.2
    assert (answer["languages"], answer["detectedLanguages"]) == (["ko"], ["ko"])
    request = parse_analyze_request(body(KOREAN, languages=["ko-KR"]))
    answer = render_analysis(request, worker_result("ko-hate"))
    assert (answer["languages"], answer["detectedLanguages"]) == (["ko-KR"], ["ko"])


def test_a_detected_language_no_model_reads_is_refused_or_dropped() -> None:
    unread = worker_result(None, detected="ja", labels=[], summary={})
    with pytest.raises(PerspectiveError) as raised:
        render_analysis(parse_analyze_request(body("日本語のコメントです")), unread)
    error = raised.value.body()["error"]
    assert error["message"] == "Attribute TOXICITY does not support request languages: ja"
    assert error["details"][0]["languageNotSupportedByAttributeError"]["detectedLanguages"] == [
        "ja"
    ]
    dropped = parse_analyze_request(body("日本語のコメントです", dropUnsupportedAttributes=True))
    answer = render_analysis(dropped, unread)
    assert answer == {"attributeScores": {}, "languages": ["ja"], "detectedLanguages": ["ja"]}


def test_a_label_the_worker_did_not_score_is_an_unknown_attribute() -> None:
    # A model whose labels the API couldn't know: the worker's answer decides.
    request = parse_analyze_request(body(KOREAN, requestedAttributes={"THREAT": {}}))
    with pytest.raises(PerspectiveError, match="Unknown requested attribute: THREAT"):
        render_analysis(request, worker_result("ko-hate"))
