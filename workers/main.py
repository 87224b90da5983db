"""Starting the Celery worker and beat processes from the CLI."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence

from service.broker.contract import CONSUMED_QUEUES
from service.settings import Settings


def default_concurrency() -> int:
    """One process per CPU this process may use: its affinity, capped by its cgroup's quota.

    A container limited with `--cpuset-cpus` (or `taskset`) still sees every CPU of the host
    in `os.cpu_count()`, and one limited with `--cpus` or a Kubernetes CPU limit sees them in
    its affinity too; one process per host CPU would fight over the few it is given.
    """
    import structlog

    from workers.cpu_quota import choose_concurrency

    if hasattr(os, "sched_getaffinity"):
        affinity = max(1, len(os.sched_getaffinity(0)))
    else:
        affinity = os.cpu_count() or 1
    chosen = choose_concurrency(affinity)
    structlog.get_logger(__name__).info(
        "worker.concurrency",
        concurrency=chosen.processes,
        limited_by=chosen.limited_by,
        affinity=chosen.affinity,
        quota=None if chosen.quota is None else float(chosen.quota),
    )
    return chosen.processes


def run_worker(
    settings: Settings,
    *,
    concurrency: int,
    metrics_port: int | None,
    queues: Sequence[str] = CONSUMED_QUEUES,
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
                # Gossip would have every worker process every other worker's events.
                "--without-gossip",
                "--without-mingle",
                # Task events and Celery's event heartbeat are what Flower and `celery events`
                # show; off by default for their CPU cost (docs/operating.md, "Flower"). The
                # API's /readyz reads workers/heartbeat.py's Redis keys instead, which name the
                # model each worker holds and are there with events on or off.
                *(["--task-events"] if settings.worker_events else ["--without-heartbeat"]),
            ]
        )
    finally:
        # Celery's warm shutdown exits 0; a child that couldn't start makes it 3.
        child_failure.exit_if_reported()


def run_beat(settings: Settings) -> None:
    from workers.celery_app import app

    settings.var_dir.mkdir(parents=True, exist_ok=True)
    app.start(["--quiet", "beat", f"--loglevel={settings.log_level}"])
