"""Settings from the environment, the env file (MODERATION_ENV_FILE, default ./.env) and
`MODERATION_<NAME>_FILE` secrets; a bad value as one line naming its variable."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from service.errors import ConfigurationError
from service.settings import Settings
from service.settings_check import describe_validation_error
from service.settings_sources import FILE_FIELDS

SECRET = "s" * 40
FILE_VALUES = {
    "jwt_secret": SECRET,
    "webhook_secret": "whsec_" + "w" * 40,
    "database_url": "postgresql+psycopg://app:pa ss@db/moderation",
    "redis_url": "redis://:password@redis:6379/1",
    "broker_url": "redis://:password@redis:6379/2",
    "erase_key": "e" * 48,
}


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory of the test's own, with no MODERATION_ variable but the suite's."""
    monkeypatch.chdir(tmp_path)
    for field in [*Settings.model_fields, *(f"{field}_file" for field in FILE_FIELDS)]:
        monkeypatch.delenv(f"MODERATION_{field.upper()}", raising=False)
    monkeypatch.delenv("MODERATION_MODEL_CONFIG", raising=False)
    return tmp_path


def value(settings: Settings, field: str) -> object:
    found = getattr(settings, field)
    return found.get_secret_value() if isinstance(found, SecretStr) else found


def test_the_default_env_file_is_read_and_the_environment_wins(
    here: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (here / ".env").write_text("MODERATION_RETENTION_DAYS=7\nMODERATION_LOG_LEVEL=debug\n")
    monkeypatch.delenv("MODERATION_ENV_FILE")
    assert (Settings().retention_days, Settings().log_level) == (7, "DEBUG")

    monkeypatch.setenv("MODERATION_RETENTION_DAYS", "9")
    assert Settings().retention_days == 9


def test_an_empty_env_file_variable_reads_none(here: Path) -> None:
    (here / ".env").write_text("MODERATION_RETENTION_DAYS=7\n")
    assert Settings().retention_days == 90


def test_a_missing_default_env_file_is_fine_but_a_named_one_is_an_error(
    here: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MODERATION_ENV_FILE")
    assert Settings().retention_days == 90

    monkeypatch.setenv("MODERATION_ENV_FILE", str(here / "production.env"))
    with pytest.raises(
        ConfigurationError, match=r"^MODERATION_ENV_FILE: no such file: .*production"
    ):
        Settings()


@pytest.mark.parametrize("field", FILE_FIELDS)
def test_a_setting_from_its_file_less_one_trailing_newline(
    here: Path, monkeypatch: pytest.MonkeyPatch, field: str
) -> None:
    secret = here / field
    secret.write_text(FILE_VALUES[field] + "\n")
    monkeypatch.setenv(f"MODERATION_{field.upper()}_FILE", str(secret))
    assert value(Settings(), field) == FILE_VALUES[field]

    secret.write_text(FILE_VALUES[field] + "\n\n")
    assert value(Settings(), field) == FILE_VALUES[field] + "\n"


def test_the_erase_key_from_its_file_is_the_hmac_key(
    here: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.authors.sanctions import erase_key

    (here / "erase-key").write_text("e" * 48 + "\n")
    monkeypatch.setenv("MODERATION_ERASE_KEY_FILE", str(here / "erase-key"))
    assert erase_key(Settings()) == b"e" * 48


def test_a_secret_file_named_in_the_env_file(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (here / "jwt").write_text(SECRET + "\n")
    (here / "prod.env").write_text(f"MODERATION_JWT_SECRET_FILE={here / 'jwt'}\n")
    monkeypatch.setenv("MODERATION_ENV_FILE", str(here / "prod.env"))
    assert value(Settings(), "jwt_secret") == SECRET


@pytest.mark.parametrize("in_env_file", [False, True])
def test_a_setting_and_its_file_both_set_is_an_error_naming_both(
    here: Path, monkeypatch: pytest.MonkeyPatch, in_env_file: bool
) -> None:
    (here / "jwt").write_text(SECRET)
    both = {"MODERATION_JWT_SECRET": SECRET, "MODERATION_JWT_SECRET_FILE": str(here / "jwt")}
    if in_env_file:
        (here / "prod.env").write_text("".join(f"{k}={v}\n" for k, v in both.items()))
        monkeypatch.setenv("MODERATION_ENV_FILE", str(here / "prod.env"))
    else:
        for name, given in both.items():
            monkeypatch.setenv(name, given)
    with pytest.raises(ConfigurationError) as raised:
        Settings()
    message = str(raised.value)
    assert "MODERATION_JWT_SECRET and MODERATION_JWT_SECRET_FILE are both set" in message
    assert SECRET not in message
    assert ("prod.env" in message) is in_env_file


def test_an_empty_setting_beside_its_file_counts_as_unset(
    here: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What compose passes for a variable it has no value for."""
    (here / "jwt").write_text(SECRET)
    monkeypatch.setenv("MODERATION_JWT_SECRET", "")
    monkeypatch.setenv("MODERATION_JWT_SECRET_FILE", str(here / "jwt"))
    assert value(Settings(), "jwt_secret") == SECRET


def test_the_environment_wins_over_the_env_file_whichever_spelling_each_uses(
    here: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (here / "from-file").write_text("f" * 40)
    (here / "prod.env").write_text(f"MODERATION_JWT_SECRET_FILE={here / 'from-file'}\n")
    monkeypatch.setenv("MODERATION_ENV_FILE", str(here / "prod.env"))
    monkeypatch.setenv("MODERATION_JWT_SECRET", "v" * 40)
    assert value(Settings(), "jwt_secret") == "v" * 40

    (here / "prod.env").write_text("MODERATION_JWT_SECRET=" + "f" * 40 + "\n")
    monkeypatch.delenv("MODERATION_JWT_SECRET")
    (here / "from-env").write_text("v" * 40)
    monkeypatch.setenv("MODERATION_JWT_SECRET_FILE", str(here / "from-env"))
    assert value(Settings(), "jwt_secret") == "v" * 40


@pytest.mark.parametrize(
    ("content", "why"),
    [(None, "No such file or directory"), ("dir", "Is a directory"), (b"\xffs3cr3t", "UTF-8")],
)
def test_an_unreadable_secret_file_names_the_variable_and_path_never_the_content(
    here: Path, monkeypatch: pytest.MonkeyPatch, content: bytes | str | None, why: str
) -> None:
    path = here / "secret"
    if content == "dir":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    monkeypatch.setenv("MODERATION_WEBHOOK_SECRET_FILE", str(path))
    with pytest.raises(ConfigurationError) as raised:
        Settings()
    message = str(raised.value)
    assert message.startswith("MODERATION_WEBHOOK_SECRET_FILE: ")
    assert str(path) in message and why in message
    assert "s3cr3t" not in message and "\n" not in message


def errors_of(**environ: str) -> str:
    with pytest.MonkeyPatch.context() as patch:
        for name, given in environ.items():
            patch.setenv(name, given)
        with pytest.raises(ValidationError) as raised:
            Settings()
    return describe_validation_error(raised.value)


def test_a_bad_log_level_is_one_line_naming_the_variable_and_the_levels(here: Path) -> None:
    assert Settings(log_level="warning").log_level == "WARNING"
    assert errors_of(MODERATION_LOG_LEVEL="LOUD") == (
        "MODERATION_LOG_LEVEL: 'LOUD' is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL"
    )


def test_each_bad_value_is_named_by_its_variable(here: Path) -> None:
    assert errors_of(MODERATION_QUANTIZE="int4", MODERATION_MAX_TOKENS="many") == (
        "MODERATION_QUANTIZE: 'int4' is not one of int8, none; MODERATION_MAX_TOKENS: 'many': "
        "Input should be a valid integer, unable to parse string as an integer"
    )
    assert errors_of(MODERATION_DEVICE="gpu") == (
        "MODERATION_DEVICE must be cpu, cuda, cuda:N or mps, not 'gpu'"
    )


def test_a_bad_secret_is_described_without_its_value(here: Path) -> None:
    message = errors_of(MODERATION_JWT_SECRET="short-secret")
    assert message.startswith("MODERATION_JWT_SECRET must be at least 32 bytes")
    assert "short-secret" not in message
