"""The real `moderation api` process: JSON logs without secrets, and a graceful SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from service.settings import Settings
from service.tokens import issue_token
from tests.conftest import REPO

SECRET = "process-secret-that-is-long-enough-0123"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def api_process(tmp_path: Path, redis_server: str):  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODERATION_")}
    env.update(
        {
            "MODERATION_VAR_DIR": str(tmp_path),
            "MODERATION_JWT_SECRET": SECRET,
            "MODERATION_REDIS_URL": f"{redis_server}/8",
            "MODERATION_LOG_LEVEL": "DEBUG",
        }
    )
    subprocess.run(
        [sys.executable, "-m", "service", "migrate"],
        env=env,
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    port = free_port()
    log_path = tmp_path / "api.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "service", "api", "--port", str(port)],
            env=env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    token = issue_token(Settings(jwt_secret=SECRET, var_dir=tmp_path), "reader-1")
    yield base, token, process, log_path
    if process.poll() is None:
        process.kill()
        process.wait()


def test_logs_are_json_with_request_ids_and_never_secrets(api_process) -> None:  # type: ignore[no-untyped-def]
    base, token, process, log_path = api_process
    headers = {"Authorization": f"Bearer {token}"}
    text = "My phone is 010-9999-8888, call me"
    posted = httpx.post(
        base + "/v1/comments", json={"article_id": "a", "text": text}, headers=headers
    )
    assert posted.status_code == 202
    httpx.get(base + "/v1/comments/nope?key=AIzaSECRETKEY123&token=" + token, headers=headers)
    httpx.post(
        base + "/v1/comments",
        json={"article_id": "a"},
        headers={"Authorization": "Bearer " + token[:-4] + "AAAA"},
    )
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    output = log_path.read_text()
    assert token not in output and token.split(".")[2] not in output
    assert "AIzaSECRETKEY123" not in output
    assert SECRET not in output
    assert "010-9999-8888" not in output and text not in output
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    requests = [
        line
        for line in lines
        if line.get("event") == "http.request" and line["route"] != "/healthz"
    ]
    assert len(requests) == 3
    assert all(len(line["request_id"]) == 32 for line in requests)
    assert {line["route"] for line in requests} == {"/v1/comments", "/v1/comments/{comment_id}"}
    assert posted.headers["x-request-id"] in {line["request_id"] for line in requests}


def test_sigterm_lets_in_flight_requests_finish(api_process) -> None:  # type: ignore[no-untyped-def]
    base, token, process, _log = api_process
    headers = {"Authorization": f"Bearer {token}"}
    created = httpx.post(
        base + "/v1/comments", json={"article_id": "a", "text": "wait"}, headers=headers
    ).json()
    answers: list[httpx.Response] = []

    def slow_read() -> None:
        answers.append(
            httpx.get(
                f"{base}/v1/comments/{created['id']}",
                headers={**headers, "Prefer": "wait=3"},
                timeout=20,
            )
        )

    reader = threading.Thread(target=slow_read)
    reader.start()
    time.sleep(1)
    process.send_signal(signal.SIGTERM)
    reader.join(timeout=20)
    assert answers and answers[0].status_code == 200
    assert answers[0].json()["id"] == created["id"]
    # uvicorn re-raises the signal once shutdown is complete, so the exit reads as SIGTERM.
    assert process.wait(timeout=30) in (0, -signal.SIGTERM)
