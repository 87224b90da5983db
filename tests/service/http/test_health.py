"""/healthz, /readyz in each state, and /openapi.json kept true to the routes."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
from starlette.routing import Route
from starlette.testclient import TestClient

from service.app import create_app
from service.broker.contract import WORKER_HEARTBEAT_PREFIX
from tests.support.api import API_REDIS_DB, Api, api_settings
from tests.support.databases import BACKENDS, DOWN_DATABASE_URLS

on_both_databases = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)


@on_both_databases
def test_healthz(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}


@on_both_databases
def test_ready_but_degraded_without_workers(api: Api) -> None:
    response = api.client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["redis"]["status"] == "ok"
    assert body["checks"]["policy"]["version"].startswith("sha256:")
    assert body["checks"]["workers"]["status"] == "down"
    assert "no worker" in body["checks"]["workers"]["detail"]


@on_both_databases
def test_ready_and_ok_with_a_live_worker(api: Api, redis_server: str) -> None:
    client = redis.Redis.from_url(f"{redis_server}/{API_REDIS_DB}")
    client.set(WORKER_HEARTBEAT_PREFIX + "host:1", '{"model": "m", "model_loaded": true}', ex=30)
    body = api.client.get("/readyz").json()
    assert body["status"] == "ok"
    assert body["checks"]["workers"] == {"status": "ok", "alive": 1, "models": ["m"]}


@on_both_databases
def test_redis_down_is_degraded_and_comments_are_still_accepted(
    database_url: str, tmp_path: Path
) -> None:
    settings = api_settings(database_url, "redis://127.0.0.1:1", tmp_path)
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "degraded"
        assert body["checks"]["redis"]["status"] == "down"
        from service.http.tokens import issue_token

        token = issue_token(settings, "reader-1")
        posted = client.post(
            "/v1/comments",
            json={"article_id": "a", "text": "Still accepted."},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert posted.status_code == 202
        assert posted.json()["status"] == "pending"


@pytest.mark.parametrize("backend", BACKENDS)
def test_database_down_is_503_unavailable(redis_server: str, tmp_path: Path, backend: str) -> None:
    url = DOWN_DATABASE_URLS[backend].format(tmp_path=tmp_path)
    settings = api_settings(url, redis_server, tmp_path)
    with TestClient(create_app(settings)) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["status"] == "unavailable"
        assert ready.json()["checks"]["database"]["status"] == "down"
        from service.http.tokens import issue_token

        token = issue_token(settings, "reader-1")
        posted = client.post(
            "/v1/comments",
            json={"article_id": "a", "text": "Nowhere to go."},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert posted.status_code == 503
        assert posted.json()["code"] == "unavailable"
        assert posted.headers["retry-after"].isdigit()


@pytest.fixture
def app_routes(api: Api) -> set[tuple[str, str]]:
    found = set()
    for route in api.client.app.routes:  # type: ignore[attr-defined]
        if isinstance(route, Route):
            for method in route.methods or ():
                if method != "HEAD":
                    found.add((route.path, method.lower()))
    return found


@on_both_databases
def test_openapi_describes_every_route_and_nothing_else(
    api: Api, app_routes: set[tuple[str, str]]
) -> None:
    document = api.client.get("/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    described = {(path, method) for path, ops in document["paths"].items() for method in ops}
    assert described == app_routes


@on_both_databases
def test_openapi_comment_schema_matches_a_real_resource(api: Api) -> None:
    import jsonschema

    document = api.client.get("/openapi.json").json()
    created = api.post_comment({"article_id": "a", "text": "Schema check."}).json()
    schema = {"$ref": "#/components/schemas/Comment", "components": document["components"]}
    jsonschema.Draft202012Validator(schema).validate(created)
    problem = api.post_comment({"article_id": "a", "text": ""}).json()
    schema = {"$ref": "#/components/schemas/Problem", "components": document["components"]}
    jsonschema.Draft202012Validator(schema).validate(problem)
