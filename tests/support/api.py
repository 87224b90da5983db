"""The API in-process, as the service tests drive it: a Starlette TestClient on real Redis and
the test's database, tokens signed with the test secret, and what a problem answer must hold."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import func, inspect, select
from starlette.testclient import TestClient

from service.app import create_app
from service.db.tables import Comment
from service.http.tokens import issue_token
from service.settings import Settings

SECRET = "test-secret-that-is-long-enough-for-hs256"
API_REDIS_DB = 7
WEBHOOK_SECRET = "whsec_" + "c2VjcmV0LWZvci10ZXN0cy1vbmx5LTEyMzQ1Njc4"


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


ApiFactory = Callable[..., Api]


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


@contextmanager
def api_with_webhooks(
    database_url: str, redis_url: str, tmp_path: Path, **overrides: object
) -> Iterator[Api]:
    """The API with a webhook URL, so every announced event is written to the outbox. Nothing
    listens there: the events stay pending unless a test marks them delivered."""
    redis.Redis.from_url(f"{redis_url}/{API_REDIS_DB}").flushdb()
    settings = api_settings(
        database_url,
        redis_url,
        tmp_path,
        **{
            "webhook_url": "http://127.0.0.1:9/hooks",
            "webhook_secret": WEBHOOK_SECRET,
            **overrides,
        },
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield Api(client, settings)


def problem(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The body of an application/problem+json answer with this status (and code)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert {"type", "title", "detail", "code"} <= body.keys()
    if code is not None:
        assert body["code"] == code, body
    return body


def count_comments(api: Api) -> int:
    with api.client.app.state.services.db.session() as session:  # type: ignore[attr-defined]
        return int(session.scalar(select(func.count()).select_from(Comment)) or 0)


def table_names(api: Api) -> set[str]:
    engine = api.client.app.state.services.db.engine  # type: ignore[attr-defined]
    return set(inspect(engine).get_table_names())
