"""A newcomer's path: `moderation models demo`, `moderation dev`, paste the printed curl; and
`moderation dev` stopping everything, with one line saying why, when any of its children exits."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.support.net import free_port
from tests.support.processes import without_settings

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module")
def demo_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """No MODERATION_ setting but the demo model's and a Redis that isn't there."""
    env = without_settings()
    demo = subprocess.run(
        [sys.executable, "-m", "workers", "models", "demo", "--to", "demo-model"],
        cwd=tmp_path_factory.mktemp("demo"),
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    for line in demo.stdout.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        env[name] = value
    env["MODERATION_REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens: embedded broker
    return env


@contextmanager
def running_dev(cwd: Path, env: dict[str, str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    """`moderation dev` in a session of its own, its output in cwd/dev.log; whatever is left of
    it is killed at the end."""
    with open(cwd / "dev.log", "wb") as log:
        dev = subprocess.Popen(
            [sys.executable, "-m", "workers", "dev", "--port", str(port)],
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield dev
    finally:
        if _group_alive(dev.pid):
            os.killpg(dev.pid, signal.SIGKILL)
        dev.wait()


def wait_for_output(dev: subprocess.Popen[bytes], log: Path, text: str, deadline: float) -> str:
    while text not in (output := _ANSI.sub("", log.read_text())):
        assert dev.poll() is None, output
        assert time.monotonic() < deadline, output[-3000:]
        time.sleep(0.2)
    return output


def wait_for_api(dev: subprocess.Popen[bytes], port: int, deadline: float) -> None:
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert dev.poll() is None
        assert time.monotonic() < deadline
        time.sleep(0.2)


def assert_all_stopped(dev: subprocess.Popen[bytes], port: int) -> None:
    """Nothing of dev's left: no process in its session, nothing answering on its port."""
    assert not _group_alive(dev.pid)
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), 2):
        pass


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _stop_lines(output: str) -> list[str]:
    """The lines `moderation dev` prints of its own when it stops everything."""
    return [line for line in output.splitlines() if line.startswith("moderation dev: ")]


def test_dev_serves_the_printed_curl_without_redis(
    tmp_path: Path, demo_env: dict[str, str]
) -> None:
    port = free_port()
    log_path = tmp_path / "dev.log"
    with running_dev(tmp_path, demo_env, port) as dev:
        deadline = time.monotonic() + 60
        output = wait_for_output(dev, log_path, "curl -sS", deadline)
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

        # Ctrl-C in the terminal: every process of the group gets SIGINT; a clean stop.
        os.killpg(dev.pid, signal.SIGINT)
        assert dev.wait(timeout=60) == 0, log_path.read_text()[-3000:]
        assert "moderation dev: " not in log_path.read_text()
        assert_all_stopped(dev, port)


def test_dev_stops_everything_when_its_worker_cannot_start(
    tmp_path: Path, demo_env: dict[str, str]
) -> None:
    env = {**demo_env, "MODERATION_MODEL": str(tmp_path / "missing.ckpt")}
    port = free_port()
    with running_dev(tmp_path, env, port) as dev:
        code = dev.wait(timeout=120)
        output = _ANSI.sub("", (tmp_path / "dev.log").read_text())
        assert code == 3, output[-3000:]
        assert _stop_lines(output) == [
            "moderation dev: the worker exited with code 3; stopping the API and beat"
        ], output[-3000:]
        assert_all_stopped(dev, port)


def test_dev_stops_everything_when_a_child_is_killed(
    tmp_path: Path, demo_env: dict[str, str]
) -> None:
    port = free_port()
    log_path = tmp_path / "dev.log"
    with running_dev(tmp_path, demo_env, port) as dev:
        deadline = time.monotonic() + 60
        output = wait_for_output(dev, log_path, "curl -sS", deadline)
        beat = re.search(r"dev\.started\s.*\bpid=(\d+)\s+process=beat", output)
        assert beat, output
        wait_for_api(dev, port, deadline)
        os.kill(int(beat.group(1)), signal.SIGKILL)
        code = dev.wait(timeout=60)
        output = _ANSI.sub("", log_path.read_text())
        assert code == 1, output[-3000:]
        assert _stop_lines(output) == [
            "moderation dev: beat was killed by SIGKILL; stopping the API and the worker"
        ], output[-3000:]
        assert_all_stopped(dev, port)
