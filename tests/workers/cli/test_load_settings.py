"""What every command says of its configuration at start, as a user sees it: an unknown
MODERATION_ variable as a JSON log line naming the nearest valid one, a bad value as one line
and the configuration exit code, from `moderation` and from Celery's own command alike."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.processes import run_cli, without_settings
from workers.cli.common import EXIT_CONFIGURATION

LOUD = (
    "moderation: MODERATION_LOG_LEVEL: 'LOUD' is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL"
)


def test_unknown_variables_of_the_environment_and_env_file_are_logged_as_json(
    tmp_path: Path,
) -> None:
    env_file = tmp_path / "prod.env"
    env_file.write_text("MODERATION_WEBHOOK_SECRETS=whsec_x\n")
    result = run_cli(
        "migrate",
        "--check",
        env={
            "MODERATION_LOG_LEVL": "debug",
            "MODERATION_ENV_FILE": str(env_file),
            "MODERATION_VAR_DIR": str(tmp_path),
        },
    )
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    warned = [line for line in lines if line["event"] == "settings.unknown_variable"]
    assert [(line["variable"], line["nearest"], line["level"]) for line in warned] == [
        ("MODERATION_LOG_LEVL", "MODERATION_LOG_LEVEL", "warning"),
        ("MODERATION_WEBHOOK_SECRETS", "MODERATION_WEBHOOK_SECRET", "warning"),
    ], result.stderr


def test_a_bad_value_is_one_line_and_the_configuration_exit_code(tmp_path: Path) -> None:
    result = run_cli("migrate", "--check", env={"MODERATION_LOG_LEVEL": "LOUD"})
    assert (result.returncode, result.stderr.splitlines()) == (EXIT_CONFIGURATION, [LOUD])


def test_celerys_own_command_says_the_same_line(tmp_path: Path) -> None:
    """What Flower and `celery inspect ping` run: it imports the app, so the settings."""
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("celery")),
            "--app",
            "workers.celery_app:app",
            "inspect",
            "ping",
        ],
        env={**without_settings(), "MODERATION_LOG_LEVEL": "LOUD"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (result.returncode, result.stderr.splitlines()) == (EXIT_CONFIGURATION, [LOUD])
