"""A newcomer's path: `moderation models demo`, `moderation dev`, paste the printed curl."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.net import free_port


def test_dev_serves_the_printed_curl_without_redis(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODERATION_")}
    demo = subprocess.run(
        [sys.executable, "-m", "workers", "models", "demo", "--to", "var/demo-model"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    for line in demo.stdout.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        env[name] = value
    env["MODERATION_REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens: embedded broker
    port = free_port()
    log_path = tmp_path / "dev.log"
    with open(log_path, "wb") as log:
        dev = subprocess.Popen(
            [sys.executable, "-m", "workers", "dev", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while "curl -sS" not in log_path.read_text() and time.monotonic() < deadline:
            assert dev.poll() is None, log_path.read_text()
            time.sleep(0.2)
        output = log_path.read_text()
        assert "dev.no_redis" in output and "filesystem://" in output
        curl = re.search(r"(curl -sS .*?-d '[^']*')", output, re.S)
        assert curl, output
        command = curl.group(1).replace("\\\n", " ")
        while True:
            result = subprocess.run(["bash", "-c", command], capture_output=True, text=True)
            if result.returncode == 0 and result.stdout.startswith("{"):
                break
            assert time.monotonic() < deadline, (result, output[-3000:])
            time.sleep(0.5)
        answer = json.loads(result.stdout)
        token = re.search(r"Bearer ([\w.-]+)", command).group(1)  # type: ignore[union-attr]
        while answer["status"] == "pending" and time.monotonic() < deadline + 60:
            time.sleep(1)
            answer = httpx.get(
                f"http://127.0.0.1:{port}/v1/comments/{answer['id']}",
                headers={"Authorization": f"Bearer {token}"},
            ).json()
        # Random demo weights: either decision is right, as long as there is one.
        assert answer["status"] in ("approved", "held"), (answer, log_path.read_text()[-3000:])
        assert answer["decision"]["model"].startswith("checkpoint:original-tiny.ckpt")
        assert (tmp_path / "var" / "moderation.db").exists()
        assert oct((tmp_path / "var" / "jwt-secret").stat().st_mode & 0o777) == "0o600"
    finally:
        os.killpg(dev.pid, signal.SIGINT)
        try:
            dev.wait(timeout=45)
        except subprocess.TimeoutExpired:
            os.killpg(dev.pid, signal.SIGKILL)
            dev.wait()
