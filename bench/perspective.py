"""comments:analyze latency, alone and behind a comment backlog. `python -m bench.perspective`.

Real processes on 127.0.0.1: a private `redis-server` (so no other run's queues mix in), the
API as `moderation api`, and the layout docs/perspective.md recommends for a latency target:
`moderation worker --queues analyze` (one process, `--dedicated`) beside a worker on every
queue (the cores left over; analyze asked first there too); SQLite in a scratch directory
under var/bench/. The model is a BERT-base-shaped checkpoint with random weights
(bench/shapes.py, built once into var/bench/checkpoints): the compute of Detoxify `original`,
not its scores. `--tiny` uses the 2-layer test checkpoint; `--dedicated 0 --concurrency 2`
measures one shared worker instead.

Side by side, with the same requests (Coral Talk's body, comments from bench/comments.py):
  a. analyze alone: N requests at concurrency C (default: one in flight per analyze-only
     process), nothing else queued;
  b. analyze behind a backlog: M pending comments stored and their `moderate` tasks queued
     before the requests, which arrive at the same concurrency C.
The two take turns in rounds (the backlog is parked, renamed out of the workers' sight, for
(a)), so other programs on a shared machine weigh on both alike. Reports p50/p90/p99/max
latency and throughput for each, and how much of the backlog still waited when (b) ended
(none: (b) measured nothing, and it says so). Target: p99 at most 800 ms (Coral Talk's
default timeout) in (b). Bounded: no request starts after `--budget` seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import redis

from bench.comments import SENTENCES, comments
from bench.shapes import SHAPES
from service.broker.contract import MODERATE_QUEUE

REPO = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO / "var" / "bench"
TARGET_P99_MS = 800.0
# kombu's Redis transport keeps a queue in a list of its name: renamed, no worker sees it.
PARKED_QUEUE = "bench:moderate-parked"
START_SECONDS = 150


@dataclass
class Phase:
    name: str
    latencies_ms: list[float]
    failures: dict[int, int]
    seconds: float
    backlog_before: int | None = None
    backlog_after: int | None = None

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.perspective", description=__doc__)
    parser.add_argument("--requests", type=int, default=120, help="analyze requests per phase")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help="requests in flight (default: as many as analyze-only processes, else 1)",
    )
    parser.add_argument("--backlog", type=int, default=800, help="pending comments in (b)")
    parser.add_argument(
        "--worker-concurrency",
        type=int,
        default=None,
        help="processes of the worker on every queue (default: the cores left over)",
    )
    parser.add_argument(
        "--dedicated",
        type=int,
        default=1,
        help="processes of a second worker, `--queues analyze` (0: none)",
    )
    parser.add_argument("--tiny", action="store_true", help="the 2-layer test checkpoint")
    parser.add_argument("--rounds", type=int, default=4, help="(a) and (b) take turns this often")
    parser.add_argument("--keep", action="store_true", help="keep the processes' logs and db")
    parser.add_argument("--budget", type=float, default=180, help="stop after this many seconds")
    args = parser.parse_args(argv)
    cores = os.cpu_count() or 1
    if args.worker_concurrency is None:
        args.worker_concurrency = max(1, cores - args.dedicated)
    if args.concurrency is None:
        args.concurrency = max(1, args.dedicated)
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    checkpoint, config, model = _checkpoint(tiny=args.tiny)
    work = Path(tempfile.mkdtemp(prefix="perspective-", dir=_bench_dir()))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        redis_url = start_redis(work, processes)
        env = _environment(work, redis_url, checkpoint, config)
        _cli(env, "migrate")
        key = _cli(env, "keys", "create", "bench", "--qps", "100000").strip()
        port = _free_port()
        processes.append(_spawn(env, work, "api", "api", "--port", str(port)))
        processes.append(
            _spawn(env, work, "worker", "worker", "--concurrency", str(args.worker_concurrency))
        )
        if args.dedicated:
            processes.append(
                _spawn(
                    env,
                    work,
                    "analyze-worker",
                    "worker",
                    "--queues",
                    "analyze",
                    "--concurrency",
                    str(args.dedicated),
                )
            )
        base = f"http://127.0.0.1:{port}"
        children = args.worker_concurrency + args.dedicated
        _wait_until_ready(base, redis_url, children, processes, work)
        _say(
            started,
            f"api and worker ready; {args.requests} requests a phase at concurrency "
            f"{args.concurrency}, in {args.rounds} interleaved rounds",
        )
        texts = comments(args.requests, seed=7)
        asyncio.run(_drive(base, key, texts[: 4 * children], args.concurrency))
        client = redis.Redis.from_url(redis_url)
        queued = _queue_backlog(env, args.backlog)
        _park(client)
        _say(started, f"{queued} pending comments stored and queued, parked for (a)")
        alone = Phase("a. analyze alone", [], {}, 0.0)
        behind = Phase("b. analyze behind the backlog", [], {}, 0.0, backlog_before=queued)
        per_round = math.ceil(args.requests / args.rounds)
        for number in range(args.rounds):
            batch = texts[number * per_round : (number + 1) * per_round]
            left = args.budget - (time.monotonic() - started) - 15
            if left <= 0 or not batch:
                break
            asyncio.run(_run(alone, base, key, batch, args.concurrency, left / 2))
            _unpark(client)
            asyncio.run(_run(behind, base, key, batch, args.concurrency, left / 2))
            _park(client)
            _say(started, f"round {number + 1}/{args.rounds}: {len(batch)} requests a phase")
        behind.backlog_after = int(client.llen(MODERATE_QUEUE) + client.llen(PARKED_QUEUE))
        report = _report(
            [alone, behind],
            model=model,
            args=args,
            queued=queued,
            minutes=(time.monotonic() - started) / 60,
            load=(load_before, os.getloadavg()[0]),
        )
    finally:
        for process in reversed(processes):
            _stop(process)
        if args.keep:
            print(f"logs and database kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print("\n" + report)
    (BENCH_DIR / "perspective.md").write_text(report + "\n", encoding="utf-8")


def _checkpoint(*, tiny: bool) -> tuple[str, str, str]:
    from tests.support.checkpoints import TINY, build_checkpoint

    shape = TINY if tiny else SHAPES["original"]
    print(f"building (or reusing) the {shape.name} checkpoint", flush=True)
    built = build_checkpoint(BENCH_DIR / "checkpoints", "original", shape=shape, corpus=SENTENCES)
    if tiny:
        model = "the 2-layer, 32-wide test checkpoint (plumbing only, not model cost)"
    else:
        model = (
            f"random weights in the shape of Detoxify `original` ({shape.name}: {shape.layers} "
            f"layers, hidden {shape.hidden}, vocabulary {shape.vocab_size:,}), int8"
        )
    return str(built.checkpoint), str(built.config_dir), model


def _bench_dir() -> Path:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    return BENCH_DIR


def start_redis(work: Path, processes: list[subprocess.Popen[bytes]]) -> str:
    server = shutil.which("redis-server")
    if server is None:
        raise SystemExit("bench.perspective needs redis-server on PATH (a private instance)")
    port = _free_port()
    processes.append(
        subprocess.Popen(
            [
                server,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=work,
            start_new_session=True,
        )
    )
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if redis.Redis.from_url(url).ping():
                return url
        except redis.RedisError:
            time.sleep(0.1)
    raise SystemExit("the private redis-server did not start")


def _environment(work: Path, redis_url: str, checkpoint: str, config: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODERATION_")}
    env.update(
        MODERATION_DATABASE_URL=f"sqlite:///{work / 'moderation.db'}",
        MODERATION_REDIS_URL=redis_url,
        MODERATION_VAR_DIR=str(work / "var"),
        MODERATION_JWT_SECRET="bench-secret-" + "x" * 32,
        MODERATION_MODEL=checkpoint,
        MODERATION_MODEL_CONFIG=config,
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
    )
    return env


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "workers", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise SystemExit(f"moderation {' '.join(args[:2])} failed: {done.stderr.strip()}")
    return done.stdout


def _spawn(env: dict[str, str], work: Path, name: str, *args: str) -> subprocess.Popen[bytes]:
    with open(work / f"{name}.log", "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "workers", *args],
            env=env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _wait_until_ready(
    base: str, redis_url: str, children: int, processes: list[Any], work: Path
) -> None:
    client = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + START_SECONDS
    print("waiting for the api and the worker's model", flush=True)
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                logs = "".join(p.read_text()[-1500:] for p in work.glob("*.log"))
                raise SystemExit(f"a process exited early:\n{logs}")
        beats = len(list(client.scan_iter(match="moderation:worker:*")))
        try:
            api_up = httpx.get(base + "/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            api_up = False
        if api_up and beats >= children:
            return
        time.sleep(0.5)
    raise SystemExit("the api or the worker did not start in time")


def _queue_backlog(env: dict[str, str], count: int) -> int:
    """`count` pending comments, stored and their moderate tasks sent, as the API would."""
    from service.broker.contract import MODERATE_TASK
    from service.broker.producer import TaskProducer
    from service.db.engine import Database
    from service.db.tables import utcnow
    from service.settings import Settings
    from service.store.comments import create_comment

    settings = Settings(
        database_url=env["MODERATION_DATABASE_URL"], redis_url=env["MODERATION_REDIS_URL"]
    )
    database = Database(settings.effective_database_url)
    producer = TaskProducer(settings)
    try:
        with database.session() as session:
            ids = [
                create_comment(
                    session,
                    article_id="bench",
                    parent_id=None,
                    author_id=f"reader-{number % 97}",
                    author_name=None,
                    text=text,
                    idempotency_key=None,
                    body_hash=None,
                    now=utcnow(),
                ).id
                for number, text in enumerate(comments(count, seed=3))
            ]
        return sum(producer.send(MODERATE_TASK, comment_id) for comment_id in ids)
    finally:
        producer.close()
        database.dispose()


async def _run(
    phase: Phase, base: str, key: str, texts: list[str], concurrency: int, budget: float
) -> None:
    """One round of `phase`; past the budget no new request starts."""
    started = time.perf_counter()
    latencies, failures = await _drive(
        base, key, texts, concurrency, stop_at=time.monotonic() + max(budget, 1)
    )
    phase.latencies_ms.extend(latencies)
    for status, count in failures.items():
        phase.failures[status] = phase.failures.get(status, 0) + count
    phase.seconds += time.perf_counter() - started


def _park(client: redis.Redis) -> None:
    """Hide the backlog from the workers (for (a)) and let the comments in hand finish."""
    if client.exists(MODERATE_QUEUE):
        client.rename(MODERATE_QUEUE, PARKED_QUEUE)
    deadline = time.monotonic() + 10
    while client.hlen("unacked") and time.monotonic() < deadline:
        time.sleep(0.05)


def _unpark(client: redis.Redis) -> None:
    if client.exists(PARKED_QUEUE):
        client.rename(PARKED_QUEUE, MODERATE_QUEUE)


async def _drive(
    base: str, key: str, texts: list[str], concurrency: int, *, stop_at: float = math.inf
) -> tuple[list[float], dict[int, int]]:
    pending = iter(texts)
    latencies: list[float] = []
    failures: dict[int, int] = {}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as http:

        async def send() -> None:
            for text in pending:
                if time.monotonic() > stop_at:
                    return
                body = {
                    "comment": {"text": text},
                    "doNotStore": True,
                    "requestedAttributes": {"TOXICITY": {}},
                    "languages": ["en"],
                }
                began = time.perf_counter()
                response = await http.post(
                    "/v1alpha1/comments:analyze", params={"key": key}, json=body
                )
                if response.status_code == 200:
                    latencies.append((time.perf_counter() - began) * 1000)
                else:
                    failures[response.status_code] = failures.get(response.status_code, 0) + 1

        await asyncio.gather(*(send() for _ in range(concurrency)))
    return latencies, failures


def _report(
    phases: list[Phase],
    *,
    model: str,
    args: argparse.Namespace,
    queued: int,
    minutes: float,
    load: tuple[float, float],
) -> str:
    lines = [
        "## comments:analyze under load (bench/perspective.py)",
        "",
        f"- model: {model}",
        f"- worker: one `moderation worker --concurrency {args.worker_concurrency}` on every "
        "queue (analyze asked first)"
        + (
            f", and `moderation worker --queues analyze --concurrency {args.dedicated}`"
            if args.dedicated
            else ""
        )
        + "; API: one `moderation api` process",
        f"- load: {args.requests} analyze requests per phase at concurrency {args.concurrency}, "
        f"in {args.rounds} rounds taking turns; (b) behind {queued} pending comments queued "
        "for moderation",
        f"- machine: {os.cpu_count()} cores, {platform.machine()}, Python "
        f"{platform.python_version()}; load average {load[0]:.1f} before, {load[1]:.1f} after "
        f"(shared machine); {minutes:.1f} minutes",
        "",
        "| phase | ok | failed | p50 ms | p90 ms | p99 ms | max ms | requests/s | backlog left |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for phase in phases:
        ok = len(phase.latencies_ms)
        failed = ", ".join(f"{n} x {code}" for code, n in sorted(phase.failures.items())) or "0"
        backlog = (
            "-"
            if phase.backlog_before is None
            else f"{phase.backlog_after} of {phase.backlog_before}"
        )
        if ok:
            figures = (
                f"{statistics.median(phase.latencies_ms):.0f} | {phase.percentile(0.9):.0f} | "
                f"{phase.percentile(0.99):.0f} | {max(phase.latencies_ms):.0f}"
            )
        else:
            figures = "- | - | - | -"
        lines.append(
            f"| {phase.name} | {ok} | {failed} | {figures} | {ok / phase.seconds:.1f} | {backlog} |"
        )
    alone, behind = phases
    lines.append("")
    if behind.latencies_ms and alone.latencies_ms:
        ratio = behind.percentile(0.99) / alone.percentile(0.99)
        verdict = "meets" if behind.percentile(0.99) <= TARGET_P99_MS else "MISSES"
        lines.append(
            f"p99 behind the backlog is {ratio:.2f}x p99 alone; it {verdict} the "
            f"{TARGET_P99_MS:.0f} ms target (Coral Talk's default timeout)."
        )
    if behind.backlog_after == 0:
        lines.append(
            "WARNING: the backlog drained before (b) ended, so (b) was partly unloaded; "
            "rerun with a larger --backlog."
        )
    return "\n".join(lines)


def _say(started: float, message: str) -> None:
    print(f"[{time.monotonic() - started:5.1f}s] {message}", flush=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


if __name__ == "__main__":
    main()
