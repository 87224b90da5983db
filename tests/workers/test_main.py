"""How `moderation worker` sizes its pool."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.support.paths import REPO

needs_affinity = pytest.mark.skipif(
    not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2,
    reason="needs a platform with CPU affinity and at least two usable CPUs",
)


@needs_affinity
def test_default_concurrency_counts_the_cpus_the_process_may_use() -> None:
    """As under `docker run --cpuset-cpus=0`: the host has more CPUs than the process gets."""
    one_cpu = min(os.sched_getaffinity(0))
    # In a child process, so this test's own affinity stays as it was.
    code = (
        f"import os; os.sched_setaffinity(0, {{{one_cpu}}}); "
        "from service.logging import configure_logging; configure_logging(); "
        "from workers.main import default_concurrency; print(default_concurrency())"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip() == "1"
    assert (os.cpu_count() or 1) > 1
    # Why, in the one line the worker logs at start.
    [line] = [json.loads(line) for line in result.stderr.splitlines()]
    assert line["event"] == "worker.concurrency"
    assert (line["concurrency"], line["affinity"], line["limited_by"]) == (1, 1, "cpu affinity")
