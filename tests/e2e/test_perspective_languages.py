"""comments:analyze routed by language through a real Celery worker holding two models:
`default`, a tiny `original` checkpoint that scores every text toxic (~0.9997), and `ko-hate`,
a tiny ELECTRA checkpoint (softmax over clean/offensive/hate; tests/support/hf_checkpoints.py)
rigged so that a Korean text holding an insult word scores `hate` and any other `clean`.

One stack serves the module (SQLite: the database plays no part in analyze), built as
tests/e2e/test_perspective.py builds its own. The API-side
routing choices and refusals are tests/service/perspective/test_languages.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from tests.support import stack as e2e
from tests.support.checkpoints import TOXIC, build_checkpoint
from tests.support.hf_checkpoints import APPROVED_KO, HELD_KO, TOXIC_WORDS, tiny_hf_checkpoint

ANALYZE = "/v1alpha1/comments:analyze"
KO_ID = "ko-hate"
POLICY = f"""\
schema: 1
language:
  routes:
    ko: {KO_ID}
models:
  {KO_ID}:
    activation: softmax
    labels:
      toxicity: {{one_minus: clean}}
      insult: offensive
      identity_attack: hate
"""


class Analyzer:
    def __init__(self, stack: e2e.Stack, key: str, client: TestClient) -> None:
        self.stack, self.key, self.client = stack, key, client

    def analyze(self, text: str, *attributes: str, **fields: Any) -> httpx.Response:
        body = {
            "comment": {"text": text},
            "requestedAttributes": {name: {} for name in attributes or ("TOXICITY",)},
            **fields,
        }
        return self.client.post(ANALYZE, params={"key": self.key}, json=body)

    def summaries(self, text: str, *attributes: str, **fields: Any) -> dict[str, float]:
        response = self.analyze(text, *attributes, **fields)
        assert response.status_code == 200, response.text
        return {
            name: scores["summaryScore"]["value"]
            for name, scores in response.json()["attributeScores"].items()
        }

    def models_used(self) -> list[str | None]:
        """The model id of each analyze the worker answered, in order."""
        return [
            json.loads(line).get("model_id")
            for line in self.stack.log("worker").splitlines()
            if '"perspective.analyze_done"' in line
        ]


@pytest.fixture(scope="module")
def analyzer(
    tmp_path_factory: pytest.TempPathFactory, checkpoints: Path, redis_server: str
) -> Iterator[Analyzer]:
    tmp = tmp_path_factory.mktemp("perspective-languages")
    models = tmp / "models"
    tiny_hf_checkpoint(
        models / KO_ID,
        "electra",
        ("clean", "offensive", "hate"),
        "single_label_classification",
        triggers={"hate": TOXIC_WORDS},
    )
    policy = tmp / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    built = build_checkpoint(checkpoints, "original", bias=TOXIC)
    settings = e2e.perspective_settings(
        tmp, redis_server, built, policy, models=json.dumps({KO_ID: KO_ID}), models_dir=models
    )
    stack, key = e2e.perspective_stack(settings, tmp)
    try:
        stack.start_worker()
        with stack.client() as client:
            yield Analyzer(stack, key, client)
    finally:
        stack.stop_all()
        stack.receiver.close()


def test_korean_is_scored_by_the_korean_model_and_english_by_default(analyzer: Analyzer) -> None:
    # languages ["ko"]: the Korean model, its softmax and label map (toxicity = 1 - clean).
    held = analyzer.summaries(HELD_KO, "TOXICITY", "IDENTITY_ATTACK", "INSULT", languages=["ko"])
    assert held["TOXICITY"] > 0.99 and held["IDENTITY_ATTACK"] > 0.99
    assert held["INSULT"] < 0.01
    approved = analyzer.summaries(APPROVED_KO, "TOXICITY", languages=["ko-KR"])
    # `default` scores every text ~0.9997: this low score is the Korean model's.
    assert approved["TOXICITY"] < 0.01
    # No languages: the worker detects Korean and routes it the same way.
    response = analyzer.analyze(APPROVED_KO)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["attributeScores"]["TOXICITY"]["summaryScore"]["value"] < 0.01
    assert (answer["languages"], answer["detectedLanguages"]) == (["ko"], ["ko"])
    # The first requested language a model reads: `en` goes to `default`.
    assert analyzer.summaries(APPROVED_KO, languages=["en", "ko"])["TOXICITY"] > 0.99
    assert analyzer.summaries(APPROVED_KO, languages=["ja", "ko"])["TOXICITY"] < 0.01
    english = "Thanks for the article, the council should publish the full budget."
    assert analyzer.summaries(english, "TOXICITY", "PROFANITY")["PROFANITY"] > 0.99
    # The worker logs each answer just after sending it.
    expected = [KO_ID, KO_ID, KO_ID, "default", KO_ID, "default"]
    e2e.wait_for(lambda: analyzer.models_used()[-6:] == expected, timeout=5, what="the log")


def test_what_the_korean_model_lacks_or_no_model_reads_is_refused(analyzer: Analyzer) -> None:
    lacking = analyzer.analyze(HELD_KO, "TOXICITY", "THREAT", languages=["ko"])
    assert lacking.status_code == 400, lacking.text
    assert lacking.json()["error"]["message"] == "Unknown requested attribute: THREAT"
    # Routed by the worker: the Korean model, which has no PROFANITY.
    detected = analyzer.analyze(HELD_KO, "TOXICITY", "PROFANITY")
    assert detected.status_code == 400, detected.text
    assert detected.json()["error"]["message"] == "Unknown requested attribute: PROFANITY"
    japanese = "このニュース記事は本当に素晴らしいと思います。ありがとうございました。"
    unread = analyzer.analyze(japanese)
    assert unread.status_code == 400, unread.text
    error = unread.json()["error"]
    assert error["message"] == "Attribute TOXICITY does not support request languages: ja"
    detail = error["details"][0]
    assert detail["errorType"] == "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE"
    assert detail["languageNotSupportedByAttributeError"]["detectedLanguages"] == ["ja"]
    dropped = analyzer.analyze(japanese, languages=["ja"], dropUnsupportedAttributes=True)
    assert dropped.status_code == 200, dropped.text
    assert dropped.json() == {
        "attributeScores": {},
        "languages": ["ja"],
        "detectedLanguages": ["ja"],
    }
