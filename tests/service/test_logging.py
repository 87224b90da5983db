"""The logs stay one JSON object a line, whichever library writes them."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support.paths import REPO

# Run in a process of its own: configuring logging changes the process's global state.
POOL_LOGS = """
from billiard.util import error, get_logger
from service.logging import configure_logging

configure_logging("INFO", json=True)
get_logger()  # as a worker's pool does: "multiprocessing" cut off from the root logger
error("Process %r pid:%r exited with %r", "ForkPoolWorker-1", 4242, "signal 15 (SIGTERM)")
"""


def test_a_pool_childs_death_is_logged_as_json() -> None:
    done = subprocess.run(
        [sys.executable, "-c", POOL_LOGS], cwd=REPO, capture_output=True, text=True, check=True
    )

    [line] = done.stderr.splitlines()
    record = json.loads(line)
    assert record["event"] == (
        "Process 'ForkPoolWorker-1' pid:4242 exited with 'signal 15 (SIGTERM)'"
    )
    assert record["level"] == "error"
