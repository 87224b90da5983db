"""`moderation ...`: one command per action, used alike by people, compose and CI.

The CLI is the composition root, so it alone may reach into `workers/`; it does so inside
the worker commands only, and the API never loads torch.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from service.errors import ConfigurationError, ModerationError
from service.settings import Settings

if TYPE_CHECKING:
    from service.db import Database

F = TypeVar("F", bound=Callable[..., Any])
EXIT_CONFIGURATION = 2


def one_line_errors(func: F) -> F:
    """A configuration problem ends the command with one clear line and exit code 2."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ModerationError as exc:
            click.echo(f"moderation: {exc}", err=True)
            sys.exit(EXIT_CONFIGURATION)

    return wrapper  # type: ignore[return-value]


def load_settings() -> Settings:
    try:
        return Settings()
    except ValueError as exc:
        raise ConfigurationError(f"invalid settings: {exc}".replace("\n", " ")) from exc


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Self-hosted comment moderation for news sites."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@one_line_errors
def dev(host: str, port: int) -> None:
    """API, worker and scheduler on embedded defaults: what `make run` calls."""
    from service.devserver import run_dev

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
    help="Comma-separated queues to consume (default: all): e.g. `analyze` for processes "
    "kept for synchronous Perspective-style calls. `analyze` is always asked first.",
)
@one_line_errors
def worker(concurrency: int | None, metrics_port: int | None, queues: str | None) -> None:
    """A Celery worker that scores and decides comments (production)."""
    from service import startup
    from service.queue import parse_queues

    consumed = parse_queues(queues)
    settings = load_settings()
    startup.check_webhook(settings)
    startup.check_policy(settings)
    startup.check_database(settings)
    startup.check_redis(settings)
    from workers.scoring import check_model_available

    check_model_available(settings)
    _json_logs(settings)
    from workers.main import default_concurrency, run_worker

    run_worker(
        settings,
        concurrency=concurrency or default_concurrency(),
        metrics_port=metrics_port,
        queues=consumed,
    )


def _json_logs(settings: Settings) -> None:
    """Logs as JSON lines from here on, like the API's: before Celery starts, so nothing the
    process logs first is cached by structlog with its plain-text defaults."""
    from service.logging import configure_logging

    configure_logging(settings.log_level, json=settings.log_json)


@main.command()
@one_line_errors
def beat() -> None:
    """The one scheduler: sweeper and webhook outbox relay. Run exactly one."""
    from service import startup

    settings = load_settings()
    startup.check_webhook(settings)
    startup.check_database(settings)
    startup.check_redis(settings)
    _json_logs(settings)
    from workers.main import run_beat

    run_beat(settings)


@main.command()
@one_line_errors
def migrate() -> None:
    """Bring the database schema up to date (Alembic upgrade head)."""
    from service.db import Database
    from service.migrate import upgrade_head

    settings = load_settings()
    database = Database(settings.effective_database_url)
    try:
        upgrade_head(database)
    except Exception as exc:
        raise ConfigurationError(f"migration failed: {type(exc).__name__}: {exc}") from exc
    finally:
        database.dispose()
    click.echo("database is up to date", err=True)


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
    from service.tokens import issue_token

    click.echo(issue_token(load_settings(), sub, moderator=moderator, ttl=ttl, name=name))


@main.group()
def models() -> None:
    """Model checkpoints."""


@models.command("fetch")
@click.argument("variant")
@click.option("--to", "dest", required=True, type=click.Path(file_okay=False, path_type=Path))
@one_line_errors
def models_fetch(variant: str, dest: Path) -> None:
    """Download VARIANT's checkpoint and config into DIR, for offline use.

    Prints the two settings to export; `eval "$(moderation models fetch ...)"` sets them.
    """
    from service.logging import configure_logging
    from workers.model_fetch import fetch_model

    settings = load_settings()
    # Log lines on stderr: stdout is the two lines to eval. httpx's line per request would
    # bury the command's own (and its one-line error).
    configure_logging(settings.log_level, json=settings.log_json)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    path = fetch_model(
        variant,
        dest,
        base_url=settings.model_base_url,
        hf_base_url=settings.model_hf_base_url,
        # A bar redrawn with carriage returns is noise in a Docker build log or a CI job's.
        progress=sys.stderr.isatty(),
    )
    click.echo(f"export MODERATION_MODEL={path.resolve()}")
    click.echo(f"export MODERATION_MODEL_CONFIG={(path.parent / 'config').resolve()}")


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
    from service.db import Database
    from workers.retention import purge_expired_text

    settings = load_settings()
    erased = purge_expired_text(
        Database(settings.effective_database_url), retention_days=days or settings.retention_days
    )
    click.echo(f"erased the text of {erased} comment(s)", err=True)


@models.command("demo")
@click.option("--to", "dest", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--variant",
    default="original",
    show_default=True,
    type=click.Choice(["original", "unbiased", "multilingual", "original-small", "unbiased-small"]),
)
@one_line_errors
def models_demo(dest: Path, variant: str) -> None:
    """Build a tiny RANDOM-weight checkpoint to try the pipeline offline (it does not moderate).

    Prints the two settings to export; `eval "$(moderation models demo --to DIR)"` sets them.
    """
    from workers.scoring.synthetic import build_checkpoint

    built = build_checkpoint(dest.resolve(), variant)
    click.echo(
        "# random weights: every decision is meaningless; for trying the pipeline only", err=True
    )
    click.echo(f"export MODERATION_MODEL={built.checkpoint}")
    click.echo(f"export MODERATION_MODEL_CONFIG={built.config_dir}")


@main.group()
def keys() -> None:
    """API keys for the Perspective-compatible API (/v1alpha1/comments:analyze?key=...)."""


def _keys_database() -> Database:
    """The database, with log lines (key created, revoked) on stderr: stdout is the key."""
    from service.db import Database
    from service.logging import configure_logging

    settings = load_settings()
    configure_logging(settings.log_level, json=settings.log_json)
    return Database(settings.effective_database_url)


@keys.command("create")
@click.argument("name")
@click.option(
    "--qps",
    default=10,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="Requests a second this key may make (a 1-second window).",
)
@one_line_errors
def keys_create(name: str, qps: int) -> None:
    """Make a key called NAME and print it, once: only its SHA-256 is kept."""
    from service.models import utcnow
    from service.perspective_keys import create_key

    database = _keys_database()
    try:
        key = create_key(database, name=name, qps=qps, now=utcnow())
    finally:
        database.dispose()
    click.echo(key)
    click.echo(f"key {name!r} created ({qps} qps); it is shown only this once", err=True)


@keys.command("list")
@one_line_errors
def keys_list() -> None:
    """Every key's name, quota, creation and revocation (never the key itself)."""
    from service.perspective_keys import list_keys

    database = _keys_database()
    try:
        listed = list_keys(database)
    finally:
        database.dispose()
    click.echo(f"{'name':<32} {'qps':>6}  {'created':<20} revoked")
    for key in listed:
        revoked = key.revoked_at.strftime("%Y-%m-%dT%H:%M:%SZ") if key.revoked_at else "-"
        created = key.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        click.echo(f"{key.name:<32} {key.qps:>6}  {created:<20} {revoked}")


@keys.command("revoke")
@click.argument("name")
@one_line_errors
def keys_revoke(name: str) -> None:
    """Revoke the key called NAME: its next request gets 403."""
    from service.models import utcnow
    from service.perspective_keys import revoke_key

    database = _keys_database()
    try:
        revoke_key(database, name=name, now=utcnow())
    finally:
        database.dispose()
    click.echo(f"key {name!r} revoked", err=True)


@main.group()
def webhooks() -> None:
    """The webhook outbox."""


@webhooks.command("redeliver")
@click.option("--event", "event_id", default=None, help="One event id (default: every failed).")
@one_line_errors
def webhooks_redeliver(event_id: str | None) -> None:
    """Send failed webhook events again."""
    from service.db import Database
    from service.queue import TaskProducer
    from workers.webhooks import redeliver_failed

    settings = load_settings()
    count = redeliver_failed(
        Database(settings.effective_database_url), TaskProducer(settings), event_id=event_id
    )
    click.echo(f"{count} event(s) queued for delivery", err=True)


@main.group(name="policy")
def policy_group() -> None:
    """The standards-board policy file."""


@policy_group.command("check")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@one_line_errors
def policy_check(file: Path) -> None:
    """Validate FILE and print a summary, as the configured MODERATION_MODEL sees it."""
    from policy import PolicyError, load_policy
    from service.policies import configured_model_labels
    from service.policy_summary import summarize
    from workers.scoring.variants import variant_of

    settings = load_settings()
    labels = configured_model_labels(settings)
    try:
        loaded = load_policy(file, model_labels=labels)
    except PolicyError as exc:
        raise ConfigurationError(str(exc)) from exc
    click.echo(f"{file}: valid, version {loaded.version}")
    model = variant_of(settings.model) or "custom"
    for line in summarize(loaded, model=model, model_labels=labels):
        click.echo(line)
    for warning in loaded.warnings:
        click.echo(f"warning: {warning}")


SINCE_HELP = "How far back: 30d, 12h, 90m, 2w, or an ISO 8601 moment."


@policy_group.command("replay")
@click.argument("candidate", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--since", default="30d", show_default=True, help=SINCE_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@one_line_errors
def policy_replay(candidate: Path, since: str, as_json: bool) -> None:
    """Re-decide stored comments under CANDIDATE, with their stored scores and context."""
    from service.tuning_cli import run_replay

    run_replay(load_settings(), candidate, since=since, as_json=as_json)


@policy_group.command("shadow-report")
@click.option("--since", default="7d", show_default=True, help=SINCE_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@one_line_errors
def policy_shadow_report(since: str, as_json: bool) -> None:
    """Compare MODERATION_SHADOW_POLICY's recorded decisions with the real ones."""
    from service.tuning_cli import run_shadow_report

    run_shadow_report(load_settings(), since=since, as_json=as_json)
