"""`.env.example`, written from the Settings fields so it can't fall behind them:
`python -m service.settings_doc > .env.example` (tests/service/test_settings_doc.py checks)."""

from __future__ import annotations

import textwrap
from enum import Enum
from pathlib import Path

from pydantic import SecretStr

from service.settings import Settings
from service.settings_check import setting_variables
from service.settings_sources import ENV_FILE_VARIABLE, FILE_FIELDS, FILE_SUFFIX

_REPO = Path(__file__).resolve().parent.parent
_WIDTH = 100

HEADER = f"""\
# Every setting of comment-moderation, with its default. Copy this file to .env (read from the
# working directory, or from the file {ENV_FILE_VARIABLE} names) and uncomment what you change:
# a variable set in the environment wins over the file. A secret (and a URL with a password)
# can also come from a file: MODERATION_<NAME>_FILE=/run/secrets/<name>, its content less one
# trailing newline; setting both NAME and NAME_FILE is an error.
# Written by `python -m service.settings_doc > .env.example`.

# The env file to read (in the environment only): default ./.env; empty: none.
# {ENV_FILE_VARIABLE}=.env
"""


def render() -> str:
    blocks = [HEADER]
    for variable, field_name in setting_variables().items():
        field = Settings.model_fields[field_name]
        lines = [f"# {line}" for line in textwrap.wrap(field.description or "", _WIDTH - 2)]
        lines.append(f"# {variable}={_shown(field.default)}")
        if field_name in FILE_FIELDS:
            lines.append(f"# {variable}{FILE_SUFFIX}=")
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def _shown(default: object) -> str:
    """A default as it is written in the file: a path inside this checkout relative to it."""
    if default is None:
        return ""
    if isinstance(default, SecretStr):
        return ""
    if isinstance(default, bool):
        return str(default).lower()
    if isinstance(default, Enum):
        return str(default.value)
    if isinstance(default, Path) and default.is_absolute() and default.is_relative_to(_REPO):
        return str(default.relative_to(_REPO))
    return str(default)


if __name__ == "__main__":
    print(render(), end="")
