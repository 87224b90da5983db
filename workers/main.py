"""Starting the Celery worker and beat processes from the CLI."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence

from service.broker.contract import QUEUES
from service.settings import Settings


def default_concurrency() -> int:
    """One process per CPU this process may run on.

    A container limited with `--cpuset-cpus` (or `taskset`) still sees every CPU of the host
    in `os.cpu_count()`; one process per host CPU would fight over the few it is given.
    """
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def run_worker(
    settings: Settings,
    *,
    concurrency: int,
    metrics_port: int | None,
    queues: Sequence[str] = QUEUES,
) -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if metrics_port is not None:
        # Must be set before prometheus_client is first imported, here and in every child.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="moderation-metrics-")
    from workers import child_failure
    from workers.celery_app import app

    if metrics_port is not None:
        from workers.metrics import serve_metrics

        serve_metrics(metrics_port)
    child_failure.watch_children()
    try:
        app.worker_main(
            [
                # No banner: every line the process writes is a JSON log line.
                "--quiet",
                "worker",
                f"--concurrency={concurrency}",
                "--pool=prefork",
                f"--queues={','.join(queues)}",
                f"--loglevel={settings.log_level}",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ]
        )
    finally:
        # Celery's warm shutdown exits 0; a child that couldn't start makes it 2.
        child_failure.exit_if_reported()


def run_beat(settings: Settings) -> None:
    from workers.celery_app import app

    settings.var_dir.mkdir(parents=True, exist_ok=True)
    app.start(["--quiet", "beat", f"--loglevel={settings.log_level}"])
