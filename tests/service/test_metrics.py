"""The API's /metrics: counters move as comments arrive; backlog read at scrape time."""

from __future__ import annotations

import re

from tests.service.conftest import Api


def sample(text: str, name: str, labels: str = "") -> float:
    pattern = re.escape(name) + (r"\{" + labels + r"\}" if labels else r"(\{[^}]*\})?")
    match = re.search(r"^" + pattern + r" ([0-9.e+-]+)$", text, re.M)
    assert match, f"{name}{{{labels}}} not in metrics"
    return float(match.groups()[-1])


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
