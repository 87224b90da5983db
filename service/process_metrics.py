"""What every process serves on /metrics, the API's and a worker's alike: its own metrics
(summed across its processes in multiprocess mode), the build it runs, and each process's RSS.

Multiprocess mode drops prometheus_client's `process_*` series, yet workers are sized by RSS:
each process samples its own into a `liveall` gauge (one series per pid), and the process that
answers a scrape first removes the files of processes that have died, since a child killed by
the kernel's OOM killer never runs its own exit hook.
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import threading
import time
from collections.abc import Iterator, Sequence
from itertools import product
from pathlib import Path
from typing import Literal

from prometheus_client import REGISTRY, Counter, Gauge, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector, CollectorRegistry

from service.version import package_version

Process = Literal["api", "worker"]

RESIDENT_MEMORY = "moderation_process_resident_memory_bytes"
RESIDENT_MEMORY_HELP = "Resident set size of each live process (pid), the API's or a worker's"
SAMPLE_SECONDS = 10.0
"""How often each process writes its RSS in multiprocess mode: under a 15-second scrape."""

# Exported by the MultiProcessCollector from the processes' files, never from a registry.
_RESIDENT = Gauge(
    RESIDENT_MEMORY, RESIDENT_MEMORY_HELP, ["process"], multiprocess_mode="liveall", registry=None
)
_LIVE_GAUGE_FILE = re.compile(r"gauge_live[a-z]+_(\d+)\.db")
_sampling_pid: int | None = None


def resident_bytes() -> int:
    """This process's resident set size (its peak where /proc is missing)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def start_at_zero(counter: Counter, **label_values: Sequence[str]) -> None:
    """Export every known combination of label values as 0 before its first event: a series
    that appears only with its first event hides that event from `rate()` and `increase()`,
    and a panel shows no data where it should show 0."""
    for values in product(*label_values.values()):
        counter.labels(*values)


def sample_resident_memory(process: Process) -> None:
    """In multiprocess mode, write this process's RSS now and every SAMPLE_SECONDS (once per
    process: a forked child starts its own). Outside it, a scrape reads the RSS itself."""
    global _sampling_pid
    if _multiprocess_directory() is None or _sampling_pid == os.getpid():
        return
    _sampling_pid = os.getpid()
    gauge = _RESIDENT.labels(process)

    def run() -> None:
        while True:
            gauge.set(resident_bytes())
            time.sleep(SAMPLE_SECONDS)

    threading.Thread(target=run, name="rss-sample", daemon=True).start()


def scrape_registry(process: Process) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_ProcessMetrics(process))
    return registry


def forget_dead_processes(directory: str) -> list[int]:
    """Mark dead (prometheus_client's `mark_process_dead`) every process with live-gauge files
    that no longer runs, so its last RSS stops being exported; the pids marked."""
    marked = []
    for path in Path(directory).iterdir():
        match = _LIVE_GAUGE_FILE.fullmatch(path.name)
        if match is None or _running(pid := int(match[1])):
            continue
        # Two scrapes at once may both find it; the second finds its files gone.
        with contextlib.suppress(FileNotFoundError):
            multiprocess.mark_process_dead(pid, directory)
        marked.append(pid)
    return marked


class _ProcessMetrics(Collector):
    def __init__(self, process: Process) -> None:
        self._process = process

    def collect(self) -> Iterator[Metric]:
        build = GaugeMetricFamily(
            "moderation_build_info", "The version this process runs, as a label", labels=["version"]
        )
        build.add_metric([package_version()], 1)
        yield build
        directory = _multiprocess_directory()
        if directory is None:
            yield from REGISTRY.collect()
            memory = GaugeMetricFamily(
                RESIDENT_MEMORY, RESIDENT_MEMORY_HELP, labels=["process", "pid"]
            )
            memory.add_metric([self._process, str(os.getpid())], resident_bytes())
            yield memory
            return
        forget_dead_processes(directory)
        # The scraping process's own figure is fresh; the others' at most SAMPLE_SECONDS old.
        _RESIDENT.labels(self._process).set(resident_bytes())
        yield from multiprocess.MultiProcessCollector(None, path=directory).collect()


def _multiprocess_directory() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, under another user
        return True
    return True
