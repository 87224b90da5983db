"""Fresh interpreters: the `moderation` command as a user runs it, and scripts that must start
from a clean environment (what a process imports, warns about or sees of the CPU)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from tests.support.paths import REPO


def without_settings() -> dict[str, str]:
    """This process's environment less every MODERATION_ setting, but for MODERATION_ENV_FILE
    (empty: tests/conftest.py), so the process started reads no developer's `.env` either."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("MODERATION_") or key == "MODERATION_ENV_FILE"
    }


def run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path = REPO, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`moderation *args` (`python -m workers`) with no MODERATION_ setting but `env`'s."""
    base = without_settings()
    return subprocess.run(
        [sys.executable, "-m", "workers", *args],
        env={**base, **(env or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any Hugging Face, transformers or service setting."""
    env = {
        key: value
        for key, value in without_settings().items()
        if not key.startswith(("HF_", "TRANSFORMERS_"))
    }
    return env | extra


def run_python(script: str, env: dict[str, str], *args: str, options: Sequence[str] = ()) -> str:
    """`script`'s stdout, run by a fresh interpreter with `options` (e.g. -W error)."""
    completed = subprocess.run(
        [sys.executable, *options, "-c", script, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout
