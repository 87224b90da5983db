"""The API's /metrics: counters move as comments arrive; backlog read at scrape time."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from service.app import create_app
from service.http.tokens import issue_token
from tests.support.api import Api, api_settings
from tests.support.databases import BACKENDS, DOWN_DATABASE_URLS
from tests.support.metrics import sample


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_metrics_move_with_comments(api: Api) -> None:
    before = api.client.get("/metrics").text
    accepted_before = (
        sample(before, "moderation_comments_received_total", 'result="accepted"')
        if 'result="accepted"' in before
        else 0.0
    )
    for n in range(3):
        assert api.post_comment({"article_id": "a", "text": f"comment {n}"}).status_code == 202
    api.post_comment({"article_id": "a", "text": ""})
    response = api.client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert sample(text, "moderation_comments_received_total", 'result="accepted"') == (
        accepted_before + 3
    )
    assert sample(text, "moderation_comments_received_total", 'result="text_empty"') >= 1
    assert sample(text, "moderation_pending_comments") == 3
    assert sample(text, "moderation_queue_depth") == 3
    assert 'route="/v1/comments"' in text
    assert "moderation_http_request_duration_seconds_bucket" in text


def received(client: TestClient, result: str) -> float:
    text = client.get("/metrics").text
    label = f'result="{result}"'
    return sample(text, "moderation_comments_received_total", label) if label in text else 0.0


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_database_outage_is_counted_as_unavailable(
    redis_server: str, tmp_path: Path, backend: str
) -> None:
    url = DOWN_DATABASE_URLS[backend].format(tmp_path=tmp_path)
    settings = api_settings(url, redis_server, tmp_path)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        before = received(client, "unavailable")
        posted = client.post(
            "/v1/comments",
            json={"article_id": "a", "text": "Nowhere to go."},
            headers={"Authorization": f"Bearer {issue_token(settings, 'reader-1')}"},
        )
        assert posted.status_code == 503
        assert received(client, "unavailable") == before + 1


class BrokenPolicies:
    """Stands in for PolicyHolder (a reason for the stub: no real component fails on demand
    with an unexpected error, which is what this counts)."""

    def current(self) -> object:
        raise RuntimeError("a bug")


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_an_unexpected_error_is_counted_as_internal_error(api: Api) -> None:
    before = received(api.client, "internal_error")
    api.client.app.state.services.policies = BrokenPolicies()  # type: ignore[attr-defined]
    response = api.post_comment({"article_id": "a", "text": "Meets a bug."})
    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"
    assert received(api.client, "internal_error") == before + 1
