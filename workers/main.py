"""Starting the Celery worker and beat processes from the CLI."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence

from service.queue import QUEUES
from service.settings import Settings


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
    from workers.celery_app import app

    if metrics_port is not None:
        from workers.metrics import serve_metrics

        serve_metrics(metrics_port)
    app.worker_main(
        [
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


def run_beat(settings: Settings) -> None:
    from workers.celery_app import app

    settings.var_dir.mkdir(parents=True, exist_ok=True)
    app.start(["beat", f"--loglevel={settings.log_level}"])
