"""The Perspective-compatible routes without a worker: keys, quota, every request error,
Google's error shape on every failure, and suggestscore's stored feedback (on both
databases: PostgreSQL refuses NUL where SQLite keeps it).

Scoring through a real worker is in tests/e2e/test_perspective.py.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from starlette.testclient import TestClient

from service.app import create_app
from service.db.engine import Database
from service.db.tables import PerspectiveFeedback, utcnow
from service.perspective.analyze import labels_of_model
from service.perspective.keys import KeyManagementError, create_key, list_keys, revoke_key
from service.settings import Settings
from tests.support.api import API_REDIS_DB, api_settings
from tests.support.databases import BACKENDS
from tests.support.processes import run_cli

ANALYZE = "/v1alpha1/comments:analyze"
SUGGEST = "/v1alpha1/comments:suggestscore"
CORAL = {
    "comment": {"text": "Thanks for the article."},
    "doNotStore": True,
    "requestedAttributes": {"TOXICITY": {}},
    "languages": ["en"],
}


class Client:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db = Database(settings.effective_database_url)
        # Entered, so the app's lifespan closes its own database pool at the end: a
        # PostgreSQL connection left open is a ResourceWarning, and warnings are errors.
        self.http = TestClient(create_app(settings), raise_server_exceptions=False).__enter__()
        self.key = create_key(self.db, name="coral", qps=1000, now=utcnow())

    def close(self) -> None:
        self.http.__exit__(None, None, None)
        self.db.dispose()

    def analyze(self, body: Any, *, key: str | None = None, **kwargs: Any) -> Any:
        return self.http.post(ANALYZE, params={"key": key or self.key}, json=body, **kwargs)

    def suggest(self, body: Any, *, key: str | None = None) -> Any:
        return self.http.post(SUGGEST, params={"key": key or self.key}, json=body)


@pytest.fixture
def client(database_url: str, redis_server: str, tmp_path: Path) -> Iterator[Client]:
    yield from _client(database_url, redis_server, tmp_path)


def _client(
    database_url: str, redis_server: str, tmp_path: Path, **overrides: Any
) -> Iterator[Client]:
    redis.Redis.from_url(f"{redis_server}/{API_REDIS_DB}").flushdb()
    settings_ = api_settings(
        database_url, redis_server, tmp_path, analyze_timeout_seconds=0.2, **overrides
    )
    made = Client(settings_)
    yield made
    made.close()


def stored_feedback(client: Client) -> list[PerspectiveFeedback]:
    with client.db.session() as session:
        return list(session.scalars(select(PerspectiveFeedback)))


def assert_google_error(response: Any, code: int, status: str, message: str = "") -> None:
    assert response.status_code == code, response.text
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == code
    assert error["status"] == status
    assert message in error["message"]


def _with(**changes: Any) -> dict[str, Any]:
    return {**CORAL, **changes}


@pytest.mark.parametrize(
    ("body", "message", "error_type"),
    [
        (_with(comment={"text": ""}), "Comment must be non-empty.", "COMMENT_EMPTY"),
        (_with(comment={}), "Comment must be non-empty.", "COMMENT_EMPTY"),
        ({"requestedAttributes": {"TOXICITY": {}}}, "Comment must be non-empty.", "COMMENT_EMPTY"),
        (
            _with(comment={"text": "a" * 20_481}),
            "Comment text was too many bytes. Value (20481) exceeded limit (20480).",
            "COMMENT_TOO_LONG",
        ),
        (
            _with(comment={"text": "é" * 10_241}),
            "Comment text was too many bytes. Value (20482) exceeded limit (20480).",
            "COMMENT_TOO_LONG",
        ),
        (_with(requestedAttributes={}), "Missing requested_attributes", "NO_REQUESTED_ATTRIBUTES"),
        (
            {"comment": {"text": "hi"}},
            "Missing requested_attributes",
            "NO_REQUESTED_ATTRIBUTES",
        ),
        (
            _with(requestedAttributes={"FLIRTATION": {}}),
            "Unknown requested attribute: FLIRTATION",
            "INVALID_REQUEST",
        ),
        (
            _with(requestedAttributes={"TOXICITY": {}, "toxicity": {}}),
            "Unknown requested attribute: toxicity",
            "INVALID_REQUEST",
        ),
        (
            _with(requestedAttributes={"TOXICITY": {"scoreType": "STD_DEV_SCORE"}}),
            "Requested score type STD_DEV_SCORE is not supported by attribute TOXICITY",
            "INVALID_REQUEST",
        ),
        (
            _with(requestedAttributes={"TOXICITY": {"scoreThreshold": 1.5}}),
            "score_threshold",
            "INVALID_REQUEST",
        ),
        (
            _with(comment={"text": "<b>hi</b>", "type": "HTML"}),
            "only 'PLAIN_TEXT' comments are supported",
            "INVALID_REQUEST",
        ),
        (_with(comment={"text": "hi", "type": "RTF"}), "Unknown text type", "INVALID_REQUEST"),
        (_with(comment="hi"), "'comment'", "INVALID_REQUEST"),
        (_with(comment={"text": 7}), "'comment.text'", "INVALID_REQUEST"),
        (_with(languages="en"), "'languages'", "INVALID_REQUEST"),
        (_with(languages=[""]), "'languages'", "INVALID_REQUEST"),
        (_with(spanAnnotations="yes"), "'spanAnnotations'", "INVALID_REQUEST"),
        (_with(clientToken=5), "'clientToken'", "INVALID_REQUEST"),
        ([CORAL], "Expected an object", "INVALID_REQUEST"),
    ],
)
def test_request_errors_are_perspectives(
    client: Client, body: Any, message: str, error_type: str
) -> None:
    response = client.analyze(body)
    assert_google_error(response, 400, "INVALID_ARGUMENT", message)
    assert response.json()["error"]["details"][0]["errorType"] == error_type


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"{comment: {text: 'unquoted'}}",
        b'{"comment": {"text": "cut',
        b"\xff\xfe not utf-8",
        b'{"comment": {"text": "\\ud800 lone surrogate"}, "requestedAttributes": {"TOXICITY": {}}}',
        b'{"clientToken": "\\udfff"}',
        b"[" * 100_000,
    ],
)
def test_malformed_json_is_invalid_argument(client: Client, raw: bytes) -> None:
    response = client.http.post(
        ANALYZE, params={"key": client.key}, content=raw, headers={"content-type": "text/plain"}
    )
    assert_google_error(response, 400, "INVALID_ARGUMENT", "Invalid JSON payload received.")


def test_bodies_over_256_kib_are_refused_as_google_does(client: Client) -> None:
    body = json.dumps(_with(clientToken="x" * (256 * 1024))).encode()
    response = client.http.post(ANALYZE, params={"key": client.key}, content=body)
    assert_google_error(response, 400, "INVALID_ARGUMENT", "exceeds the limit: 262144 bytes")

    def chunks() -> Iterator[bytes]:
        yield body[:1000]
        yield body[1000:]

    chunked = client.http.post(ANALYZE, params={"key": client.key}, content=chunks())
    assert_google_error(chunked, 400, "INVALID_ARGUMENT", "exceeds the limit")


def test_a_missing_unknown_or_revoked_key_is_permission_denied(client: Client) -> None:
    missing = client.http.post(ANALYZE, json=CORAL)
    assert_google_error(missing, 403, "PERMISSION_DENIED", "missing a valid API key")
    unknown = client.analyze(CORAL, key="cmk_" + "A" * 32)
    assert_google_error(unknown, 403, "PERMISSION_DENIED", "API key not valid")
    # Accepted in the header too, as Google's client libraries can send it.
    header = client.http.post(ANALYZE, json={}, headers={"X-Goog-Api-Key": client.key})
    assert_google_error(header, 400, "INVALID_ARGUMENT", "Comment must be non-empty.")

    revoke_key(client.db, name="coral", now=utcnow())
    revoked = client.analyze(CORAL)
    assert_google_error(revoked, 403, "PERMISSION_DENIED", "API key not valid")
    assert_google_error(
        client.suggest({"comment": {"text": "x"}}), 403, "PERMISSION_DENIED", "API key not valid"
    )


def test_over_the_quota_is_resource_exhausted(client: Client) -> None:
    key = create_key(client.db, name="tight", qps=1, now=utcnow())
    # Three requests well inside a second span at most two one-second windows.
    answers = [client.analyze({}, key=key) for _ in range(3)]
    limited = [a for a in answers if a.status_code == 429]
    assert limited, [a.status_code for a in answers]
    assert_google_error(limited[0], 429, "RESOURCE_EXHAUSTED", "Quota exceeded")
    assert limited[0].headers["retry-after"] == "1"
    # Another key's quota is its own.
    assert_google_error(client.analyze({}), 400, "INVALID_ARGUMENT", "Comment must be non-empty.")


def test_suggestscore_spends_the_same_quota(client: Client) -> None:
    key = create_key(client.db, name="tight", qps=1, now=utcnow())
    body = {
        "comment": {"text": "You are a clown."},
        "attributeScores": {"TOXICITY": {"summaryScore": {"value": 1}}},
    }
    # At most two one-second windows in three quick requests: at least one is refused.
    answers = [client.suggest(body, key=key) for _ in range(3)]
    limited = [a for a in answers if a.status_code == 429]
    assert limited, [a.status_code for a in answers]
    assert_google_error(limited[0], 429, "RESOURCE_EXHAUSTED", "Quota exceeded")
    assert limited[0].headers["retry-after"] == "1"
    admitted = [a for a in answers if a.status_code == 200]
    assert len(stored_feedback(client)) == len(admitted) == 3 - len(limited)
    # One quota per key, whichever method spends it: two analyses alone may fall in two
    # windows, but not three requests.
    mixed = create_key(client.db, name="mixed", qps=1, now=utcnow())
    answers = [client.analyze({}, key=mixed), client.suggest(body, key=mixed)]
    answers.append(client.analyze({}, key=mixed))
    assert 429 in [a.status_code for a in answers], [a.status_code for a in answers]


def test_no_redis_skips_the_quota_and_answers_unavailable(
    database_url: str, redis_server: str, tmp_path: Path
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"redis://127.0.0.1:{sock.getsockname()[1]}"
        made = Client(api_settings(database_url, dead, tmp_path))
        try:
            # The quota can't be read: not a refusal, the request goes on to validation...
            invalid = made.analyze({})
            assert_google_error(invalid, 400, "INVALID_ARGUMENT", "Comment must be non-empty.")
            # ...and to the queue, which needs Redis: Google's 503, not a 500.
            assert_google_error(made.analyze(CORAL), 503, "UNAVAILABLE")
        finally:
            made.close()


def test_no_worker_is_unavailable_after_the_wait(client: Client) -> None:
    response = client.analyze(CORAL)
    assert_google_error(response, 503, "UNAVAILABLE", "No worker answered within 0.2 seconds")
    assert response.headers["retry-after"] == "1"


def test_other_methods_and_paths_answer_in_googles_shape(client: Client) -> None:
    assert_google_error(client.http.get(ANALYZE), 405, "INVALID_ARGUMENT")
    assert_google_error(client.http.post("/v1alpha1/comments:frobnicate"), 404, "NOT_FOUND")


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_suggestscore_stores_one_labelled_example_per_attribute(client: Client) -> None:
    body = {
        "comment": {"text": "You are a clown."},
        "context": {"entries": [{"text": '{"Coral_comment_id": "c-1"}'}]},
        "attributeScores": {
            "TOXICITY": {"summaryScore": {"value": 1}},
            "INSULT": {"summaryScore": {"value": 0.0}},
        },
        "languages": ["en"],
        "communityId": "Coral:https://news.example",
        "clientToken": "comment:c-1",
    }
    response = client.suggest(body)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "clientToken": "comment:c-1",
        "requestedLanguages": ["en"],
        "detectedLanguages": ["en"],
    }
    with client.db.session() as session:
        rows = session.scalars(select(PerspectiveFeedback).order_by(PerspectiveFeedback.id)).all()
        stored = [
            (r.key_name, r.attribute, r.value, r.text, r.community_id, r.client_token) for r in rows
        ]
        assert all(r.created_at is not None for r in rows)
    assert stored == [
        ("coral", "TOXICITY", 1.0, "You are a clown.", "Coral:https://news.example", "comment:c-1"),
        ("coral", "INSULT", 0.0, "You are a clown.", "Coral:https://news.example", "comment:c-1"),
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"attributeScores": {"TOXICITY": {"summaryScore": {"value": 1}}}}, "non-empty"),
        ({"comment": {"text": "x"}}, "attribute_scores must not be empty"),
        ({"comment": {"text": "x"}, "attributeScores": {"TOXICITY": {}}}, "summary_score.value"),
        (
            {
                "comment": {"text": "x"},
                "attributeScores": {"TOXICITY": {"summaryScore": {"value": 2}}},
            },
            "summary_score.value",
        ),
        (
            {
                "comment": {"text": "x"},
                "attributeScores": {"LIKELY_TO_REJECT": {"summaryScore": {"value": 1}}},
            },
            "Unknown requested attribute: LIKELY_TO_REJECT",
        ),
    ],
)
@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_suggestscore_errors(client: Client, body: Any, message: str) -> None:
    assert_google_error(client.suggest(body), 400, "INVALID_ARGUMENT", message)
    with client.db.session() as session:
        assert session.scalars(select(PerspectiveFeedback)).first() is None


def test_suggestscore_stores_a_versioned_attribute_by_its_name(client: Client) -> None:
    body = {
        "comment": {"text": "정말 좋은 기사였습니다, 감사합니다."},
        "attributeScores": {"TOXICITY@6": {"summaryScore": {"value": 0}}},
    }
    response = client.suggest(body)
    assert response.status_code == 200, response.text
    # Detected from the text, as analyze's detectedLanguages; none were requested.
    assert response.json() == {"detectedLanguages": ["ko"], "requestedLanguages": []}
    assert [(row.attribute, row.value) for row in stored_feedback(client)] == [("TOXICITY", 0.0)]


@pytest.mark.parametrize(
    "name", ["TOXICITY@", "TOXICITY@v6", "TOXICITY@6@7", "toxicity@6", "FLIRTATION@1", "T OXICITY"]
)
def test_an_attribute_name_off_the_pattern_or_unknown_is_an_unknown_one(
    client: Client, name: str
) -> None:
    message = f"Unknown requested attribute: {name}"
    analyzed = client.analyze(_with(requestedAttributes={name: {}}))
    assert_google_error(analyzed, 400, "INVALID_ARGUMENT", message)
    assert analyzed.json()["error"]["message"] == message
    suggested = client.suggest(
        {"comment": {"text": "x"}, "attributeScores": {name: {"summaryScore": {"value": 1}}}}
    )
    assert_google_error(suggested, 400, "INVALID_ARGUMENT", message)
    assert stored_feedback(client) == []


FEEDBACK = {
    "comment": {"text": "You are a clown."},
    "attributeScores": {"TOXICITY": {"summaryScore": {"value": 1}}},
    "communityId": "Coral:https://news.example",
    "clientToken": "comment:c-1",
}


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
@pytest.mark.parametrize(
    "body",
    [
        {**FEEDBACK, "comment": {"text": "nul \u0000 inside"}},
        {**FEEDBACK, "communityId": "Coral:\u0000"},
        {**FEEDBACK, "clientToken": "\u0000"},
        {**FEEDBACK, "languages": ["e\u0000n"]},
        {**FEEDBACK, "context": {"entries": [{"text": "\u0000"}]}},
    ],
    ids=["text", "communityId", "clientToken", "languages", "context"],
)
def test_suggestscore_refuses_nul_as_invalid_argument_and_stores_nothing(
    client: Client, body: Any
) -> None:
    # PostgreSQL's text can't hold NUL: without the check its insert fails and the route
    # answers 503, which Coral retries for ever.
    assert_google_error(client.suggest(body), 400, "INVALID_ARGUMENT", "NUL (\\u0000)")
    assert stored_feedback(client) == []
    assert client.suggest(FEEDBACK).status_code == 200


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
@pytest.mark.parametrize(
    "body",
    [
        _with(comment={"text": "nul \u0000 inside"}),
        _with(clientToken="\u0000"),
        _with(communityId="x\u0000"),
    ],
    ids=["text", "clientToken", "communityId"],
)
def test_analyze_refuses_nul_before_asking_a_worker(client: Client, body: Any) -> None:
    # Without the check this would wait for a worker, then answer 503 (none runs here).
    assert_google_error(client.analyze(body), 400, "INVALID_ARGUMENT", "NUL (\\u0000)")


@pytest.mark.parametrize(
    ("model", "labels"),
    [
        ("original", "original"),
        ("original-small", "original"),
        ("unbiased", "unbiased"),
        ("multilingual", "unbiased"),
        ("/srv/models/toxic_original-c1212f89.ckpt", "original"),
        ("/srv/models/unbiased-small/unbiased-albert-c8519128.ckpt", "unbiased"),
        ("/srv/models/my-own.ckpt", None),
    ],
)
def test_the_models_labels_are_known_without_loading_it(model: str, labels: str | None) -> None:
    found = labels_of_model(model)
    if labels is None:
        assert found is None
        return
    assert found is not None
    assert {"toxicity", "severe_toxicity", "obscene", "threat", "insult"} <= found
    assert ("sexual_explicit" in found) == (labels == "unbiased")


@pytest.fixture
def original_client(database_url: str, redis_server: str, tmp_path: Path) -> Iterator[Client]:
    yield from _client(database_url, redis_server, tmp_path, model="original")


def test_an_attribute_the_model_lacks_is_unknown_without_a_worker(original_client: Client) -> None:
    lacking = _with(requestedAttributes={"TOXICITY": {}, "SEXUALLY_EXPLICIT": {}})
    response = original_client.analyze(lacking)
    assert_google_error(
        response, 400, "INVALID_ARGUMENT", "Unknown requested attribute: SEXUALLY_EXPLICIT"
    )
    assert response.json()["error"]["details"][0]["errorType"] == "INVALID_REQUEST"
    feedback = {
        **FEEDBACK,
        "attributeScores": {"SEXUALLY_EXPLICIT": {"summaryScore": {"value": 1}}},
    }
    assert_google_error(
        original_client.suggest(feedback),
        400,
        "INVALID_ARGUMENT",
        "Unknown requested attribute: SEXUALLY_EXPLICIT",
    )
    assert stored_feedback(original_client) == []
    # What the model has still goes on to a worker (none runs here: 503 after the wait).
    assert_google_error(original_client.analyze(CORAL), 503, "UNAVAILABLE")


def test_a_custom_checkpoints_labels_are_left_to_the_worker(
    database_url: str, redis_server: str, tmp_path: Path
) -> None:
    for made in _client(database_url, redis_server, tmp_path, model=str(tmp_path / "own.ckpt")):
        lacking = _with(requestedAttributes={"SEXUALLY_EXPLICIT": {}})
        assert_google_error(made.analyze(lacking), 503, "UNAVAILABLE")


_json = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_fields = st.fixed_dictionaries(
    {},
    optional={
        "comment": st.fixed_dictionaries(
            {}, optional={"text": st.text(max_size=30) | _json, "type": _json}
        )
        | _json,
        "requestedAttributes": st.dictionaries(
            st.sampled_from(["TOXICITY", "INSULT", "FLIRTATION", ""]),
            st.fixed_dictionaries(
                {}, optional={"scoreThreshold": _json, "scoreType": st.just("PROBABILITY") | _json}
            )
            | _json,
            max_size=3,
        )
        | _json,
        "languages": st.lists(st.text(max_size=5), max_size=3) | _json,
        "spanAnnotations": _json,
        "doNotStore": _json,
        "clientToken": _json,
        "context": _json,
    },
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=_fields | _json)
def test_any_body_gets_a_google_shaped_answer_never_a_500(client: Client, body: Any) -> None:
    # json.dumps writes NaN and Infinity as Python's decoder (and so ours) accepts them.
    raw = json.dumps(body).encode()
    response = client.http.post(ANALYZE, params={"key": client.key}, content=raw)
    assert response.status_code in (400, 503), response.text
    error = response.json()["error"]
    assert set(error) >= {"code", "message", "status"}
    assert error["code"] == response.status_code


def test_keys_are_stored_only_as_hashes_and_names_are_unique(client: Client) -> None:
    listed = list_keys(client.db)
    assert [(k.name, k.qps, k.revoked_at) for k in listed] == [("coral", 1000, None)]
    assert client.key.startswith("cmk_") and len(client.key) == 36
    with client.db.engine.connect() as connection:
        dump = "\n".join(
            str(row) for row in connection.exec_driver_sql("SELECT * FROM perspective_keys")
        )
    assert client.key not in dump
    with pytest.raises(KeyManagementError, match="already exists"):
        create_key(client.db, name="coral", qps=1, now=utcnow())
    with pytest.raises(KeyManagementError, match="no key named"):
        revoke_key(client.db, name="nobody", now=utcnow())


def test_keys_cli_creates_lists_and_revokes(
    database_url: str, redis_server: str, tmp_path: Path
) -> None:
    env = {"MODERATION_DATABASE_URL": database_url, "MODERATION_VAR_DIR": str(tmp_path)}
    created = run_cli("keys", "create", "coral-talk", "--qps", "25", env=env)
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert created.stdout == key + "\n" and key.startswith("cmk_")
    listed = run_cli("keys", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[1].split()[:2] == ["coral-talk", "25"]
    assert listed.stdout.splitlines()[1].split()[-1] == "-"
    assert key not in listed.stdout + listed.stderr
    settings_ = api_settings(database_url, redis_server, tmp_path, analyze_timeout_seconds=0.2)
    with TestClient(create_app(settings_), raise_server_exceptions=False) as http:
        accepted = http.post(ANALYZE, params={"key": key}, json={})
        assert_google_error(accepted, 400, "INVALID_ARGUMENT", "Comment must be non-empty.")
        revoked = run_cli("keys", "revoke", "coral-talk", env=env)
        assert revoked.returncode == 0, revoked.stderr
        refused = http.post(ANALYZE, params={"key": key}, json={})
        assert_google_error(refused, 403, "PERMISSION_DENIED")
    rows = run_cli("keys", "list", env=env).stdout.splitlines()
    assert rows[1].startswith("coral-talk") and rows[1].split()[-1].endswith("Z")
    again = run_cli("keys", "create", "coral-talk", env=env)
    assert again.returncode == 3
    assert again.stderr.strip() == (
        "moderation: a key named 'coral-talk' already exists; names are not reused"
    )
    assert run_cli("keys", "revoke", "nobody", env=env).returncode == 3
