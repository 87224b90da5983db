"""The whole service end to end, against plain Detoxify, in one run. `python -m bench.pipeline`.

Real processes on 127.0.0.1: `moderation api`, `moderation worker` (one process per core by
default), a private Redis, and PostgreSQL (a fresh database; `--sqlite` for the embedded
default). The model is random weights in BERT-base's exact shape (bench/shapes.py, the
`original` layout): the same compute as the real model, not its scores.

  a. plain Detoxify `predict`, one comment at a time, fp32, torch's default threads;
  b. our scorer as the workers run it under a backlog (int8, one thread, one process per core,
     a task's MAX_BATCH (32) comments per call), no plumbing;
  c. HTTP POST -> stored -> Redis -> worker -> decision stored, N comments posted at once
     (over keep-alive connections opened beforehand, as a site's HTTP client pool holds them),
     after a warm-up round of WARM_UP comments (its plumbing is printed apart);
  scaling: c with 1 worker process, then 2, and the ratio;
  spike: S comments posted within W seconds: all accepted? p99 accept, time until drained.
a and b are timed on the same comments before and after the end-to-end runs (half each time),
so that load from elsewhere on the machine hits a, b and c alike. Prints comments/s, b/a, c/a,
p50/p99 accept and accept->decision latency, worker RSS (steady and peak), and the plumbing
cost: CPU seconds per comment spent outside the model (API, Redis, PostgreSQL, Celery) as a
share of the model's CPU seconds per comment, from those processes' own CPU times between the
moment the keep-alive connections are open and the last decision (opening and closing 500
connections is a site's HTTP pool starting, not a comment's cost).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
import redis

from bench import loadgen
from bench.comments import comments
from bench.perspective import start_redis
from bench.scoring import BENCH_DIR, ScoringPool, Setup, build_variant
from service.comments.intake import MAX_BATCH

REPO = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
SECRET = "bench-secret-that-is-long-enough-0123456789"
# PostgreSQL's own processes that work for every database's writes.
POSTGRES_SHARED = ("walwriter", "checkpointer", "background writer")
# Posted and decided before (c) is timed: what a process spends once, on its first requests
# (SQLAlchemy compiling each statement, psycopg preparing it, Celery and Redis connecting,
# oneDNN building a kernel per shape), is no comment's cost. The report prints it apart.
WARM_UP = 2 * MAX_BATCH
# The load generator's keep-alive connections: every comment of (c) in flight at once.
MAX_CONNECTIONS = 1000


@dataclass
class Stack:
    env: dict[str, str]
    base: str
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    redis_pid: int = 0
    database: str | None = None

    def start(self, name: str, *args: str) -> None:
        log = open(BENCH_DIR / f"pipeline-{name}.log", "ab")  # noqa: SIM115 - lives with the process
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "workers", *args],
            env=self.env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self, name: str) -> None:
        process = self.processes.pop(name, None)
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def tree(self, name: str) -> list[psutil.Process]:
        parent = psutil.Process(self.processes[name].pid)
        return [parent, *parent.children(recursive=True)]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.pipeline", description=__doc__)
    parser.add_argument("--comments", type=int, default=500, help="comments for (c)")
    parser.add_argument("--plain", type=int, default=80, help="comments timed for (a) and (b)")
    parser.add_argument("--scaling", type=int, default=200, help="comments per scaling run")
    parser.add_argument("--spike", type=int, default=5000, help="comments in the spike")
    parser.add_argument("--spike-seconds", type=float, default=30.0)
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    parser.add_argument("--quick", action="store_true", help="small numbers (~3 minutes)")
    parser.add_argument(
        "--int8-kernel",
        choices=["auto", "rowwise", "per_tensor"],
        default="auto",
        help="the workers' MODERATION_INT8_KERNEL (per_tensor: as on an AVX2-only CPU)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.comments, args.plain, args.scaling, args.spike = 120, 20, 60, 300
        args.spike_seconds = 10.0
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    checkpoint, config = build_variant("original")
    cores = os.cpu_count() or 1
    print(f"model: random weights, BERT-base shape ({checkpoint}); same compute as the real one")
    print(f"machine: {cores} cores; database: {'SQLite' if args.sqlite else 'PostgreSQL'}")
    print(f"load average before: {os.getloadavg()[0]:.1f}", flush=True)

    spawn = multiprocessing.get_context("spawn")
    texts = comments(2 * args.plain, seed=7)
    pools = [
        ScoringPool(spawn, Setup("a", 1, quantize="none", plain=True), checkpoint, config),
        ScoringPool(
            spawn,
            Setup("b", cores, per_call=MAX_BATCH, per_tensor=args.int8_kernel == "per_tensor"),
            checkpoint,
            config,
        ),
    ]
    results: dict[str, Any] = {}
    try:
        for pool in pools:
            pool.wait_until_loaded()
        _time_round(pools, texts[: args.plain])
        for workers in (1, 2):
            with service(
                checkpoint,
                config,
                workers=workers,
                sqlite=args.sqlite,
                int8_kernel=args.int8_kernel,
            ) as stack:
                count = args.comments if workers == cores else args.scaling
                results[f"warm-up {workers}"] = asyncio.run(
                    end_to_end(stack, WARM_UP, workers=workers)
                )
                results[workers] = asyncio.run(end_to_end(stack, count, workers=workers))
                print(f"(c) {workers} worker process(es): {results[workers]['rate']:.2f}/s")
                if workers == cores:
                    results["spike"] = asyncio.run(spike(stack, args.spike, args.spike_seconds))
        _time_round(pools, texts[args.plain :])
    finally:
        for pool in pools:
            pool.stop()
    plain, ours = (len(texts) / pool.seconds for pool in pools)
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    report(plain, ours, results, cores)


def _time_round(pools: list[ScoringPool], texts: list[str]) -> None:
    for pool in pools:
        pool.run(texts)
        print(f"({pool.setup.name}) {len(pool.scores)} comments timed", flush=True)


class service:
    def __init__(
        self, checkpoint: str, config: str, *, workers: int, sqlite: bool, int8_kernel: str
    ) -> None:
        self.workers = workers
        self.database = None if sqlite else f"bench_{uuid.uuid4().hex[:10]}"
        self.tmp = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
        self.redis: list[subprocess.Popen[bytes]] = []
        # A private Redis: its CPU time is this run's alone.
        redis_url = start_redis(self.tmp, self.redis)
        env = {k: v for k, v in os.environ.items() if not k.startswith("MODERATION_")}
        env.update(
            MODERATION_VAR_DIR=str(self.tmp),
            MODERATION_JWT_SECRET=SECRET,
            MODERATION_REDIS_URL=redis_url,
            MODERATION_MODEL=checkpoint,
            MODERATION_MODEL_CONFIG=config,
            MODERATION_LOG_LEVEL="WARNING",
            MODERATION_INT8_KERNEL=int8_kernel,
            HF_HUB_OFFLINE="1",
        )
        if self.database:
            import psycopg

            with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as connection:
                connection.execute(f'CREATE DATABASE "{self.database}"')
            env["MODERATION_DATABASE_URL"] = (
                f"postgresql+psycopg://postgres@127.0.0.1:5432/{self.database}"
            )
        self.port = _free_port()
        self.stack = Stack(env, f"http://127.0.0.1:{self.port}")
        self.stack.redis_pid = self.redis[0].pid
        self.stack.database = self.database

    def __enter__(self) -> Stack:
        subprocess.run(
            [sys.executable, "-m", "workers", "migrate"],
            env=self.stack.env,
            cwd=REPO,
            check=True,
            capture_output=True,
        )
        self.stack.start("api", "api", "--port", str(self.port))
        self.stack.start(
            "worker",
            "worker",
            "--concurrency",
            str(self.workers),
            "--metrics-port",
            str(_free_port()),
        )
        client = redis.Redis.from_url(self.stack.env["MODERATION_REDIS_URL"])
        deadline = time.monotonic() + 300
        while len(list(client.scan_iter(match="moderation:worker:*"))) < self.workers:
            if time.monotonic() > deadline:
                raise SystemExit("workers did not load their model; see var/bench/*.log")
            time.sleep(0.5)
        return self.stack

    def __exit__(self, *exc: object) -> None:
        for name in list(self.stack.processes):
            self.stack.stop(name)
        for process in self.redis:
            process.terminate()
            process.wait(timeout=30)
        if self.database:
            import psycopg

            with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')


async def post_all(
    stack: Stack,
    count: int,
    *,
    within: float | None = None,
    opened: Callable[[], None] | None = None,
    then: Callable[[list[str]], Awaitable[Any]] | None = None,
) -> dict[str, Any]:
    """Post `count` comments (each from its own reader, so no flood limit applies), every one
    in flight at once, as a story's readers post them; with `within`, spread over that time.

    `opened` runs once the connections are open, `then` (given the new ids) before they
    close: a site's HTTP client keeps its pool open, so what they cost to open and close is
    no comment's."""
    from service.http.tokens import issue_token
    from service.settings import Settings

    settings = Settings(jwt_secret=SECRET)  # type: ignore[arg-type]
    texts = comments(count, seed=11)
    host, port = "127.0.0.1", int(stack.base.rsplit(":", 1)[1])
    requests = [
        loadgen.post_request(
            host,
            port,
            "/v1/comments",
            {"article_id": "bench", "text": text},
            {"Authorization": f"Bearer {issue_token(settings, f'bench-{uuid.uuid4().hex[:8]}')}"},
            keep_alive=True,
        )
        for text in texts
    ]
    accept: list[float] = []
    statuses: dict[int, int] = {}
    ids: list[str] = []

    async def one(pool: loadgen.Pool, index: int, started: float) -> None:
        if within:
            await asyncio.sleep(max(0.0, started + within * index / count - time.perf_counter()))
        begin = time.perf_counter()
        answer = await pool.send(requests[index])
        accept.append(time.perf_counter() - begin)
        statuses[answer.status] = statuses.get(answer.status, 0) + 1
        if answer.status in (200, 202):
            ids.append(answer.json()["id"])

    # One connection per comment in flight, opened before the clock starts (see loadgen).
    async with loadgen.Pool(host, port, min(count, MAX_CONNECTIONS)) as pool:
        if opened is not None:
            opened()
        started, started_cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(one(pool, i, started) for i in range(count)))
        posting_seconds = time.perf_counter() - started
        client_cpu = time.process_time() - started_cpu
        after = await then(ids) if then is not None else None
    return {
        "then": after,
        "accept": accept,
        "statuses": statuses,
        "ids": ids,
        "posting_seconds": posting_seconds,
        "client_cpu": client_cpu,
    }


async def end_to_end(stack: Stack, count: int, *, workers: int) -> dict[str, Any]:
    """CPU times from the moment the connections are open until every comment is decided."""
    before: dict[str, Any] = {}

    def opened() -> None:
        before.update(cpu=cpu_seconds(stack), scoring=scoring_seconds(stack))

    async def then(ids: list[str]) -> tuple[dict[str, Any], dict[str, float], float]:
        decided = await wait_decided(stack, ids)
        return decided, cpu_seconds(stack), scoring_seconds(stack)

    posted = await post_all(stack, count, opened=opened, then=then)
    decided, cpu_after, scoring_after = posted["then"]
    cpu_before = before["cpu"]
    model = scoring_after - before["scoring"]
    total = sum(cpu_after.values()) - sum(cpu_before.values())
    rss = [memory(p) for p in stack.tree("worker")[1:]]
    return {
        "rate": decided["decided"] / decided["span"],
        "undecided": decided["undecided"],
        "accept": posted["accept"],
        "statuses": posted["statuses"],
        "latency": decided["latency"],
        "model_cpu": model / count,
        "plumbing_cpu": (total - model) / count,
        "cpu_by_process": {k: (cpu_after[k] - cpu_before.get(k, 0)) / count for k in cpu_after},
        "rss": rss,
        "workers": workers,
        "client_cpu": posted["client_cpu"] / count,
    }


async def spike(stack: Stack, count: int, within: float) -> dict[str, Any]:
    started = time.perf_counter()
    posted = await post_all(stack, count, within=within)
    decided = await wait_decided(stack, posted["ids"], timeout=3600)
    return {
        "count": count,
        "within": within,
        "posting_seconds": posted["posting_seconds"],
        "statuses": posted["statuses"],
        "accept": posted["accept"],
        "drained_after": time.perf_counter() - started,
        "latency": decided["latency"],
    }


async def wait_decided(stack: Stack, ids: list[str], *, timeout: float = 1800) -> dict[str, Any]:
    from sqlalchemy import select

    from service.db.engine import Database
    from service.db.tables import Comment

    url = stack.env.get("MODERATION_DATABASE_URL") or (
        f"sqlite:///{Path(stack.env['MODERATION_VAR_DIR']) / 'moderation.db'}"
    )
    database = Database(url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            with database.session() as session:
                rows = session.execute(
                    select(Comment.created_at, Comment.decided_at).where(Comment.id.in_(ids))
                ).all()
            if all(decided is not None for _, decided in rows) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
    finally:
        database.dispose()
    done = [(created, decided) for created, decided in rows if decided is not None]
    span = (max(d for _, d in done) - min(c for c, _ in done)).total_seconds()
    return {
        "span": span,
        "latency": [(d - c).total_seconds() for c, d in done],
        "decided": len(done),
        "undecided": len(ids) - len(done),
    }


def cpu_seconds(stack: Stack) -> dict[str, float]:
    """CPU time so far of the API, the worker tree, this run's Redis and PostgreSQL's share.

    PostgreSQL's share: the backends connected to this run's database, and the cluster's
    WAL writer, checkpointer and background writer. Other databases' backends are not ours.
    """
    found: dict[str, float] = {}
    for name in ("api", "worker"):
        found[name] = sum(_cpu(p) for p in stack.tree(name))
    found["redis"] = _cpu(psutil.Process(stack.redis_pid))
    if stack.database:
        found["postgres"] = 0.0
        for process in psutil.process_iter(["name", "cmdline"]):
            title = " ".join(process.info["cmdline"] or [])
            if process.info["name"] == "postgres" and (
                f" {stack.database} " in title or title.endswith(POSTGRES_SHARED)
            ):
                found["postgres"] += _cpu(process)
    return found


def _cpu(process: psutil.Process) -> float:
    try:
        times = process.cpu_times()
    except psutil.Error:
        return 0.0
    return float(times.user + times.system)


def scoring_seconds(stack: Stack) -> float:
    """The model's CPU time, from the workers' `moderation_scoring_cpu_seconds_total`."""
    port = stack.processes["worker"].args[-1]  # type: ignore[index]
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    for line in text.splitlines():
        if line.startswith("moderation_scoring_cpu_seconds_total"):
            return float(line.split()[-1])
    return 0.0


def memory(process: psutil.Process) -> tuple[float, float]:
    status = dict(
        line.split(":", 1) for line in Path(f"/proc/{process.pid}/status").read_text().splitlines()
    )
    return int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def report(plain: float, ours: float, results: dict[str, Any], cores: int) -> None:
    full = results[cores]
    print("\n== Plain Detoxify (a), our scorer (b), the whole service (c): same run ==")
    print(f"(a) plain Detoxify predict, fp32, default threads:  {plain:8.2f} comments/s")
    print(
        f"(b) our scorer, int8, {cores} processes x 1 thread:      {ours:8.2f} comments/s"
        f"   b/a = {ours / plain:.1f}x"
    )
    print(
        f"(c) the service end to end, {cores} worker processes: {full['rate']:8.2f} comments/s"
        f"   c/a = {full['rate'] / plain:.1f}x   c/b = {full['rate'] / ours:.2f}"
    )
    print(f"    answers: {full['statuses']}; undecided at the end: {full['undecided']}")
    print(
        f"    accept latency    p50 {_percentile(full['accept'], 50) * 1000:7.1f} ms"
        f"   p99 {_percentile(full['accept'], 99) * 1000:7.1f} ms"
    )
    print(
        f"    accept->decision  p50 {_percentile(full['latency'], 50):7.2f} s "
        f"   p99 {_percentile(full['latency'], 99):7.2f} s  (all {len(full['accept'])} posted"
        " at once: mostly time in the queue)"
    )
    share = full["plumbing_cpu"] / full["model_cpu"] if full["model_cpu"] else float("nan")
    print(
        f"    model CPU per comment {full['model_cpu'] * 1000:.1f} ms; plumbing (API, Redis, "
        f"PostgreSQL, Celery) {full['plumbing_cpu'] * 1000:.1f} ms = {share:.1%} of the model"
    )
    warm = results[f"warm-up {cores}"]
    print(
        f"    (after a warm-up of {WARM_UP} comments, whose own plumbing was "
        f"{warm['plumbing_cpu'] * 1000:.1f} ms per comment: first-use costs)"
    )
    print(
        f"    the load generator (bench/loadgen.py, not counted): "
        f"{full['client_cpu'] * 1000:.1f} ms CPU per comment"
    )
    print(
        "    CPU ms per comment by process: "
        + ", ".join(f"{k} {v * 1000:.1f}" for k, v in full["cpu_by_process"].items())
    )
    for index, (rss, peak) in enumerate(full["rss"]):
        print(f"    worker process {index + 1}: RSS {rss:.0f} MB steady, {peak:.0f} MB peak")
    one, two = results[1], results[2]
    print("\n== Scaling ==")
    print(
        f"1 worker process: {one['rate']:.2f}/s; 2: {two['rate']:.2f}/s; "
        f"ratio {two['rate'] / one['rate']:.2f}"
    )
    burst = results.get("spike")
    if burst:
        errors = sum(v for k, v in burst["statuses"].items() if k >= 500)
        print("\n== Spike ==")
        print(
            f"{burst['count']} comments posted within {burst['posting_seconds']:.1f} s "
            f"(target {burst['within']:.0f} s): answers {burst['statuses']}, 5xx: {errors}"
        )
        print(
            f"    accept latency p50 {_percentile(burst['accept'], 50) * 1000:.1f} ms, "
            f"p99 {_percentile(burst['accept'], 99) * 1000:.1f} ms; queue drained "
            f"{burst['drained_after']:.0f} s after the first post "
            f"({burst['count'] / burst['drained_after']:.1f} comments/s)"
        )


if __name__ == "__main__":
    main()
