"""`moderation keys ...`: API keys of the Perspective-compatible API."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from service.perspective.keys import DEFAULT_QPS
from workers.cli.common import load_settings, one_line_errors

if TYPE_CHECKING:
    from service.db.engine import Database


@click.group()
def keys() -> None:
    """API keys for the Perspective-compatible API (/v1alpha1/comments:analyze?key=...)."""


def _keys_database() -> Database:
    """The database, with log lines (key created, revoked) on stderr: stdout is the key."""
    from service.db.engine import Database
    from service.logging import configure_logging

    settings = load_settings()
    configure_logging(settings.log_level, json=settings.log_json)
    return Database(settings.effective_database_url)


@keys.command("create")
@click.argument("name")
@click.option(
    "--qps",
    default=DEFAULT_QPS,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="Requests a second this key may make (a 1-second window).",
)
@one_line_errors
def keys_create(name: str, qps: int) -> None:
    """Make a key called NAME and print it, once: only its SHA-256 is kept."""
    from service.db.tables import utcnow
    from service.perspective.keys import create_key

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
    from service.perspective.keys import list_keys

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
    from service.db.tables import utcnow
    from service.perspective.keys import revoke_key

    database = _keys_database()
    try:
        revoke_key(database, name=name, now=utcnow())
    finally:
        database.dispose()
    click.echo(f"key {name!r} revoked", err=True)
