"""What a process says about its configuration at start: the variables it does not know (a
misspelt name is otherwise silently a default) and a bad value as one line naming it."""

from __future__ import annotations

import difflib
import os
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pydantic import ValidationError

from service.settings import Settings
from service.settings_sources import (
    ENV_FILE_VARIABLE,
    FILE_FIELDS,
    FILE_VARIABLES,
    PREFIX,
    env_file_variables,
)

# MODERATION_ names that are not settings but are set next to them, so are not misspelt:
# docker compose interpolates the first three from the same `.env` file, the Dockerfile takes
# the fourth as a build argument and the test suite reads the rest.
NOT_SETTINGS = frozenset(
    {
        "MODERATION_API_PORT",
        "MODERATION_FLOWER_PORT",
        "MODERATION_IMAGE_TAG",
        "MODERATION_VARIANT",
        "MODERATION_TEST_DATABASE",
        "MODERATION_TEST_POSTGRES",
        "MODERATION_TEST_REDIS",
        "MODERATION_FUZZ_RANDOM",
    }
)


@dataclass(frozen=True)
class UnknownVariable:
    variable: str
    nearest: str | None


def setting_variables() -> dict[str, str]:
    """Each setting's variable name, to its field name."""
    names: dict[str, str] = {}
    for field_name, field in Settings.model_fields.items():
        alias = field.validation_alias or field.alias
        names[alias if isinstance(alias, str) else f"{PREFIX}{field_name.upper()}"] = field_name
    return names


def valid_variables() -> frozenset[str]:
    """Every MODERATION_ name a process reads: settings, their `_FILE`s, the env file's."""
    return frozenset({*setting_variables(), *FILE_VARIABLES, ENV_FILE_VARIABLE})


def unknown_variables(names: Iterable[str]) -> list[UnknownVariable]:
    """The MODERATION_ names among `names` that nothing reads, each with the valid name it
    most looks like (a typo's), if any does."""
    valid = valid_variables()
    # Compared without the prefix they all share, which would make every name look close.
    candidates = {name.removeprefix(PREFIX): name for name in valid}
    unknown = []
    for name in sorted(set(names)):
        upper = name.upper()  # as pydantic-settings reads them: in any case
        if not upper.startswith(PREFIX) or upper in valid or upper in NOT_SETTINGS:
            continue
        nearest = difflib.get_close_matches(upper.removeprefix(PREFIX), sorted(candidates), n=1)
        unknown.append(UnknownVariable(name, candidates[nearest[0]] if nearest else None))
    return unknown


def unknown_variables_here(environ: Mapping[str, str] = os.environ) -> list[UnknownVariable]:
    """Unknown names in the environment and in the env file."""
    return unknown_variables([*environ, *env_file_variables(environ)])


def describe_validation_error(exc: ValidationError) -> str:
    """One line: each bad value as `VARIABLE: what is wrong`, joined by `; `. A secret's value
    (the `_FILE` settings: secrets and URLs with passwords) is never repeated."""
    by_key = {field_name: name for name, field_name in setting_variables().items()}
    by_key |= {name: name for name in setting_variables()}
    problems = []
    for error in exc.errors(include_url=False):
        key = str(error["loc"][0]) if error["loc"] else ""
        variable = by_key.get(key, key)
        problems.append(_describe(variable, setting_variables().get(variable, key), error))
    return "; ".join(problems)


def _describe(variable: str, field_name: str, error: typing.Any) -> str:
    if error["type"] == "value_error":
        message = str(error["ctx"]["error"])
        # The project's validators name the variable themselves.
        return message if message.startswith(variable) else f"{variable}: {message}"
    if field_name in FILE_FIELDS:
        return f"{variable}: {error['msg']}"
    if error["type"] == "literal_error":
        allowed = typing.get_args(Settings.model_fields[field_name].annotation)
        return f"{variable}: {error['input']!r} is not one of {', '.join(map(str, allowed))}"
    return f"{variable}: {error['input']!r}: {error['msg']}"
