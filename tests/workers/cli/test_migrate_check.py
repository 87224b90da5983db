"""`moderation migrate --check`: what the Kubernetes init containers run before the API, the
workers and beat; it changes nothing, and with --wait it waits out a migration still running."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

from tests.support.paths import REPO
from tests.support.processes import run_cli, without_settings


def test_check_refuses_an_unmigrated_database_and_migrates_nothing(tmp_path: Path) -> None:
    env = {"MODERATION_VAR_DIR": str(tmp_path)}
    result = run_cli("migrate", "--check", env=env)
    assert result.returncode == 3, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "is not migrated: run `moderation migrate`" in lines[0]
    with closing(sqlite3.connect(tmp_path / "moderation.db")) as database:
        tables = {row[0] for row in database.execute("SELECT name FROM sqlite_master")}
    assert tables == set()
    assert run_cli("migrate", env=env).returncode == 0
    result = run_cli("migrate", "--check", env=env)
    assert result.returncode == 0, result.stderr
    assert "database is up to date" in result.stderr


def test_check_waits_until_the_migration_has_run(tmp_path: Path) -> None:
    env = without_settings()
    env["MODERATION_VAR_DIR"] = str(tmp_path)
    waiting = subprocess.Popen(
        [sys.executable, "-m", "workers", "migrate", "--check", "--wait", "120"],
        env=env,
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert waiting.stderr is not None
        first = waiting.stderr.readline()
        assert first.startswith("moderation: waiting up to 120 s: "), first
        assert "is not migrated" in first
        assert run_cli("migrate", env={"MODERATION_VAR_DIR": str(tmp_path)}).returncode == 0
        _, stderr = waiting.communicate(timeout=120)
    finally:
        waiting.kill()
        waiting.wait()
    assert waiting.returncode == 0, stderr
    assert "database is up to date" in stderr


def test_wait_without_check_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("migrate", "--wait", "5", env={"MODERATION_VAR_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert "--wait goes with --check" in result.stderr
    assert not (tmp_path / "moderation.db").exists()
