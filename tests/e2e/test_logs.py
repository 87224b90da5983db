"""The worker's and beat's own logs: JSON lines like the API's, Celery's included, with the
task id and comment id on the lines a task writes, and no comment text."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from tests.support.paths import REPO
from tests.support.stack import Stack, wait_for

TEXT = "A perfectly civil remark about the council budget."


def start(stack: Stack, *args: str, name: str) -> subprocess.Popen[bytes]:
    """Like Stack.start, but stdout and stderr apart: the logs go to stderr, nothing to stdout."""
    with (
        open(stack.tmp / f"{name}.out", "wb") as out,
        open(stack.tmp / f"{name}.err", "wb") as err,
    ):
        process = subprocess.Popen(
            [sys.executable, "-m", "workers", *args],
            env=stack.env,
            cwd=REPO,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
    stack.processes.append(process)
    return process


def json_lines(stack: Stack, name: str) -> list[dict[str, Any]]:
    """Every stderr line, parsed: one that is not JSON fails the test, naming the line and
    showing the end of the log (a traceback's first line says little alone)."""
    lines = []
    text = (stack.tmp / f"{name}.err").read_text(errors="replace")
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            lines.append(json.loads(line))
        except json.JSONDecodeError:
            raise AssertionError(
                f"{name} wrote a line that is not JSON: {line!r}; its log ends:\n{text[-3000:]}"
            ) from None
    return lines


def assert_no_banner(stack: Stack, name: str) -> None:
    # Celery prints this one line to stdout whatever the options; nothing else may be there.
    shutdown = "worker: Warm shutdown (MainProcess)"
    out = (stack.tmp / f"{name}.out").read_text(errors="replace")
    assert {line for line in out.splitlines() if line.strip()} <= {shutdown}, out


def test_worker_logs_are_json_with_task_and_comment_ids(make_stack) -> None:  # type: ignore[no-untyped-def]
    stack = make_stack("sqlite")
    worker = start(stack, "worker", "--concurrency", "1", name="worker")
    stack.wait_for_worker(worker)
    with stack.client() as client:
        response = client.post(
            "/v1/comments",
            json={"article_id": "a", "text": TEXT},
            headers={**stack.auth(), "Prefer": "wait=10"},
        )
    assert response.json()["status"] == "approved", response.text
    comment_id = response.json()["id"]

    def task_lines() -> list[dict[str, Any]]:
        return [line for line in json_lines(stack, "worker") if line.get("task_id")]

    # Celery logs the task's success after the decision, so wait for it.
    wait_for(
        lambda: any("succeeded" in line["event"] for line in task_lines()),
        what="the task's success line",
    )
    stack.stop(worker)
    lines = json_lines(stack, "worker")
    assert_no_banner(stack, "worker")
    assert all({"event", "level", "timestamp"} <= line.keys() for line in lines)
    assert any("ready" in line["event"] for line in lines), "Celery's own start-up line"
    mine = [line for line in task_lines() if line.get("comment_id") == comment_id]
    assert mine, "no log line carries the task id and the comment id"
    assert len({line["task_id"] for line in mine}) == 1
    assert any(line["event"] == "decision.recorded" for line in mine), mine
    assert any("succeeded" in line["event"] for line in mine), "Celery's own task line"
    assert TEXT not in json.dumps(lines)


def test_beat_logs_are_json(make_stack) -> None:  # type: ignore[no-untyped-def]
    stack = make_stack("sqlite")
    beat = start(stack, "beat", name="beat")
    wait_for(
        lambda: any("sweep-pending" in line["event"] for line in json_lines(stack, "beat")),
        what="beat sending the sweep",
    )
    stack.stop(beat)
    lines = json_lines(stack, "beat")
    assert_no_banner(stack, "beat")
    assert all({"event", "level", "timestamp"} <= line.keys() for line in lines)
