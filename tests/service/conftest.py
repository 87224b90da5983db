from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from starlette.testclient import TestClient

from service.app import create_app
from service.http.tokens import issue_token
from service.settings import Settings

SECRET = "test-secret-that-is-long-enough-for-hs256"
API_REDIS_DB = 7
# A database that doesn't answer, per backend: nothing listens on port 1, and SQLite can't
# open a directory as its file.
DOWN_DATABASE_URLS = {
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:1/nothing",
    "sqlite": "sqlite:///{tmp_path}",
}


@dataclass
class Api:
    client: TestClient
    settings: Settings

    def token(self, sub: str = "reader-1", *, moderator: bool = False, ttl: int = 600) -> str:
        return issue_token(self.settings, sub, moderator=moderator, ttl=ttl)

    def auth(self, sub: str = "reader-1", *, moderator: bool = False) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(sub, moderator=moderator)}"}

    def post_comment(self, body: object, *, sub: str = "reader-1", **headers: str):  # type: ignore[no-untyped-def]
        return self.client.post("/v1/comments", json=body, headers={**self.auth(sub), **headers})


def api_settings(
    database_url: str, redis_url: str, tmp_path: Path, **overrides: object
) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "redis_url": f"{redis_url}/{API_REDIS_DB}",
        "jwt_secret": SECRET,
        "var_dir": tmp_path / "var",
        "log_json": True,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def api(database_url: str, redis_server: str, tmp_path: Path) -> Iterator[Api]:
    redis.Redis.from_url(f"{redis_server}/{API_REDIS_DB}").flushdb()
    settings = api_settings(database_url, redis_server, tmp_path)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield Api(client, settings)
