"""Each process's memory in multiprocess mode: a process that died drops out of the scrape."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from service.process_metrics import forget_dead_processes
from tests.support.paths import REPO


def scrape_in_a_process(metrics_dir: Path) -> int:
    """A process that answers one scrape in multiprocess mode (so writes its RSS) and exits."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os\n"
            "from prometheus_client import generate_latest\n"
            "from service.process_metrics import scrape_registry\n"
            "generate_latest(scrape_registry('worker'))\n"
            "print(os.getpid())\n",
        ],
        env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)},
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    )
    return int(done.stdout)


def test_a_dead_process_memory_is_marked_dead_and_dropped(tmp_path: Path) -> None:
    dead = scrape_in_a_process(tmp_path)
    assert (tmp_path / f"gauge_liveall_{dead}.db").exists()
    live = tmp_path / f"gauge_liveall_{os.getpid()}.db"
    live.write_bytes((tmp_path / f"gauge_liveall_{dead}.db").read_bytes())
    assert forget_dead_processes(str(tmp_path)) == [dead]
    assert not (tmp_path / f"gauge_liveall_{dead}.db").exists()
    assert live.exists()
