"""Unknown MODERATION_ variables: named with the nearest valid one; and every MODERATION_ name
the repository's compose file, Dockerfile, Makefile, manifests, CI, benchmarks and tests use is
a setting or on the allow-list (else a deployment would be warned about its own names)."""

from __future__ import annotations

import functools
import io
import re
import tokenize
from pathlib import Path

import pytest

from service.settings_check import (
    NOT_SETTINGS,
    UnknownVariable,
    unknown_variables,
    unknown_variables_here,
    valid_variables,
)
from tests.support.paths import REPO

NAME = re.compile(
    r"MODERATION_[A-Z0-9_]*[A-Z0-9](?![A-Z0-9_])"
)  # not a prefix: MODERATION_WEBHOOK_
# These name misspelt variables on purpose.
DELIBERATELY_UNKNOWN = {
    Path(__file__).resolve(),
    REPO / "tests" / "workers" / "cli" / "test_load_settings.py",
}


def test_an_unknown_variable_is_named_with_the_nearest_valid_one() -> None:
    assert unknown_variables(
        [
            "MODERATION_LOG_LEVL",
            "moderation_webhook_secrets",
            "MODERATION_JWT_SECRET_FLE",
            "MODERATION_ZZZ",
            "MODERATION_LOG_LEVEL",
            "MODERATION_REDIS_URL_FILE",
            "MODERATION_ENV_FILE",
            "MODERATION_TEST_REDIS",
            "PATH",
        ]
    ) == [
        UnknownVariable("MODERATION_JWT_SECRET_FLE", "MODERATION_JWT_SECRET_FILE"),
        UnknownVariable("MODERATION_LOG_LEVL", "MODERATION_LOG_LEVEL"),
        UnknownVariable("MODERATION_ZZZ", None),
        UnknownVariable("moderation_webhook_secrets", "MODERATION_WEBHOOK_SECRET"),
    ]


def test_the_env_files_unknown_names_count_like_the_environments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / "prod.env"
    env_file.write_text("MODERATION_MODEL_CONFIG_DIR=/models\nMODERATION_IMAGE_TAG=1.2\nHOME=/\n")
    environ = {"MODERATION_ENV_FILE": str(env_file), "MODERATION_WORKER_EVENT": "true"}
    assert unknown_variables_here(environ) == [
        UnknownVariable("MODERATION_MODEL_CONFIG_DIR", "MODERATION_MODEL_CONFIG"),
        UnknownVariable("MODERATION_WORKER_EVENT", "MODERATION_WORKER_EVENTS"),
    ]


def names_in(path: Path) -> set[str]:
    """MODERATION_ names in a file; in Python, only those in strings and comments (a module's
    MODERATION_ROUTES constant is no variable)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".py":
        return set(NAME.findall(text))
    tokens = tokenize.generate_tokens(io.StringIO(text).readline)
    kinds = {tokenize.STRING, tokenize.COMMENT}
    return {name for token in tokens if token.type in kinds for name in NAME.findall(token.string)}


@functools.cache
def names_by_file() -> dict[Path, set[str]]:
    return {path: names_in(path) for path in repository_files()}


def repository_files() -> list[Path]:
    tops = [REPO / name for name in ("Makefile", ".env.example")]
    tops += [*REPO.glob("Dockerfile*"), *REPO.glob("docker-compose*.yml"), *REPO.glob(".ci/*")]
    trees = [
        *(REPO / "deploy").rglob("*.yaml"),
        *(REPO / "tests").rglob("*.py"),
        *(REPO / "bench").rglob("*.py"),
    ]
    return [
        path
        for path in [*tops, *trees]
        if path.is_file() and "vendor" not in path.parts and path not in DELIBERATELY_UNKNOWN
    ]


def test_every_moderation_name_the_repository_uses_is_a_setting_or_allowed() -> None:
    found = names_by_file()
    assert any(path.name == "docker-compose.yml" for path in found)
    known = valid_variables() | NOT_SETTINGS
    unknown = {
        f"{path.relative_to(REPO)}: {name}"
        for path, names in found.items()
        for name in names
        if name not in known
    }
    assert not unknown, "add to Settings or to service/settings_check.py NOT_SETTINGS"


def test_the_allow_list_holds_no_setting_and_no_name_nothing_uses() -> None:
    used = set().union(*names_by_file().values())
    assert not NOT_SETTINGS & valid_variables()
    assert used >= NOT_SETTINGS


def test_no_test_starts_a_process_that_could_read_a_developers_env_file() -> None:
    """Processes started without the MODERATION_ settings still get MODERATION_ENV_FILE="":
    through tests/support/processes.py `without_settings`, not a filter of their own."""
    own = {REPO / "tests" / "support" / "processes.py", Path(__file__).resolve()}
    filtering = [
        str(path.relative_to(REPO))
        for path in (REPO / "tests").rglob("*.py")
        if path not in own and 'startswith("MODERATION_")' in path.read_text(encoding="utf-8")
    ]
    assert filtering == []
