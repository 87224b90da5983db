"""Where settings come from besides the environment: the `.env` file MODERATION_ENV_FILE names,
and Docker-style `MODERATION_<NAME>_FILE` secrets.

Precedence, highest first: the environment, then the env file. A secret is its variable or
its `_FILE`, never both in one place (empty counts as unset): which should win would be a
guess. Across places the environment wins, whichever spelling each uses, so an operator's
`export` always beats the file that ships with the deployment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic_settings import BaseSettings, DotEnvSettingsSource, EnvSettingsSource

from service.errors import ConfigurationError

PREFIX = "MODERATION_"
ENV_FILE_VARIABLE = "MODERATION_ENV_FILE"
DEFAULT_ENV_FILE = Path(".env")
FILE_SUFFIX = "_FILE"
# The settings that may come from a file: secrets, and URLs that carry passwords.
FILE_FIELDS = (
    "jwt_secret",
    "webhook_secret",
    "database_url",
    "redis_url",
    "broker_url",
    "erase_key",
)
FILE_VARIABLES = tuple(f"{PREFIX}{field.upper()}{FILE_SUFFIX}" for field in FILE_FIELDS)


def env_file_path(environ: Mapping[str, str]) -> Path | None:
    """The env file to read: MODERATION_ENV_FILE's, or `./.env` if there is one; none if the
    variable is empty. A file named on purpose that is not there is an error, not a default."""
    named = environ.get(ENV_FILE_VARIABLE)
    if named is None:
        return DEFAULT_ENV_FILE if DEFAULT_ENV_FILE.exists() else None
    if named == "":
        return None
    path = Path(named)
    if not path.is_file():
        raise ConfigurationError(f"{ENV_FILE_VARIABLE}: no such file: {named}")
    return path


def read_secret_file(variable: str, path: str) -> str:
    """The file's text less one trailing newline (what `echo` and editors add). The error
    names the variable and the path, never anything read from the file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"{variable}: cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigurationError(f"{variable}: {path} is not UTF-8 text") from None
    for newline in ("\r\n", "\n"):
        if text.endswith(newline):
            return text.removesuffix(newline)
    return text


def _with_secret_files(
    values: dict[str, Any], variables: Mapping[str, str | None], where: str
) -> dict[str, Any]:
    """`values` with each `_FILE` variable of `variables` (names lower-cased, as
    pydantic-settings keeps them) read into its setting."""
    for field in FILE_FIELDS:
        name = f"{PREFIX}{field.upper()}"
        path = variables.get(f"{name}{FILE_SUFFIX}".lower())
        if not path:
            continue
        if variables.get(name.lower()):  # empty counts as unset, as compose passes unset ones
            raise ConfigurationError(
                f"{name} and {name}{FILE_SUFFIX} are both set{where}: set one of them"
            )
        values[field] = read_secret_file(f"{name}{FILE_SUFFIX}", path)
    return values


class EnvironmentSource(EnvSettingsSource):
    """The environment, `_FILE` variables included."""

    def __call__(self) -> dict[str, Any]:
        return _with_secret_files(super().__call__(), self.env_vars, "")


class EnvFileSource(DotEnvSettingsSource):
    """The env file, `_FILE` variables included (a relative path is the working directory's,
    as in the environment)."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path | None) -> None:
        self.path = path
        super().__init__(settings_cls, env_file=path)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        try:
            return super()._load_env_vars()
        except OSError as exc:
            raise ConfigurationError(
                f"{ENV_FILE_VARIABLE}: cannot read {self.path}: {exc.strerror}"
            ) from None
        except UnicodeDecodeError:
            raise ConfigurationError(
                f"{ENV_FILE_VARIABLE}: {self.path} is not UTF-8 text"
            ) from None

    def __call__(self) -> dict[str, Any]:
        return _with_secret_files(super().__call__(), self.env_vars, f" in {self.path}")


def env_file_variables(environ: Mapping[str, str] = os.environ) -> dict[str, str | None]:
    """The env file's variables as written (for the unknown-name check)."""
    from dotenv import dotenv_values

    path = env_file_path(environ)
    return {} if path is None else dotenv_values(path, encoding="utf-8")
