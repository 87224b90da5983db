"""What MODERATION_WORKER_EVENTS costs: CPU seconds per 1,000 tasks through one worker with
Celery's task events and event heartbeat off (the default) and on, side by side in one run.
`python -m bench.worker_events [--tasks N] [--rounds R]`.

Real processes on 127.0.0.1: a private Redis and `moderation worker --concurrency 1` on a
tiny checkpoint and SQLite. Each task is a `moderate` task naming a comment that does not
exist: the task's fixed cost (Celery, the broker, the lookup, its log lines) with no scoring,
so the ratio is the upper bound of what events add; the difference (ms per task) is what they
add to any task, a real comment's scoring included. The worker's CPU (the parent and its
child) and Redis's are read from their own CPU times around each batch, after a warm-up
batch; the modes alternate (off, on, off, on, ...) so that load from elsewhere on the machine
hits both alike. Nobody listens to the events here: Flower's own CPU comes on top, in its
process.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import redis
from celery import Celery

from bench.perspective import start_redis
from service.broker.contract import MODERATE_QUEUE, MODERATE_TASK, WORKER_HEARTBEAT_PREFIX
from service.broker.producer import celery_config
from service.settings import Settings
from workers.scoring.synthetic import CLEAN, build_checkpoint

REPO = Path(__file__).resolve().parent.parent
WARM_UP = 50
START_SECONDS = 180
DRAIN_SECONDS = 600


def _environment(work: Path, redis_url: str, events: bool) -> dict[str, str]:
    checkpoint = build_checkpoint(work / "checkpoints", "original", bias=CLEAN)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODERATION_")}
    env.update(
        MODERATION_ENV_FILE="",
        MODERATION_DATABASE_URL=f"sqlite:///{work / 'moderation.db'}",
        MODERATION_REDIS_URL=redis_url,
        MODERATION_VAR_DIR=str(work / "var"),
        MODERATION_MODEL=str(checkpoint.checkpoint),
        MODERATION_MODEL_CONFIG=str(checkpoint.config_dir),
        MODERATION_WORKER_EVENTS="true" if events else "false",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
    )
    return env


def _cpu_seconds(process: psutil.Process) -> float:
    """The process's CPU and its live descendants', plus what its reaped children used."""
    times = process.cpu_times()
    total = float(times.user + times.system + times.children_user + times.children_system)
    for child in process.children(recursive=True):
        try:
            child_times = child.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += child_times.user + child_times.system
    return total


class Worker:
    def __init__(self, work: Path, redis_url: str, events: bool) -> None:
        self.client = redis.Redis.from_url(redis_url)
        self.client.flushdb()
        self.log = open(work / f"worker-{'on' if events else 'off'}.log", "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "workers", "worker", "--concurrency", "1"],
            env=_environment(work, redis_url, events),
            cwd=REPO,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_SECONDS
        while not any(self.client.scan_iter(match=WORKER_HEARTBEAT_PREFIX + "*")):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the worker did not start: see {self.log.name}")
            time.sleep(0.2)
        self.ps = psutil.Process(self.process.pid)

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=60)
        self.log.close()


def _drained(client: redis.Redis) -> bool:
    return int(client.llen(MODERATE_QUEUE)) == 0 and int(client.hlen("unacked")) == 0


def run_batch(app: Celery, worker: Worker, redis_ps: psutil.Process, tasks: int) -> float:
    """CPU seconds (worker + Redis) per 1,000 tasks for one batch of `tasks`."""
    before = _cpu_seconds(worker.ps) + _cpu_seconds(redis_ps)
    for n in range(tasks):
        app.send_task(MODERATE_TASK, args=[f"bench-missing-{n}@1"])
    deadline = time.monotonic() + DRAIN_SECONDS
    while not _drained(worker.client):
        if time.monotonic() > deadline:
            raise SystemExit("the worker did not drain its queue")
        time.sleep(0.05)
    after = _cpu_seconds(worker.ps) + _cpu_seconds(redis_ps)
    return (after - before) / tasks * 1000


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=2000, help="tasks per batch")
    parser.add_argument("--rounds", type=int, default=2, help="batches per mode, alternating")
    args = parser.parse_args(argv)

    processes: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="bench-events-") as tmp:
        work = Path(tmp)
        try:
            redis_url = start_redis(work, processes)
            redis_ps = psutil.Process(processes[0].pid)
            env = _environment(work, redis_url, events=False)
            subprocess.run(
                [sys.executable, "-m", "workers", "migrate"],
                env=env,
                cwd=REPO,
                check=True,
                capture_output=True,
            )
            app = Celery("bench-events", set_as_current=False)
            app.conf.update(celery_config(Settings(redis_url=redis_url)))
            results: dict[bool, list[float]] = {False: [], True: []}
            for _ in range(args.rounds):
                for events in (False, True):
                    worker = Worker(work, redis_url, events)
                    try:
                        run_batch(app, worker, redis_ps, WARM_UP)
                        results[events].append(run_batch(app, worker, redis_ps, args.tasks))
                    finally:
                        worker.stop()
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=10)

    off, on = (statistics.median(results[mode]) for mode in (False, True))
    print(f"{args.tasks} moderate tasks a batch, {args.rounds} batches a mode, one worker child")
    print("CPU seconds per 1,000 tasks (worker + Redis), median of the batches:")
    print(f"  events off {off:7.2f}   events on {on:7.2f}   on/off {on / off:5.2f}")
    print(f"  events add {(on - off):.2f} ms CPU per task")
    for events in (False, True):
        batches = ", ".join(f"{x:.2f}" for x in results[events])
        print(f"  batches with events {'on' if events else 'off'}: {batches}")


if __name__ == "__main__":
    main()
