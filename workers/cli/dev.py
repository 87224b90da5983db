"""`moderation dev`: the whole service on one machine with nothing else installed.

SQLite under var/, Redis if it answers (else a filesystem broker under var/, announced),
a JWT secret saved in var/jwt-secret and an erase key in var/erase-key (unless set), and the
API, one worker and the scheduler run as child processes: the API process never loads torch.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time

import redis
import structlog

from service.authors.erase_key import ERASE_KEY_ENV, ensure_dev_erase_key
from service.db.engine import Database
from service.db.migrate import upgrade_head
from service.http.tokens import ensure_dev_secret, issue_token
from service.logging import configure_logging
from service.settings import Settings

log = structlog.get_logger(__name__)

_LABELS = {"api": "the API", "worker": "the worker", "beat": "beat"}
_POLL_SECONDS = 0.2
_STOP_SECONDS = 30.0
"""How long a child may take to stop (the worker's warm shutdown) before it is killed."""


def run_dev(settings: Settings, *, host: str, port: int) -> int:
    configure_logging(settings.log_level, json=False)
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    env = os.environ
    env["MODERATION_VAR_DIR"] = str(settings.var_dir.resolve())
    env["MODERATION_LOG_JSON"] = "false"
    if settings.database_url is None:
        env["MODERATION_DATABASE_URL"] = settings.effective_database_url
    if settings.jwt_secret is None and not (settings.jwt_public_key or settings.jwks_url):
        env["MODERATION_JWT_SECRET"] = ensure_dev_secret(settings)
    if settings.erase_key is None:
        env[ERASE_KEY_ENV] = ensure_dev_erase_key(settings)
    if not settings.broker_url and not _redis_answers(settings.redis_url):
        # Empty in the environment, the `_FILE` spellings too: a `.env` can't bring Redis back.
        env["MODERATION_REDIS_URL"] = env["MODERATION_REDIS_URL_FILE"] = ""
        env["MODERATION_BROKER_URL"] = "filesystem://"
        env["MODERATION_BROKER_URL_FILE"] = ""
        log.warning(
            "dev.no_redis",
            redis_url=settings.redis_url,
            broker=f"filesystem:// under {settings.var_dir / 'broker'}",
            note="no Redis: rate limits, Prefer: wait notifications and heartbeats are off",
        )
    child_settings = Settings()
    database = Database(child_settings.effective_database_url)
    upgrade_head(database)
    database.dispose()

    children = [
        _spawn("api", ["api", "--host", host, "--port", str(port)], env),
        _spawn("worker", ["worker", "--concurrency", "1"], env),
        _spawn("beat", ["beat"], env),
    ]
    _print_welcome(child_settings, host, port)
    return _supervise(children)


def _redis_answers(url: str | None) -> bool:
    if not url:
        return False
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def _spawn(
    name: str, args: list[str], env: os._Environ[str]
) -> tuple[str, subprocess.Popen[bytes]]:
    command = [sys.executable, "-m", "workers", *args]
    process = subprocess.Popen(command, env=env)  # noqa: S603 - our own CLI
    log.info(
        "dev.started", process=name, pid=process.pid, command=shlex.join(["moderation", *args])
    )
    return name, process


def _print_welcome(settings: Settings, host: str, port: int) -> None:
    token = issue_token(settings, "reader-1", ttl=24 * 3600)
    moderator = issue_token(settings, "moderator-1", moderator=True, ttl=24 * 3600)
    base = f"http://{host}:{port}"
    print(
        f"""
comment-moderation is starting on {base}

Post a comment and wait up to 10 s for its decision:

  curl -sS -X POST {base}/v1/comments \\
    -H 'Authorization: Bearer {token}' \\
    -H 'Content-Type: application/json' \\
    -H 'Prefer: wait=10' \\
    -d '{{"article_id": "demo-article", "text": "Thanks for this clear reporting."}}'

A moderator token (for /v1/moderation/... and the page at {base}/moderate): {moderator}
Tokens: `moderation token SUB [--moderator]`. Stop with Ctrl-C.
""",
        flush=True,
    )


def _supervise(children: list[tuple[str, subprocess.Popen[bytes]]]) -> int:
    """Run until Ctrl-C (exit 0) or until the first child exits. A dev service whose worker
    has died still answers on its port while no comment ever gets a decision, so any child's
    exit stops the others and ends the command non-zero, with one line saying which and how."""
    stopping = False

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    running = dict(children)
    exited: tuple[str, int] | None = None
    while exited is None and not stopping:
        time.sleep(_POLL_SECONDS)
        exited = _first_exited(running)
    exit_code = 0
    # Ctrl-C reaches every child too: one that stops first is stopping, not failing.
    if exited is not None and not stopping:
        name, code = exited
        del running[name]
        others = " and ".join(_LABELS[other] for other in running)
        print(
            f"moderation dev: {_LABELS[name]} {_how_it_ended(code)}; stopping {others}",
            file=sys.stderr,
            flush=True,
        )
        exit_code = code if code > 0 else 1
    for process in running.values():
        process.send_signal(signal.SIGTERM)
    for name, process in running.items():
        try:
            process.wait(timeout=_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            log.warning("dev.child_killed", process=name)
            process.kill()
            process.wait()
    return exit_code


def _first_exited(running: dict[str, subprocess.Popen[bytes]]) -> tuple[str, int] | None:
    for name, process in running.items():
        code = process.poll()
        if code is not None:
            return name, code
    return None


def _how_it_ended(code: int) -> str:
    if code < 0:
        return f"was killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"
