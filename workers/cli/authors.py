"""`moderation authors ...`: an author's data, as the API's export and erase routes give it.

The CLI acts as moderator `cli:<login name>` in the audit. Erasing needs MODERATION_ERASE_KEY,
or the key `moderation dev` saved in var/erase-key.
"""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import click

from workers.cli.common import load_settings, one_line_errors

if TYPE_CHECKING:
    from service.db.engine import Database
    from service.http.auth import Principal
    from service.settings import Settings


@click.group()
def authors() -> None:
    """An author's data: export it, or erase it."""


def _database(settings: Settings) -> Database:
    """The database, with log lines on stderr: stdout is the document or the result."""
    from service.db.engine import Database
    from service.logging import configure_logging

    configure_logging(settings.log_level, json=settings.log_json)
    return Database(settings.effective_database_url)


def _cli_moderator() -> Principal:
    from service.http.auth import MODERATOR_ROLE, Principal

    try:
        login = getpass.getuser()
    except (KeyError, OSError):  # no login name (a container's bare uid)
        login = "unknown"
    return Principal(sub=f"cli:{login}", roles=frozenset({MODERATOR_ROLE}))


def _check_author_id(author_id: str) -> None:
    from service.authors.data_schemas import MAX_AUTHOR_ID_CHARS
    from service.errors import ConfigurationError

    if not (0 < len(author_id) <= MAX_AUTHOR_ID_CHARS and author_id.isprintable()):
        raise ConfigurationError("an author id is 1-255 printable characters")


@authors.command("export")
@click.argument("author_id")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the document to this file (default: stdout).",
)
@one_line_errors
def authors_export(author_id: str, out: Path | None) -> None:
    """Everything stored about AUTHOR_ID, as one JSON document (audited)."""
    from service.authors.export import audit_export, export_chunks
    from service.db.tables import utcnow

    _check_author_id(author_id)
    database = _database(load_settings())
    try:
        now = utcnow()
        audit_export(database, moderator=_cli_moderator(), author_id=author_id, now=now)
        if out is None:
            _write(sys.stdout.buffer, export_chunks(database, author_id=author_id, now=now))
            sys.stdout.buffer.write(b"\n")
        else:
            with out.open("wb") as handle:
                _write(handle, export_chunks(database, author_id=author_id, now=now))
    finally:
        database.dispose()
    if out is not None:
        click.echo(f"exported author {author_id!r} to {out}", err=True)


def _write(handle: BinaryIO, chunks: Iterable[bytes]) -> None:
    for chunk in chunks:
        handle.write(chunk)
    handle.flush()


@authors.command("erase")
@click.argument("author_id")
@click.option("--yes", is_flag=True, help="Don't ask to type the id again (scripts).")
@one_line_errors
def authors_erase(author_id: str, yes: bool) -> None:
    """Erase AUTHOR_ID for good: their texts go, a pseudonym replaces their id (audited)."""
    from service.authors.erase import erase_author
    from service.errors import ConfigurationError

    _check_author_id(author_id)
    settings = load_settings()
    key = _erase_key(settings)
    if not yes:
        if not sys.stdin.isatty():
            raise ConfigurationError("not a terminal: confirm the erasure with --yes")
        typed = click.prompt(
            f"Erasing {author_id!r} can't be undone. Type the author's id to confirm",
            err=True,
            default="",
            show_default=False,
        )
        if typed != author_id:
            raise ConfigurationError("confirm_mismatch: that is not the id; nothing was erased")
    database = _database(settings)
    try:
        erased = erase_author(
            database,
            moderator=_cli_moderator(),
            author_id=author_id,
            key=key,
            events=settings.announced_events,
        )
    finally:
        database.dispose()
    if erased.pseudonym is None:
        click.echo(json.dumps({"already_erased": True}))
        click.echo(f"author {author_id!r} was erased before: nothing to do", err=True)
        return
    _after_commit(settings, author_id, erased.webhook_event_ids)
    click.echo(json.dumps({"erased": True, "pseudonym": erased.pseudonym, "counts": erased.counts}))
    click.echo(f"author {author_id!r} erased; now {erased.pseudonym}", err=True)


def _erase_key(settings: Settings) -> bytes:
    """MODERATION_ERASE_KEY, else the key `moderation dev` saved (never made here: a key
    made by chance would not be the one the API uses)."""
    from service.authors.erase_key import (
        MISSING,
        dev_erase_key_path,
    )
    from service.authors.sanctions import erase_key
    from service.errors import ConfigurationError

    key = erase_key(settings)
    if key is not None:
        return key
    saved = dev_erase_key_path(settings)
    if saved.exists():
        return saved.read_text().strip().encode()
    raise ConfigurationError(MISSING)


def _after_commit(settings: Settings, author_id: str, event_ids: list[str]) -> None:
    """Best effort: Redis keys named by the id, and the webhook events' delivery (the relay
    sends any whose task is lost)."""
    from service.authors.erase import forget_in_redis
    from service.broker.connections import redis_client
    from service.broker.contract import DELIVER_WEBHOOK_TASK

    client = redis_client(settings.redis_url)
    try:
        forget_in_redis(client, author_id=author_id)
    finally:
        if client is not None:
            client.close()
    if event_ids:
        from service.broker.producer import TaskProducer

        producer = TaskProducer(settings)
        try:
            for event_id in event_ids:
                producer.send(DELIVER_WEBHOOK_TASK, event_id)
        finally:
            producer.close()
