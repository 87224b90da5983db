from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from starlette.testclient import TestClient

from service.app import create_app
from tests.support.api import API_REDIS_DB, WEBHOOK_SECRET, Api, ApiFactory, api_settings


@pytest.fixture
def reports_api(database_url: str, redis_server: str, tmp_path: Path) -> Iterator[ApiFactory]:
    """The API on a policy whose `reports:` section is the YAML given, sending webhooks."""
    redis.Redis.from_url(f"{redis_server}/{API_REDIS_DB}").flushdb()
    clients: list[TestClient] = []

    def build(reports_yaml: str = "", **overrides: object) -> Api:
        policy = tmp_path / f"policy-{len(clients)}.yaml"
        policy.write_text(f"schema: 1\nreports:\n{reports_yaml}", encoding="utf-8")
        overrides.setdefault("webhook_url", "http://127.0.0.1:9/hooks")
        overrides.setdefault("webhook_secret", WEBHOOK_SECRET)
        settings = api_settings(database_url, redis_server, tmp_path, policy=policy, **overrides)
        client = TestClient(create_app(settings), raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return Api(client, settings)

    yield build
    for client in clients:
        client.__exit__(None, None, None)
