"""What every command shares: one-line configuration errors, the settings, JSON logs."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

import click
import structlog
from pydantic import ValidationError

from service.errors import ConfigurationError, ModerationError
from service.settings import Settings
from service.settings_check import describe_validation_error, unknown_variables_here

P = ParamSpec("P")
R = TypeVar("R")


EXIT_USAGE = 2
"""A command line click can't parse (an unknown option, a bad value): click's own code."""

EXIT_CONFIGURATION = 3
"""Settings, files or services the command needs are missing or wrong: fix them, not the
command line. Distinct from EXIT_USAGE so a supervisor or script can tell the two apart."""


def one_line_errors(func: Callable[P, R]) -> Callable[P, R]:
    """A configuration problem ends the command with one clear line and EXIT_CONFIGURATION."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except ModerationError as exc:
            click.echo(f"moderation: {exc}", err=True)
            sys.exit(EXIT_CONFIGURATION)

    return wrapper


def load_settings() -> Settings:
    """The settings, or a ConfigurationError naming each bad variable in one line; a variable
    no setting has is logged (`settings.unknown_variable`), once, by every command."""
    settings = _settings()
    unknown = unknown_variables_here()
    if unknown:
        # Configured now, or the warning would print in structlog's plain-text default (or
        # not at all: `api` configures logging only in its uvicorn worker).
        json_logs(settings)
        log = structlog.get_logger(__name__)
        for variable in unknown:
            log.warning(
                "settings.unknown_variable", variable=variable.variable, nearest=variable.nearest
            )
    return settings


def settings_or_exit() -> Settings:
    """The settings of a module Celery's own command imports (`celery --app
    workers.celery_app:app`, what Flower and `celery inspect` run): a bad value ends it in the
    same one line as a `moderation` command, not in Celery's traceback of the import."""
    try:
        return _settings()
    except ConfigurationError as exc:
        click.echo(f"moderation: {exc}", err=True)
        sys.exit(EXIT_CONFIGURATION)


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigurationError(describe_validation_error(exc)) from exc
    except ValueError as exc:
        raise ConfigurationError(f"invalid settings: {exc}".replace("\n", " ")) from exc


def json_logs(settings: Settings) -> None:
    """Logs as JSON lines from here on, like the API's: before Celery starts, so nothing the
    process logs first is cached by structlog with its plain-text defaults."""
    from service.logging import configure_logging

    configure_logging(settings.log_level, json=settings.log_json)
