"""A real worker takes up a changed policy before its next task, keeps the one in force when
the new file is broken, and a child Celery starts in its place falls back to the last good copy."""

from __future__ import annotations

import psutil

from tests.support.stack import Stack, decisions_of, wait_for

HOLDS_EVERYTHING = "schema: 1\ntoxicity:\n  thresholds:\n    toxicity: 0\n"
BROKEN = "schema: 1\ntoxicity:\n  thresholds:\n    toxicity: 1.5\n"


def decide(stack: Stack, text: str) -> dict[str, object]:
    with stack.client() as client:
        comment = client.post(
            "/v1/comments",
            json={"article_id": "a", "text": text},
            headers={**stack.auth(), "Prefer": "wait=20"},
        ).json()
    (decision,) = decisions_of(stack.settings, comment["id"])
    return decision


def test_a_worker_follows_the_file_before_each_task(make_stack) -> None:  # type: ignore[no-untyped-def]
    stack = make_stack("sqlite", webhook_url=None, webhook_secret=None)
    worker = stack.start_worker()
    first = decide(stack, "Thanks for the thoughtful reporting.")
    assert first["action"] == "approve"

    stack.settings.policy.write_text(HOLDS_EVERYTHING)
    second = decide(stack, "Thanks again for the reporting.")
    assert second["action"] == "hold"
    assert second["policy_version"] != first["policy_version"]

    stack.settings.policy.write_text(BROKEN)
    third = decide(stack, "And thanks once more.")
    assert (third["action"], third["policy_version"]) == ("hold", second["policy_version"])
    assert "policy.reload_rejected" in stack.log("worker")

    # Celery starts a new child when one dies; it reads the broken file and falls back.
    (child,) = psutil.Process(worker.pid).children(recursive=True)
    child.kill()
    wait_for(
        lambda: stack.log("worker").count("worker.model_loaded") == 2,
        timeout=120,
        what="a new worker child",
    )
    assert "policy.last_good_used" in stack.log("worker"), stack.log("worker")[-3000:]
    fourth = decide(stack, "Thanks after the restart.")
    assert (fourth["action"], fourth["policy_version"]) == ("hold", second["policy_version"])
