"""Google's own Perspective client against a running service: google-api-python-client built
from the service's discovery document, exactly as Perspective's Python sample builds it with
only the discovery URL changed, calling analyze and suggestscore and reading Google's errors.

The service runs as in production: `moderation api` (uvicorn) on 127.0.0.1 and a real worker
on a tiny `original` checkpoint whose every output is a fixed logit, so each score is known.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from googleapiclient import discovery
from googleapiclient.errors import HttpError

from service.db.engine import Database
from service.settings import DEFAULT_POLICY
from tests.support import stack as e2e
from tests.support.checkpoints import build_checkpoint
from tests.support.net import free_port

BIAS = {
    "toxicity": 2.0,
    "severe_toxicity": -3.0,
    "obscene": 1.0,
    "threat": -1.0,
    "insult": 0.5,
    "identity_attack": -2.0,
}
API_START_SECONDS = 60


def sigmoid(logit: float) -> float:
    return 1 / (1 + math.exp(-logit))


@dataclass
class Service:
    stack: e2e.Stack
    key: str
    base: str

    @property
    def discovery_url(self) -> str:
        return f"{self.base}/$discovery/rest?version=v1alpha1"

    def client(self, key: str | None = None) -> Any:
        """Perspective's Python sample's client, with only `discoveryServiceUrl` changed.
        Used in `with`: httplib2 keeps its connections open until closed (and an unclosed
        socket is a ResourceWarning, an error here)."""
        return discovery.build(
            "commentanalyzer",
            "v1alpha1",
            developerKey=key or self.key,
            discoveryServiceUrl=self.discovery_url,
            static_discovery=False,
        )

    def analyze(self, body: dict[str, Any], key: str | None = None) -> Any:
        with self.client(key) as client:
            return client.comments().analyze(body=body).execute()

    def suggest(self, body: dict[str, Any]) -> Any:
        with self.client() as client:
            return client.comments().suggestscore(body=body).execute()


@pytest.fixture(scope="module")
def service(
    tmp_path_factory: pytest.TempPathFactory, checkpoints: Path, redis_server: str
) -> Iterator[Service]:
    tmp = tmp_path_factory.mktemp("perspective-clients")
    policy = tmp / "standards-board.yaml"
    policy.write_bytes(DEFAULT_POLICY.read_bytes())
    built = build_checkpoint(checkpoints, "original", bias=BIAS)
    settings = e2e.perspective_settings(tmp, redis_server, built, policy)
    stack, key = e2e.perspective_stack(settings, tmp)
    try:
        stack.start_worker()
        port = free_port()
        api = stack.start("api", "--host", "127.0.0.1", "--port", str(port), name="api")
        base = f"http://127.0.0.1:{port}"
        e2e.wait_for(
            lambda: _answers(base) or api.poll() is not None,
            timeout=API_START_SECONDS,
            what="the api process",
        )
        assert api.poll() is None, stack.log("api")[-3000:]
        yield Service(stack, key, base)
    finally:
        stack.stop_all()
        stack.receiver.close()


def test_perspectives_python_sample_analyzes_with_only_the_url_changed(service: Service) -> None:
    # Perspective's published Python sample, word for word but for discoveryServiceUrl.
    client = discovery.build(
        "commentanalyzer",
        "v1alpha1",
        developerKey=service.key,
        discoveryServiceUrl=service.discovery_url,
        static_discovery=False,
    )
    analyze_request = {
        "comment": {"text": "friendly greetings from python"},
        "requestedAttributes": {"TOXICITY": {}},
    }
    response = client.comments().analyze(body=analyze_request).execute()
    client.close()
    toxicity = response["attributeScores"]["TOXICITY"]["summaryScore"]
    assert toxicity == {
        "value": pytest.approx(sigmoid(BIAS["toxicity"]), abs=1e-4),
        "type": "PROBABILITY",
    }
    assert response["languages"] == ["en"]


def test_analyze_with_spans_languages_thresholds_and_versions(service: Service) -> None:
    text = "Great piece 👍🏽! The council lied again."
    response = service.analyze(
        {
            "comment": {"text": text, "type": "PLAIN_TEXT"},
            "requestedAttributes": {
                "TOXICITY@6": {"scoreThreshold": 0.5},
                "INSULT": {"scoreType": "PROBABILITY"},
                # Below its threshold: left out.
                "THREAT": {"scoreThreshold": 0.9},
            },
            "languages": ["en-GB"],
            "spanAnnotations": True,
            "doNotStore": True,
            "clientToken": "comment:7",
        }
    )
    scores = response["attributeScores"]
    assert list(scores) == ["TOXICITY@6", "INSULT"]
    assert scores["TOXICITY@6"]["summaryScore"]["value"] == pytest.approx(sigmoid(2.0), abs=1e-4)
    spans = scores["INSULT"]["spanScores"]
    utf16 = text.encode("utf-16-le")
    found = [utf16[2 * s["begin"] : 2 * s["end"]].decode("utf-16-le") for s in spans]
    assert found == ["Great piece 👍🏽!", "The council lied again."]
    assert response["languages"] == ["en-GB"]
    assert response["clientToken"] == "comment:7"


def test_suggestscore_through_the_client_is_stored(service: Service) -> None:
    text = "A perfectly civil remark about the council's budget."
    response = service.suggest(
        {
            "comment": {"text": text},
            "attributeScores": {"TOXICITY@6": {"summaryScore": {"value": 1}}},
            "languages": ["en"],
            "clientToken": "feedback:1",
        }
    )
    assert response == {
        "clientToken": "feedback:1",
        "detectedLanguages": ["en"],
        "requestedLanguages": ["en"],
    }
    database = Database(service.stack.settings.effective_database_url)
    try:
        with database.engine.connect() as connection:
            rows = connection.exec_driver_sql(
                "SELECT attribute, value FROM perspective_feedback WHERE text = ?", (text,)
            ).all()
    finally:
        database.dispose()
    assert [tuple(row) for row in rows] == [("TOXICITY", 1.0)]


def test_a_bad_key_is_an_http_error_403_permission_denied(service: Service) -> None:
    # The discovery document is fetched with the bad key too, and served all the same.
    body = {"comment": {"text": "hello"}, "requestedAttributes": {"TOXICITY": {}}}
    with pytest.raises(HttpError) as raised:
        service.analyze(body, key="cmk_" + "x" * 32)
    assert raised.value.status_code == 403
    assert json.loads(raised.value.content)["error"]["status"] == "PERMISSION_DENIED"


def test_an_unknown_attribute_is_an_http_error_400_invalid_argument(service: Service) -> None:
    body = {"comment": {"text": "hello"}, "requestedAttributes": {"FLIRTATION": {}}}
    with pytest.raises(HttpError) as raised:
        service.analyze(body)
    error = raised.value
    assert error.status_code == 400
    assert error.reason == "Unknown requested attribute: FLIRTATION"
    assert json.loads(error.content)["error"]["status"] == "INVALID_ARGUMENT"
    assert error.error_details[0]["errorType"] == "INVALID_REQUEST"


def _answers(base: str) -> bool:
    try:
        return httpx.get(base + "/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
