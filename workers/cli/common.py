"""What every command shares: one-line configuration errors, the settings, JSON logs."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

import click

from service.errors import ConfigurationError, ModerationError
from service.settings import Settings

P = ParamSpec("P")
R = TypeVar("R")


EXIT_CONFIGURATION = 2


def one_line_errors(func: Callable[P, R]) -> Callable[P, R]:
    """A configuration problem ends the command with one clear line and exit code 2."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except ModerationError as exc:
            click.echo(f"moderation: {exc}", err=True)
            sys.exit(EXIT_CONFIGURATION)

    return wrapper


def load_settings() -> Settings:
    try:
        return Settings()
    except ValueError as exc:
        raise ConfigurationError(f"invalid settings: {exc}".replace("\n", " ")) from exc


def json_logs(settings: Settings) -> None:
    """Logs as JSON lines from here on, like the API's: before Celery starts, so nothing the
    process logs first is cached by structlog with its plain-text defaults."""
    from service.logging import configure_logging

    configure_logging(settings.log_level, json=settings.log_json)
