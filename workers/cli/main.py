"""`moderation ...`: one command per action, used alike by people, compose and CI.

The CLI starts every process, so it sits at the top of the import graph (in `workers/`); it
imports the worker code inside the worker commands only, so `moderation api` never loads torch.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

import click
import structlog

from service.errors import ConfigurationError
from service.settings import Settings
from service.version import package_version
from workers.cli.authors import authors
from workers.cli.common import json_logs, load_settings, one_line_errors
from workers.cli.keys import keys
from workers.cli.models import models
from workers.cli.policy import policy_group

_SCHEMA_POLL_SECONDS = 2.0


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    package_version(), "--version", prog_name="moderation", message="%(prog)s %(version)s"
)
def main() -> None:
    """Self-hosted comment moderation for news sites."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@one_line_errors
def dev(host: str, port: int) -> None:
    """API, worker and scheduler on embedded defaults: what `make run` calls."""
    from workers.cli.dev import run_dev

    sys.exit(run_dev(load_settings(), host=host, port=port))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@one_line_errors
def api(host: str, port: int, workers: int) -> None:
    """The HTTP API (production): fails at start if a key, the database or Redis is missing."""
    # Before anything imports prometheus_client: each uvicorn worker process writes its
    # metrics here and /metrics sums them.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="moderation-api-metrics-")
    import uvicorn

    from service import startup

    settings = load_settings()
    startup.check_jwt(settings)
    startup.check_webhook(settings)
    startup.check_policy(settings)
    startup.check_database(settings)
    startup.check_redis(settings)
    uvicorn.run(
        "service.asgi:app",
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=30,
    )


@main.command()
@click.option(
    "--concurrency",
    default=None,
    type=click.IntRange(1, 256),
    help="Worker processes (default: one per CPU this process may run on).",
)
@click.option(
    "--metrics-port",
    default=None,
    type=click.IntRange(1, 65535),
    help="Serve this worker's Prometheus metrics on this port.",
)
@click.option(
    "--queues",
    default=None,
    help="Comma-separated queues to consume (default: all), by short or full name (`analyze` "
    "or `moderation.analyze`): e.g. `analyze` for processes kept for synchronous "
    "Perspective-style calls. `analyze` is always asked first; `moderate` brings `feedback` "
    "with it; each brings its legacy queue (this release only).",
)
@one_line_errors
def worker(concurrency: int | None, metrics_port: int | None, queues: str | None) -> None:
    """A Celery worker that scores and decides comments (production)."""
    from service import startup
    from service.broker.producer import parse_queues

    consumed = parse_queues(queues)
    settings = load_settings()
    startup.check_webhook(settings)
    startup.check_policy(settings)
    startup.check_database(settings)
    startup.check_redis(settings)
    from workers.scoring.locate import check_model_available

    check_model_available(settings)
    json_logs(settings)
    from workers.main import default_concurrency, run_worker

    if concurrency is not None:
        structlog.get_logger(__name__).info(
            "worker.concurrency", concurrency=concurrency, limited_by="--concurrency"
        )
    run_worker(
        settings,
        concurrency=concurrency or default_concurrency(),
        metrics_port=metrics_port,
        queues=consumed,
    )


@main.command()
@one_line_errors
def beat() -> None:
    """The one scheduler: sweeper and webhook outbox relay. Run exactly one."""
    from service import startup

    settings = load_settings()
    startup.check_webhook(settings)
    startup.check_database(settings)
    startup.check_redis(settings)
    json_logs(settings)
    from workers.main import run_beat

    run_beat(settings)


@main.command()
@click.option(
    "--check",
    is_flag=True,
    help="Change nothing: exit 0 if the schema is at head, else 3 (what an init container runs "
    "before the API, workers and beat start).",
)
@click.option(
    "--wait",
    "wait_seconds",
    default=0,
    show_default=True,
    type=click.IntRange(0, 86_400),
    help="With --check: keep checking for up to this many seconds while the database is "
    "unreachable or behind, e.g. while the migration job runs.",
)
@one_line_errors
def migrate(check: bool, wait_seconds: int) -> None:
    """Bring the database schema up to date (Alembic upgrade head)."""
    from service.db.engine import Database
    from service.db.migrate import upgrade_head

    if wait_seconds and not check:
        raise click.UsageError("--wait goes with --check")
    settings = load_settings()
    if check:
        _wait_for_schema_at_head(settings, wait_seconds)
        click.echo("database is up to date", err=True)
        return
    database = Database(settings.effective_database_url)
    try:
        upgrade_head(database)
    except Exception as exc:
        raise ConfigurationError(f"migration failed: {type(exc).__name__}: {exc}") from exc
    finally:
        database.dispose()
    click.echo("database is up to date", err=True)


def _wait_for_schema_at_head(settings: Settings, wait_seconds: int) -> None:
    """The same check the API, workers and beat make at start; while waiting, a database that is
    not there yet counts like one behind, since both are what a migration job still running
    looks like."""
    from service import startup

    deadline = time.monotonic() + wait_seconds
    announced = False
    while True:
        try:
            startup.check_database(settings)
        except ConfigurationError as exc:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise
            if not announced:
                click.echo(f"moderation: waiting up to {wait_seconds} s: {exc}", err=True)
                announced = True
            time.sleep(min(_SCHEMA_POLL_SECONDS, remaining))
        else:
            return


@main.command()
@click.argument("sub")
@click.option("--moderator", is_flag=True, help="Grant the moderator role.")
@click.option(
    "--ttl",
    default=3600,
    show_default=True,
    type=click.IntRange(1, 31_536_000),
    help="Seconds until the token expires.",
)
@click.option("--name", default=None, help="Display name claim.")
@one_line_errors
def token(sub: str, moderator: bool, ttl: int, name: str | None) -> None:
    """Print a signed JWT for SUB (development and tests)."""
    from service.http.tokens import issue_token

    click.echo(issue_token(load_settings(), sub, moderator=moderator, ttl=ttl, name=name))


@main.command()
@click.option(
    "--days",
    default=None,
    type=click.IntRange(1, 36_500),
    help="Override MODERATION_RETENTION_DAYS for this run.",
)
@one_line_errors
def purge(days: int | None) -> None:
    """Erase the text of decided comments older than the retention period, now."""
    from service.db.engine import Database
    from service.retention import purge_expired_text

    settings = load_settings()
    erased = purge_expired_text(
        Database(settings.effective_database_url), retention_days=days or settings.retention_days
    )
    click.echo(f"erased the text of {erased} comment(s)", err=True)


@main.group()
def webhooks() -> None:
    """The webhook outbox."""


@webhooks.command("redeliver")
@click.option("--event", "event_id", default=None, help="One event id (default: every failed).")
@one_line_errors
def webhooks_redeliver(event_id: str | None) -> None:
    """Send failed webhook events again."""
    from service.broker.producer import TaskProducer
    from service.db.engine import Database
    from service.webhooks import redeliver_failed

    settings = load_settings()
    count = redeliver_failed(
        Database(settings.effective_database_url), TaskProducer(settings), event_id=event_id
    )
    click.echo(f"{count} event(s) queued for delivery", err=True)


main.add_command(models)
main.add_command(keys)
main.add_command(policy_group)
main.add_command(authors)
