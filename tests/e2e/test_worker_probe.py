"""The worker's probe (the compose healthcheck, the Kubernetes startup and readiness probes):
`celery inspect ping` to the container's own node answers for a live worker, with events off
as by default, and fails once that worker has stopped."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Callable

from tests.support.harness import PrivateRedis
from tests.support.paths import REPO
from tests.support.probe import worker_probe_command
from tests.support.stack import Stack


def run_probe(stack: Stack) -> subprocess.CompletedProcess[str]:
    """The probe's exact shell command, its `celery` run by this interpreter, with $HOSTNAME
    set as Docker and Kubernetes set it in a container."""
    command = worker_probe_command()
    assert command.startswith("celery ")
    command = f"{sys.executable} -m {command}"
    return subprocess.run(
        ["sh", "-c", command],
        env={**stack.env, "HOSTNAME": socket.gethostname()},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_probe_passes_for_a_live_worker_and_fails_once_it_stops(
    make_stack: Callable[..., Stack], private_redis: PrivateRedis
) -> None:
    stack = make_stack("sqlite", redis_url=private_redis.url)
    assert stack.env["MODERATION_WORKER_EVENTS"] == "False"
    worker = stack.start_worker()

    alive = run_probe(stack)
    assert alive.returncode == 0, alive.stdout + alive.stderr
    assert f"celery@{socket.gethostname()}: OK" in alive.stdout

    stack.stop(worker)
    stopped = run_probe(stack)
    assert stopped.returncode != 0, stopped.stdout
    assert "No nodes replied" in stopped.stderr + stopped.stdout
