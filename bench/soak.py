"""Steady load through the whole service for a while: does anything grow? `python -m bench.soak`.

Real processes on 127.0.0.1: `moderation api`, `moderation worker` (one process per core),
`moderation beat`, a Redis of its own (`redis-server` on a free port, no persistence),
PostgreSQL (a fresh database; `--sqlite` for the embedded default) and a webhook receiver.
Comments arrive at a steady rate, each from its own reader, open loop (a slow answer does not
slow the arrivals). After a warm-up, the soak measures for `--minutes` and prints:

  throughput (accepted and decided comments/s), p50/p99 accept latency (the POST round trip)
  and accept->decision latency (the decision's time minus the comment's), answers by status,
  webhook deliveries, and RSS of the API and the workers at the start (after the warm-up) and
  at the end: PASS when none grew by 10% or more, else FAIL.

Not a test: timing belongs here. Every loop is bounded; the whole run stops by itself after
start-up (at most 5 minutes), warm-up, `--minutes` and a drain of at most 2 minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import psutil
import redis

from bench.comments import SENTENCES, comments
from bench.scoring import BENCH_DIR
from bench.shapes import SHAPES

REPO = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN = os.environ.get(
    "MODERATION_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
SECRET = "soak-secret-that-is-long-enough-0123456789"
WEBHOOK_SECRET = "whsec_" + "c29hay1zZWNyZXQtZm9yLWJlbmNoLW9ubHk="
GROWTH_LIMIT = 0.10
START_SECONDS = 300
DRAIN_SECONDS = 120
MAX_IN_FLIGHT = 200
REPORT_EVERY_SECONDS = 30


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--minutes", type=float, default=5.0, help="measured load (default 5)")
    parser.add_argument("--rate", type=float, default=10.0, help="comments per second")
    parser.add_argument("--warmup", type=float, default=30.0, help="seconds before measuring")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes")
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    parser.add_argument(
        "--bert-base",
        action="store_true",
        help="random weights in BERT-base's shape (bench/shapes.py) instead of the tiny model",
    )
    args = parser.parse_args(argv)
    if not 0 < args.minutes <= 24 * 60 or not 0 < args.rate <= 1000:
        parser.error("--minutes must be in (0, 1440] and --rate in (0, 1000]")
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    checkpoint, config, model = _checkpoint(bert_base=args.bert_base)
    database = "SQLite" if args.sqlite else "PostgreSQL"
    print(
        f"soak: {args.minutes:g} min at {args.rate:g} comments/s after {args.warmup:g} s of "
        f"warm-up; {database}; {model}; {args.workers} worker process(es)",
        flush=True,
    )
    with running_service(checkpoint, config, workers=args.workers, sqlite=args.sqlite) as svc:
        result = asyncio.run(soak(svc, args))
    report(result)


def _checkpoint(*, bert_base: bool) -> tuple[str, str, str]:
    from workers.scoring.synthetic import TINY, build_checkpoint

    shape = SHAPES["original"] if bert_base else TINY
    built = build_checkpoint(BENCH_DIR / "checkpoints", "original", shape=shape, corpus=SENTENCES)
    model = (
        "random weights in BERT-base's shape (12 layers, hidden 768)"
        if bert_base
        else "tiny random checkpoint (2 layers, hidden 32)"
    )
    return str(built.checkpoint), str(built.config_dir), model


@dataclass
class Service:
    base_url: str
    database_url: str
    tmp: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    deliveries: list[str] = field(default_factory=list)

    def rss_mb(self) -> dict[str, float]:
        """Resident memory now: the API, the worker parent, and its pool children summed."""
        found = {"api": _rss(psutil.Process(self.processes["api"].pid))}
        parent = psutil.Process(self.processes["worker"].pid)
        found["worker parent"] = _rss(parent)
        found["worker children"] = sum(_rss(child) for child in parent.children())
        return found

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                log = _log_path(name).read_text(errors="replace")[-2000:]
                raise SystemExit(f"{name} exited with {process.returncode}:\n{log}")


def _log_path(name: str) -> Path:
    return BENCH_DIR / f"soak-{name}.log"


def _rss(process: psutil.Process) -> float:
    return float(process.memory_info().rss) / 2**20


@contextlib.contextmanager
def running_service(
    checkpoint: str, config: str, *, workers: int, sqlite: bool
) -> Iterator[Service]:
    tmp = Path(tempfile.mkdtemp(prefix="soak-", dir=BENCH_DIR))
    redis_port, api_port = _free_port(), _free_port()
    redis_server = _start_redis(tmp, redis_port)
    receiver = _Receiver()
    database_name = None if sqlite else f"soak_{uuid.uuid4().hex[:10]}"
    database_url = f"sqlite:///{tmp / 'moderation.db'}"
    if database_name is not None:
        import psycopg

        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{database_name}"')
        base = POSTGRES_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
        database_url = f"{base}/{database_name}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODERATION_")}
    env.update(
        MODERATION_VAR_DIR=str(tmp),
        MODERATION_DATABASE_URL=database_url,
        MODERATION_REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
        MODERATION_JWT_SECRET=SECRET,
        MODERATION_MODEL=checkpoint,
        MODERATION_MODEL_CONFIG=config,
        MODERATION_WEBHOOK_URL=receiver.url,
        MODERATION_WEBHOOK_SECRET=WEBHOOK_SECRET,
        MODERATION_LOG_LEVEL="WARNING",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
    )
    svc = Service(f"http://127.0.0.1:{api_port}", database_url, tmp, deliveries=receiver.ids)
    try:
        subprocess.run(
            [sys.executable, "-m", "workers", "migrate"],
            env=env,
            cwd=REPO,
            check=True,
            capture_output=True,
        )
        for name, args in (
            ("api", ["api", "--host", "127.0.0.1", "--port", str(api_port)]),
            ("worker", ["worker", "--concurrency", str(workers)]),
            ("beat", ["beat"]),
        ):
            with open(_log_path(name), "wb") as log:
                svc.processes[name] = subprocess.Popen(
                    [sys.executable, "-m", "workers", *args],
                    env=env,
                    cwd=REPO,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        _wait_ready(svc, redis_port, workers)
        yield svc
    finally:
        for process in svc.processes.values():
            _stop(process)
        redis_server.terminate()
        redis_server.wait(timeout=10)
        receiver.close()
        if database_name is not None:
            import psycopg

            with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{database_name}" WITH (FORCE)')
        shutil.rmtree(tmp, ignore_errors=True)


def _wait_ready(svc: Service, redis_port: int, workers: int) -> None:
    client = redis.Redis(port=redis_port, socket_connect_timeout=1)
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        svc.check_alive()
        with contextlib.suppress(httpx.TransportError, redis.RedisError):
            loaded = len(list(client.scan_iter(match="moderation:worker:*")))
            if loaded >= workers and httpx.get(f"{svc.base_url}/healthz", timeout=2).is_success:
                return
        time.sleep(0.5)
    raise SystemExit(f"the service did not start in time; see {_log_path('*')}")


def _start_redis(tmp: Path, port: int) -> subprocess.Popen[bytes]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed")
    args = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(
        [binary, *args, "--dir", str(tmp)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    client = redis.Redis(port=port, socket_connect_timeout=0.5)
    for _ in range(100):
        with contextlib.suppress(redis.RedisError):
            if client.ping():
                return process
        time.sleep(0.05)
    process.kill()
    raise SystemExit("redis-server did not answer")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


class _Receiver:
    """The site's webhook endpoint: records each `webhook-id` and answers 204."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        ids = self.ids

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", 0)))
                ids.append(self.headers.get("webhook-id", ""))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Load:
    """What the load generator saw: the answers, the accept latencies, the accepted ids, and
    how many comments it sent later than their turn (the machine could not keep the rate)."""

    accept_seconds: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    ids: list[str] = field(default_factory=list)
    late_starts: int = 0


async def soak(svc: Service, args: argparse.Namespace) -> dict[str, Any]:
    from service.http.tokens import issue_token
    from service.settings import Settings

    settings = Settings(jwt_secret=SECRET)  # type: ignore[arg-type]
    texts = comments(2000, seed=23)
    warmup, measured = Load(), Load()
    interval = 1.0 / args.rate
    in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
    tasks: set[asyncio.Task[None]] = set()

    async def post(client: httpx.AsyncClient, n: int, into: Load) -> None:
        token = issue_token(settings, f"soak-reader-{n}", ttl=24 * 3600)
        began = time.perf_counter()
        try:
            response = await client.post(
                "/v1/comments",
                json={"article_id": f"story-{n % 50}", "text": texts[n % len(texts)]},
                headers={"Authorization": f"Bearer {token}"},
            )
        except httpx.HTTPError as exc:
            key = type(exc).__name__
        else:
            key = str(response.status_code)
            if response.status_code in (200, 202):
                into.ids.append(response.json()["id"])
                into.accept_seconds.append(time.perf_counter() - began)
        finally:
            in_flight.release()
        into.statuses[key] = into.statuses.get(key, 0) + 1

    limits = httpx.Limits(max_connections=MAX_IN_FLIGHT, max_keepalive_connections=50)
    load_before = os.getloadavg()[0]
    async with httpx.AsyncClient(base_url=svc.base_url, timeout=30, limits=limits) as client:
        started = time.perf_counter()
        measure_from = started + args.warmup
        stop_at = measure_from + args.minutes * 60
        rss_start: dict[str, float] = {}
        next_report = measure_from + REPORT_EVERY_SECONDS
        n = 0
        while (now := time.perf_counter()) < stop_at:
            if not rss_start and now >= measure_from:
                rss_start = svc.rss_mb()
                print(f"  warmed up: {_rss_text(rss_start)}", flush=True)
            if now >= next_report:
                svc.check_alive()
                elapsed = int(now - measure_from)
                print(
                    f"  {elapsed // 60}:{elapsed % 60:02d}  accepted {len(measured.ids)}  "
                    f"{_rss_text(svc.rss_mb())}",
                    flush=True,
                )
                next_report += REPORT_EVERY_SECONDS
            due = started + n * interval
            if due > now:
                await asyncio.sleep(due - now)
            elif now - due > interval:
                measured.late_starts += 1
            await in_flight.acquire()
            into = warmup if due < measure_from else measured
            task = asyncio.create_task(post(client, n, into))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            n += 1
        rss_end = svc.rss_mb()
        ended, ended_at = time.perf_counter(), datetime.now(UTC)
        if tasks:
            await asyncio.wait(tasks, timeout=60)
    decided = await asyncio.to_thread(_wait_decided, svc, warmup.ids + measured.ids)
    deadline = time.monotonic() + DRAIN_SECONDS
    while len(set(svc.deliveries)) < len(decided) and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
    measured_ids = set(measured.ids)
    measured_decided = [d for d in decided if d["id"] in measured_ids]
    return {
        "args": args,
        "seconds": ended - measure_from,
        "decided_in_window": sum(1 for d in measured_decided if d["at"] <= ended_at),
        "load_average": (load_before, os.getloadavg()[0]),
        "load": measured,
        "decided": measured_decided,
        "undecided": len(warmup.ids) + len(measured.ids) - len(decided),
        "all_decided": len(decided),
        "deliveries": len(set(svc.deliveries)),
        "duplicate_deliveries": len(svc.deliveries) - len(set(svc.deliveries)),
        "rss_start": rss_start,
        "rss_end": rss_end,
    }


def _wait_decided(svc: Service, ids: list[str]) -> list[dict[str, Any]]:
    """Until every accepted comment is decided (at most DRAIN_SECONDS)."""
    from sqlalchemy import select

    from service.db.engine import Database
    from service.db.tables import Comment

    database = Database(svc.database_url)
    deadline = time.monotonic() + DRAIN_SECONDS
    try:
        while True:
            with database.session() as session:
                rows = session.execute(
                    select(Comment.id, Comment.created_at, Comment.decided_at).where(
                        Comment.decided_at.is_not(None)
                    )
                ).all()
            if len(rows) >= len(ids) or time.monotonic() > deadline:
                break
            time.sleep(1)
    finally:
        database.dispose()
    wanted = set(ids)
    return [
        {"id": cid, "latency": (decided - created).total_seconds(), "at": decided}
        for cid, created, decided in rows
        if cid in wanted
    ]


def _rss_text(rss: dict[str, float]) -> str:
    return "  ".join(f"{name} {mb:.0f} MB" for name, mb in rss.items())


def _percentile(values: list[float], q: int) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def report(result: dict[str, Any]) -> None:
    args, load, decided = result["args"], result["load"], result["decided"]
    seconds = result["seconds"]
    latencies = [d["latency"] for d in decided]
    print("\n== Soak ==")
    print(f"measured {seconds / 60:.1f} min at a target of {args.rate:g} comments/s")
    print(
        f"throughput: {len(load.ids) / seconds:.2f} comments/s accepted, "
        f"{result['decided_in_window'] / seconds:.2f}/s decided while the load ran "
        f"({result['decided_in_window']} of {len(load.ids)}; the rest during the drain)"
    )
    before, after = result["load_average"]
    print(f"machine: {os.cpu_count()} cores, load average {before:.1f} -> {after:.1f}")
    print(f"answers: {dict(sorted(load.statuses.items()))}; sent late: {load.late_starts}")
    print(
        f"accept latency: p50 {_percentile(load.accept_seconds, 50) * 1000:.0f} ms, "
        f"p99 {_percentile(load.accept_seconds, 99) * 1000:.0f} ms"
    )
    print(
        f"accept->decision: p50 {_percentile(latencies, 50) * 1000:.0f} ms, "
        f"p99 {_percentile(latencies, 99) * 1000:.0f} ms"
    )
    print(
        f"webhooks delivered: {result['deliveries']} for {result['all_decided']} decisions "
        f"(duplicates by webhook-id: {result['duplicate_deliveries']}); "
        f"undecided after the drain: {result['undecided']}"
    )
    print(f"\n{'RSS (MB)':<18}{'start':>8}{'end':>8}{'growth':>9}")
    verdict = True
    for name, start in result["rss_start"].items():
        end = result["rss_end"][name]
        growth = (end - start) / start if start else 0.0
        ok = growth < GROWTH_LIMIT
        verdict = verdict and ok
        print(f"{name:<18}{start:8.1f}{end:8.1f}{growth * 100:+8.1f}%  {'PASS' if ok else 'FAIL'}")
    healthy = (
        result["undecided"] == 0
        and result["duplicate_deliveries"] == 0
        and result["deliveries"] == result["all_decided"]
    )
    print(
        f"\nmemory: {'PASS' if verdict else 'FAIL'} (growth under {GROWTH_LIMIT:.0%} each); "
        f"nothing lost: {'PASS' if healthy else 'FAIL'}"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


if __name__ == "__main__":
    main()
