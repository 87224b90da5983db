"""The `commentanalyzer` discovery document that Google's clients build Perspective's client
from: where it is served, what it holds, and that it can't drift from the routes (compared
field by field with the types Google's own generator made of Google's document, vendored in
tests/data/googleapis-commentanalyzer). Google's clients calling through it, against a
running service, are in tests/e2e/test_perspective_clients.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from starlette.testclient import TestClient

from service.app import ROUTES, create_app
from service.perspective.discovery import discovery_document
from service.settings import Settings
from tests.support.api import api_settings
from tests.support.paths import REPO

GOOGLE = json.loads((REPO / "tests/data/googleapis-commentanalyzer/fields.json").read_text())
REST = "/$discovery/rest"
DIRECTORY = "/discovery/v1/apis/commentanalyzer/v1alpha1/rest"
# Read by this service and documented by Perspective, but newer than googleapis@50, the last
# release of the npm package with this API.
NEWER_THAN_GOOGLES_TYPES = {"AnalyzeCommentRequest": {"dropUnsupportedAttributes"}}


def _app(database_url: str, redis_server: str, tmp_path: Path, **overrides: Any) -> TestClient:
    settings = api_settings(database_url, redis_server, tmp_path, **overrides)
    return TestClient(create_app(settings), raise_server_exceptions=False)


@pytest.fixture
def http(database_url: str, redis_server: str, tmp_path: Path) -> Iterator[TestClient]:
    with _app(database_url, redis_server, tmp_path) as client:
        yield client


def google_type(prop: dict[str, Any]) -> str:
    """A discovery property in the field list's notation (its README)."""
    if "$ref" in prop:
        return str(prop["$ref"])
    if prop["type"] == "array":
        return google_type(prop["items"]) + "[]"
    if prop["type"] == "object":
        return f"map<{google_type(prop['additionalProperties'])}>"
    return "number" if prop["type"] == "integer" else str(prop["type"])


def test_both_addresses_serve_the_document_uncached_without_auth(http: TestClient) -> None:
    rest = http.get(REST, params={"version": "v1alpha1"})
    directory = http.get(DIRECTORY)
    for response in (rest, directory):
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        assert response.headers["cache-control"] == "no-store"
    document = rest.json()
    assert directory.json() == document
    assert (document["name"], document["version"], document["id"]) == (
        "commentanalyzer",
        "v1alpha1",
        "commentanalyzer:v1alpha1",
    )
    # With an auth block, Google's Python client looks for application credentials.
    assert "auth" not in document
    assert document["rootUrl"] == document["baseUrl"] == "http://testserver/"
    assert document["servicePath"] == ""
    assert document["parameters"]["key"]["location"] == "query"


def test_the_root_is_the_public_url_when_set(
    database_url: str, redis_server: str, tmp_path: Path
) -> None:
    public = "https://moderation.example/perspective"
    with _app(database_url, redis_server, tmp_path, public_url=public) as http:
        document = http.get(DIRECTORY).json()
    assert document["rootUrl"] == document["baseUrl"] == public + "/"


@pytest.mark.parametrize("value", ["ftp://moderation.example/", "moderation.example", "https://"])
def test_a_public_url_that_is_no_http_address_is_a_configuration_error(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODERATION_PUBLIC_URL", value)
    with pytest.raises(ValidationError, match="MODERATION_PUBLIC_URL must be an http"):
        Settings()


@pytest.mark.parametrize(
    "credentials",
    [
        {"params": {"key": "cmk_not-a-key"}},
        {"headers": {"X-Goog-Api-Key": "garbage"}},
        {"headers": {"Authorization": "Bearer garbage"}},
    ],
    ids=["bad key", "bad key header", "bad token"],
)
def test_the_document_ignores_any_key(http: TestClient, credentials: dict[str, Any]) -> None:
    # Google's clients append `key=` to the discovery URL: never a 403 here.
    params = {"version": "v1alpha1", **credentials.get("params", {})}
    response = http.get(REST, params=params, headers=credentials.get("headers"))
    assert response.status_code == 200, response.text
    assert http.get(DIRECTORY, **credentials).status_code == 200


@pytest.mark.parametrize(
    ("path", "params"),
    [
        (REST, {"version": "v1"}),
        (REST, {}),
        ("/discovery/v1/apis/commentanalyzer/v1/rest", {}),
        ("/discovery/v1/apis/youtube/v3/rest", {}),
    ],
)
def test_an_unknown_version_is_googles_404(
    http: TestClient, path: str, params: dict[str, str]
) -> None:
    response = http.get(path, params={**params, "key": "anything"})
    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND"}
    }


def test_the_methods_are_the_routes_googles_names_and_schemas() -> None:
    methods = discovery_document(ROUTES, "http://h/")["resources"]["comments"]["methods"]
    assert {
        name: {"request": m["request"]["$ref"], "response": m["response"]["$ref"]}
        for name, m in methods.items()
    } == GOOGLE["methods"]
    for name, method in methods.items():
        assert method["id"] == f"commentanalyzer.comments.{name}"
        assert method["path"] == method["flatPath"] == f"v1alpha1/comments:{name}"
        assert method["httpMethod"] == "POST"
        # The key is the document's own parameter, sent by the client on every call.
        assert method["parameters"] == {}


def test_the_schemas_match_googles_field_by_field() -> None:
    schemas = discovery_document(ROUTES, "http://h/")["schemas"]
    ours = {
        name: {
            field: google_type(prop)
            for field, prop in schema["properties"].items()
            if field not in NEWER_THAN_GOOGLES_TYPES.get(name, ())
        }
        for name, schema in schemas.items()
    }
    assert sorted(ours) == sorted(GOOGLE["schemas"])
    for name, fields in GOOGLE["schemas"].items():
        assert dict(sorted(ours[name].items())) == fields, name
    for name, schema in schemas.items():
        assert schema["id"] == name


def test_the_document_follows_the_models_the_routes_parse_and_render() -> None:
    # Every field of the route models, as the routes read and write it, is in the document.
    from service.perspective import resources, schemas

    document = discovery_document(ROUTES, "http://h/")["schemas"]
    for model, google in [
        (schemas.AnalyzeCommentRequest, "AnalyzeCommentRequest"),
        (schemas.SuggestCommentScoreRequest, "SuggestCommentScoreRequest"),
        (schemas.PerspectiveComment, "TextEntry"),
        (schemas.SuggestedScore, "AttributeScores"),
        (resources.AnalyzeCommentResponse, "AnalyzeCommentResponse"),
        (resources.SuggestCommentScoreResponse, "SuggestCommentScoreResponse"),
        (resources.SpanScore, "SpanScore"),
    ]:
        aliases = {field.alias or name for name, field in model.model_fields.items()}
        assert aliases <= set(document[google]["properties"]), google
