"""The worker's probe as the deployment files write it: docker-compose.yml's worker
healthcheck, which the Kubernetes workers' exec probes repeat (tests/deploy)."""

from __future__ import annotations

import yaml

from tests.support.paths import REPO


def worker_probe_command() -> str:
    """The shell command of the compose worker's healthcheck, as the container's shell gets it
    (compose's `$$` escape undone)."""
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    kind, command = compose["services"]["worker"]["healthcheck"]["test"]
    assert kind == "CMD-SHELL"
    return str(command).replace("$$", "$")
