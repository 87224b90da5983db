from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from starlette.testclient import TestClient

from service.app import create_app
from tests.support.api import API_REDIS_DB, Api, api_settings, api_with_webhooks


@pytest.fixture
def api(database_url: str, redis_server: str, tmp_path: Path) -> Iterator[Api]:
    redis.Redis.from_url(f"{redis_server}/{API_REDIS_DB}").flushdb()
    settings = api_settings(database_url, redis_server, tmp_path)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield Api(client, settings)


@pytest.fixture
def webhook_api(database_url: str, redis_server: str, tmp_path: Path) -> Iterator[Api]:
    with api_with_webhooks(database_url, redis_server, tmp_path) as api:
        yield api
