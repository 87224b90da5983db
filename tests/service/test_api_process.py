"""The real `moderation api` process: JSON logs without secrets, a graceful SIGTERM, and a
policy reload on SIGHUP."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector

from service.http.tokens import issue_token
from service.settings import DEFAULT_POLICY, Settings
from service.version import package_version
from tests.support.metrics import API_ONLY, WORKER_ONLY, families, label_sets, sample
from tests.support.net import free_port
from tests.support.paths import REPO
from tests.support.processes import without_settings
from tests.support.stack import wait_for

SECRET = "process-secret-that-is-long-enough-0123"


def start_api(
    tmp_path: Path, redis_server: str, *args: str
) -> tuple[str, str, subprocess.Popen[bytes], Path]:
    """`moderation api ARGS` on a free port, once /healthz answers: base URL, a reader's
    token, the process and its log. TMPDIR is tmp_path, so the metrics directory is too."""
    policy = tmp_path / "policy.yaml"
    policy.write_bytes(DEFAULT_POLICY.read_bytes())
    env = without_settings()
    env.update(
        {
            "MODERATION_VAR_DIR": str(tmp_path),
            "MODERATION_POLICY": str(policy),
            "MODERATION_JWT_SECRET": SECRET,
            "MODERATION_REDIS_URL": f"{redis_server}/8",
            "MODERATION_LOG_LEVEL": "DEBUG",
            "TMPDIR": str(tmp_path),
        }
    )
    subprocess.run(
        [sys.executable, "-m", "workers", "migrate"],
        env=env,
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    port = free_port()
    log_path = tmp_path / "api.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "workers", "api", "--port", str(port), *args],
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
    return base, token, process, log_path


@pytest.fixture
def api_process(tmp_path: Path, redis_server: str):  # type: ignore[no-untyped-def]
    base, token, process, log_path = start_api(tmp_path, redis_server)
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
    accepted = [line for line in lines if line.get("event") == "comment.accepted"]
    assert len(accepted) == 1
    assert accepted[0]["request_id"] == posted.headers["x-request-id"]
    assert accepted[0]["comment_id"] == posted.json()["id"]


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


def log_events(log_path: Path, name: str) -> list[dict[str, object]]:
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("event") == name]


def test_sighup_reloads_the_policy(api_process, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    base, _token, process, log_path = api_process
    before = httpx.get(base + "/readyz").json()["checks"]["policy"]["version"]
    (tmp_path / "policy.yaml").write_text("schema: 1\ntoxicity:\n  thresholds:\n    insult: 0.5\n")
    # No request until the reload is logged: the per-request file check can't be what did it.
    process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while not log_events(log_path, "policy.reloaded") and time.monotonic() < deadline:
        time.sleep(0.1)
    (reloaded,) = log_events(log_path, "policy.reloaded")
    assert reloaded["previous"] == before
    assert process.poll() is None
    after = httpx.get(base + "/readyz").json()["checks"]["policy"]["version"]
    assert after == reloaded["version"] != before


def accepted_in_each_process(metrics_dir: Path, scratch: Path) -> dict[str, float]:
    """moderation_comments_received_total{result="accepted"} as each uvicorn process alone
    counted it, read from its own file in the multiprocess directory."""
    counts = {}
    for path in metrics_dir.glob("counter_*.db"):
        pid = path.stem.removeprefix("counter_")
        alone = scratch / pid
        alone.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, alone / path.name)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(alone))  # type: ignore[no-untyped-call]
        counts[pid] = (
            registry.get_sample_value("moderation_comments_received_total", {"result": "accepted"})
            or 0.0
        )
    return counts


def test_metrics_sum_across_uvicorn_worker_processes(tmp_path: Path, redis_server: str) -> None:
    base, _token, process, _log = start_api(tmp_path, redis_server, "--workers", "2")
    try:
        (metrics_dir,) = tmp_path.glob("moderation-api-metrics-*")
        settings = Settings(jwt_secret=SECRET, var_dir=tmp_path)
        posted = 0

        def post(n: int) -> None:
            # A new connection each, and a new author each (no flood limit): the kernel
            # hands the connections to either process.
            token = issue_token(settings, f"reader-{n}")
            response = httpx.post(
                base + "/v1/comments",
                json={"article_id": "a", "text": f"Comment {n}."},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.status_code == 202, response.text

        with ThreadPoolExecutor(max_workers=8) as pool:
            for _ in range(25):
                list(pool.map(post, range(posted, posted + 8)))
                posted += 8
                served = accepted_in_each_process(metrics_dir, tmp_path / "scratch")
                if sum(1 for count in served.values() if count > 0) == 2:
                    break
        assert sum(1 for count in served.values() if count > 0) == 2, served
        assert sum(served.values()) == posted
        text = httpx.get(base + "/metrics").text
        assert sample(text, "moderation_comments_received_total", 'result="accepted"') == posted
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def api_memory_pids(base: str) -> set[int]:
    text = httpx.get(base + "/metrics").text
    series = label_sets(text, "moderation_process_resident_memory_bytes")
    assert all(labels["process"] == "api" for labels in series), series
    return {int(labels["pid"]) for labels in series}


def two_serving(base: str, *, without: int | None) -> set[int] | None:
    pids = api_memory_pids(base)
    return pids if len(pids) == 2 and without not in pids else None


def test_metrics_of_the_api_processes_alone_with_their_memory(
    tmp_path: Path, redis_server: str
) -> None:
    """Each uvicorn process reports its RSS; one killed drops out as its replacement joins."""
    base, _token, process, _log = start_api(tmp_path, redis_server, "--workers", "2")
    try:
        supervisor = psutil.Process(process.pid)
        serving = wait_for(
            lambda: two_serving(base, without=None), what="both uvicorn processes' memory"
        )
        assert serving <= {child.pid for child in supervisor.children()}
        text = httpx.get(base + "/metrics").text
        found = families(text)
        assert not WORKER_ONLY & found.keys(), WORKER_ONLY & found.keys()
        assert API_ONLY - {"moderation_beat_last_run_timestamp_seconds"} <= found.keys()
        assert sample(text, "moderation_build_info", f'version="{package_version()}"') == 1
        assert sample(text, "moderation_comments_received_total", 'result="rate_limited"') == 0

        killed = min(serving)
        os.kill(killed, signal.SIGKILL)
        after = wait_for(
            lambda: two_serving(base, without=killed),
            what="the replacement's memory, without the killed process's",
        )
        assert after - serving and after <= {child.pid for child in supervisor.children()}
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
