"""The shadow policy and the audit sample in a real worker: the shadow is recorded and never
acted on, a broken shadow file changes nothing, and every approval is sampled at rate 1."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

import policy
from service.db.engine import Database
from service.db.tables import AuditSample, ShadowDecision
from service.settings import Settings
from tests.support.databases import BACKENDS
from tests.support.paths import REPO
from tests.support.stack import decisions_of, json_body, wait_for

HOLDS_EVERYTHING = "schema: 1\ntoxicity:\n  thresholds:\n    toxicity: 0\n"
BROKEN = "schema: 1\ntoxicity: [\n"


def rows(settings: Settings, model: Any) -> list[Any]:
    database = Database(settings.effective_database_url)
    try:
        with database.session() as session:
            return list(session.scalars(select(model)))
    finally:
        database.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_shadow_policy_is_recorded_and_never_acted_on(
    make_stack,  # type: ignore[no-untyped-def]
    backend: str,
    tmp_path: Path,
) -> None:
    shadow = tmp_path / "shadow.yaml"
    shadow.write_text(BROKEN)
    stack = make_stack(backend, shadow_policy=shadow, audit_sample=1.0)
    stack.start_worker()

    def post(text: str) -> dict[str, Any]:
        with stack.client() as client:
            response = client.post(
                "/v1/comments",
                json={"article_id": "story-1", "text": text},
                headers={**stack.auth(), "Prefer": "wait=10"},
            )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    first = post("Thanks for the clear reporting.")
    assert first["status"] == "approved"
    wait_for(
        lambda: "shadow.policy_unusable" in stack.log("worker"), what="the broken shadow logged"
    )

    shadow.write_text(HOLDS_EVERYTHING)
    second = post("A second, equally harmless comment.")
    assert second["status"] == "approved"
    recorded = wait_for(lambda: rows(stack.settings, ShadowDecision), what="the shadow decision")
    (row,) = recorded
    assert row.comment_id == second["id"]
    assert row.action == "hold"
    assert [reason["rule"] for reason in row.reasons] == ["toxicity.toxicity"]
    assert row.policy_version == policy.load_policy(shadow).version

    for comment in (first, second):
        assert [(d["by"], d["action"]) for d in decisions_of(stack.settings, comment["id"])] == [
            ("policy", "approve")
        ]
    wait_for(lambda: len(stack.receiver.requests) == 2, what="both webhooks")
    assert {json_body(body)["data"]["status"] for _, body in stack.receiver.requests} == {
        "approved"
    }
    log = stack.log("worker")
    assert log.count("shadow.policy_unusable") == 1
    assert "shadow.failed" not in log

    assert {sample.comment_id for sample in rows(stack.settings, AuditSample)} == {
        first["id"],
        second["id"],
    }
    with stack.client() as client:
        queue = client.get(
            "/v1/moderation/queue",
            params={"queue": "sample"},
            headers=stack.auth("mod-1", moderator=True),
        ).json()
    assert [item["id"] for item in queue["items"]] == [first["id"], second["id"]]

    report = subprocess.run(
        [sys.executable, "-m", "workers", "policy", "shadow-report", "--json"],
        env=stack.env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert report.returncode == 0, report.stderr
    body = json.loads(report.stdout)
    assert body["compared"] == 1
    assert body["confusion"]["approve"] == {"approve": 0, "hold": 1}
    assert body["agreement"]["rate"] == 0.0
